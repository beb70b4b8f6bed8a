// Tests for per-layer output shapes and expected weights (core/layer_shapes). The ground truth
// files testdata/diff/arch/<folder>.weights.tsv were dumped with h5py from the corpus H5 files
// (layer, weight name, shape as stored); the configs are those files' model_config / JSON.
#include <catch2/catch.hpp>

#include <dirent.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "core/layer_shapes.h"
#include "kmodel/architecture.h"
#include "kmodel/error.h"

using namespace kmodel;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const std::string kArch = std::string(KMODEL_TESTDATA) + "/diff/arch/";

std::map<std::string, LayerShapes> infer_file(const std::string& name) {
  std::string path = kArch + name + ".json";
  return infer_layer_shapes(parse_architecture(slurp(path), path), path);
}

// The short Keras name of a stored weight: "dense_1/kernel:0" -> "kernel"; Keras 1 "lstm_1_W_i" -> "W_i".
std::string short_name(const std::string& layer, std::string name) {
  if (name.size() > 2 && name.compare(name.size() - 2, 2, ":0") == 0) name.resize(name.size() - 2);
  auto slash = name.rfind('/');
  if (slash != std::string::npos) return name.substr(slash + 1);
  if (name.rfind(layer + "_", 0) == 0) return name.substr(layer.size() + 1);
  return name;
}
std::string short_expected(const std::string& name) {
  auto slash = name.rfind('/');
  return slash == std::string::npos ? name : name.substr(slash + 1);
}

Shape parse_shape(const std::string& s) {
  Shape out;
  std::stringstream ss(s);
  std::string x;
  while (std::getline(ss, x, ','))
    if (!x.empty()) out.push_back(std::stoll(x));
  return out;
}

}  // namespace

TEST_CASE("layer_shapes: expected weights match h5py ground truth on every corpus config", "[diff][layer_shapes]") {
  // Custom layers (not Keras built-ins) must come back as unknown, never as errors.
  const std::set<std::string> custom = {"GarNet", "FixedPointQuantizer", "QDense", "QActivation", "L1Dist", "Lambda"};
  DIR* dir = opendir(kArch.c_str());
  REQUIRE(dir != nullptr);
  std::vector<std::string> names;
  while (dirent* e = readdir(dir)) {
    std::string f = e->d_name;
    if (f.size() > 12 && f.compare(f.size() - 12, 12, ".weights.tsv") == 0) names.push_back(f.substr(0, f.size() - 12));
  }
  closedir(dir);
  std::sort(names.begin(), names.end());
  REQUIRE(names.size() >= 30);
  size_t weights_checked = 0, dims_unknown = 0;
  for (const auto& name : names) {
    INFO("model " << name);
    auto shapes = infer_file(name);
    bool has_custom = false;
    for (const auto& [layer, ls] : shapes)
      if (!ls.known) has_custom = true;
    std::map<std::string, std::vector<std::pair<std::string, Shape>>> truth;
    std::ifstream tsv(kArch + name + ".weights.tsv");
    std::string line;
    while (std::getline(tsv, line)) {
      if (line.empty() || line[0] == '#') continue;
      std::stringstream ls(line);
      std::string layer, wname, shape;
      std::getline(ls, layer, '\t');
      std::getline(ls, wname, '\t');
      std::getline(ls, shape, '\t');
      truth[layer].emplace_back(short_name(layer, wname), parse_shape(shape));
    }
    for (const auto& [layer, ws] : truth) {
      INFO("layer " << layer);
      auto it = shapes.find(layer);
      REQUIRE(it != shapes.end());
      if (!it->second.known) {
        CHECK(custom.count(it->second.class_name) == 1);
        continue;
      }
      REQUIRE(it->second.weights.size() == ws.size());
      for (size_t i = 0; i < ws.size(); ++i) {
        CHECK(short_expected(it->second.weights[i].name) == ws[i].first);
        const Shape& got = it->second.weights[i].shape;
        if (got == ws[i].second) {
          ++weights_checked;
          continue;
        }
        // Downstream of a custom layer (unknown output) input-dependent dims may be None, nothing else.
        CHECK(has_custom);
        REQUIRE(got.size() == ws[i].second.size());
        for (size_t d = 0; d < got.size(); ++d)
          if (got[d] != ws[i].second[d]) CHECK(got[d] == -1);
        ++dims_unknown;
      }
    }
    // Known weightless layers in the file must be weightless in the inference too.
    for (const auto& [layer, ls] : shapes)
      if (ls.known && !ls.weights.empty() && layer.find('/') == std::string::npos) {
        INFO("layer " << layer << " expects weights");
        CHECK(truth.count(layer) == 1);
      }
  }
  CHECK(weights_checked > 250);
  CHECK(dims_unknown <= 13);  // only the dense layers after GarNet/FixedPointQuantizer/L1Dist/Lambda
}

TEST_CASE("layer_shapes: output shapes through conv, padding, upsampling and cropping (mixed data formats)",
          "[diff][layer_shapes]") {
  auto s = infer_file("dl4j_tfkeras_cnn2d_40");
  // input (None, 3, 10, 10); depthwise is channels_first, padding/upsampling/cropping/pooling channels_last.
  CHECK(output_shape_str(s.at("depthwise_conv2d_4")) == "(None, 3, 10, 10)");
  CHECK(output_shape_str(s.at("zero_padding2d_40")) == "(None, 9, 16, 10)");
  CHECK(output_shape_str(s.at("up_sampling2d_40")) == "(None, 18, 32, 10)");
  CHECK(output_shape_str(s.at("cropping2d_40")) == "(None, 16, 30, 10)");
  CHECK(output_shape_str(s.at("max_pooling2d_20")) == "(None, 8, 15, 10)");
  CHECK(s.at("depthwise_conv2d_5").weights[0].shape == Shape{3, 3, 8, 1});
  CHECK(output_shape_str(s.at("global_max_pooling2d_10")).rfind("(None, ", 0) == 0);

  auto c3 = infer_file("dl4j_tfkeras_cnn3d_16");
  CHECK(output_shape_str(c3.at("conv3d_24")) == "(None, 10, 10, 10, 4)");
  CHECK(output_shape_str(c3.at("cropping3d_8")) == "(None, 8, 8, 8, 4)");
  CHECK(output_shape_str(c3.at("max_pooling3d_8")) == "(None, 4, 4, 4, 4)");
  CHECK(output_shape_str(c3.at("max_pooling3d_9")) == "(None, 1, 1, 1, 4)");
  CHECK(c3.at("conv3d_25").param_count() == 3 * 3 * 3 * 4 * 4 + 4);
}

TEST_CASE("layer_shapes: recurrent outputs, Keras 3 build_config agreement, initializers", "[diff][layer_shapes]") {
  // Keras 3 writes each layer's build input shape: the previous layer's output.
  auto k3 = infer_file("stock_rnn_model_keras");
  CHECK(output_shape_str(k3.at("lstm")) == "(None, 10, 100)");     // dropout build_config [null, 10, 100]
  CHECK(output_shape_str(k3.at("lstm_1")) == "(None, 64)");
  const auto& lstm = k3.at("lstm").weights;
  REQUIRE(lstm.size() == 3);
  CHECK(lstm[0].attr == "cell/kernel");
  CHECK(lstm[1].initializer_json.find("OrthogonalInitializer") != std::string::npos);
  CHECK(lstm[2].initializer_json.find("kmodel>UnitForgetBias") != std::string::npos);

  auto siamese = infer_file("signature_siamese_lstm_h5");  // two inputs, custom L1Dist in the middle
  CHECK(output_shape_str(siamese.at("Dense_layer_input")) == "(None, 1000, 27)");
  CHECK(siamese.at("L1_Distance_Layer").known == false);
  CHECK(output_shape_str(siamese.at("L1_Distance_Layer")) == "?");

  auto bn = infer_file("fml_keras_3layer_batch_norm_h5");
  const auto& bn1 = bn.at("bn1").weights;
  REQUIRE(bn1.size() == 4);
  CHECK(bn1[0].trainable);
  CHECK_FALSE(bn1[2].trainable);
  CHECK(bn1[3].name == "moving_variance");
  CHECK(bn.at("fc1_relu").weights[0].initializer_json.find("VarianceScaling") != std::string::npos);

  auto k1 = infer_file("dl4j_simple_lstm_th_keras_1_io");
  CHECK(output_shape_str(k1.at("dense_1")) == "(None, 1)");
  CHECK(k1.at("lstm_1").weights[8].initializer_json == "\"one\"");  // b_f: forget_bias_init
}

TEST_CASE("layer_shapes: JSON-only configs (Bidirectional, Concatenate, Add, Keras 1 Conv1D)", "[diff][layer_shapes]") {
  auto bi = infer_file("dl4j_json_bidirectional_lstm_tf_keras_2_config");
  auto concat = infer_file("dl4j_json_model_concat_embedding_sequences_tf_keras_2");
  auto add = infer_file("dl4j_json_simple_add_tf_keras_2");
  auto k1 = infer_file("dl4j_json_keras1_tf_embedding_conv1d_config");
  // Keras 1: Embedding (None, 100, 100) -> Conv1D k3 valid (98) -> pool 3/3 (32) -> conv (30) -> pool (10).
  CHECK(output_shape_str(k1.at("embedding_1")) == "(None, 100, 100)");
  CHECK(output_shape_str(k1.at("convolution1d_1")) == "(None, 98, 1)");
  CHECK(output_shape_str(k1.at("maxpooling1d_2")) == "(None, 10, 1)");
  CHECK(k1.at("convolution1d_1").weights[0].shape == Shape{3, 1, 100, 1});  // Keras 1 (k, 1, in, filters)
  CHECK(k1.at("dense_1").weights[0].shape == Shape{10, 1});
  CHECK(k1.at("embedding_1").weights[0].name == "W");
  // Bidirectional(LSTM(64, return_sequences), merge_mode=sum) over (None, 100, 128).
  CHECK(output_shape_str(bi.at("bidirectional_1")) == "(None, 100, 64)");
  CHECK(output_shape_str(bi.at("flatten_1")) == "(None, 6400)");
  const auto& bw = bi.at("bidirectional_1").weights;
  REQUIRE(bw.size() == 6);
  CHECK(bw[0].attr == "forward_layer/cell/kernel");
  CHECK(bw[0].shape == Shape{128, 256});
  CHECK(bw[3].name.rfind("backward_", 0) == 0);
  CHECK(bi.at("dense_1").weights[0].shape == Shape{6400, 1});
  // Concatenate of (None, 10, 10) [batch_input_shape of word_ids wins] and (None, None, 6).
  CHECK(output_shape_str(concat.at("concatenate_1")) == "(None, 10, 16)");
  CHECK(output_shape_str(concat.at("bidirectional_1")) == "(None, 10, 200)");
  CHECK(concat.at("bidirectional_1").weights[0].shape == Shape{16, 400});
  CHECK(output_shape_str(concat.at("sequence_out")) == "(None, 10, 14)");
  CHECK(output_shape_str(add.at("add_2")) == "(None, 8)");
  CHECK(add.at("dense_6").weights[0].shape == Shape{8, 4});
}

TEST_CASE("layer_shapes: nested Sequential inside Functional and unknown classes", "[diff][layer_shapes]") {
  const char* json = R"({"class_name": "Functional", "config": {"name": "outer", "layers": [
    {"class_name": "InputLayer", "name": "in", "inbound_nodes": [], "config": {"batch_input_shape": [null, 8], "name": "in"}},
    {"class_name": "Sequential", "name": "inner", "inbound_nodes": [[["in", 0, 0, {}]]], "config": {"name": "inner", "layers": [
       {"class_name": "Dense", "config": {"name": "d1", "units": 4, "batch_input_shape": [null, 8]}},
       {"class_name": "BatchNormalization", "config": {"name": "bn", "axis": -1}},
       {"class_name": "Dense", "config": {"name": "d2", "units": 3, "use_bias": false}}]}},
    {"class_name": "MyCustom", "name": "custom", "inbound_nodes": [[["inner", 1, 0, {}]]], "config": {"name": "custom"}},
    {"class_name": "Dense", "name": "head", "inbound_nodes": [[["inner", 1, 0, {}]]], "config": {"name": "head", "units": 5}}],
    "input_layers": [["in", 0, 0]], "output_layers": [["head", 0, 0]]}})";
  auto s = infer_layer_shapes(parse_architecture(json, "mem"), "mem");
  CHECK(output_shape_str(s.at("inner")) == "(None, 3)");
  CHECK(output_shape_str(s.at("inner/bn")) == "(None, 4)");
  CHECK(output_shape_str(s.at("head")) == "(None, 5)");
  CHECK(s.at("head").weights[0].shape == Shape{3, 5});
  const auto& nested = s.at("inner").weights;  // trainable of all sublayers first, then moving stats
  REQUIRE(nested.size() == 7);
  CHECK(nested[0].name == "d1/kernel");
  CHECK(nested[2].name == "bn/gamma");
  CHECK(nested[4].name == "d2/kernel");
  CHECK(nested[5].name == "bn/moving_mean");
  CHECK(s.at("inner").param_count() == 8 * 4 + 4 + 4 * 4 + 4 * 3);
  CHECK_FALSE(s.at("custom").known);
  CHECK(output_shape_str(s.at("custom")) == "?");
}

TEST_CASE("layer_shapes: recurrent, wrapper, reshaping, transposed/separable/grouped conv, norm layers",
          "[diff][layer_shapes]") {
  // Hand-computed expectations from the Keras layer definitions (build() weight shapes and
  // compute_output_shape), one functional model with three inputs.
  const char* json = R"({"class_name": "Functional", "config": {"name": "zoo", "layers": [
    {"class_name": "InputLayer", "name": "seq", "inbound_nodes": [], "config": {"batch_input_shape": [null, 10, 8], "name": "seq"}},
    {"class_name": "TimeDistributed", "name": "td", "inbound_nodes": [[["seq", 0, 0, {}]]], "config": {"name": "td",
       "layer": {"class_name": "Dense", "config": {"name": "inner", "units": 4}}}},
    {"class_name": "GRU", "name": "gru", "inbound_nodes": [[["td", 0, 0, {}]]], "config": {"name": "gru", "units": 6, "return_sequences": true, "reset_after": true}},
    {"class_name": "SimpleRNN", "name": "rnn", "inbound_nodes": [[["gru", 0, 0, {}]]], "config": {"name": "rnn", "units": 5}},
    {"class_name": "RepeatVector", "name": "rep", "inbound_nodes": [[["rnn", 0, 0, {}]]], "config": {"name": "rep", "n": 3}},
    {"class_name": "Permute", "name": "perm", "inbound_nodes": [[["rep", 0, 0, {}]]], "config": {"name": "perm", "dims": [2, 1]}},
    {"class_name": "Reshape", "name": "flat", "inbound_nodes": [[["perm", 0, 0, {}]]], "config": {"name": "flat", "target_shape": [15]}},
    {"class_name": "Reshape", "name": "back", "inbound_nodes": [[["flat", 0, 0, {}]]], "config": {"name": "back", "target_shape": [-1, 5]}},
    {"class_name": "LayerNormalization", "name": "ln", "inbound_nodes": [[["back", 0, 0, {}]]], "config": {"name": "ln", "axis": -1}},
    {"class_name": "PReLU", "name": "prelu", "inbound_nodes": [[["ln", 0, 0, {}]]], "config": {"name": "prelu", "shared_axes": [1]}},
    {"class_name": "Conv1DTranspose", "name": "up", "inbound_nodes": [[["prelu", 0, 0, {}]]], "config": {"name": "up", "filters": 2, "kernel_size": 3, "strides": 2, "padding": "same"}},
    {"class_name": "InputLayer", "name": "img", "inbound_nodes": [], "config": {"batch_input_shape": [null, 32, 32, 3], "name": "img"}},
    {"class_name": "SeparableConv2D", "name": "sep", "inbound_nodes": [[["img", 0, 0, {}]]], "config": {"name": "sep", "filters": 8, "kernel_size": [3, 3], "depth_multiplier": 2}},
    {"class_name": "Conv2D", "name": "grp", "inbound_nodes": [[["sep", 0, 0, {}]]], "config": {"name": "grp", "filters": 4, "kernel_size": 3, "strides": 2, "padding": "same", "groups": 2}},
    {"class_name": "Conv2DTranspose", "name": "tr", "inbound_nodes": [[["grp", 0, 0, {}]]], "config": {"name": "tr", "filters": 2, "kernel_size": [3, 3], "strides": [2, 2], "padding": "valid"}},
    {"class_name": "GlobalAveragePooling2D", "name": "gap", "inbound_nodes": [[["tr", 0, 0, {}]]], "config": {"name": "gap"}},
    {"class_name": "BatchNormalization", "name": "bn", "inbound_nodes": [[["gap", 0, 0, {}]]], "config": {"name": "bn", "trainable": false, "center": false}},
    {"class_name": "Normalization", "name": "norm", "inbound_nodes": [[["bn", 0, 0, {}]]], "config": {"name": "norm", "axis": -1}},
    {"class_name": "Dot", "name": "dot", "inbound_nodes": [[["norm", 0, 0, {}], ["gap", 0, 0, {}]]], "config": {"name": "dot", "axes": 1}},
    {"class_name": "InputLayer", "name": "ids", "inbound_nodes": [], "config": {"batch_input_shape": [null, 7], "name": "ids"}},
    {"class_name": "Embedding", "name": "emb", "inbound_nodes": [[["ids", 0, 0, {}]]], "config": {"name": "emb", "input_dim": 100, "output_dim": 16}},
    {"class_name": "Bidirectional", "name": "bi", "inbound_nodes": [[["emb", 0, 0, {}]]], "config": {"name": "bi", "merge_mode": null,
       "layer": {"class_name": "LSTM", "config": {"name": "l", "units": 3, "return_state": true}}}}],
    "input_layers": [["seq", 0, 0], ["img", 0, 0], ["ids", 0, 0]], "output_layers": [["up", 0, 0], ["dot", 0, 0], ["bi", 0, 0]]},
    "keras_version": "2.15.0"})";
  auto s = infer_layer_shapes(parse_architecture(json, "zoo"), "zoo");
  auto shape_of = [&](const char* layer, size_t i) { return s.at(layer).weights.at(i).shape; };
  CHECK(output_shape_str(s.at("td")) == "(None, 10, 4)");
  CHECK(s.at("td").weights[0].attr == "layer/kernel");
  CHECK(shape_of("td", 0) == Shape{8, 4});
  CHECK(output_shape_str(s.at("gru")) == "(None, 10, 6)");
  CHECK(shape_of("gru", 0) == Shape{4, 18});
  CHECK(shape_of("gru", 1) == Shape{6, 18});
  CHECK(shape_of("gru", 2) == Shape{2, 18});  // reset_after: input and recurrent biases
  CHECK(output_shape_str(s.at("rnn")) == "(None, 5)");
  CHECK(shape_of("rnn", 1) == Shape{5, 5});
  CHECK(output_shape_str(s.at("rep")) == "(None, 3, 5)");
  CHECK(output_shape_str(s.at("perm")) == "(None, 5, 3)");
  CHECK(output_shape_str(s.at("flat")) == "(None, 15)");
  CHECK(output_shape_str(s.at("back")) == "(None, 3, 5)");
  CHECK(shape_of("ln", 0) == Shape{5});
  CHECK(shape_of("prelu", 0) == Shape{1, 5});
  CHECK(output_shape_str(s.at("up")) == "(None, 6, 2)");
  CHECK(shape_of("up", 0) == Shape{3, 2, 5});  // transposed: (k, filters, in)
  CHECK(output_shape_str(s.at("sep")) == "(None, 30, 30, 8)");
  CHECK(shape_of("sep", 0) == Shape{3, 3, 3, 2});
  CHECK(shape_of("sep", 1) == Shape{1, 1, 6, 8});
  CHECK(output_shape_str(s.at("grp")) == "(None, 15, 15, 4)");
  CHECK(shape_of("grp", 0) == Shape{3, 3, 4, 4});  // in 8 / groups 2
  CHECK(output_shape_str(s.at("tr")) == "(None, 31, 31, 2)");
  CHECK(shape_of("tr", 0) == Shape{3, 3, 2, 4});
  CHECK(output_shape_str(s.at("gap")) == "(None, 2)");
  const auto& bn = s.at("bn").weights;  // trainable false, center false: gamma + moving stats
  REQUIRE(bn.size() == 3);
  CHECK(bn[0].name == "gamma");
  CHECK_FALSE(bn[0].trainable);
  const auto& norm = s.at("norm").weights;
  REQUIRE(norm.size() == 3);
  CHECK(norm[0].shape == Shape{2});
  CHECK(norm[2].name == "count");
  CHECK(norm[2].dtype == DType::kInt64);
  CHECK(output_shape_str(s.at("dot")) == "(None, 1)");
  CHECK(output_shape_str(s.at("emb")) == "(None, 7, 16)");
  // merge_mode None + return_state: [fwd out, bwd out, fwd h, fwd c, bwd h, bwd c].
  CHECK(output_shape_str(s.at("bi")) == "[(None, 3), (None, 3), (None, 3), (None, 3), (None, 3), (None, 3)]");
  CHECK(s.at("bi").weights.size() == 6);
  CHECK(s.at("bi").weights[3].attr == "backward_layer/cell/kernel");
  CHECK(s.at("bi").param_count() == 2 * (16 * 12 + 3 * 12 + 12));
}

TEST_CASE("layer_shapes: a Keras 2 config whose text looks like Keras 1 keeps Keras 2 weight names", "[diff][layer_shapes]") {
  // No keras_version in the text (as in every H5 model_config) and an Embedding's "output_dim":
  // parse_architecture guesses Keras 1; the layers' own keys say Keras 2.
  const char* json = R"({"class_name": "Sequential", "config": {"name": "s", "layers": [
    {"class_name": "Embedding", "config": {"name": "emb", "input_dim": 10, "output_dim": 8, "batch_input_shape": [null, 5],
      "embeddings_initializer": {"class_name": "RandomUniform", "config": {}}}},
    {"class_name": "Conv1D", "config": {"name": "c", "filters": 4, "kernel_size": [3], "padding": "valid"}},
    {"class_name": "Dense", "config": {"name": "d", "units": 2}}]}})";
  ArchitectureSpec arch = parse_architecture(json, "mem");
  auto s = infer_layer_shapes(arch, "mem");
  CHECK(s.at("emb").weights[0].name == "embeddings");
  CHECK(s.at("c").weights[0].name == "kernel");
  CHECK(s.at("c").weights[0].shape == Shape{3, 8, 4});
  CHECK(output_shape_str(s.at("d")) == "(None, 3, 2)");
}

TEST_CASE("layer_shapes: MultiHeadAttention (value as a call kwarg), Attention, GroupNormalization", "[diff][layer_shapes]") {
  const char* json = R"({"class_name": "Functional", "keras_version": "2.15.0", "config": {"name": "att", "layers": [
    {"class_name": "InputLayer", "name": "q", "inbound_nodes": [], "config": {"batch_input_shape": [null, 6, 16], "name": "q"}},
    {"class_name": "InputLayer", "name": "v", "inbound_nodes": [], "config": {"batch_input_shape": [null, 9, 12], "name": "v"}},
    {"class_name": "MultiHeadAttention", "name": "mha", "inbound_nodes": [[["q", 0, 0, {"value": ["v", 0, 0]}]]],
     "config": {"name": "mha", "num_heads": 4, "key_dim": 8, "value_dim": null, "use_bias": true, "output_shape": null}},
    {"class_name": "Attention", "name": "att", "inbound_nodes": [[["q", 0, 0, {}], ["v", 0, 0, {}]]], "config": {"name": "att", "use_scale": true}},
    {"class_name": "GroupNormalization", "name": "gn", "inbound_nodes": [[["mha", 0, 0, {}]]], "config": {"name": "gn", "groups": 4, "axis": -1}}],
    "input_layers": [["q", 0, 0], ["v", 0, 0]], "output_layers": [["gn", 0, 0], ["att", 0, 0]]}})";
  auto s = infer_layer_shapes(parse_architecture(json, "att"), "att");
  const auto& w = s.at("mha").weights;
  REQUIRE(w.size() == 8);
  CHECK(w[0].name == "query/kernel");
  CHECK(w[0].shape == Shape{16, 4, 8});
  CHECK(w[1].shape == Shape{4, 8});
  CHECK(w[2].shape == Shape{12, 4, 8});  // key projects the value input (no key given)
  CHECK(w[4].shape == Shape{12, 4, 8});
  CHECK(w[6].name == "attention_output/kernel");
  CHECK(w[6].shape == Shape{4, 8, 16});
  CHECK(w[7].shape == Shape{16});
  CHECK(output_shape_str(s.at("mha")) == "(None, 6, 16)");
  CHECK(output_shape_str(s.at("att")) == "(None, 6, 12)");
  REQUIRE(s.at("att").weights.size() == 1);
  CHECK(s.at("att").weights[0].shape == Shape{});
  CHECK(s.at("gn").weights[0].shape == Shape{16});
}
