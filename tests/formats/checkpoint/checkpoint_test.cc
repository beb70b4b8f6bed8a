// Tests for the checkpoint format: locating the prefix, list_variables-style listing, TF2 object graph
// -> Keras layers (with and without an architecture), TF1 name-based and V1 checkpoints, writing (from
// an in-memory model, from checkpoints, from H5) with bit-exact round trips, and the object-graph helpers.
#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <unistd.h>

#include "core/object_graph.h"
#include "formats/checkpoint/checkpoint_internal.h"
#include "io/tensor_bundle.h"
#include "kmodel/error.h"
#include "kmodel/formats.h"
#include "kmodel/report.h"

using namespace kmodel;
namespace fs = std::filesystem;

namespace {
const std::string kData = KMODEL_TESTDATA "/checkpoint";

std::string temp_dir(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("kmodel_ckpt_test_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

void copy_files(const std::string& from, const std::string& to) {
  fs::create_directories(to);
  for (auto& e : fs::directory_iterator(from)) {
    fs::copy_file(e.path(), fs::path(to) / e.path().filename(), fs::copy_options::overwrite_existing);
    fs::permissions(fs::path(to) / e.path().filename(), fs::perms::owner_write, fs::perm_options::add);
  }
}

void write_text(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

Tensor f32(Shape shape, std::vector<float> v) {
  Tensor t;
  t.dtype = DType::kFloat32;
  t.shape = std::move(shape);
  t.data.resize(v.size() * 4);
  std::memcpy(t.data.data(), v.data(), t.data.size());
  return t;
}

Weight weight(const std::string& name, Tensor t, const std::string& attr = "") {
  Weight w;
  w.name = name;
  w.attr = attr;
  w.tensor = TensorRef::from_tensor(std::move(t));
  return w;
}

std::map<std::string, std::vector<uint8_t>> all_bytes(const std::string& prefix) {
  io::BundleReader r(prefix);
  std::map<std::string, std::vector<uint8_t>> out;
  for (const auto& e : r.entries())
    if (e.key != "_CHECKPOINTABLE_OBJECT_GRAPH") out[e.key] = r.read(e).data;
  return out;
}

const Weight* find_weight(const std::vector<Weight>& ws, const std::string& name) {
  for (const auto& w : ws)
    if (w.name == name) return &w;
  return nullptr;
}
}  // namespace

TEST_CASE("checkpoint: prefix from a directory, a prefix, an .index path", "[checkpoint]") {
  using formats::checkpoint::resolve_prefix;
  CHECK(resolve_prefix(kData + "/lso_ckpt_tf2_2") == kData + "/lso_ckpt_tf2_2/ckpt");
  CHECK(resolve_prefix(kData + "/lso_ckpt_tf2_2/") == kData + "/lso_ckpt_tf2_2/ckpt");
  CHECK(resolve_prefix(kData + "/lso_ckpt_tf2_2/ckpt") == kData + "/lso_ckpt_tf2_2/ckpt");
  CHECK(resolve_prefix(kData + "/lso_ckpt_tf2_2/ckpt.index") == kData + "/lso_ckpt_tf2_2/ckpt");
  CHECK(resolve_prefix(kData + "/charity_tf2") == kData + "/charity_tf2/weights.100.hd5f");
  CHECK(detect(kData + "/lso_ckpt_tf2_2") == Format::kCheckpoint);
  CHECK(detect(kData + "/lso_ckpt_tf2_2/ckpt") == Format::kCheckpoint);
  CHECK(detect(kData + "/lso_ckpt_tf2_2/ckpt.index") == Format::kCheckpoint);
  CHECK(detect(kData + "/savedmodel_variables/coffee_roast_savedmodel_keras") == Format::kCheckpoint);

  std::string dir = temp_dir("state");
  copy_files(kData + "/lso_ckpt_tf2_2", dir + "/sub");
  fs::remove(dir + "/sub/checkpoint");
  // Relative path into a subdirectory.
  write_text(dir + "/checkpoint", "model_checkpoint_path: \"sub/ckpt\"\nall_model_checkpoint_paths: \"sub/ckpt\"\n");
  CHECK(resolve_prefix(dir) == dir + "/sub/ckpt");
  // Absolute path that exists.
  write_text(dir + "/sub/checkpoint", "model_checkpoint_path: \"" + dir + "/sub/ckpt\"\n");
  CHECK(resolve_prefix(dir + "/sub") == dir + "/sub/ckpt");
  // Absolute path from another machine: retried as its basename in the directory.
  write_text(dir + "/sub/checkpoint", "model_checkpoint_path: \"/tmp/elsewhere/train/ckpt\"\n");
  CHECK(resolve_prefix(dir + "/sub") == dir + "/sub/ckpt");
  // Nothing there.
  write_text(dir + "/sub/checkpoint", "model_checkpoint_path: \"nope\"\n");
  CHECK_THROWS_AS(resolve_prefix(dir + "/sub"), BadInputError);
  write_text(dir + "/sub/checkpoint", "all_model_checkpoint_paths: \"ckpt\"\n");
  CHECK_THROWS_AS(resolve_prefix(dir + "/sub"), BadInputError);
  CHECK(formats::checkpoint::parse_state_file("model_checkpoint_path: \"a\\\"b\\\\c\\303\\251\"\n", "f") ==
        "a\"b\\c\xc3\xa9");
  fs::remove_all(dir);
}

TEST_CASE("checkpoint: TF 2.2 LossScale checkpoint maps onto layers and optimizer state", "[checkpoint]") {
  Model m = read(kData + "/lso_ckpt_tf2_2");
  CHECK(m.origin == Format::kCheckpoint);
  REQUIRE(m.checkpoint);
  const CheckpointInfo& info = *m.checkpoint;
  CHECK(info.num_shards == 2);
  CHECK(info.object_based);
  REQUIRE(info.variables.size() == 11);
  std::vector<std::string> keys;
  for (const auto& v : info.variables) keys.push_back(v.key);
  CHECK(keys == std::vector<std::string>{
                    "_CHECKPOINTABLE_OBJECT_GRAPH",
                    "layer_with_weights-0/bias/.ATTRIBUTES/VARIABLE_VALUE",
                    "layer_with_weights-0/bias/.OPTIMIZER_SLOT/optimizer/base_optimizer/momentum/.ATTRIBUTES/VARIABLE_VALUE",
                    "layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE",
                    "layer_with_weights-0/kernel/.OPTIMIZER_SLOT/optimizer/base_optimizer/momentum/.ATTRIBUTES/VARIABLE_VALUE",
                    "optimizer/base_optimizer/decay/.ATTRIBUTES/VARIABLE_VALUE",
                    "optimizer/base_optimizer/iter/.ATTRIBUTES/VARIABLE_VALUE",
                    "optimizer/base_optimizer/learning_rate/.ATTRIBUTES/VARIABLE_VALUE",
                    "optimizer/base_optimizer/momentum/.ATTRIBUTES/VARIABLE_VALUE",
                    "optimizer/loss_scale/current_loss_scale/.ATTRIBUTES/VARIABLE_VALUE",
                    "optimizer/loss_scale/good_steps/.ATTRIBUTES/VARIABLE_VALUE"});
  CHECK(info.variables[6].dtype == DType::kInt64);
  CHECK(info.variables[0].bytes == 1360);
  CHECK(info.variables[1].shard == 1);
  REQUIRE(info.object_graph.size() == 15);
  CHECK(info.object_graph[0].children ==
        std::vector<std::pair<std::string, int>>{{"layer_with_weights-0", 1}, {"layer-0", 1}, {"optimizer", 2}});
  CHECK(info.object_graph[5].slots == std::vector<std::pair<std::string, int>>{{"momentum", 13}, {"momentum", 14}});

  // No architecture: one layer named from full_name "sequential/dense/kernel".
  REQUIRE(m.layers.size() == 1);
  CHECK(m.layers[0].name == "dense");
  REQUIRE(m.layers[0].weights.size() == 2);
  CHECK(m.layers[0].weights[0].name == "dense/kernel:0");
  CHECK(m.layers[0].weights[0].attr == "kernel");
  CHECK(m.layers[0].weights[0].tensor.shape() == Shape{2, 2});
  CHECK(m.layers[0].weights[1].name == "dense/bias:0");
  CHECK(m.optimizer.class_name == "SGD");
  REQUIRE(m.optimizer.weights.size() == 8);
  const Weight* iter = find_weight(m.optimizer.weights, "SGD/iter:0");
  REQUIRE(iter);
  CHECK(iter->attr == "base_optimizer/iter");
  CHECK(iter->tensor.dtype() == DType::kInt64);
  const Weight* scale = find_weight(m.optimizer.weights, "current_loss_scale:0");
  REQUIRE(scale);
  CHECK(scale->attr == "loss_scale/current_loss_scale");
  float scale_value;
  std::memcpy(&scale_value, scale->tensor.load().data.data(), 4);
  CHECK(scale_value == 32768.0f);
  const Weight* slot = find_weight(m.optimizer.weights, "SGD/dense/kernel/momentum:0");
  REQUIRE(slot);
  CHECK(slot->attr == ".OPTIMIZER_SLOT/base_optimizer/momentum");
  CHECK(slot->tensor.shape() == Shape{2, 2});
  CHECK(m.top_level_weights.empty());
}

TEST_CASE("checkpoint: --arch maps layer-N onto the architecture's layers", "[checkpoint]") {
  ReadOptions ro;
  ro.arch_path = kData + "/charity_tf2_arch.json";
  Model m = read(kData + "/charity_tf2", ro);
  CHECK(m.has_architecture());
  REQUIRE(m.layers.size() == 3);  // Sequential: InputLayer not in model.layers
  const char* names[] = {"dense", "dense_1", "dense_2"};
  Shape kernels[] = {{43, 80}, {80, 30}, {30, 1}};
  for (size_t i = 0; i < 3; ++i) {
    CHECK(m.layers[i].name == names[i]);
    CHECK(m.layers[i].class_name == "Dense");
    REQUIRE(m.layers[i].weights.size() == 2);
    CHECK(m.layers[i].weights[0].name == std::string(names[i]) + "/kernel:0");
    CHECK(m.layers[i].weights[0].tensor.shape() == kernels[i]);
    CHECK(m.layers[i].weights[1].attr == "bias");
  }
  CHECK(m.optimizer.class_name == "Adam");
  CHECK(m.optimizer.weights.size() == 5 + 12);
  CHECK(find_weight(m.optimizer.weights, "Adam/dense_1/kernel/v:0"));
  CHECK(find_weight(m.optimizer.weights, "Adam/iter:0"));

  // An architecture with another layer count is refused.
  CHECK_THROWS_AS(read(kData + "/lso_ckpt_tf2_2", ro), BadInputError);
}

TEST_CASE("checkpoint: TF1 name-based and legacy V1 checkpoints keep variable names", "[checkpoint]") {
  Model m = read(kData + "/tfonnx_regression_tf1");
  REQUIRE(m.checkpoint);
  CHECK_FALSE(m.checkpoint->object_based);
  REQUIRE(m.checkpoint->variables.size() == 2);
  CHECK(m.checkpoint->variables[0].key == "W");
  CHECK(m.checkpoint->variables[1].key == "b");
  REQUIRE(m.top_level_weights.size() == 2);
  CHECK(m.top_level_weights[0].name == "W:0");
  CHECK(m.top_level_weights[0].tensor.dtype() == DType::kFloat32);
  CHECK(m.top_level_weights[0].tensor.shape().empty());

  // Legacy V1 (TF Serving's bad_half_plus_two): listed from the metadata entry, values decoded on demand.
  // The state file names an absolute path from the saving machine; its basename is in the directory.
  for (const std::string& p : {kData + "/v1_bad_half_plus_two", kData + "/v1_bad_half_plus_two/export"}) {
    INFO(p);
    Model v1 = read(p);
    REQUIRE(v1.checkpoint);
    CHECK(v1.checkpoint->prefix == kData + "/v1_bad_half_plus_two/export");
    CHECK(v1.extra("checkpoint.format") == "V1");
    REQUIRE(v1.checkpoint->variables.size() == 2);
    CHECK(v1.checkpoint->variables[0].key == "Variable");
    CHECK(v1.checkpoint->variables[1].key == "Variable_1");
    CHECK(v1.checkpoint->variables[1].dtype == DType::kFloat32);
    CHECK(v1.checkpoint->variables[1].shape.empty());
    float a, b;
    std::memcpy(&a, v1.checkpoint->variables[0].tensor.load().data.data(), 4);
    std::memcpy(&b, v1.checkpoint->variables[1].tensor.load().data.data(), 4);
    CHECK(a == 0.5f);  // half_plus_two: y = 0.5 * x + 2
    CHECK(b == 2.0f);
  }
  CHECK_THROWS_AS(formats::checkpoint::resolve_prefix(kData + "/v1_bad_half_plus_two"), UnsupportedError);
  // V1 -> V2 conversion keeps the values.
  std::string dir = temp_dir("v1");
  write(read(kData + "/v1_bad_half_plus_two"), dir + "/ckpt", Format::kCheckpoint);
  auto bytes = all_bytes(dir + "/ckpt");
  REQUIRE(bytes.size() == 2);
  CHECK(bytes["Variable_1/.ATTRIBUTES/VARIABLE_VALUE"] == f32({}, {2.0f}).data);
  fs::remove_all(dir);
}

TEST_CASE("checkpoint: writing from an in-memory model follows the key grammar", "[checkpoint]") {
  Model m;
  Layer input;
  input.name = "input_1";
  input.class_name = "InputLayer";
  Layer dense;
  dense.name = "dense";
  dense.class_name = "Dense";
  dense.weights.push_back(weight("dense/kernel:0", f32({2, 1}, {1.5f, -2.0f})));
  dense.weights.push_back(weight("dense/bias:0", f32({1}, {0.25f})));
  Layer lstm;
  lstm.name = "lstm";
  lstm.class_name = "LSTM";
  lstm.weights.push_back(weight("lstm/lstm_cell/kernel:0", f32({1, 4}, {1, 2, 3, 4})));
  Layer odd;
  odd.name = "odd.name";
  odd.weights.push_back(weight("w", f32({1}, {7}), "a.b/c"));
  m.layers = {input, dense, lstm, odd};
  m.optimizer.weights.push_back(weight("Adam/iter:0", f32({}, {3})));
  m.optimizer.weights.push_back(weight("Adam/dense/kernel/m:0", f32({2, 1}, {0.1f, 0.2f})));
  m.optimizer.weights.push_back(weight("training/Adam/Variable:0", f32({1}, {9})));

  std::string dir = temp_dir("write");
  write(m, dir + "/ckpt", Format::kCheckpoint);
  CHECK(fs::exists(dir + "/ckpt.index"));
  CHECK(fs::exists(dir + "/ckpt.data-00000-of-00001"));
  std::ifstream state(dir + "/checkpoint");
  std::string state_text((std::istreambuf_iterator<char>(state)), std::istreambuf_iterator<char>());
  CHECK(state_text == "model_checkpoint_path: \"ckpt\"\nall_model_checkpoint_paths: \"ckpt\"\n");
  for (auto& e : fs::directory_iterator(dir)) CHECK(e.path().filename().string().find("kmodel") == std::string::npos);

  auto bytes = all_bytes(dir + "/ckpt");
  std::vector<std::string> keys;
  for (const auto& [k, v] : bytes) keys.push_back(k);
  CHECK(keys == std::vector<std::string>{
                    "layer_with_weights-0/bias/.ATTRIBUTES/VARIABLE_VALUE",
                    "layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE",
                    "layer_with_weights-0/kernel/.OPTIMIZER_SLOT/optimizer/m/.ATTRIBUTES/VARIABLE_VALUE",
                    "layer_with_weights-1/cell/kernel/.ATTRIBUTES/VARIABLE_VALUE",
                    "layer_with_weights-2/a..b/c/.ATTRIBUTES/VARIABLE_VALUE",
                    "optimizer/iter/.ATTRIBUTES/VARIABLE_VALUE",
                    "optimizer/training.SAdam.SVariable/.ATTRIBUTES/VARIABLE_VALUE"});
  CHECK(bytes["layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE"] == f32({2, 1}, {1.5f, -2.0f}).data);
  CHECK(bytes["layer_with_weights-1/cell/kernel/.ATTRIBUTES/VARIABLE_VALUE"] == f32({1, 4}, {1, 2, 3, 4}).data);

  // Object graph: root children layer_with_weights-M before layer-N; InputLayer is layer-0 without weights.
  Model back = read(dir);
  REQUIRE(back.checkpoint);
  const auto& root = back.checkpoint->object_graph.at(0);
  std::vector<std::string> edges;
  for (const auto& c : root.children) edges.push_back(c.first);
  CHECK(edges == std::vector<std::string>{"layer-0", "layer_with_weights-0", "layer-1", "layer_with_weights-1",
                                          "layer-2", "layer_with_weights-2", "layer-3", "optimizer"});
  CHECK(root.children[1].second == root.children[2].second);  // both edges name the dense layer
  REQUIRE(back.layers.size() == 3);
  CHECK(back.layers[0].name == "dense");
  CHECK(back.layers[1].name == "lstm");
  CHECK(back.layers[1].weights[0].attr == "cell/kernel");
  CHECK(find_weight(back.optimizer.weights, "Adam/dense/kernel/m:0"));

  // Overwrite protection, --force, and never onto the input.
  CHECK_THROWS_AS(write(m, dir + "/ckpt", Format::kCheckpoint), IoError);
  WriteOptions force;
  force.force = true;
  CHECK_NOTHROW(write(m, dir + "/ckpt", Format::kCheckpoint, force));
  CHECK_THROWS_AS(write(back, dir + "/ckpt", Format::kCheckpoint, force), IoError);
  // A directory destination means <dir>/ckpt.
  fs::create_directories(dir + "/d");
  write(m, dir + "/d", Format::kCheckpoint);
  CHECK(fs::exists(dir + "/d/ckpt.index"));
  // Missing parent directory.
  CHECK_THROWS_AS(write(m, dir + "/missing/ckpt", Format::kCheckpoint), IoError);
  // Ambiguous Keras 1 names are refused with a clear message.
  Model k1;
  Layer l1;
  l1.name = "lstm_1";
  l1.weights.push_back(weight("lstm_1_U_i", f32({1}, {1})));
  k1.layers = {l1};
  CHECK_THROWS_AS(write(k1, dir + "/k1", Format::kCheckpoint), UnsupportedError);
  fs::remove_all(dir);
}

TEST_CASE("checkpoint: checkpoint -> checkpoint round trips are bit-exact per tensor", "[checkpoint]") {
  std::string dir = temp_dir("roundtrip");
  for (const std::string& src : {kData + "/lso_ckpt_tf2_2", kData + "/charity_tf2"}) {
    INFO(src);
    Model m = read(src);
    std::string out = dir + "/" + fs::path(src).filename().string();
    fs::create_directories(out);
    write(m, out + "/ckpt", Format::kCheckpoint);
    auto a = all_bytes(m.checkpoint->prefix);
    auto b = all_bytes(out + "/ckpt");
    CHECK(a == b);  // same keys, same bytes
    Model again = read(out);
    CHECK(again.layers.size() == m.layers.size());
    CHECK(again.optimizer.weights.size() == m.optimizer.weights.size());
  }
  fs::remove_all(dir);
}

TEST_CASE("checkpoint: H5 -> checkpoint gives the keys TF wrote for the same model", "[checkpoint]") {
  // The charity H5 model and the TF checkpoint in the same repository share the architecture.
  std::string h5 = KMODEL_TESTDATA "/h5/charity_AlphabetSoupModel_h5__AlphabetSoupModel.h5";
  Model m = read(h5);
  std::string dir = temp_dir("h5");
  write(m, dir + "/ckpt", Format::kCheckpoint);
  Model tf = read(kData + "/charity_tf2");
  std::map<std::string, std::pair<DType, Shape>> tf_vars;
  for (const auto& v : tf.checkpoint->variables) tf_vars[v.key] = {v.dtype, v.shape};
  Model ours = read(dir);
  CHECK(ours.checkpoint->variables.size() == 20);  // 6 weights + iter + 12 slots + object graph
  for (const auto& v : ours.checkpoint->variables) {
    INFO(v.key);
    REQUIRE(tf_vars.count(v.key));
    CHECK(tf_vars[v.key].first == v.dtype);
    CHECK(tf_vars[v.key].second == v.shape);
  }
  // Values come from the H5 file unchanged.
  REQUIRE(ours.layers.size() == 3);
  for (size_t i = 0; i < 3; ++i)
    for (size_t j = 0; j < 2; ++j)
      CHECK(ours.layers[i].weights[j].tensor.load().data == m.layers[i].weights[j].tensor.load().data);
  fs::remove_all(dir);
}

TEST_CASE("object graph: key escaping and weight attribute derivation", "[checkpoint]") {
  CHECK(objgraph::escape("a.b/c") == "a..b.Sc");
  CHECK(objgraph::unescape("a..b.Sc") == "a.b/c");
  CHECK(objgraph::variable_key("layer_with_weights-0/kernel") == "layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE");
  Layer dense;
  dense.name = "dense_1";
  auto attr = [&](const Layer& l, const std::string& name) {
    Weight w;
    w.name = name;
    return objgraph::weight_attr(w, l, "x");
  };
  CHECK(attr(dense, "dense_1/kernel:0") == "kernel");
  CHECK(attr(dense, "dense_1_W") == "kernel");
  CHECK(attr(dense, "dense_1_b") == "bias");
  Layer lstm;
  lstm.name = "lstm";
  CHECK(attr(lstm, "lstm/lstm_cell/recurrent_kernel:0") == "cell/recurrent_kernel");
  Layer bidi;
  bidi.name = "bidirectional";
  CHECK(attr(bidi, "bidirectional/forward_lstm/lstm_cell/bias:0") == "forward_layer/cell/bias");
  CHECK(attr(bidi, "bidirectional/backward_lstm/lstm_cell/kernel:0") == "backward_layer/cell/kernel");
  CHECK_THROWS_AS(attr(lstm, "lstm_U_i"), UnsupportedError);
  Weight explicit_attr;
  explicit_attr.name = "whatever:0";
  explicit_attr.attr = "cell/kernel";
  CHECK(objgraph::weight_attr(explicit_attr, dense, "x") == "cell/kernel");
}

TEST_CASE("checkpoint: inspect section lists variables, slots, tree and stats", "[checkpoint]") {
  Model m = read(kData + "/lso_ckpt_tf2_2");
  InspectOptions o;
  o.tree = true;
  o.stats = true;
  std::string text = inspect_text(m, o);
  CHECK_THAT(text, Catch::Contains("11 variables, 1440 bytes"));
  CHECK_THAT(text, Catch::Contains("optimizer/base_optimizer/momentum"));
  CHECK_THAT(text, Catch::Contains("layer-0 [1] (see above)"));
  CHECK_THAT(text, Catch::Contains("9.22968 / 10.9011"));  // kernel min / max
  std::string json = inspect_json(m, o);
  CHECK_THAT(json, Catch::Contains("\"num_shards\""));
  CHECK_THAT(json, Catch::Contains("\"object_graph\""));
}

// Functional outer: inp -> inner (Sequential: InputLayer, dense_a, Sequential deeper [InputLayer,
// dense_c, Dropout drop]) -> head. Nested weights as the H5 reader names them ("dense_a/kernel:0",
// two levels down "deeper/dense_c/kernel:0"); `keras3_attrs`: attrs without the layer, as from .keras.
TEST_CASE("checkpoint: nested models two levels deep: keys as tf.keras save_weights writes them, read back by --arch", "[checkpoint]") {
  const std::string config = R"({"class_name": "Functional", "config": {"name": "outer", "layers": [
    {"class_name": "InputLayer", "name": "inp", "inbound_nodes": [],
     "config": {"batch_input_shape": [null, 2], "dtype": "float32", "name": "inp"}},
    {"class_name": "Sequential", "name": "inner", "inbound_nodes": [[["inp", 0, 0, {}]]],
     "config": {"name": "inner", "layers": [
       {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 2], "dtype": "float32", "name": "inner_in"}},
       {"class_name": "Dense", "config": {"name": "dense_a", "units": 2, "activation": "relu", "use_bias": true}},
       {"class_name": "Sequential", "config": {"name": "deeper", "layers": [
         {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 2], "dtype": "float32", "name": "deeper_in"}},
         {"class_name": "Dense", "config": {"name": "dense_c", "units": 1, "use_bias": true}},
         {"class_name": "Dropout", "config": {"name": "drop", "rate": 0.5}}]}}]}},
    {"class_name": "Dense", "name": "head", "inbound_nodes": [[["inner", 1, 0, {}]]],
     "config": {"name": "head", "units": 1, "use_bias": true}}],
    "input_layers": [["inp", 0, 0]], "output_layers": [["head", 0, 0]]}, "keras_version": "2.13.1", "backend": "tensorflow"})";
  const std::string dir = temp_dir("nested");
  write_text(dir + "/arch.json", config);
  for (bool keras3_attrs : {false, true}) {
    Model m;
    m.origin = Format::kH5;
    m.keras_version = "2.13.1";
    m.model_config = config;
    auto w = [&](const std::string& path, Shape s, std::vector<float> v) {
      std::string var = path.substr(path.rfind('/') + 1);
      return weight(path + ":0", f32(std::move(s), std::move(v)), keras3_attrs ? var : path);
    };
    m.layers.push_back(Layer{"inp", "InputLayer", {}});
    m.layers.push_back(Layer{"inner", "Sequential",
                             {w("dense_a/kernel", {2, 2}, {1, 2, 3, 4}), w("dense_a/bias", {2}, {5, 6}),
                              w("deeper/dense_c/kernel", {2, 1}, {7, 8}), w("deeper/dense_c/bias", {1}, {9})}});
    m.layers.push_back(Layer{"head", "Dense", {weight("head/kernel:0", f32({1, 1}, {10}), "kernel"),
                                               weight("head/bias:0", f32({1}, {11}), "bias")}});

    objgraph::BuiltGraph built = objgraph::build_keras(m, false, "mem");
    std::map<std::string, std::string> keys;  // key -> weight name
    for (const auto& v : built.variables) keys[v.key] = v.weight->name;
    std::string listing;
    for (const auto& [k, n] : keys) listing += k + " -> " + n + "; ";
    INFO(listing);
    const std::string K = "/.ATTRIBUTES/VARIABLE_VALUE";
    CHECK(keys == std::map<std::string, std::string>{
                      {"layer_with_weights-0/layer_with_weights-0/kernel" + K, "dense_a/kernel:0"},
                      {"layer_with_weights-0/layer_with_weights-0/bias" + K, "dense_a/bias:0"},
                      {"layer_with_weights-0/layer_with_weights-1/layer_with_weights-0/kernel" + K, "deeper/dense_c/kernel:0"},
                      {"layer_with_weights-0/layer_with_weights-1/layer_with_weights-0/bias" + K, "deeper/dense_c/bias:0"},
                      {"layer_with_weights-1/kernel" + K, "head/kernel:0"},
                      {"layer_with_weights-1/bias" + K, "head/bias:0"}});
    // inner: its layers without the InputLayer; deeper: dense_c and the weightless Dropout as nodes.
    const auto& g = built.graph;
    auto kid = [&](int node, const std::string& name) {
      for (const auto& [n, c] : g.nodes[static_cast<size_t>(node)].children)
        if (n == name) return c;
      return -1;
    };
    int inner = kid(0, "layer-1");
    REQUIRE(inner > 0);
    CHECK(kid(0, "layer_with_weights-0") == inner);
    using E = std::vector<std::pair<std::string, int>>;
    int deeper = kid(inner, "layer-1");
    CHECK(g.nodes[static_cast<size_t>(inner)].children ==
          E{{"layer_with_weights-0", kid(inner, "layer-0")}, {"layer-0", kid(inner, "layer-0")},
            {"layer_with_weights-1", deeper}, {"layer-1", deeper}});
    REQUIRE(deeper > 0);
    int drop = kid(deeper, "layer-1");
    CHECK(g.nodes[static_cast<size_t>(deeper)].children ==
          E{{"layer_with_weights-0", kid(deeper, "layer-0")}, {"layer-0", kid(deeper, "layer-0")}, {"layer-1", drop}});
    CHECK(g.nodes[static_cast<size_t>(drop)].children.empty());
    REQUIRE(built.nested.count(1));
    CHECK(built.nested.at(1).at(1).node == deeper);
    CHECK(built.nested.at(1).at(1).members.at(1).node == drop);

    // Written and read back with the architecture: the nested layer's weights by their layers.
    const std::string prefix = dir + (keras3_attrs ? "/k3" : "/h5");
    write(m, prefix, Format::kCheckpoint);
    ReadOptions ro;
    ro.arch_path = dir + "/arch.json";
    Model back = read(prefix, ro);
    REQUIRE(back.layers.size() == 3);
    const auto& ws = back.layers[1].weights;
    REQUIRE(ws.size() == 4);
    std::vector<std::pair<std::string, std::string>> got;
    for (const auto& x : ws) got.emplace_back(x.name, x.attr);
    CHECK(got == std::vector<std::pair<std::string, std::string>>{{"dense_a/kernel:0", "dense_a/kernel"},
                                                                  {"dense_a/bias:0", "dense_a/bias"},
                                                                  {"deeper/dense_c/kernel:0", "deeper/dense_c/kernel"},
                                                                  {"deeper/dense_c/bias:0", "deeper/dense_c/bias"}});
    Tensor t = ws[2].tensor.load();
    REQUIRE(t.data.size() == 8);
    float v[2];
    std::memcpy(v, t.data.data(), 8);
    CHECK(v[0] == 7.0f);
    CHECK(v[1] == 8.0f);
    CHECK(back.layers[2].weights.size() == 2);
  }
}
