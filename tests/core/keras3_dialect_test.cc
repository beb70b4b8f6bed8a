// Keras 2 <-> Keras 3 config translation: envelopes, InputLayer shapes, functional nodes, dtype
// policies, nested objects, renamed/removed arguments, compile configs, and reported warnings.
#include "core/keras3_dialect.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "core/json_util.h"
#include "io/zip.h"
#include "kmodel/architecture.h"
#include "kmodel/error.h"
#include "kmodel/formats.h"

using namespace kmodel;

namespace {
bool mentions(const std::vector<std::string>& warnings, const std::string& what) {
  for (const auto& w : warnings)
    if (w.find(what) != std::string::npos) return true;
  return false;
}
}  // namespace

TEST_CASE("keras3 dialect: Keras 2 Functional -> Keras 3 and back", "[keras_v3][keras3_dialect]") {
  const std::string k2 = R"({"class_name": "Model", "config": {"name": "model",
   "layers": [
     {"class_name": "InputLayer", "name": "input_1", "inbound_nodes": [],
      "config": {"batch_input_shape": [null, 4], "dtype": "float32", "sparse": false, "ragged": false, "name": "input_1"}},
     {"class_name": "Dense", "name": "dense", "inbound_nodes": [[["input_1", 0, 0, {}]]],
      "config": {"name": "dense", "trainable": true, "dtype": "float32", "units": 3, "activation": "relu",
                 "use_bias": true, "kernel_initializer": {"class_name": "Orthogonal", "config": {"gain": 1.0, "seed": null}},
                 "bias_initializer": {"class_name": "Zeros", "config": {}},
                 "kernel_regularizer": {"class_name": "L2", "config": {"l2": 0.01}},
                 "bias_regularizer": null, "activity_regularizer": null,
                 "kernel_constraint": {"class_name": "MaxNorm", "config": {"max_value": 2, "axis": 0}},
                 "bias_constraint": null}},
     {"class_name": "Concatenate", "name": "concat", "inbound_nodes": [[["dense", 0, 0, {}], ["input_1", 0, 0, {}]]],
      "config": {"name": "concat", "trainable": true, "dtype": "float32", "axis": -1}}],
   "input_layers": [["input_1", 0, 0]], "output_layers": [["concat", 0, 0]]},
   "keras_version": "2.4.0", "backend": "tensorflow"})";
  std::vector<std::string> warnings;
  std::string k3 = to_keras3_model_config(k2, &warnings);
  auto d = json::parse(k3, "k3");
  CHECK(std::string(d["class_name"].GetString()) == "Functional");
  CHECK(d.HasMember("module"));
  CHECK(d.HasMember("registered_name"));
  CHECK_FALSE(d.HasMember("keras_version"));
  const auto& layers = d["config"]["layers"];
  REQUIRE(layers.Size() == 3);
  const auto& in = layers[0];
  CHECK(std::string(in["module"].GetString()) == "keras.layers");
  CHECK(in["config"].HasMember("batch_shape"));
  CHECK_FALSE(in["config"].HasMember("batch_input_shape"));
  CHECK(in["config"]["dtype"].IsString());
  const auto& dense = layers[1];
  CHECK(std::string(dense["config"]["dtype"]["class_name"].GetString()) == "DTypePolicy");
  CHECK(std::string(dense["config"]["kernel_initializer"]["class_name"].GetString()) == "OrthogonalInitializer");
  CHECK(std::string(dense["config"]["kernel_initializer"]["module"].GetString()) == "keras.initializers");
  CHECK(std::string(dense["config"]["kernel_regularizer"]["module"].GetString()) == "keras.regularizers");
  CHECK(std::string(dense["config"]["kernel_constraint"]["module"].GetString()) == "keras.constraints");
  CHECK(dense["build_config"]["input_shape"][1].GetInt() == 4);
  const auto& node = dense["inbound_nodes"][0];
  REQUIRE(node.HasMember("args"));
  CHECK(std::string(node["args"][0]["class_name"].GetString()) == "__keras_tensor__");
  CHECK(std::string(node["args"][0]["config"]["keras_history"][0].GetString()) == "input_1");
  CHECK(node["args"][0]["config"]["shape"][1].GetInt() == 4);
  // Several inputs: one list in args[0].
  const auto& cnode = layers[2]["inbound_nodes"][0];
  REQUIRE(cnode["args"][0].IsArray());
  CHECK(cnode["args"][0].Size() == 2);
  CHECK(std::string(cnode["args"][0][1]["config"]["keras_history"][0].GetString()) == "input_1");
  CHECK(mentions(warnings, "ragged") == false);  // false ragged is the default: nothing lost

  // The Keras 3 text parses as the same graph.
  ArchitectureSpec a2 = parse_architecture(k2, "k2");
  ArchitectureSpec a3 = parse_architecture(k3, "k3");
  REQUIRE(a3.layers.size() == a2.layers.size());
  for (size_t i = 0; i < a2.layers.size(); ++i) {
    CHECK(a3.layers[i].name == a2.layers[i].name);
    REQUIRE(a3.layers[i].inbound_nodes.size() == a2.layers[i].inbound_nodes.size());
    for (size_t n = 0; n < a2.layers[i].inbound_nodes.size(); ++n)
      CHECK(a3.layers[i].inbound_nodes[n].inputs.size() == a2.layers[i].inbound_nodes[n].inputs.size());
  }

  // And back: Keras 2 form with the same content.
  std::vector<std::string> back_warnings;
  std::string back = to_keras2_model_config(k3, &back_warnings);
  auto b = json::parse(back, "back");
  CHECK_FALSE(b.HasMember("module"));
  CHECK(std::string(b["class_name"].GetString()) == "Functional");
  const auto& bl = b["config"]["layers"];
  CHECK(bl[0]["config"]["batch_input_shape"][1].GetInt() == 4);
  CHECK_FALSE(bl[0]["config"].HasMember("batch_shape"));
  CHECK(std::string(bl[1]["config"]["dtype"].GetString()) == "float32");
  CHECK(std::string(bl[1]["config"]["kernel_initializer"]["class_name"].GetString()) == "Orthogonal");
  CHECK_FALSE(bl[1]["config"]["kernel_initializer"].HasMember("module"));
  CHECK_FALSE(bl[1].HasMember("build_config"));
  CHECK(json::to_string(bl[2]["inbound_nodes"]) == R"([[["dense",0,0,{}],["input_1",0,0,{}]]])");
  CHECK(json::to_string(b["config"]["input_layers"]) == R"([["input_1",0,0]])");
  // Same config values as the original for the Dense layer.
  auto orig = json::parse(k2, "k2");
  CHECK(json::to_string(bl[1]["config"]) == json::to_string(orig["config"]["layers"][1]["config"]));
}

TEST_CASE("keras3 dialect: Sequential with the input shape on its first layer gets an InputLayer", "[keras_v3][keras3_dialect]") {
  const std::string k2 = R"({"class_name": "Sequential", "config": {"name": "sequential", "layers": [
    {"class_name": "Embedding", "config": {"name": "embedding", "trainable": true, "batch_input_shape": [null, 10],
      "dtype": "float32", "input_dim": 100, "output_dim": 8, "embeddings_initializer": {"class_name": "RandomUniform",
      "config": {"minval": -0.05, "maxval": 0.05, "seed": null}}, "embeddings_regularizer": null,
      "activity_regularizer": null, "embeddings_constraint": null, "mask_zero": false, "input_length": 10}},
    {"class_name": "LSTM", "config": {"name": "lstm", "trainable": true, "dtype": "float32", "return_sequences": false,
      "return_state": false, "go_backwards": false, "stateful": false, "unroll": false, "time_major": true,
      "units": 4, "activation": "tanh", "recurrent_activation": "sigmoid", "use_bias": true,
      "unit_forget_bias": true, "dropout": 0.0, "recurrent_dropout": 0.0, "implementation": 2}},
    {"class_name": "BatchNormalization", "config": {"name": "bn", "trainable": true, "dtype": "float32",
      "axis": [1], "momentum": 0.99, "epsilon": 0.001, "center": true, "scale": true, "fused": true}}]}})";
  std::vector<std::string> warnings;
  auto d = json::parse(to_keras3_model_config(k2, &warnings), "k3");
  const auto& layers = d["config"]["layers"];
  REQUIRE(layers.Size() == 4);
  CHECK(std::string(layers[0]["class_name"].GetString()) == "InputLayer");
  CHECK(json::to_string(layers[0]["config"]["batch_shape"]) == "[null,10]");
  CHECK_FALSE(layers[1]["config"].HasMember("batch_input_shape"));
  CHECK_FALSE(layers[1]["config"].HasMember("input_length"));
  CHECK_FALSE(layers[2]["config"].HasMember("time_major"));
  CHECK_FALSE(layers[2]["config"].HasMember("implementation"));
  CHECK(layers[3]["config"]["axis"].IsInt());
  CHECK_FALSE(layers[3]["config"].HasMember("fused"));
  CHECK(json::to_string(d["build_config"]["input_shape"]) == "[null,10]");
  CHECK(json::to_string(layers[2]["build_config"]["input_shape"]) == "[null,10,8]");
  // Every argument with a value that Keras 3 cannot express is reported by name.
  CHECK(mentions(warnings, "'input_length'=10"));
  CHECK(mentions(warnings, "'time_major'=true"));
  CHECK(mentions(warnings, "'fused'=true"));
}

TEST_CASE("keras3 dialect: real Keras 3 configs translate to Keras 2", "[keras_v3][keras3_dialect]") {
  io::ZipReader z(KMODEL_TESTDATA "/keras_v3/stock_rnn_model.keras");
  std::string k3 = z.read("config.json");
  std::vector<std::string> warnings;
  std::string k2 = to_keras2_model_config(k3, &warnings);
  CHECK(k2.find("\"module\"") == std::string::npos);
  CHECK(k2.find("registered_name") == std::string::npos);
  CHECK(k2.find("shared_object_id") == std::string::npos);
  CHECK(k2.find("DTypePolicy") == std::string::npos);
  CHECK(k2.find("OrthogonalInitializer") == std::string::npos);
  auto d = json::parse(k2, "k2");
  CHECK(std::string(d["class_name"].GetString()) == "Sequential");
  const auto& layers = d["config"]["layers"];
  CHECK(json::to_string(layers[0]["config"]["batch_input_shape"]) == "[null,10,6]");
  CHECK(std::string(layers[1]["config"]["dtype"].GetString()) == "float32");
  CHECK(std::string(layers[1]["config"]["recurrent_initializer"]["class_name"].GetString()) == "Orthogonal");
  CHECK_FALSE(layers[1]["config"].HasMember("seed"));  // seed null: nothing lost, nothing reported
  CHECK_FALSE(mentions(warnings, "seed"));
  ArchitectureSpec a = parse_architecture(k2, "k2");
  CHECK(detect_dialect(k2, "") == KerasDialect::kKeras2);
  REQUIRE(a.layers.size() == 5);
  CHECK(a.layers[1].class_name == "LSTM");

  // compile_config -> training_config and back.
  auto cfg = json::parse(k3, "k3");
  std::string cc = json::to_string(cfg["compile_config"]);
  CHECK(is_keras3_compile_config(cc));
  std::string tc = to_keras2_training_config(cc, &warnings);
  auto t = json::parse(tc, "tc");
  CHECK(std::string(t["optimizer_config"]["class_name"].GetString()) == "Adam");
  CHECK_FALSE(t["optimizer_config"].HasMember("module"));
  CHECK(std::string(t["loss"].GetString()) == "mse");
  CHECK_FALSE(is_keras3_compile_config(tc));
  std::string cc2 = to_keras3_compile_config(tc, &warnings);
  auto c2 = json::parse(cc2, "cc2");
  CHECK(std::string(c2["optimizer"]["module"].GetString()) == "keras.optimizers");
  CHECK(c2["optimizer"]["config"]["learning_rate"].GetDouble() == Approx(0.001));
  CHECK(json::to_string(c2["metrics"]) == R"(["mse","r2_score"])");
}

TEST_CASE("keras3 dialect: subclassed models and custom classes are reported", "[keras_v3][keras3_dialect]") {
  io::ZipReader z(KMODEL_TESTDATA "/keras_v3/nested_container.keras");
  std::vector<std::string> warnings;
  CHECK_THROWS_AS(to_keras2_model_config(z.read("config.json"), &warnings), UnsupportedError);
  io::ZipReader q(KMODEL_TESTDATA "/keras_v3/qkeras_v3_3layer.keras");
  std::string k2 = to_keras2_model_config(q.read("config.json"), &warnings);
  CHECK(mentions(warnings, "qkeras>QDense"));
  CHECK(k2.find("\"class_name\":\"QDense\"") != std::string::npos);
  // Keras 2 training_config with legacy optimizer arguments.
  std::string tc = R"({"optimizer_config": {"class_name": "Custom>Adam", "config": {"name": "Adam", "lr": 0.01,
    "decay": 0.1, "beta_1": 0.9}}, "loss": "mse", "metrics": [[{"class_name": "MeanMetricWrapper",
    "config": {"name": "accuracy", "dtype": "float32", "fn": "categorical_accuracy"}}]],
    "weighted_metrics": null, "loss_weights": null, "sample_weight_mode": "temporal"})";
  warnings.clear();
  auto c = json::parse(to_keras3_compile_config(tc, &warnings), "cc");
  CHECK(std::string(c["optimizer"]["class_name"].GetString()) == "Adam");
  CHECK(std::string(c["optimizer"]["config"]["name"].GetString()) == "adam");
  CHECK(c["optimizer"]["config"]["learning_rate"].GetDouble() == Approx(0.01));
  CHECK_FALSE(c["optimizer"]["config"].HasMember("decay"));
  CHECK(mentions(warnings, "'decay'=0.1"));
  CHECK(mentions(warnings, "sample_weight_mode"));
  CHECK(json::to_string(c["metrics"]) == R"([["categorical_accuracy"]])");
}

namespace {
bool envelope_key(const std::string& k) { return k == "module" || k == "registered_name" || k == "shared_object_id"; }
// JSON equality ignoring the order of object members and the Keras 3 envelope keys (tf.keras >= 2.13
// already writes module/registered_name into H5 configs; Keras 2 form is the legacy one without them).
bool same_json(const json::Value& a, const json::Value& b) {
  if (a.GetType() != b.GetType()) {
    return a.IsNumber() && b.IsNumber() && a.GetDouble() == b.GetDouble();
  }
  if (a.IsObject()) {
    size_t na = 0, nb = 0;
    for (const auto& m : a.GetObject()) na += envelope_key(m.name.GetString()) ? 0 : 1;
    for (const auto& m : b.GetObject()) nb += envelope_key(m.name.GetString()) ? 0 : 1;
    if (na != nb) return false;
    for (const auto& m : a.GetObject()) {
      if (envelope_key(m.name.GetString())) continue;
      auto it = b.FindMember(m.name);
      if (it == b.MemberEnd() || !same_json(m.value, it->value)) return false;
    }
    return true;
  }
  if (a.IsArray()) {
    if (a.Size() != b.Size()) return false;
    for (rapidjson::SizeType i = 0; i < a.Size(); ++i)
      if (!same_json(a[i], b[i])) return false;
    return true;
  }
  return a == b;
}
}  // namespace

TEST_CASE("keras3 dialect: every Keras 2 H5 config of the corpus survives 2 -> 3 -> 2", "[keras_v3][keras3_dialect]") {
  size_t models = 0, layers_checked = 0;
  for (const auto& e : std::filesystem::directory_iterator(KMODEL_TESTDATA "/h5")) {
    Model m = read(e.path().string());
    if (!m.has_architecture()) continue;
    ArchitectureSpec orig = parse_architecture(m.model_config, "orig");
    if (orig.dialect != KerasDialect::kKeras2) continue;
    INFO(e.path().filename().string());
    std::vector<std::string> warnings;
    std::string k3 = to_keras3_model_config(m.model_config, &warnings);
    CHECK(detect_dialect(k3, "") == KerasDialect::kKeras3);
    ArchitectureSpec back = parse_architecture(to_keras2_model_config(k3, &warnings), "back");
    ++models;
    for (const auto& l : orig.layers) {
      const LayerSpec* b = nullptr;
      for (const auto& x : back.layers)
        if (x.name == l.name) b = &x;
      INFO("layer " << l.name);
      REQUIRE(b);
      CHECK(b->class_name == l.class_name);
      CHECK(b->inbound_nodes.size() == l.inbound_nodes.size());
      auto c1 = json::parse(l.config_json, "a");
      auto c2 = json::parse(b->config_json, "b");
      for (const auto& mem : c1.GetObject()) {
        std::string k = mem.name.GetString();
        INFO("key " << k);
        if (k == "batch_input_shape" && l.class_name != "InputLayer") continue;  // moved to an InputLayer
        if (k == "implementation") continue;                                      // speed hint only
        if (k == "time_major" && mem.value.IsFalse()) continue;                   // the Keras 3 behaviour
        if (k == "input_length" && l.class_name == "Embedding") {
          CHECK((mem.value.IsNull() || mentions(warnings, "'input_length'")));
          continue;
        }
        REQUIRE(c2.HasMember(mem.name));
        // Keras 2.0's VarianceScaling "normal" is Keras 3's "truncated_normal" (same distribution).
        std::string want = json::to_string(mem.value);
        for (size_t p = want.find("\"distribution\":\"normal\""); p != std::string::npos;
             p = want.find("\"distribution\":\"normal\""))
          want.replace(p, 23, "\"distribution\":\"truncated_normal\"");
        auto expected = json::parse(want, "want");
        CHECK(same_json(expected, c2[mem.name]));
      }
      ++layers_checked;
    }
  }
  CHECK(models >= 15);
  CHECK(layers_checked >= 60);
}

// ---- node numbering of nested models ------------------------------------------------------------
// tf.keras counts the calls of a nested Functional (or a Sequential with an input layer) from 1 in
// every reference; Keras 3 from 0 in call arguments, and from 1 only for a Functional in
// input_layers/output_layers (keras/src/models/functional.py get_config / functional_from_config).
namespace {
// Per inbound node of a Keras 3 layer entry, its __keras_tensor__ histories: "[..] [..] | [..]".
std::string k3_histories(const json::Value& layer) {
  std::string out;
  std::function<void(const json::Value&)> walk = [&](const json::Value& v) {
    if (v.IsObject()) {
      if (v.HasMember("class_name") && v["class_name"].IsString() &&
          std::string(v["class_name"].GetString()) == "__keras_tensor__") {
        out += (out.empty() || out.back() == ' ' ? "" : " ") + json::to_string(v["config"]["keras_history"]);
        return;
      }
      for (const auto& m : v.GetObject()) walk(m.value);
    } else if (v.IsArray()) {
      for (const auto& e : v.GetArray()) walk(e);
    }
  };
  for (const auto& node : layer["inbound_nodes"].GetArray()) {
    if (!out.empty()) out += " | ";
    walk(node);
  }
  return out;
}
const json::Value& layer_named(const json::Value& model_config, const std::string& name) {
  for (const auto& l : model_config["layers"].GetArray())
    if (l.HasMember("name") && name == l["name"].GetString()) return l;
  FAIL("no layer " << name);
  return model_config;
}
// Keras 2 Functional: x -> pre (nested Functional) -> seq (nested Sequential with an InputLayer) ->
// head; `twice` calls pre and seq a second time on y, a shared Dense on both seq outputs, a Sequential
// without an input layer (numbered from 0 in both dialects) and outputs pre's second call directly.
std::string nested_k2(bool twice) {
  std::string inner = R"({"class_name": "Dense", "config": {"name": "NAME", "units": 4, "activation": "linear",
    "use_bias": true, "dtype": "float32", "trainable": true}})";
  auto dense = [&](const std::string& name) {
    std::string s = inner;
    s.replace(s.find("NAME"), 4, name);
    return s;
  };
  auto input = [](const std::string& name) {
    return R"({"class_name": "InputLayer", "name": ")" + name + R"(", "inbound_nodes": [], "config": {"name": ")" +
           name + R"(", "batch_input_shape": [null, 4], "dtype": "float32", "sparse": false, "ragged": false}})";
  };
  auto call = [](const std::string& entry, const std::string& name, const std::string& nodes) {
    return entry.substr(0, entry.size() - 1) + R"(, "name": ")" + name + R"(", "inbound_nodes": )" + nodes + "}";
  };
  std::string pre = R"({"class_name": "Functional", "config": {"name": "pre", "layers": [)" + input("p_in") + ", " +
                    call(dense("p_d"), "p_d", R"([[["p_in", 0, 0, {}]]])") +
                    R"(], "input_layers": [["p_in", 0, 0]], "output_layers": [["p_d", 0, 0]]}})";
  std::string seq = R"({"class_name": "Sequential", "config": {"name": "seq", "layers": [
      {"class_name": "InputLayer", "config": {"name": "s_in", "batch_input_shape": [null, 4], "dtype": "float32",
       "sparse": false, "ragged": false}}, )" + dense("s_d") + "]}}";
  std::string bare = R"({"class_name": "Sequential", "config": {"name": "bare", "layers": [)" + dense("b_d") + "]}}";
  std::string layers = input("x") + ", ";
  if (!twice) {
    layers += call(pre, "pre", R"([[["x", 0, 0, {}]]])") + ", " + call(seq, "seq", R"([[["pre", 1, 0, {}]]])") + ", " +
              call(dense("head"), "head", R"([[["seq", 1, 0, {}]]])");
    return R"({"class_name": "Functional", "config": {"name": "outer", "layers": [)" + layers +
           R"(], "input_layers": [["x", 0, 0]], "output_layers": [["head", 0, 0]]}, "keras_version": "2.13.1"})";
  }
  layers += input("y") + ", " + call(pre, "pre", R"([[["x", 0, 0, {}]], [["y", 0, 0, {}]]])") + ", " +
            call(seq, "seq", R"([[["pre", 1, 0, {}]], [["pre", 2, 0, {}]]])") + ", " +
            call(dense("shared"), "shared", R"([[["seq", 1, 0, {}]], [["seq", 2, 0, {}]]])") + ", " +
            call(bare, "bare", R"([[["shared", 1, 0, {}]]])") + ", " +
            R"({"class_name": "Add", "name": "add", "config": {"name": "add", "dtype": "float32", "trainable": true},
                "inbound_nodes": [[["shared", 0, 0, {}], ["bare", 0, 0, {}]]]})";
  return R"({"class_name": "Functional", "config": {"name": "outer", "layers": [)" + layers +
         R"(], "input_layers": [["x", 0, 0], ["y", 0, 0]], "output_layers": [["add", 0, 0], ["pre", 2, 0], ["seq", 1, 0]]},
         "keras_version": "2.13.1"})";
}
}  // namespace

TEST_CASE("keras3 dialect: nested models called once are renumbered both ways", "[keras_v3][keras3_dialect]") {
  const std::string k2 = nested_k2(false);
  std::vector<std::string> warnings;
  std::string k3 = to_keras3_model_config(k2, &warnings);
  CHECK_FALSE(mentions(warnings, "nested model"));
  auto d = json::parse(k3, "k3");
  const auto& cfg = d["config"];
  CHECK(k3_histories(layer_named(cfg, "pre")) == R"(["x",0,0])");
  CHECK(k3_histories(layer_named(cfg, "seq")) == R"(["pre",0,0])");   // tf.keras 1 -> 0
  CHECK(k3_histories(layer_named(cfg, "head")) == R"(["seq",0,0])");  // Sequential with an InputLayer: 1 -> 0
  CHECK(json::to_string(cfg["output_layers"]) == R"([["head",0,0]])");
  // The nested model's own graph (plain layers) keeps its numbers.
  CHECK(k3_histories(layer_named(layer_named(cfg, "pre")["config"], "p_d")) == R"(["p_in",0,0])");
  CHECK(json::to_string(layer_named(cfg, "pre")["config"]["output_layers"]) == R"([["p_d",0,0]])");

  std::string back = to_keras2_model_config(k3, &warnings);
  auto b = json::parse(back, "back");
  CHECK(json::to_string(layer_named(b["config"], "seq")["inbound_nodes"]) == R"([[["pre",1,0,{}]]])");
  CHECK(json::to_string(layer_named(b["config"], "head")["inbound_nodes"]) == R"([[["seq",1,0,{}]]])");
  CHECK(json::to_string(b["config"]["output_layers"]) == R"([["head",0,0]])");
  CHECK_FALSE(mentions(warnings, "nested model"));
}

TEST_CASE("keras3 dialect: nested models called twice, shared layers and outputs", "[keras_v3][keras3_dialect]") {
  const std::string k2 = nested_k2(true);
  std::vector<std::string> warnings;
  std::string k3 = to_keras3_model_config(k2, &warnings);
  CHECK_FALSE(mentions(warnings, "nested model"));
  auto d = json::parse(k3, "k3");
  const auto& cfg = d["config"];
  CHECK(k3_histories(layer_named(cfg, "pre")) == R"(["x",0,0] | ["y",0,0])");
  CHECK(k3_histories(layer_named(cfg, "seq")) == R"(["pre",0,0] | ["pre",1,0])");
  CHECK(k3_histories(layer_named(cfg, "shared")) == R"(["seq",0,0] | ["seq",1,0])");
  CHECK(k3_histories(layer_named(cfg, "bare")) == R"(["shared",1,0])");  // a shared Dense: unchanged
  CHECK(k3_histories(layer_named(cfg, "add")) == R"(["shared",0,0] ["bare",0,0])");  // no input layer: from 0
  // output_layers: a Functional keeps its tf.keras number (Keras 3 counts it from 1 there too), a
  // Sequential counts from 0.
  CHECK(json::to_string(cfg["output_layers"]) == R"([["add",0,0],["pre",2,0],["seq",0,0]])");
  CHECK(json::to_string(cfg["input_layers"]) == R"([["x",0,0],["y",0,0]])");

  // Keras 3 -> Keras 2 restores every original node index exactly.
  std::string back = to_keras2_model_config(k3, &warnings);
  CHECK_FALSE(mentions(warnings, "nested model"));
  auto b = json::parse(back, "back");
  auto orig = json::parse(k2, "k2");
  for (const char* name : {"pre", "seq", "shared", "bare", "add"}) {
    INFO(name);
    CHECK(json::to_string(layer_named(b["config"], name)["inbound_nodes"]) ==
          json::to_string(layer_named(orig["config"], name)["inbound_nodes"]));
  }
  CHECK(json::to_string(b["config"]["output_layers"]) == R"([["add",0,0],["pre",2,0],["seq",1,0]])");
  // Both dialects parse as the same graph for the engine's dialect-aware numbering.
  CHECK(parse_architecture(k3, "k3").dialect == KerasDialect::kKeras3);
}

TEST_CASE("keras3 dialect: nested references already in the target numbering are kept and reported",
          "[keras_v3][keras3_dialect]") {
  // A .keras written before the numbering was translated: tf.keras numbers in Keras 3 form.
  std::string k2 = nested_k2(true);
  std::vector<std::string> warnings;
  std::string k3 = to_keras3_model_config(k2, &warnings);
  auto old = json::parse(k3, "k3");
  std::function<void(json::Value&)> bump = [&](json::Value& v) {
    if (v.IsObject()) {
      if (v.HasMember("keras_history")) {
        auto& h = v["keras_history"];
        std::string l = h[0].GetString();
        if (l == "pre" || l == "seq") h[1].SetInt(h[1].GetInt() + 1);
        return;
      }
      for (auto& m : v.GetObject()) bump(m.value);
    } else if (v.IsArray()) {
      for (auto& e : v.GetArray()) bump(e);
    }
  };
  for (auto& l : old["config"]["layers"].GetArray()) bump(l["inbound_nodes"]);
  old["config"]["output_layers"][2][1].SetInt(1);
  warnings.clear();
  auto b = json::parse(to_keras2_model_config(json::to_string(old), &warnings), "b");
  CHECK(mentions(warnings, "nested model 'pre': node indices of the references to it kept as found (they already follow tf.keras numbering)"));
  CHECK(mentions(warnings, "nested model 'seq'"));
  CHECK(json::to_string(layer_named(b["config"], "seq")["inbound_nodes"]) == R"([[["pre",1,0,{}]],[["pre",2,0,{}]]])");
  CHECK(json::to_string(b["config"]["output_layers"]) == R"([["add",0,0],["pre",2,0],["seq",1,0]])");

  // A Keras 2 form config carrying Keras 3 numbers (list-form nodes): kept and reported too.
  std::string k3nums = nested_k2(false);
  k3nums.replace(k3nums.find(R"([[["pre", 1, 0, {}]]])"), 21, R"([[["pre", 0, 0, {}]]])");
  warnings.clear();
  auto d = json::parse(to_keras3_model_config(k3nums, &warnings), "d");
  CHECK(mentions(warnings, "nested model 'pre': node indices of the references to it kept as found (they already follow Keras 3 numbering)"));
  CHECK(k3_histories(layer_named(d["config"], "seq")) == R"(["pre",0,0])");
  CHECK(k3_histories(layer_named(d["config"], "head")) == R"(["seq",0,0])");  // seq itself still renumbered
}

TEST_CASE("keras3 dialect: tf.keras TF-op layer nodes parse and survive 2 -> 3 -> 2", "[keras_v3][keras3_dialect]") {
  // tf.keras >= 2.4 writes a TFOpLambda called on one tensor as the entry itself (not a list of
  // one), tensors in kwargs as [layer, node, tensor], and a constant first argument as
  // ["_CONSTANT_VALUE", -1, value, kwargs]; a list first argument (tf.concat) as several entries.
  const std::string k2 = R"({"class_name": "Functional", "config": {"name": "model",
   "layers": [
     {"class_name": "InputLayer", "name": "a", "inbound_nodes": [], "config": {"batch_input_shape": [null, 4], "name": "a"}},
     {"class_name": "InputLayer", "name": "b", "inbound_nodes": [], "config": {"batch_input_shape": [null, 4], "name": "b"}},
     {"class_name": "TFOpLambda", "name": "tf.math.truediv",
      "config": {"name": "tf.math.truediv", "trainable": true, "dtype": "float32", "function": "math.truediv"},
      "inbound_nodes": [["a", 0, 0, {"y": 127.5, "name": null}]]},
     {"class_name": "TFOpLambda", "name": "tf.__operators__.add",
      "config": {"name": "tf.__operators__.add", "trainable": true, "dtype": "float32", "function": "__operators__.add"},
      "inbound_nodes": [["tf.math.truediv", 0, 0, {"y": ["b", 0, 0], "name": null}]]},
     {"class_name": "TFOpLambda", "name": "tf.math.subtract",
      "config": {"name": "tf.math.subtract", "trainable": true, "dtype": "float32", "function": "math.subtract"},
      "inbound_nodes": [["_CONSTANT_VALUE", -1, 1.0, {"y": ["tf.__operators__.add", 0, 0], "name": null}]]},
     {"class_name": "TFOpLambda", "name": "tf.concat",
      "config": {"name": "tf.concat", "trainable": true, "dtype": "float32", "function": "concat"},
      "inbound_nodes": [[["tf.math.subtract", 0, 0, {"axis": -1, "name": null}], ["a", 0, 0, {"axis": -1, "name": null}]]]}],
   "input_layers": [["a", 0, 0], ["b", 0, 0]], "output_layers": [["tf.concat", 0, 0]]},
   "keras_version": "2.4.0", "backend": "tensorflow"})";
  ArchitectureSpec a = parse_architecture(k2, "k2");
  REQUIRE(a.layers.size() == 6);
  const LayerCall& div = a.layers[2].inbound_nodes.at(0);
  REQUIRE(div.inputs.size() == 1);
  CHECK(div.inputs[0].layer == "a");
  CHECK(div.kwargs_json == R"({"y":127.5,"name":null})");
  const LayerCall& sub = a.layers[4].inbound_nodes.at(0);
  CHECK(sub.inputs.empty());
  REQUIRE(sub.constant_args_json.size() == 1);
  CHECK(sub.constant_args_json[0] == "1.0");
  CHECK(a.layers[5].inbound_nodes.at(0).inputs.size() == 2);

  std::vector<std::string> warnings;
  std::string k3 = to_keras3_model_config(k2, &warnings);
  CHECK(mentions(warnings, "TFOpLambda (a tf.keras TF-op layer) does not exist in Keras 3"));
  auto d = json::parse(k3, "k3");
  const auto& div3 = d["config"]["layers"][2]["inbound_nodes"][0];
  CHECK(std::string(div3["args"][0]["config"]["keras_history"][0].GetString()) == "a");
  CHECK(div3["kwargs"]["y"].GetDouble() == 127.5);
  const auto& sub3 = d["config"]["layers"][4]["inbound_nodes"][0];
  CHECK(sub3["args"][0].GetDouble() == 1.0);
  CHECK(std::string(sub3["kwargs"]["y"]["class_name"].GetString()) == "__keras_tensor__");
  ArchitectureSpec a3 = parse_architecture(k3, "k3");
  REQUIRE(a3.layers[4].inbound_nodes.at(0).constant_args_json.size() == 1);
  CHECK(a3.layers[4].inbound_nodes[0].constant_args_json[0] == "1.0");

  // Back to Keras 2: the same node forms tf.keras wrote.
  std::string back = to_keras2_model_config(k3, &warnings);
  auto b = json::parse(back, "back");
  auto orig = json::parse(k2, "k2");
  for (int i = 2; i < 6; ++i)
    CHECK(json::to_string(b["config"]["layers"][i]["inbound_nodes"]) ==
          json::to_string(orig["config"]["layers"][i]["inbound_nodes"]));
}
