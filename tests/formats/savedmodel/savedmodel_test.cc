// Tests for the SavedModel format: our .proto subsets against real files (unknown fields kept), the
// saved_model_cli-style info (signatures, object graph, fingerprint, assets), Keras SavedModels into the
// IR (config, layers, weights in Keras order with bit-exact values, optimizer), plain TF SavedModels,
// and bad input (missing variables/, truncated or foreign saved_model.pb, metadata naming absent nodes);
// writing: a copy of a real SavedModel, and nested models (object graph, keras_metadata, checkpoint keys).
#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/text_format.h>
#include <unistd.h>

#include "core/json_util.h"
#include "formats/savedmodel/savedmodel_proto.h"
#include "io/file_util.h"
#include "io/tensor_bundle.h"
#include "kmodel/error.h"
#include "kmodel/formats.h"

using namespace kmodel;
namespace fs = std::filesystem;
namespace sm = kmodel::formats::savedmodel;

namespace {
const std::string kData = KMODEL_TESTDATA "/savedmodel";
const std::string kLso = kData + "/kerasteam_lso_savedmodel_tf2_2";
const std::string kCoffee = kData + "/coffee_roast_savedmodel_keras";
const std::string kLstm = kData + "/tfnet_lstm_from_sequential_savedmodel_keras";
const std::string kFunc = kData + "/tfnet_python_func_model_savedmodel_keras";
const std::string kHalfPlusTwo = kData + "/serving_half_plus_two_tf2_cpu";

std::string temp_dir(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("kmodel_sm_test_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

// A writable copy of a fixture directory.
std::string copy_fixture(const std::string& from, const std::string& name) {
  std::string to = temp_dir(name) + "/model";
  fs::copy(from, to, fs::copy_options::recursive);
  for (auto& e : fs::recursive_directory_iterator(to))
    fs::permissions(e.path(), fs::perms::owner_write, fs::perm_options::add);
  return to;
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

std::vector<std::string> fixtures_with_pb() {
  std::vector<std::string> out;
  for (auto& e : fs::directory_iterator(kData))
    if (fs::exists(e.path() / "saved_model.pb")) out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

const SignatureInfo* find_sig(const MetaGraphInfo& mg, const std::string& key) {
  for (const auto& s : mg.signatures)
    if (s.key == key) return &s;
  return nullptr;
}

// The exception kind (exit code) and message of a failing read.
std::pair<ExitCode, std::string> read_error(const std::string& path) {
  try {
    read(path);
  } catch (const Error& e) {
    return {e.code(), e.what()};
  }
  return {ExitCode::kOk, ""};
}
}  // namespace

TEST_CASE("our SavedModel protos re-serialize real saved_model.pb files without loss", "[savedmodel]") {
  auto dirs = fixtures_with_pb();
  REQUIRE(dirs.size() >= 10);
  auto deterministic = [](const google::protobuf::Message& msg) {
    std::string out;
    google::protobuf::io::StringOutputStream raw(&out);
    google::protobuf::io::CodedOutputStream coded(&raw);
    coded.SetSerializationDeterministic(true);
    REQUIRE(msg.SerializeToCodedStream(&coded));
    coded.Trim();
    return out;
  };
  size_t identical = 0;
  for (const auto& dir : dirs) {
    INFO(dir);
    std::string original = io::read_file(dir + "/saved_model.pb");
    tf::SavedModel model = sm::load_saved_model(dir + "/saved_model.pb");
    // Unknown fields (ArgDef.handle_data, NodeDef.experimental_debug_info, ...) are kept: the size is
    // the same, and a second parse gives the same message. Byte order may differ where TF wrote maps
    // unsorted or an unknown field before a known one.
    std::string again = deterministic(model);
    CHECK(again.size() == original.size());
    tf::SavedModel reparsed;
    REQUIRE(reparsed.ParseFromString(again));
    CHECK(deterministic(reparsed) == again);
    if (again == original) ++identical;
  }
  CHECK(identical >= 3);  // tf.keras 2.x writes deterministically: lso, coffee_roast, python_func
  // The unknown fields really are there (and are what keeps the size): ArgDef.handle_data (7).
  tf::SavedModel coffee = sm::load_saved_model(kCoffee + "/saved_model.pb");
  tf::SavedModel stripped = coffee;
  stripped.DiscardUnknownFields();
  CHECK(stripped.ByteSizeLong() < coffee.ByteSizeLong());
  // keras_metadata.pb and fingerprint.pb: byte-identical.
  for (const auto& dir : {kCoffee, kLstm}) {
    auto md = sm::load_keras_metadata(dir);
    REQUIRE(md);
    CHECK(md->nodes_size() >= 4);
    CHECK(deterministic(*md) == io::read_file(dir + "/keras_metadata.pb"));
  }
  auto fp = sm::load_fingerprint(kLstm);
  REQUIRE(fp);
  CHECK(fp->SerializeAsString() == io::read_file(kLstm + "/fingerprint.pb"));
}

TEST_CASE("TF 2.2 Keras SavedModel: signatures and object graph as FORMATS C.3-C.6 record them", "[savedmodel]") {
  REQUIRE(detect(kLso) == Format::kSavedModel);
  Model m = read(kLso);
  REQUIRE(m.saved_model);
  const SavedModelInfo& info = *m.saved_model;
  CHECK(info.schema_version == 1);
  REQUIRE(info.meta_graphs.size() == 1);
  const MetaGraphInfo& mg = info.meta_graphs[0];
  CHECK(mg.tags == std::vector<std::string>{"serve"});
  CHECK(mg.tensorflow_version == "2.2.0-rc2");
  REQUIRE(mg.signatures.size() == 2);
  CHECK(mg.signatures[0].key == "__saved_model_init_op");  // sorted
  const SignatureInfo* init = find_sig(mg, "__saved_model_init_op");
  REQUIRE(init->outputs.size() == 1);
  CHECK(init->outputs[0].name == "NoOp");
  CHECK(init->outputs[0].dtype == "DT_INVALID");
  CHECK(init->outputs[0].shape == "unknown_rank");
  const SignatureInfo* sd = find_sig(mg, "serving_default");
  REQUIRE(sd);
  CHECK(sd->method_name == "tensorflow/serving/predict");
  REQUIRE(sd->inputs.size() == 1);
  CHECK(sd->inputs[0].key == "input_1");
  CHECK(sd->inputs[0].dtype == "DT_FLOAT");
  CHECK(sd->inputs[0].shape == "(-1, 2)");
  CHECK(sd->inputs[0].name == "serving_default_input_1:0");
  REQUIRE(sd->outputs.size() == 1);
  CHECK(sd->outputs[0].key == "output_1");
  CHECK(sd->outputs[0].name == "StatefulPartitionedCall:0");

  REQUIRE(info.object_graph.size() == 45);
  CHECK(info.object_graph[0].kind == "user_object");
  CHECK(info.object_graph[0].identifier == "_tf_keras_sequential");
  CHECK(info.object_graph[8].kind == "variable");
  CHECK(info.object_graph[8].identifier == "sequential/dense/kernel");
  bool key_ok = false;
  for (const auto& [k, v] : info.object_graph[8].attributes)
    key_ok |= (k == "key" && v == "layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE");
  CHECK(key_ok);
  for (int i = 39; i <= 43; ++i) CHECK(info.object_graph[i].kind == "function");
  CHECK(info.object_graph[44].kind == "bare_concrete_function");
  CHECK(info.object_graph[14].slots.size() == 2);  // SGD momentum slots on the base optimizer
  CHECK(info.has_keras_metadata);
  CHECK(m.extra("savedmodel.keras_metadata") == "object graph user_object.metadata (TF <= 2.4)");
  CHECK(info.fingerprint.empty());
  CHECK(info.assets.empty());
  REQUIRE(m.checkpoint);
  CHECK(m.checkpoint->num_shards == 2);
  CHECK(m.checkpoint->object_based);
}

TEST_CASE("TF 2.2 Keras SavedModel: config, weights and optimizer from the object graph", "[savedmodel]") {
  Model m = read(kLso);
  CHECK(m.origin == Format::kSavedModel);
  CHECK(m.keras_version == "2.3.0-tf");
  CHECK(m.backend == "tensorflow");
  CHECK(m.dialect == KerasDialect::kKeras2);
  json::Document cfg = json::parse(m.model_config, "model_config");
  CHECK(json::get_string(cfg, "class_name").value() == "Sequential");
  CHECK(m.model_config.find("__tuple__") == std::string::npos);
  json::Document tc = json::parse(m.training_config, "training_config");
  CHECK(json::get_string(tc, "loss").value() == "mse");
  REQUIRE(m.layers.size() == 1);
  const Layer& dense = m.layers[0];
  CHECK(dense.name == "dense");
  CHECK(dense.class_name == "Dense");
  REQUIRE(dense.weights.size() == 2);
  CHECK(dense.weights[0].name == "dense/kernel:0");  // "sequential/" scope dropped
  CHECK(dense.weights[0].attr == "kernel");
  CHECK(dense.weights[0].trainable);
  CHECK(dense.weights[0].tensor.dtype() == DType::kFloat32);
  CHECK(dense.weights[0].tensor.shape() == Shape{2, 2});
  CHECK(dense.weights[1].name == "dense/bias:0");
  CHECK(dense.weights[1].tensor.shape() == Shape{2});
  // Values: the bundle entry named by the checkpoint key, read independently of the mapping.
  io::BundleReader bundle(kLso + "/variables/variables");
  Tensor want = bundle.read(*bundle.find("layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE"));
  Tensor got = dense.weights[0].tensor.load();
  CHECK(got.data == want.data);
  CHECK(got.data.size() == 16);

  CHECK(m.optimizer.class_name == "LossScaleOptimizer");
  std::vector<std::string> names;
  for (const auto& w : m.optimizer.weights) names.push_back(w.name);
  CHECK(names == std::vector<std::string>{"SGD/iter:0", "SGD/decay:0", "SGD/learning_rate:0", "SGD/momentum:0",
                                          "current_loss_scale:0", "good_steps:0", "SGD/dense/kernel/momentum:0",
                                          "SGD/dense/bias/momentum:0"});
  CHECK(m.optimizer.weights[0].attr == "base_optimizer/iter");
  CHECK(m.optimizer.weights[0].tensor.dtype() == DType::kInt64);
  CHECK(m.optimizer.weights[6].attr == ".OPTIMIZER_SLOT/base_optimizer/momentum");
  Tensor slot = m.optimizer.weights[6].tensor.load();
  Tensor slot_want = bundle.read(*bundle.find(
      "layer_with_weights-0/kernel/.OPTIMIZER_SLOT/optimizer/base_optimizer/momentum/.ATTRIBUTES/VARIABLE_VALUE"));
  CHECK(slot.data == slot_want.data);
}

TEST_CASE("Keras SavedModels with keras_metadata.pb: Normalization, LSTM cell, custom layer", "[savedmodel]") {
  SECTION("coffee_roast (TF 2.10): non-trainable Normalization state, Adam slots") {
    Model m = read(kCoffee);
    CHECK(m.keras_version == "2.10.0");
    CHECK(m.extra("savedmodel.keras_metadata") == "keras_metadata.pb");
    CHECK(m.model_config.find("__tuple__") == std::string::npos);
    json::Document cfg = json::parse(m.model_config, "model_config");
    const json::Value& layers = cfg["config"]["layers"];
    REQUIRE(layers.Size() == 4);
    // {"class_name": "__tuple__", "items": [null, 2]} became [null, 2].
    const json::Value& bis = layers[2]["config"]["batch_input_shape"];
    REQUIRE(bis.IsArray());
    CHECK(bis[0].IsNull());
    CHECK(bis[1].GetInt() == 2);
    REQUIRE(m.layers.size() == 3);  // Sequential: no InputLayer in model.layers
    CHECK(m.layers[0].name == "normalization");
    REQUIRE(m.layers[0].weights.size() == 3);
    // The variables' own names (Normalization created them without the layer scope).
    CHECK(m.layers[0].weights[0].name == "mean:0");
    CHECK(m.layers[0].weights[0].attr == "mean");
    CHECK(m.layers[0].weights[1].name == "variance:0");
    CHECK(m.layers[0].weights[2].name == "count:0");
    CHECK(m.layers[1].weights[0].name == "dense/kernel:0");
    CHECK(m.layers[0].weights[2].tensor.dtype() == DType::kInt64);
    CHECK_FALSE(m.layers[0].weights[0].trainable);
    CHECK(m.layers[1].weights[0].tensor.shape() == Shape{2, 3});
    CHECK(m.layers[2].name == "dense_1");
    CHECK(m.layers[2].weights[0].tensor.shape() == Shape{3, 1});
    CHECK(m.optimizer.class_name == "Adam");
    REQUIRE(m.optimizer.weights.size() == 13);
    CHECK(m.optimizer.weights[0].name == "Adam/iter:0");
    CHECK(m.optimizer.weights[5].name == "Adam/dense/kernel/m:0");
    CHECK(m.optimizer.weights[5].tensor.shape() == Shape{2, 3});
    CHECK(m.optimizer.weights[12].name == "Adam/dense_1/bias/v:0");
  }
  SECTION("LSTM (TF 2.12): cell weights in Keras order, new-style optimizer variables") {
    Model m = read(kLstm);
    REQUIRE(m.layers.size() == 2);
    CHECK(m.layers[0].class_name == "LSTM");
    REQUIRE(m.layers[0].weights.size() == 3);
    CHECK(m.layers[0].weights[0].name == "lstm/lstm_cell/kernel:0");
    CHECK(m.layers[0].weights[0].attr == "cell/kernel");
    CHECK(m.layers[0].weights[1].attr == "cell/recurrent_kernel");
    CHECK(m.layers[0].weights[1].tensor.shape() == Shape{32, 128});
    CHECK(m.layers[0].weights[2].attr == "cell/bias");
    // Its values sit under the key TF chose (the first path goes through the root's `variables` list).
    io::BundleReader bundle(kLstm + "/variables/variables");
    Tensor want = bundle.read(*bundle.find("variables/1/.ATTRIBUTES/VARIABLE_VALUE"));
    CHECK(want.shape == Shape{32, 128});
    CHECK(m.layers[0].weights[1].tensor.load().data == want.data);
    REQUIRE(m.optimizer.weights.size() == 12);
    // Breadth-first below the optimizer, as TF's checkpoint keys: _iterations, _learning_rate, then
    // the _variables list.
    CHECK(m.optimizer.weights[0].name == "iteration:0");
    CHECK(m.optimizer.weights[0].attr == "_iterations");
    CHECK(m.optimizer.weights[1].name == "learning_rate:0");
    CHECK(m.optimizer.weights[2].name == "Adam/m/lstm/lstm_cell/kernel:0");
    CHECK(m.optimizer.weights[2].attr == "_variables/1");
    CHECK(m.saved_model->fingerprint.size() >= 5);
    CHECK(m.saved_model->fingerprint[0] == std::make_pair(std::string("saved_model_checksum"),
                                                          std::string("17540093209900826091")));
  }
  SECTION("custom layer (TF 2.11): config and weights travel untouched") {
    Model m = read(kFunc);
    REQUIRE(m.layers.size() == 2);
    CHECK(m.layers[0].class_name == "Transformer");
    REQUIRE(m.layers[0].weights.size() == 1);
    CHECK(m.layers[0].weights[0].name == "transformer/matrix:0");
    CHECK(m.layers[0].weights[0].tensor.shape() == Shape{784, 10});
    CHECK(m.layers[1].class_name == "Softmax");
    CHECK(m.layers[1].weights.empty());
  }
}

TEST_CASE("plain TF SavedModels: inspect info, no Keras architecture", "[savedmodel]") {
  Model m = read(kHalfPlusTwo);
  CHECK_FALSE(m.has_architecture());
  CHECK(m.layers.empty());
  REQUIRE(m.saved_model);
  CHECK_FALSE(m.saved_model->has_keras_metadata);
  CHECK(m.saved_model->assets == std::vector<std::string>{"foo.txt"});
  const auto& fp = m.saved_model->fingerprint;
  REQUIRE(fp.size() >= 5);
  CHECK(fp[0].second == "3202314178945370836");
  CHECK(fp[4] == std::make_pair(std::string("checkpoint_hash"), std::string("17568057568585441542")));
  const SignatureInfo* sd = find_sig(m.saved_model->meta_graphs[0], "serving_default");
  REQUIRE(sd);
  REQUIRE(sd->inputs.size() == 1);
  CHECK(sd->inputs[0].shape == "(1)");
  CHECK(sd->inputs[0].dtype == "DT_FLOAT");
  REQUIRE(m.checkpoint);
  std::set<std::string> keys;
  for (const auto& v : m.checkpoint->variables) keys.insert(v.key);
  CHECK(keys.count("a/.ATTRIBUTES/VARIABLE_VALUE"));

  // TF1: no object graph; the "unknown" tensorflow_git_version does not hide tensorflow_version.
  Model counter = read(kData + "/serving_saved_model_counter");
  CHECK(counter.saved_model->object_graph.empty());
  CHECK(counter.saved_model->meta_graphs[0].tensorflow_version == "1.5.0-rc1");
  const SignatureInfo* get = find_sig(counter.saved_model->meta_graphs[0], "get_counter");
  REQUIRE(get);
  CHECK(get->outputs[0].dtype == "DT_FLOAT_REF");
  CHECK(get->outputs[0].shape == "()");

  // Writers refuse: no Keras architecture.
  std::string out = temp_dir("plain") + "/out.h5";
  CHECK_THROWS_AS(write(m, out, Format::kH5), UnsupportedError);
  CHECK_FALSE(fs::exists(out));
}

TEST_CASE("saved_model.pbtxt (text format) reads like the binary", "[savedmodel]") {
  std::string dir = copy_fixture(kLso, "pbtxt");
  tf::SavedModel proto = sm::load_saved_model(dir + "/saved_model.pb");
  proto.DiscardUnknownFields();  // text format cannot carry them
  std::string text;
  REQUIRE(google::protobuf::TextFormat::PrintToString(proto, &text));
  fs::remove(dir + "/saved_model.pb");
  write_bytes(dir + "/saved_model.pbtxt", text);
  REQUIRE(detect(dir) == Format::kSavedModel);
  Model a = read(kLso), b = read(dir);
  CHECK(b.model_config == a.model_config);
  REQUIRE(b.saved_model->meta_graphs[0].signatures.size() == 2);
  CHECK(b.saved_model->meta_graphs[0].signatures[1].inputs[0].name == "serving_default_input_1:0");
  REQUIRE(b.layers.size() == 1);
  CHECK(b.layers[0].weights[0].tensor.load().data == a.layers[0].weights[0].tensor.load().data);

  write_bytes(dir + "/saved_model.pbtxt", "meta_graphs { meta_info_def { tags: \"serve\" ");
  auto [code, what] = read_error(dir);
  CHECK(code == ExitCode::kBadInput);
  CHECK(what.find("saved_model.pbtxt") != std::string::npos);
}

TEST_CASE("bad SavedModel input: one-line errors naming the file, exit code 4", "[savedmodel]") {
  SECTION("missing variables/") {
    std::string dir = copy_fixture(kCoffee, "novars");
    fs::remove_all(dir + "/variables");
    auto [code, what] = read_error(dir);
    CHECK(code == ExitCode::kBadInput);
    CHECK(what.find("variables/variables.index") != std::string::npos);
    CHECK(what.find('\n') == std::string::npos);
  }
  SECTION("truncated saved_model.pb") {
    std::string dir = copy_fixture(kLso, "trunc");
    std::string bytes = io::read_file(dir + "/saved_model.pb");
    for (size_t cut : {size_t{1}, size_t{100}, bytes.size() / 2, bytes.size() - 1}) {
      INFO(cut);
      write_bytes(dir + "/saved_model.pb", bytes.substr(0, cut));
      auto [code, what] = read_error(dir);
      CHECK(code == ExitCode::kBadInput);
      CHECK(what.find("saved_model.pb") != std::string::npos);
    }
  }
  SECTION("a file that is not a SavedModel proto") {
    std::string dir = copy_fixture(kCoffee, "foreign");
    for (const std::string& bytes : {io::read_file(dir + "/keras_metadata.pb"), std::string("hello world\n"),
                                     std::string("\x89HDF\r\n\x1a\n\0\0\0\0", 12), std::string()}) {
      write_bytes(dir + "/saved_model.pb", bytes);
      auto [code, what] = read_error(dir);
      CHECK(code == ExitCode::kBadInput);
      CHECK(what.find("saved_model.pb") != std::string::npos);
    }
  }
  SECTION("keras metadata naming a node that does not exist") {
    std::string dir = copy_fixture(kCoffee, "badmeta");
    auto md = sm::load_keras_metadata(dir);
    md->mutable_nodes(1)->set_node_id(999);
    write_bytes(dir + "/keras_metadata.pb", md->SerializeAsString());
    auto [code, what] = read_error(dir);
    CHECK(code == ExitCode::kBadInput);
    CHECK(what.find("keras_metadata.pb") != std::string::npos);
    CHECK(what.find("999") != std::string::npos);
  }
  SECTION("object graph child naming a node that does not exist") {
    std::string dir = copy_fixture(kLso, "badchild");
    tf::SavedModel proto = sm::load_saved_model(dir + "/saved_model.pb");
    proto.mutable_meta_graphs(0)->mutable_object_graph_def()->mutable_nodes(1)->mutable_children(0)->set_node_id(4242);
    write_bytes(dir + "/saved_model.pb", proto.SerializeAsString());
    auto [code, what] = read_error(dir);
    CHECK(code == ExitCode::kBadInput);
    CHECK(what.find("4242") != std::string::npos);
  }
  SECTION("variable whose dtype disagrees with the bundle") {
    std::string dir = copy_fixture(kLso, "baddtype");
    tf::SavedModel proto = sm::load_saved_model(dir + "/saved_model.pb");
    proto.mutable_meta_graphs(0)->mutable_object_graph_def()->mutable_nodes(8)->mutable_variable()->set_dtype(
        tf::DT_DOUBLE);
    write_bytes(dir + "/saved_model.pb", proto.SerializeAsString());
    auto [code, what] = read_error(dir);
    CHECK(code == ExitCode::kBadInput);
    CHECK(what.find("dtype") != std::string::npos);
    CHECK(what.find("layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE") != std::string::npos);
  }
  SECTION("variable without a value in the bundle") {
    std::string dir = copy_fixture(kLso, "novalue");
    tf::SavedModel proto = sm::load_saved_model(dir + "/saved_model.pb");
    auto* graph = proto.mutable_meta_graphs(0)->mutable_object_graph_def();
    *graph->add_nodes() = graph->nodes(8);  // node 45: a copy of the kernel variable
    auto* edge = graph->mutable_nodes(1)->add_children();
    edge->set_node_id(45);
    edge->set_local_name("extra");
    write_bytes(dir + "/saved_model.pb", proto.SerializeAsString());
    auto [code, what] = read_error(dir);
    CHECK(code == ExitCode::kBadInput);
    CHECK(what.find("layer_with_weights-0/extra/.ATTRIBUTES/VARIABLE_VALUE") != std::string::npos);
  }
  SECTION("objects nested without end below a layer") {
    std::string dir = copy_fixture(kLso, "deep");
    tf::SavedModel proto = sm::load_saved_model(dir + "/saved_model.pb");
    auto* graph = proto.mutable_meta_graphs(0)->mutable_object_graph_def();
    int parent = 1;
    for (int i = 0; i < 100000; ++i) {
      int id = graph->nodes_size();
      graph->add_nodes()->mutable_user_object()->set_identifier("_generic_user_object");
      auto* edge = graph->mutable_nodes(parent)->add_children();
      edge->set_node_id(id);
      edge->set_local_name("sub");
      parent = id;
    }
    write_bytes(dir + "/saved_model.pb", proto.SerializeAsString());
    auto [code, what] = read_error(dir);
    CHECK(code == ExitCode::kBadInput);
    CHECK(what.find("nested") != std::string::npos);
  }
  SECTION("incomplete directory without saved_model.pb (the tf_text_regression fixture)") {
    std::string dir = kData + "/serving_tf_text_regression_keras_partial";
    REQUIRE(detect(dir) == Format::kSavedModel);
    auto [code, what] = read_error(dir);
    CHECK(code == ExitCode::kBadInput);
    CHECK(what.find("saved_model.pb") != std::string::npos);
    CHECK(what.find("missing") != std::string::npos);
  }
}

TEST_CASE("writing a SavedModel and reading it back gives the same IR", "[savedmodel]") {
  Model src = read(kLso);
  std::string out = temp_dir("write") + "/lso_copy";
  write(src, out, Format::kSavedModel);
  for (const char* f : {"saved_model.pb", "keras_metadata.pb", "fingerprint.pb", "variables/variables.index",
                        "variables/variables.data-00000-of-00001"})
    CHECK(fs::exists(fs::path(out) / f));
  CHECK(fs::is_directory(fs::path(out) / "assets"));
  // No stray temporaries beside the destination.
  size_t entries = 0;
  for (auto& e : fs::directory_iterator(fs::path(out).parent_path())) entries += e.path().filename() != "lso_copy" ? 1 : 0;
  CHECK(entries == 0);

  Model back = read(out);
  CHECK(back.model_config == src.model_config);
  CHECK(back.training_config == src.training_config);
  CHECK(back.keras_version == src.keras_version);
  CHECK(back.extra("savedmodel.keras_metadata") == "keras_metadata.pb");
  REQUIRE(back.layers.size() == 1);
  REQUIRE(back.layers[0].weights.size() == 2);
  for (size_t i = 0; i < 2; ++i) {
    CHECK(back.layers[0].weights[i].name == src.layers[0].weights[i].name);
    CHECK(back.layers[0].weights[i].attr == src.layers[0].weights[i].attr);
    CHECK(back.layers[0].weights[i].tensor.load().data == src.layers[0].weights[i].tensor.load().data);
  }
  REQUIRE(back.optimizer.weights.size() == src.optimizer.weights.size());
  for (size_t i = 0; i < src.optimizer.weights.size(); ++i) {
    CHECK(back.optimizer.weights[i].name == src.optimizer.weights[i].name);
    CHECK(back.optimizer.weights[i].attr == src.optimizer.weights[i].attr);
    CHECK(back.optimizer.weights[i].tensor.load().data == src.optimizer.weights[i].tensor.load().data);
  }
  // The object graph: model user object, layer edges as tf.keras names them, no functions.
  const auto& og = back.saved_model->object_graph;
  REQUIRE(!og.empty());
  CHECK(og[0].identifier == "_tf_keras_sequential");
  CHECK(og[0].children[0] == std::make_pair(std::string("layer_with_weights-0"), 1));
  CHECK(og[0].children[1] == std::make_pair(std::string("layer-0"), 1));
  CHECK(og[1].identifier == "_tf_keras_layer");
  for (const auto& n : og) CHECK(n.kind != "function");
  CHECK(back.saved_model->meta_graphs[0].tags == std::vector<std::string>{"serve"});
  CHECK(back.saved_model->meta_graphs[0].tensorflow_version == "2.2.0-rc2");

  // Existing destination: refused without force (exit 5), replaced with it.
  CHECK_THROWS_AS(write(src, out, Format::kSavedModel), IoError);
  WriteOptions force;
  force.force = true;
  write(src, out, Format::kSavedModel, force);
  CHECK(read(out).layers.size() == 1);
  // Weights-only makes no sense for a SavedModel; plain TF SavedModels have no architecture.
  WriteOptions wo;
  wo.weights_only = true;
  CHECK_THROWS_AS(write(src, out + "_wo", Format::kSavedModel, wo), UnsupportedError);
  Model plain = read(kHalfPlusTwo);
  CHECK_THROWS_AS(write(plain, out + "_plain", Format::kSavedModel), UnsupportedError);
  CHECK_FALSE(fs::exists(out + "_wo"));
  CHECK_FALSE(fs::exists(out + "_plain"));
}

namespace {
// A float32 tensor base, base+1, ... of the given shape.
TensorRef counting_tensor(Shape shape, float base) {
  Tensor t;
  t.dtype = DType::kFloat32;
  t.shape = shape;
  int64_t n = 1;
  for (auto d : shape) n *= d;
  t.data.resize(static_cast<size_t>(n) * 4);
  for (int64_t i = 0; i < n; ++i) {
    float v = base + static_cast<float>(i);
    std::memcpy(t.data.data() + i * 4, &v, 4);
  }
  return TensorRef::from_tensor(t);
}

// Functional inp -> inner (Sequential: InputLayer, dense_a, dense_b) -> head, as an H5 reader gives it
// (nested weights named by their layer). `keras3_attrs`: attrs as the .keras reader gives them
// ("kernel" without the layer).
Model nested_model(bool keras3_attrs) {
  Model m;
  m.origin = Format::kH5;
  m.keras_version = "2.13.1";
  m.backend = "tensorflow";
  m.dialect = KerasDialect::kKeras2;
  m.model_config = R"({"class_name": "Functional", "config": {"name": "outer", "layers": [
    {"class_name": "InputLayer", "name": "inp", "inbound_nodes": [],
     "config": {"batch_input_shape": [null, 4], "dtype": "float32", "sparse": false, "ragged": false, "name": "inp"}},
    {"class_name": "Sequential", "name": "inner", "inbound_nodes": [[["inp", 0, 0, {}]]],
     "config": {"name": "inner", "layers": [
       {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4], "dtype": "float32", "sparse": false, "ragged": false, "name": "inner_in"}},
       {"class_name": "Dense", "config": {"name": "dense_a", "trainable": true, "dtype": "float32", "units": 3, "activation": "relu", "use_bias": true}},
       {"class_name": "Dense", "config": {"name": "dense_b", "trainable": true, "dtype": "float32", "units": 2, "activation": "linear", "use_bias": true}}]}},
    {"class_name": "Dense", "name": "head", "inbound_nodes": [[["inner", 1, 0, {}]]],
     "config": {"name": "head", "trainable": true, "dtype": "float32", "units": 1, "activation": "linear", "use_bias": true}}],
    "input_layers": [["inp", 0, 0]], "output_layers": [["head", 0, 0]]}})";
  auto weight = [&](const std::string& layer, const std::string& var, Shape s, float base) {
    Weight w;
    w.name = layer + "/" + var + ":0";
    w.attr = keras3_attrs ? var : layer + "/" + var;
    w.tensor = counting_tensor(s, base);
    return w;
  };
  m.layers.push_back(Layer{"inp", "InputLayer", {}});
  m.layers.push_back(Layer{"inner", "Sequential",
                           {weight("dense_a", "kernel", {4, 3}, 100), weight("dense_a", "bias", {3}, 200),
                            weight("dense_b", "kernel", {3, 2}, 300), weight("dense_b", "bias", {2}, 400)}});
  Weight hk, hb;
  hk.name = "head/kernel:0";
  hk.attr = "kernel";
  hk.tensor = counting_tensor({2, 1}, 500);
  hb.name = "head/bias:0";
  hb.attr = "bias";
  hb.tensor = counting_tensor({1}, 600);
  m.layers.push_back(Layer{"head", "Dense", {hk, hb}});
  return m;
}
}  // namespace

TEST_CASE("nested models: written as tf.keras tracks them, read back into the same IR", "[savedmodel]") {
  const std::string dir = temp_dir("nested");
  for (bool keras3_attrs : {false, true}) {
    Model src = nested_model(keras3_attrs);
    std::string out = dir + (keras3_attrs ? "/k3" : "/h5");
    write(src, out, Format::kSavedModel);

    // Object graph: outer model, InputLayer, the nested Sequential (its own layer_with_weights-M /
    // layer-N children over its layers without the InputLayer), head; variables below the nested layers.
    tf::SavedModel pb = sm::load_saved_model(out + "/saved_model.pb");
    const auto& og = pb.meta_graphs(0).object_graph_def();
    // Edges SavedModel serialization adds (list wrappers, keras_api, signatures) are left out here.
    const std::set<std::string> wrappers = {"variables", "trainable_variables", "regularization_losses", "keras_api",
                                            "signatures"};
    auto children = [&](int node) {
      std::vector<std::string> v;
      for (const auto& c : og.nodes(node).children())
        if (!wrappers.count(c.local_name())) v.push_back(c.local_name());
      return v;
    };
    auto child = [&](int node, const std::string& name) {
      for (const auto& c : og.nodes(node).children())
        if (c.local_name() == name) return c.node_id();
      return -1;
    };
    using E = std::vector<std::string>;
    CHECK(children(0) == E{"layer-0", "layer_with_weights-0", "layer-1", "layer_with_weights-1", "layer-2"});
    const int inner_node = child(0, "layer_with_weights-0");
    REQUIRE(inner_node == 2);
    CHECK(child(0, "layer-1") == inner_node);
    CHECK(og.nodes(2).user_object().identifier() == "_tf_keras_sequential");
    CHECK(children(2) == E{"layer_with_weights-0", "layer-0", "layer_with_weights-1", "layer-1"});
    CHECK(children(child(0, "layer_with_weights-1")) == E{"kernel", "bias"});
    CHECK(children(child(2, "layer_with_weights-0")) == E{"kernel", "bias"});
    const int dense_b_node = child(2, "layer_with_weights-1");
    CHECK(children(dense_b_node) == E{"kernel", "bias"});
    const int kernel_b = child(dense_b_node, "kernel");
    REQUIRE(kernel_b >= 0);
    CHECK(og.nodes(kernel_b).variable().name() == "dense_b/kernel");
    CHECK(og.nodes(kernel_b).variable().shape().dim_size() == 2);
    CHECK(og.nodes(kernel_b).variable().trainable());

    // keras_metadata: the nested model and its layers, node paths through layer_with_weights edges.
    auto md = sm::load_keras_metadata(out);
    REQUIRE(md);
    std::vector<std::tuple<int, std::string, std::string>> nodes;
    // Ids of the nested layers come after the root's list wrappers (breadth-first): compared by path.
    for (const auto& n : md->nodes()) nodes.emplace_back(n.node_id() < 4 ? n.node_id() : -1, n.node_path(), n.identifier());
    CHECK(nodes == std::vector<std::tuple<int, std::string, std::string>>{
                       {0, "root", "_tf_keras_network"},
                       {1, "root.layer-0", "_tf_keras_input_layer"},
                       {2, "root.layer_with_weights-0", "_tf_keras_sequential"},
                       {3, "root.layer_with_weights-1", "_tf_keras_layer"},
                       {-1, "root.layer_with_weights-0.layer_with_weights-0", "_tf_keras_layer"},
                       {-1, "root.layer_with_weights-0.layer_with_weights-1", "_tf_keras_layer"}});
    CHECK(md->nodes(5).node_id() == dense_b_node);
    json::Document inner = json::parse(md->nodes(2).metadata(), "inner");
    CHECK(json::get_string(inner, "class_name").value_or("") == "Sequential");
    CHECK(json::get_bool(inner, "is_graph_network").value_or(false));
    json::Document dense_b = json::parse(md->nodes(5).metadata(), "dense_b");
    CHECK(json::get_string(dense_b, "name").value_or("") == "dense_b");
    const json::Value* bis = json::member(dense_b, "build_input_shape");
    REQUIRE(bis);
    CHECK(json::to_string(*bis) == R"({"class_name":"TensorShape","items":[null,3]})");

    // Checkpoint: nested keys mirror the object graph; the values are the weights'.
    io::BundleReader bundle(out + "/variables/variables");
    // As TF names them (first breadth-first path): the nested layers' variables are reached first
    // through the root's `variables` list (model.variables order), their own layers one level deeper.
    const io::BundleEntry* e = bundle.find("variables/2/.ATTRIBUTES/VARIABLE_VALUE");
    REQUIRE(e);
    CHECK(bundle.read(*e).data == src.layers[1].weights[2].tensor.load().data);
    CHECK(bundle.find("variables/1/.ATTRIBUTES/VARIABLE_VALUE"));
    CHECK_FALSE(bundle.find("layer_with_weights-0/layer_with_weights-1/kernel/.ATTRIBUTES/VARIABLE_VALUE"));
    CHECK(bundle.find("layer_with_weights-1/kernel/.ATTRIBUTES/VARIABLE_VALUE"));
    CHECK_FALSE(bundle.find("layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE"));

    // Back into the IR: the nested layer's weights named by its layers, in Keras order, same values.
    Model back = read(out);
    REQUIRE(back.layers.size() == 3);
    const Layer& l = back.layers[1];
    CHECK(l.name == "inner");
    REQUIRE(l.weights.size() == 4);
    const char* names[] = {"dense_a/kernel:0", "dense_a/bias:0", "dense_b/kernel:0", "dense_b/bias:0"};
    const char* attrs[] = {"dense_a/kernel", "dense_a/bias", "dense_b/kernel", "dense_b/bias"};
    for (size_t i = 0; i < 4; ++i) {
      CHECK(l.weights[i].name == names[i]);
      CHECK(l.weights[i].attr == attrs[i]);
      CHECK(l.weights[i].tensor.load().data == src.layers[1].weights[i].tensor.load().data);
    }
    CHECK(back.extra("savedmodel.build_input_shape.inner/dense_b") == "[null,3]");
  }

  // A nested weight that names none of the nested model's layers: refused (exit 3), nothing written.
  Model bad = nested_model(false);
  bad.layers[1].weights[0].name = "nope/kernel:0";
  bad.layers[1].weights[0].attr = "nope/kernel";
  try {
    write(bad, dir + "/bad", Format::kSavedModel);
    FAIL("no error");
  } catch (const UnsupportedError& e) {
    CHECK(std::string(e.what()).find("nope/kernel:0") != std::string::npos);
  }
  CHECK_FALSE(fs::exists(dir + "/bad"));

  // A nested model node whose layer edge names a missing node: one-line error, exit 4.
  std::string broken = dir + "/broken";
  fs::copy(dir + "/h5", broken, fs::copy_options::recursive);
  tf::SavedModel pb = sm::load_saved_model(broken + "/saved_model.pb");
  pb.mutable_meta_graphs(0)->mutable_object_graph_def()->mutable_nodes(2)->mutable_children(1)->set_node_id(99);
  write_bytes(broken + "/saved_model.pb", pb.SerializeAsString());
  auto [code, what] = read_error(broken);
  CHECK(code == ExitCode::kBadInput);
  CHECK(what.find("99") != std::string::npos);
  CHECK(what.find('\n') == std::string::npos);
  fs::remove_all(dir);
}
