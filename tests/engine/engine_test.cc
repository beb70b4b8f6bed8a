// Engine unit tests over in-memory Models (model_config JSON + weights from Tensors): graph shapes
// (Sequential, Functional with several inputs/outputs, shared layers, nested models), layer math
// against straightforward reference loops written here, and refusals (Lambda, unknown classes).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <random>

#include "kmodel/error.h"
#include "kmodel/predict.h"

using namespace kmodel;

namespace {

Weight weight(const std::string& name, Shape shape, const std::vector<float>& v) {
  Tensor t;
  t.dtype = DType::kFloat32;
  t.shape = std::move(shape);
  t.data.resize(v.size() * 4);
  std::memcpy(t.data.data(), v.data(), t.data.size());
  REQUIRE(static_cast<int64_t>(v.size()) == t.num_elements());
  Weight w;
  w.name = name;
  w.tensor = TensorRef::from_tensor(std::move(t));
  return w;
}

std::vector<float> randv(size_t n, unsigned seed, float scale = 1.f) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> d(-scale, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(g);
  return v;
}

Model make_model(const std::string& config, std::vector<Layer> layers, KerasDialect dialect = KerasDialect::kKeras2) {
  Model m;
  m.model_config = config;
  m.dialect = dialect;
  m.keras_version = dialect == KerasDialect::kKeras1 ? "1.2.2" : "2.11.0";
  m.layers = std::move(layers);
  m.path = "<memory>";
  return m;
}

std::string seq(const std::string& input_shape, const std::string& layers_json) {
  return R"({"class_name": "Sequential", "config": {"name": "s", "layers": [{"class_name": "InputLayer", "config": {"batch_input_shape": )" +
         input_shape + R"(, "name": "x"}}, )" + layers_json + "]}}";
}

void require_close(const std::vector<float>& got, const std::vector<double>& want, double tol = 1e-5) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("index " << i << " got " << got[i] << " want " << want[i]);
    REQUIRE(std::fabs(got[i] - want[i]) <= std::max(tol * std::fabs(want[i]), 1e-6));
  }
}

double sigm(double x) { return 1 / (1 + std::exp(-x)); }

}  // namespace

TEST_CASE("Dense + softmax Sequential computes x W + b then softmax", "[engine]") {
  Layer d{"d", "Dense", {weight("d/kernel:0", {2, 3}, {1, 2, 3, 4, 5, 6}), weight("d/bias:0", {3}, {0.5f, -1, 0})}};
  Model m = make_model(seq("[null, 2]", R"({"class_name": "Dense", "config": {"name": "d", "units": 3, "activation": "softmax", "use_bias": true}})"),
                       {d});
  Predictor p(m);
  REQUIRE(p.inputs()[0].name == "x");
  REQUIRE(p.inputs()[0].shape == Shape{-1, 2});
  REQUIRE(p.outputs()[0].name == "d");
  auto y = p.run({FloatArray{{1, 2}, {1, -1}}});
  // logits: 1-4+0.5=-2.5, 2-5-1=-4, 3-6=-3
  double z[3] = {-2.5, -4, -3}, s = 0;
  for (double v : z) s += std::exp(v);
  require_close(y[0].values, {std::exp(z[0]) / s, std::exp(z[1]) / s, std::exp(z[2]) / s});
  REQUIRE(y[0].shape == Shape{1, 3});
}

TEST_CASE("Functional graph: two inputs, a shared layer called twice, two outputs", "[engine]") {
  const std::string cfg = R"({"class_name": "Functional", "config": {"name": "f", "layers": [
    {"class_name": "InputLayer", "name": "a", "inbound_nodes": [], "config": {"batch_input_shape": [null, 2], "name": "a"}},
    {"class_name": "InputLayer", "name": "b", "inbound_nodes": [], "config": {"batch_input_shape": [null, 2], "name": "b"}},
    {"class_name": "Dense", "name": "shared", "config": {"name": "shared", "units": 2, "activation": "relu", "use_bias": false},
     "inbound_nodes": [[["a", 0, 0, {}]], [["b", 0, 0, {}]]]},
    {"class_name": "Add", "name": "add", "config": {"name": "add"}, "inbound_nodes": [[["shared", 0, 0, {}], ["shared", 1, 0, {}]]]},
    {"class_name": "Concatenate", "name": "cat", "config": {"name": "cat", "axis": -1}, "inbound_nodes": [[["shared", 1, 0, {}], ["a", 0, 0, {}]]]}],
    "input_layers": [["a", 0, 0], ["b", 0, 0]], "output_layers": [["add", 0, 0], ["cat", 0, 0]]}, "keras_version": "2.11.0"})";
  Layer sh{"shared", "Dense", {weight("shared/kernel:0", {2, 2}, {1, -1, 2, 1})}};
  Predictor p(make_model(cfg, {Layer{"a", "InputLayer", {}}, Layer{"b", "InputLayer", {}}, sh}));
  REQUIRE(p.inputs().size() == 2);
  REQUIRE(p.outputs().size() == 2);
  REQUIRE(p.outputs()[1].name == "cat");
  auto y = p.run({FloatArray{{1, 2}, {1, 1}}, FloatArray{{1, 2}, {-1, 3}}});
  // shared(a) = relu([1+2, -1+1]) = [3, 0]; shared(b) = relu([-1+6, 1+3]) = [5, 4]
  require_close(y[0].values, {8, 4});
  require_close(y[1].values, {5, 4, 1, 1});
  REQUIRE(y[1].shape == Shape{1, 4});
}

TEST_CASE("Nested Sequential model used as a layer (node index 1) takes its weights by name prefix", "[engine]") {
  const std::string cfg = R"({"class_name": "Functional", "config": {"name": "outer", "layers": [
    {"class_name": "InputLayer", "name": "in", "inbound_nodes": [], "config": {"batch_input_shape": [null, 2], "name": "in"}},
    {"class_name": "Sequential", "name": "inner", "config": {"name": "inner", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 2], "name": "inner_in"}},
        {"class_name": "Dense", "config": {"name": "d1", "units": 2, "activation": "linear"}},
        {"class_name": "Dense", "config": {"name": "d2", "units": 1, "activation": "linear"}}]},
     "inbound_nodes": [[["in", 0, 0, {}]]]}],
    "input_layers": [["in", 0, 0]], "output_layers": [["inner", 1, 0]]}})";
  // Keras 2 numbers the nested model's outer call as node 1 (node 0 is its own input node, which
  // is not serialized): the reference [inner, 1, 0] names the first serialized inbound node.
  const std::string& c = cfg;
  Layer inner{"inner", "Sequential",
              {weight("d1/kernel:0", {2, 2}, {1, 0, 0, 2}), weight("d1/bias:0", {2}, {1, 1}),
               weight("d2/kernel:0", {2, 1}, {1, 1}), weight("d2/bias:0", {1}, {-3})}};
  Predictor p(make_model(c, {Layer{"in", "InputLayer", {}}, inner}));
  auto y = p.run({FloatArray{{2, 2}, {1, 2, 0, 0}}});
  // row 1: d1 = [2, 5] -> 7 - 3 = 4; row 2: d1 = [1, 1] -> -1
  require_close(y[0].values, {4, -1});
}

namespace {
// A Keras 3 symbolic tensor reference inside call args.
std::string kt(const std::string& layer, int node) {
  return R"({"class_name": "__keras_tensor__", "config": {"shape": [null, 2], "dtype": "float32", "keras_history": [")" +
         layer + "\", " + std::to_string(node) + ", 0]}}";
}

// Outer model: inputs a, b; a nested model `inner` (Dense d, 2 -> 2, no bias) called on a, then on b;
// outputs cat = concat(inner(b), a) and inner(a) itself. `cat_ref` / `out_ref` are the node indices
// the config uses for inner's second call (in cat's args) and first call (in output_layers).
std::string twice_config(bool keras3, const std::string& inner_class, int cat_ref, int out_ref) {
  std::string in = keras3 ? R"("batch_shape": [null, 2])" : R"("batch_input_shape": [null, 2])";
  auto input = [&](const std::string& n) {
    return R"({"class_name": "InputLayer", "name": ")" + n + R"(", "inbound_nodes": [], "config": {)" + in +
           R"(, "name": ")" + n + R"("}})";
  };
  auto node = [&](const std::vector<std::pair<std::string, int>>& refs) {
    std::string s;
    if (keras3) {
      s = R"({"args": [)";
      if (refs.size() > 1) s += "[";
      for (size_t i = 0; i < refs.size(); ++i) s += (i ? ", " : "") + kt(refs[i].first, refs[i].second);
      if (refs.size() > 1) s += "]";
      return s + R"(], "kwargs": {}})";
    }
    s = "[";
    for (size_t i = 0; i < refs.size(); ++i)
      s += (i ? ", " : "") + std::string("[\"") + refs[i].first + "\", " + std::to_string(refs[i].second) + ", 0, {}]";
    return s + "]";
  };
  std::string dense = R"({"class_name": "Dense", "name": "d", "config": {"name": "d", "units": 2, "activation": "linear", "use_bias": false}, "inbound_nodes": [)";
  std::string inner_cfg =
      inner_class == "Sequential"
          ? R"({"name": "inner", "layers": [{"class_name": "InputLayer", "config": {)" + in +
                R"(, "name": "inner_in"}}, {"class_name": "Dense", "config": {"name": "d", "units": 2, "activation": "linear", "use_bias": false}}]})"
          : R"({"name": "inner", "layers": [)" + input("inner_in") + ", " + dense + node({{"inner_in", 0}}) +
                R"(]}], "input_layers": [["inner_in", 0, 0]], "output_layers": [["d", 0, 0]]})";
  return R"({"class_name": "Functional", "config": {"name": "outer", "layers": [)" + input("a") + ", " + input("b") +
         R"(, {"class_name": ")" + inner_class + R"(", "name": "inner", "config": )" + inner_cfg +
         R"(, "inbound_nodes": [)" + node({{"a", 0}}) + ", " + node({{"b", 0}}) + R"(]},
    {"class_name": "Concatenate", "name": "cat", "config": {"name": "cat", "axis": -1}, "inbound_nodes": [)" +
         node({{"inner", cat_ref}, {"a", 0}}) + R"(]}],
    "input_layers": [["a", 0, 0], ["b", 0, 0]], "output_layers": [["cat", 0, 0], ["inner", )" +
         std::to_string(out_ref) + ", 0]]}}";
}
}  // namespace

TEST_CASE("Nested model called twice: node numbering of Keras 2, Keras 3 and mixed files", "[engine]") {
  // d(x) = [x0 + 2 x1, 3 x0 - x1]; a = [1, 2] -> d(a) = [5, 1]; b = [-1, 1] -> d(b) = [1, -4].
  auto check = [](const std::string& cfg, KerasDialect dialect, const std::string& inner_class) {
    INFO(cfg);
    Layer inner{"inner", inner_class, {weight("d/kernel:0", {2, 2}, {1, 3, 2, -1})}};
    Predictor p(make_model(cfg, {Layer{"a", "InputLayer", {}}, Layer{"b", "InputLayer", {}}, inner}, dialect));
    auto y = p.run({FloatArray{{1, 2}, {1, 2}}, FloatArray{{1, 2}, {-1, 1}}});
    require_close(y[0].values, {1, -4, 1, 2});  // concat(d(b), a)
    require_close(y[1].values, {5, 1});         // d(a)
  };
  // Keras 2 (tf.keras): a nested Functional or Sequential with an input layer counts its calls from 1
  // everywhere (its node 0 is its own creation node).
  check(twice_config(false, "Functional", 2, 1), KerasDialect::kKeras2, "Functional");
  check(twice_config(false, "Sequential", 2, 1), KerasDialect::kKeras2, "Sequential");
  // Keras 3: call args count from 0; only output_layers count a Functional's calls from 1; a
  // Sequential counts from 0 there too.
  check(twice_config(true, "Functional", 1, 1), KerasDialect::kKeras3, "Functional");
  check(twice_config(true, "Sequential", 1, 0), KerasDialect::kKeras3, "Sequential");
  // Keras 3 numbering in a config read as Keras 2 (Keras 3 writes it into legacy H5 files), and Keras 2
  // numbering carried into the Keras 3 form by a converter.
  check(twice_config(true, "Functional", 1, 1), KerasDialect::kKeras2, "Functional");
  check(twice_config(true, "Functional", 2, 1), KerasDialect::kKeras3, "Functional");
  check(twice_config(true, "Sequential", 2, 1), KerasDialect::kKeras3, "Sequential");
  // A reference no numbering explains: one line naming the layer.
  Layer inner{"inner", "Functional", {weight("d/kernel:0", {2, 2}, {1, 3, 2, -1})}};
  Predictor bad(make_model(twice_config(true, "Functional", 3, 1), {Layer{"a", "InputLayer", {}}, Layer{"b", "InputLayer", {}}, inner},
                           KerasDialect::kKeras3));
  REQUIRE_THROWS_WITH(bad.run({FloatArray{{1, 2}, {1, 2}}, FloatArray{{1, 2}, {-1, 1}}}),
                      Catch::Contains("layer inner: reference to call 3 of 2"));
}

TEST_CASE("A layer call that takes its own output as input is refused when the graph is built", "[engine]") {
  const std::string cfg = R"({"class_name": "Functional", "config": {"name": "f", "layers": [
    {"class_name": "InputLayer", "name": "a", "inbound_nodes": [], "config": {"batch_input_shape": [null, 2], "name": "a"}},
    {"class_name": "Add", "name": "p", "config": {"name": "p"}, "inbound_nodes": [[["a", 0, 0, {}], ["q", 0, 0, {}]]]},
    {"class_name": "Add", "name": "q", "config": {"name": "q"}, "inbound_nodes": [[["a", 0, 0, {}], ["p", 0, 0, {}]]]}],
    "input_layers": [["a", 0, 0]], "output_layers": [["q", 0, 0]]}})";
  REQUIRE_THROWS_AS(Predictor(make_model(cfg, {Layer{"a", "InputLayer", {}}})), BadInputError);
}

namespace {
// Reference Conv2D (channels_last, groups = 1) with explicit padding offsets.
std::vector<double> ref_conv2d(const std::vector<float>& x, int B, int H, int W, int C, const std::vector<float>& k, int KH,
                               int KW, int F, const std::vector<float>& bias, int sh, int sw, int dh, int dw, int OH,
                               int OW, int ph, int pw) {
  std::vector<double> out;
  for (int b = 0; b < B; ++b)
    for (int oh = 0; oh < OH; ++oh)
      for (int ow = 0; ow < OW; ++ow)
        for (int f = 0; f < F; ++f) {
          double s = bias.empty() ? 0 : bias[f];
          for (int i = 0; i < KH; ++i)
            for (int j = 0; j < KW; ++j) {
              int ih = oh * sh + i * dh - ph, iw = ow * sw + j * dw - pw;
              if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
              for (int c = 0; c < C; ++c) s += x[((b * H + ih) * W + iw) * C + c] * k[((i * KW + j) * C + c) * F + f];
            }
          out.push_back(s);
        }
  return out;
}
}  // namespace

TEST_CASE("Conv2D im2col matches a direct loop: valid, same+stride, dilation, channels_first", "[engine]") {
  const int B = 2, H = 7, W = 6, C = 3, F = 4, KH = 3, KW = 2;
  auto x = randv(B * H * W * C, 1), k = randv(KH * KW * C * F, 2), bias = randv(F, 3);
  auto run = [&](const std::string& extra, bool cf, FloatArray in) {
    std::string layer = R"({"class_name": "Conv2D", "config": {"name": "c", "filters": 4, "kernel_size": [3, 2], "use_bias": true, "activation": "linear")" + extra + "}}";
    std::string shape = cf ? "[null, 3, 7, 6]" : "[null, 7, 6, 3]";
    Layer l{"c", "Conv2D", {weight("k", {KH, KW, C, F}, k), weight("b", {F}, bias)}};
    return Predictor(make_model(seq(shape, layer), {l})).run({std::move(in)})[0];
  };
  SECTION("valid") {
    auto y = run("", false, FloatArray{{B, H, W, C}, x});
    REQUIRE(y.shape == Shape{B, 5, 5, F});
    require_close(y.values, ref_conv2d(x, B, H, W, C, k, KH, KW, F, bias, 1, 1, 1, 1, 5, 5, 0, 0));
  }
  SECTION("same, strides 2") {
    auto y = run(R"(, "padding": "same", "strides": [2, 2])", false, FloatArray{{B, H, W, C}, x});
    REQUIRE(y.shape == Shape{B, 4, 3, F});
    // TF same padding: pad_total_h = max((4-1)*2+3-7, 0) = 2 -> top 1; w: max((3-1)*2+2-6, 0) = 0
    require_close(y.values, ref_conv2d(x, B, H, W, C, k, KH, KW, F, bias, 2, 2, 1, 1, 4, 3, 1, 0));
  }
  SECTION("dilation 2, same") {
    auto y = run(R"(, "padding": "same", "dilation_rate": [2, 2])", false, FloatArray{{B, H, W, C}, x});
    REQUIRE(y.shape == Shape{B, H, W, F});
    require_close(y.values, ref_conv2d(x, B, H, W, C, k, KH, KW, F, bias, 1, 1, 2, 2, H, W, 2, 1));
  }
  SECTION("channels_first") {
    std::vector<float> xcf(x.size());
    for (int b = 0; b < B; ++b)
      for (int h = 0; h < H; ++h)
        for (int w = 0; w < W; ++w)
          for (int c = 0; c < C; ++c) xcf[((b * C + c) * H + h) * W + w] = x[((b * H + h) * W + w) * C + c];
    auto y = run(R"(, "data_format": "channels_first")", true, FloatArray{{B, C, H, W}, xcf});
    REQUIRE(y.shape == Shape{B, F, 5, 5});
    auto ref = ref_conv2d(x, B, H, W, C, k, KH, KW, F, bias, 1, 1, 1, 1, 5, 5, 0, 0);
    std::vector<double> refcf(ref.size());
    for (int b = 0; b < B; ++b)
      for (int i = 0; i < 25; ++i)
        for (int f = 0; f < F; ++f) refcf[(b * F + f) * 25 + i] = ref[(b * 25 + i) * F + f];
    require_close(y.values, refcf);
  }
}

namespace {
// Reference max pooling (valid) of a channels_last (B, H, W, C) array.
std::vector<double> ref_maxpool2d(const std::vector<double>& y, int B, int H, int W, int C, int k, int s) {
  std::vector<double> out;
  const int OH = (H - k) / s + 1, OW = (W - k) / s + 1;
  for (int b = 0; b < B; ++b)
    for (int oh = 0; oh < OH; ++oh)
      for (int ow = 0; ow < OW; ++ow)
        for (int c = 0; c < C; ++c) {
          double m = -INFINITY;
          for (int i = 0; i < k; ++i)
            for (int j = 0; j < k; ++j) m = std::max(m, y[((b * H + oh * s + i) * W + ow * s + j) * C + c]);
          out.push_back(m);
        }
  return out;
}
std::vector<double> relu(std::vector<double> v) {
  for (double& e : v) e = std::max(e, 0.0);
  return v;
}
}  // namespace

// 16 and 32 channels with 3x3 stride-1 kernels take the Winograd path; a Conv followed by a
// MaxPooling in a Sequential model is computed as one layer (only the rows and columns the pooling
// reads; pooled from a scratch buffer, or as the GEMM stores for non-overlapping windows of 2, 4,
// 8 cells). Odd and even sizes exercise partial edge tiles.
TEST_CASE("Conv2D 3x3 (Winograd) and Conv + MaxPooling fusion match direct loops", "[engine]") {
  const int B = 3, H = 9, W = 8, C = 16, F = 32;
  auto x = randv(B * H * W * C, 11), k = randv(9 * C * F, 12, 0.25f), bias = randv(F, 13);
  auto conv = [&](const std::string& extra) {
    return R"({"class_name": "Conv2D", "config": {"name": "c", "filters": 32, "kernel_size": [3, 3], "use_bias": true)" + extra + "}}";
  };
  const std::string pool = R"(, {"class_name": "MaxPooling2D", "config": {"name": "p", "pool_size": [2, 2]}})";
  auto run = [&](const std::string& layers) {
    Layer l{"c", "Conv2D", {weight("k", {3, 3, C, F}, k), weight("b", {F}, bias)}};
    return Predictor(make_model(seq("[null, 9, 8, 16]", layers), {l})).run({FloatArray{{B, H, W, C}, x}})[0];
  };
  SECTION("valid, linear") {
    auto y = run(conv(R"(, "activation": "linear")"));
    REQUIRE(y.shape == Shape{B, 7, 6, F});
    require_close(y.values, ref_conv2d(x, B, H, W, C, k, 3, 3, F, bias, 1, 1, 1, 1, 7, 6, 0, 0));
  }
  SECTION("same, relu") {
    auto y = run(conv(R"(, "activation": "relu", "padding": "same")"));
    REQUIRE(y.shape == Shape{B, H, W, F});
    require_close(y.values, relu(ref_conv2d(x, B, H, W, C, k, 3, 3, F, bias, 1, 1, 1, 1, H, W, 1, 1)));
  }
  SECTION("valid, relu, then MaxPooling2D (odd conv output: the last row is not read)") {
    auto y = run(conv(R"(, "activation": "relu")") + pool);
    REQUIRE(y.shape == Shape{B, 3, 3, F});
    auto c = relu(ref_conv2d(x, B, H, W, C, k, 3, 3, F, bias, 1, 1, 1, 1, 7, 6, 0, 0));
    require_close(y.values, ref_maxpool2d(c, B, 7, 6, F, 2, 2));
  }
  SECTION("same, tanh, then MaxPooling2D pool 3 stride 2, then Flatten") {
    auto y = run(conv(R"(, "activation": "tanh", "padding": "same")") +
                 R"(, {"class_name": "MaxPooling2D", "config": {"name": "p", "pool_size": [3, 3], "strides": [2, 2]}}, {"class_name": "Flatten", "config": {"name": "f"}})");
    REQUIRE(y.shape == Shape{B, 4 * 3 * F});
    auto c = ref_conv2d(x, B, H, W, C, k, 3, 3, F, bias, 1, 1, 1, 1, H, W, 1, 1);
    for (double& e : c) e = std::tanh(e);
    require_close(y.values, ref_maxpool2d(c, B, H, W, F, 3, 2));
  }
  SECTION("Conv1D + MaxPooling1D pool 4, linear (pooled as the GEMM stores), then Flatten") {
    const int Wd = 13;
    std::vector<float> x1(x.begin(), x.begin() + B * Wd * C), k1(k.begin(), k.begin() + 3 * C * F);
    std::string layers = R"({"class_name": "Conv1D", "config": {"name": "c", "filters": 32, "kernel_size": [3], "activation": "linear"}}, {"class_name": "MaxPooling1D", "config": {"name": "p", "pool_size": [4]}}, {"class_name": "Flatten", "config": {"name": "f"}})";
    Layer l{"c", "Conv1D", {weight("k", {3, C, F}, k1), weight("b", {F}, bias)}};
    auto y = Predictor(make_model(seq("[null, 13, 16]", layers), {l})).run({FloatArray{{B, Wd, C}, x1}})[0];
    REQUIRE(y.shape == Shape{B, 2 * F});
    auto c = ref_conv2d(x1, B, 1, Wd, C, k1, 1, 3, F, bias, 1, 1, 1, 1, 1, 11, 0, 0);
    std::vector<double> want;  // windows [0, 4) and [4, 8) of the 11 outputs
    for (int b = 0; b < B; ++b)
      for (int p = 0; p < 2; ++p)
        for (int f = 0; f < F; ++f) {
          double m = -INFINITY;
          for (int w = 0; w < 4; ++w) m = std::max(m, c[(b * 11 + p * 4 + w) * F + f]);
          want.push_back(m);
        }
    require_close(y.values, want);
  }
  SECTION("channels_first Conv2D + MaxPooling2D, kernel 3x2 (pooled as the GEMM stores)") {
    std::vector<float> xcf(x.size()), k32(3 * 2 * C * F);
    for (int b = 0; b < B; ++b)
      for (int h = 0; h < H; ++h)
        for (int w = 0; w < W; ++w)
          for (int c = 0; c < C; ++c) xcf[((b * C + c) * H + h) * W + w] = x[((b * H + h) * W + w) * C + c];
    std::copy_n(k.begin(), k32.size(), k32.begin());
    std::string layers = R"({"class_name": "Conv2D", "config": {"name": "c", "filters": 32, "kernel_size": [3, 2], "data_format": "channels_first", "activation": "relu"}}, {"class_name": "MaxPooling2D", "config": {"name": "p", "pool_size": [2, 2], "data_format": "channels_first"}})";
    Layer l{"c", "Conv2D", {weight("k", {3, 2, C, F}, k32), weight("b", {F}, bias)}};
    auto y = Predictor(make_model(seq("[null, 16, 9, 8]", layers), {l})).run({FloatArray{{B, C, H, W}, xcf}})[0];
    REQUIRE(y.shape == Shape{B, F, 3, 3});
    auto c = relu(ref_conv2d(x, B, H, W, C, k32, 3, 2, F, bias, 1, 1, 1, 1, 7, 7, 0, 0));
    auto p = ref_maxpool2d(c, B, 7, 7, F, 2, 2);
    std::vector<double> pcf(p.size());
    for (int b = 0; b < B; ++b)
      for (int i = 0; i < 9; ++i)
        for (int f = 0; f < F; ++f) pcf[(b * F + f) * 9 + i] = p[(b * 9 + i) * F + f];
    require_close(y.values, pcf);
  }
}

namespace {
struct RnnRef {
  std::vector<double> out;  // last h per batch (B, U)
};
// Reference LSTM (Keras 2 gate order i, f, c, o), sigmoid recurrent activation, tanh activation.
std::vector<double> ref_lstm(const std::vector<float>& x, int B, int T, int D, int U, const std::vector<float>& W,
                             const std::vector<float>& R, const std::vector<float>& b, bool hard) {
  std::vector<double> res;
  for (int n = 0; n < B; ++n) {
    std::vector<double> h(U, 0), c(U, 0);
    for (int t = 0; t < T; ++t) {
      std::vector<double> z(4 * U);
      for (int j = 0; j < 4 * U; ++j) {
        double s = b[j];
        for (int d = 0; d < D; ++d) s += x[(n * T + t) * D + d] * W[d * 4 * U + j];
        for (int u = 0; u < U; ++u) s += h[u] * R[u * 4 * U + j];
        z[j] = s;
      }
      auto ra = [&](double v) { return hard ? std::min(1.0, std::max(0.0, 0.2 * v + 0.5)) : sigm(v); };
      for (int u = 0; u < U; ++u) {
        double i = ra(z[u]), f = ra(z[U + u]), g = std::tanh(z[2 * U + u]), o = ra(z[3 * U + u]);
        c[u] = f * c[u] + i * g;
        h[u] = o * std::tanh(c[u]);
      }
    }
    res.insert(res.end(), h.begin(), h.end());
  }
  return res;
}
}  // namespace

TEST_CASE("LSTM matches a reference loop; Keras 1 twelve-tensor weights map to the same math", "[engine]") {
  const int B = 3, T = 5, D = 4, U = 3;
  auto x = randv(B * T * D, 11), W = randv(D * 4 * U, 12, 0.5f), R = randv(U * 4 * U, 13, 0.5f), b = randv(4 * U, 14, 0.5f);
  auto ref = ref_lstm(x, B, T, D, U, W, R, b, true);
  SECTION("Keras 2") {
    Layer l{"lstm", "LSTM", {weight("k", {D, 4 * U}, W), weight("r", {U, 4 * U}, R), weight("b", {4 * U}, b)}};
    Model m = make_model(seq("[null, 5, 4]", R"({"class_name": "LSTM", "config": {"name": "lstm", "units": 3, "activation": "tanh", "recurrent_activation": "hard_sigmoid", "use_bias": true, "return_sequences": false}})"), {l});
    require_close(Predictor(m).run({FloatArray{{B, T, D}, x}})[0].values, ref);
  }
  SECTION("Keras 1 per-gate tensors W_i U_i b_i W_c U_c b_c W_f U_f b_f W_o U_o b_o") {
    auto cols = [&](const std::vector<float>& m, int rows, int gate) {
      std::vector<float> out;
      for (int r = 0; r < rows; ++r)
        for (int u = 0; u < U; ++u) out.push_back(m[r * 4 * U + gate * U + u]);
      return out;
    };
    std::vector<Weight> ws;
    for (int gate : {0, 2, 1, 3}) {  // Keras 1 stores i, c, f, o
      ws.push_back(weight("W", {D, U}, cols(W, D, gate)));
      ws.push_back(weight("U", {U, U}, cols(R, U, gate)));
      ws.push_back(weight("b", {U}, cols(b, 1, gate)));
    }
    Model m = make_model(R"({"class_name": "Sequential", "keras_version": "1.2.2", "config": [{"class_name": "LSTM", "config": {"name": "lstm_1", "output_dim": 3, "activation": "tanh", "inner_activation": "hard_sigmoid", "batch_input_shape": [null, 5, 4], "return_sequences": false}}]})",
                         {Layer{"lstm_1", "LSTM", ws}}, KerasDialect::kKeras1);
    require_close(Predictor(m).run({FloatArray{{B, T, D}, x}})[0].values, ref);
  }
}

TEST_CASE("GRU reset_after true and false match reference loops", "[engine]") {
  const int B = 2, T = 4, D = 3, U = 2;
  auto x = randv(B * T * D, 21), W = randv(D * 3 * U, 22, 0.6f), R = randv(U * 3 * U, 23, 0.6f);
  for (bool reset_after : {false, true}) {
    auto bi = randv(3 * U, 24), br = randv(3 * U, 25);
    std::vector<double> ref;
    for (int n = 0; n < B; ++n) {
      std::vector<double> h(U, 0);
      for (int t = 0; t < T; ++t) {
        std::vector<double> xw(3 * U), hr(3 * U);
        for (int j = 0; j < 3 * U; ++j) {
          xw[j] = bi[j];
          for (int d = 0; d < D; ++d) xw[j] += x[(n * T + t) * D + d] * W[d * 3 * U + j];
          hr[j] = reset_after ? br[j] : 0;
          for (int u = 0; u < U; ++u) hr[j] += h[u] * R[u * 3 * U + j];
        }
        std::vector<double> hn(U);
        std::vector<double> r(U), z(U);
        for (int u = 0; u < U; ++u) {
          z[u] = sigm(xw[u] + hr[u]);
          r[u] = sigm(xw[U + u] + hr[U + u]);
        }
        for (int u = 0; u < U; ++u) {
          double cand;
          if (reset_after) {
            cand = std::tanh(xw[2 * U + u] + r[u] * hr[2 * U + u]);
          } else {
            double s = xw[2 * U + u];
            for (int k = 0; k < U; ++k) s += r[k] * h[k] * R[k * 3 * U + 2 * U + u];
            cand = std::tanh(s);
          }
          hn[u] = z[u] * h[u] + (1 - z[u]) * cand;
        }
        h = hn;
      }
      ref.insert(ref.end(), h.begin(), h.end());
    }
    std::vector<float> bias = bi;
    Shape bshape{3 * U};
    if (reset_after) {
      bias.insert(bias.end(), br.begin(), br.end());
      bshape = {2, 3 * U};
    }
    Layer l{"gru", "GRU", {weight("k", {D, 3 * U}, W), weight("r", {U, 3 * U}, R), weight("b", bshape, bias)}};
    std::string cfg = std::string(R"({"class_name": "GRU", "config": {"name": "gru", "units": 2, "activation": "tanh", "recurrent_activation": "sigmoid", "use_bias": true, "reset_after": )") +
                      (reset_after ? "true" : "false") + "}}";
    INFO("reset_after " << reset_after);
    require_close(Predictor(make_model(seq("[null, 4, 3]", cfg), {l})).run({FloatArray{{B, T, D}, x}})[0].values, ref);
  }
}

TEST_CASE("SimpleRNN go_backwards with return_sequences, and Masking skips padded steps", "[engine]") {
  const int B = 1, T = 3, D = 1, U = 1;
  // h_t = tanh(x_t * 0.5 + h_{t-1} * 2 + 0.1)
  Layer l{"rnn", "SimpleRNN", {weight("k", {1, 1}, {0.5f}), weight("r", {1, 1}, {2.f}), weight("b", {1}, {0.1f})}};
  std::vector<float> x{1, 0, -1};
  SECTION("go_backwards, return_sequences") {
    auto m = make_model(seq("[null, 3, 1]", R"({"class_name": "SimpleRNN", "config": {"name": "rnn", "units": 1, "activation": "tanh", "return_sequences": true, "go_backwards": true}})"), {l});
    auto y = Predictor(m).run({FloatArray{{B, T, D}, x}})[0];
    double h1 = std::tanh(-0.5 + 0.1), h2 = std::tanh(0 + 2 * h1 + 0.1), h3 = std::tanh(0.5 + 2 * h2 + 0.1);
    REQUIRE(y.shape == Shape{1, 3, 1});
    require_close(y.values, {h1, h2, h3});  // in processing order, as Keras returns it
  }
  SECTION("Masking(0) holds the state over a zero step") {
    std::string layers = R"({"class_name": "Masking", "config": {"name": "m", "mask_value": 0.0}}, {"class_name": "SimpleRNN", "config": {"name": "rnn", "units": 1, "activation": "tanh"}})";
    auto m = make_model(seq("[null, 3, 1]", layers), {l});
    auto y = Predictor(m).run({FloatArray{{B, T, D}, x}})[0];
    double h1 = std::tanh(0.5 + 0.1), h3 = std::tanh(-0.5 + 2 * h1 + 0.1);
    require_close(y.values, {h3});
  }
  (void)U;
}

// Batches of 4 or more compute the input projections step by step, smaller ones all at once up
// front: each row of a batch of 6 must equal that row run alone.
TEST_CASE("Recurrent layers: a batch of 6 gives each row's single-row result (masks, go_backwards)", "[engine]") {
  const int B = 6, T = 5, D = 3, U = 4;
  auto x = randv(B * T * D, 31);
  for (int b = 0; b < B; b += 2)  // zero steps for the Masking case
    for (int d = 0; d < D; ++d) x[(b * T + b % T) * D + d] = 0;
  struct Case {
    std::string cls, extra;
    int gates;
  };
  for (const Case& c : {Case{"LSTM", R"("recurrent_activation": "sigmoid")", 4},
                        Case{"GRU", R"("recurrent_activation": "sigmoid", "reset_after": true)", 3},
                        Case{"GRU", R"("recurrent_activation": "hard_sigmoid", "reset_after": false)", 3},
                        Case{"SimpleRNN", R"("use_bias": true)", 1}}) {
    for (const std::string opts : {R"("return_sequences": true, "go_backwards": true)", R"("return_sequences": false)"}) {
      for (bool masking : {false, true}) {
        INFO(c.cls << " " << c.extra << " " << opts << (masking ? " masked" : ""));
        const int G = c.gates;
        const bool reset_after = c.extra.find("\"reset_after\": true") != std::string::npos;
        std::vector<Weight> ws{weight("k", {D, G * U}, randv(D * G * U, 32, 0.6f)),
                               weight("r", {U, G * U}, randv(U * G * U, 33, 0.6f))};
        if (reset_after) ws.push_back(weight("b", {2, G * U}, randv(2 * G * U, 34, 0.5f)));
        else ws.push_back(weight("b", {G * U}, randv(G * U, 34, 0.5f)));
        std::string layers = R"({"class_name": ")" + c.cls + R"(", "config": {"name": "rnn", "units": 4, "activation": "tanh", )" +
                             c.extra + ", " + opts + "}}";
        if (masking) layers = R"({"class_name": "Masking", "config": {"name": "m", "mask_value": 0.0}}, )" + layers;
        Predictor p(make_model(seq("[null, 5, 3]", layers), {Layer{"rnn", c.cls, ws}}));
        auto all = p.run({FloatArray{{B, T, D}, x}})[0];
        const size_t per_row = all.values.size() / B;
        for (int b = 0; b < B; ++b) {
          std::vector<float> row(x.begin() + b * T * D, x.begin() + (b + 1) * T * D);
          auto one = p.run({FloatArray{{1, T, D}, row}})[0];
          std::vector<double> want(one.values.begin(), one.values.end());
          require_close(std::vector<float>(all.values.begin() + b * per_row, all.values.begin() + (b + 1) * per_row), want);
        }
      }
    }
  }
}

TEST_CASE("Bidirectional concat reverses the backward sequence back into time order", "[engine]") {
  Layer l{"bi", "Bidirectional",
          {weight("fk", {1, 1}, {1.f}), weight("fr", {1, 1}, {0.f}), weight("fb", {1}, {0.f}),
           weight("bk", {1, 1}, {2.f}), weight("br", {1, 1}, {1.f}), weight("bb", {1}, {0.f})}};
  auto m = make_model(seq("[null, 2, 1]", R"({"class_name": "Bidirectional", "config": {"name": "bi", "merge_mode": "concat", "layer": {"class_name": "SimpleRNN", "config": {"name": "r", "units": 1, "activation": "linear", "return_sequences": true}}}})"), {l});
  auto y = Predictor(m).run({FloatArray{{1, 2, 1}, {1, 3}}})[0];
  // forward: [1, 3]; backward runs t=1 then t=0: b(t=1) = 6, b(t=0) = 2 + 6 = 8
  REQUIRE(y.shape == Shape{1, 2, 2});
  require_close(y.values, {1, 8, 3, 6});
}

TEST_CASE("Pooling, BatchNormalization, Flatten, Reshape, Permute, padding and activations", "[engine]") {
  SECTION("MaxPooling2D same and AveragePooling2D same count only real cells") {
    std::vector<float> x{1, 2, 3, 4, 5, 6, 7, 8, 9};
    auto m1 = make_model(seq("[null, 3, 3, 1]", R"({"class_name": "MaxPooling2D", "config": {"name": "p", "pool_size": [2, 2], "padding": "same"}})"), {});
    auto y1 = Predictor(m1).run({FloatArray{{1, 3, 3, 1}, x}})[0];
    REQUIRE(y1.shape == Shape{1, 2, 2, 1});
    require_close(y1.values, {5, 6, 8, 9});
    auto m2 = make_model(seq("[null, 3, 3, 1]", R"({"class_name": "AveragePooling2D", "config": {"name": "p", "pool_size": [2, 2], "padding": "same"}})"), {});
    require_close(Predictor(m2).run({FloatArray{{1, 3, 3, 1}, x}})[0].values, {3, 4.5, 7.5, 9});
  }
  SECTION("BatchNormalization uses moving statistics") {
    Layer bn{"bn", "BatchNormalization", {weight("g", {2}, {2, 1}), weight("b", {2}, {0, 1}), weight("m", {2}, {1, -1}), weight("v", {2}, {4, 1})}};
    auto m = make_model(seq("[null, 2]", R"({"class_name": "BatchNormalization", "config": {"name": "bn", "axis": -1, "epsilon": 0.001, "center": true, "scale": true}})"), {bn});
    auto y = Predictor(m).run({FloatArray{{1, 2}, {3, 0}}})[0];
    require_close(y.values, {2 * 2 / std::sqrt(4.001), 1 / std::sqrt(1.001) + 1});
  }
  SECTION("Permute, Reshape, Flatten") {
    auto m = make_model(seq("[null, 2, 3]", R"({"class_name": "Permute", "config": {"name": "p", "dims": [2, 1]}}, {"class_name": "Reshape", "config": {"name": "r", "target_shape": [-1, 2]}}, {"class_name": "Flatten", "config": {"name": "f"}})"), {});
    auto y = Predictor(m).run({FloatArray{{1, 2, 3}, {1, 2, 3, 4, 5, 6}}})[0];
    REQUIRE(y.shape == Shape{1, 6});
    require_close(y.values, {1, 4, 2, 5, 3, 6});
  }
  SECTION("ZeroPadding1D then Cropping1D and UpSampling1D") {
    auto m = make_model(seq("[null, 2, 1]", R"({"class_name": "ZeroPadding1D", "config": {"name": "z", "padding": [1, 2]}}, {"class_name": "Cropping1D", "config": {"name": "c", "cropping": [0, 1]}}, {"class_name": "UpSampling1D", "config": {"name": "u", "size": 2}})"), {});
    auto y = Predictor(m).run({FloatArray{{1, 2, 1}, {7, 8}}})[0];
    REQUIRE(y.shape == Shape{1, 8, 1});
    require_close(y.values, {0, 0, 7, 7, 8, 8, 0, 0});
  }
  SECTION("activation strings") {
    struct Case { const char* name; double (*f)(double); };
    const Case cases[] = {
        {"relu", [](double v) { return std::max(v, 0.0); }},
        {"sigmoid", [](double v) { return 1 / (1 + std::exp(-v)); }},
        {"hard_sigmoid", [](double v) { return std::min(1.0, std::max(0.0, 0.2 * v + 0.5)); }},
        {"softplus", [](double v) { return std::log1p(std::exp(v)); }},
        {"softsign", [](double v) { return v / (1 + std::fabs(v)); }},
        {"selu", [](double v) { return v > 0 ? 1.0507009873554805 * v : 1.0507009873554805 * 1.6732632423543772 * std::expm1(v); }},
        {"elu", [](double v) { return v > 0 ? v : std::expm1(v); }},
        {"exponential", [](double v) { return std::exp(v); }},
        {"swish", [](double v) { return v / (1 + std::exp(-v)); }},
        {"gelu", [](double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); }},
        {"relu6", [](double v) { return std::min(6.0, std::max(v, 0.0)); }},
        {"mish", [](double v) { return v * std::tanh(std::log1p(std::exp(v))); }},
        {"tanh", [](double v) { return std::tanh(v); }},
    };
    std::vector<float> x{-7, -1.5f, -0.2f, 0, 0.3f, 2, 8};
    for (const auto& c : cases) {
      INFO(c.name);
      auto m = make_model(seq("[null, 7]", std::string(R"({"class_name": "Activation", "config": {"name": "a", "activation": ")") + c.name + "\"}}"), {});
      std::vector<double> want;
      for (float v : x) want.push_back(c.f(v));
      require_close(Predictor(m).run({FloatArray{{1, 7}, x}})[0].values, want);
    }
  }
}

TEST_CASE("Lambda and unknown layer classes are refused by name; wrong input shapes are usage errors", "[engine]") {
  SECTION("Lambda") {
    auto m = make_model(seq("[null, 2]", R"({"class_name": "Lambda", "config": {"name": "lam", "function": ["4wEAAAAAAAAA", null, null]}})"), {});
    try {
      Predictor p(m);
      FAIL("Lambda accepted");
    } catch (const UnsupportedError& e) {
      CHECK(std::string(e.what()).find("Lambda layer \"lam\"") != std::string::npos);
      CHECK(std::string(e.what()).find("never runs") != std::string::npos);
    }
  }
  SECTION("unknown class") {
    auto m = make_model(seq("[null, 2]", R"({"class_name": "MyCustomLayer", "config": {"name": "mine"}})"), {});
    REQUIRE_THROWS_AS(Predictor(m), UnsupportedError);
  }
  SECTION("shape mismatch") {
    Layer d{"d", "Dense", {weight("k", {2, 1}, {1, 1}), weight("b", {1}, {0})}};
    Predictor p(make_model(seq("[null, 2]", R"({"class_name": "Dense", "config": {"name": "d", "units": 1}})"), {d}));
    try {
      p.run({FloatArray{{1, 3}, {1, 2, 3}}});
      FAIL("wrong shape accepted");
    } catch (const UsageError& e) {
      CHECK(std::string(e.what()).find("(None, 2)") != std::string::npos);
    }
  }
  SECTION("missing weights") {
    REQUIRE_THROWS_AS(Predictor(make_model(seq("[null, 2]", R"({"class_name": "Dense", "config": {"name": "d", "units": 1}})"), {})),
                      BadInputError);
  }
}

TEST_CASE("float16 and float64 weights are converted to float32", "[engine]") {
  Tensor h;
  h.dtype = DType::kFloat16;
  h.shape = {3};
  const uint16_t bits[3] = {0x3c00, 0xc000, 0x3555};  // 1, -2, 0.333251953125
  h.data.resize(6);
  std::memcpy(h.data.data(), bits, 6);
  auto a = to_float_array(h);
  require_close(a.values, {1, -2, 0.333251953125});
  Tensor d;
  d.dtype = DType::kFloat64;
  d.shape = {1};
  double v = 0.1;
  d.data.resize(8);
  std::memcpy(d.data.data(), &v, 8);
  REQUIRE(to_float_array(d).values[0] == 0.1f);
}
