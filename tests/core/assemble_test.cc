// Tests for the assembler behind `kmodel save`: by order / by name, skip-mismatch, coverage,
// fresh weights, and the nested-model trap; in-memory Models and JSON architectures.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>

#include "core/assemble.h"
#include "kmodel/error.h"

using namespace kmodel;

namespace {

TensorRef f32(std::vector<float> v, Shape shape) {
  Tensor t;
  t.dtype = DType::kFloat32;
  t.shape = std::move(shape);
  t.data.resize(v.size() * 4);
  std::memcpy(t.data.data(), v.data(), t.data.size());
  return TensorRef::from_tensor(std::move(t));
}
TensorRef seq(Shape shape, float start) {
  std::vector<float> v(static_cast<size_t>(num_elements(shape)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = start + static_cast<float>(i);
  return f32(v, shape);
}
Weight weight(const std::string& name, TensorRef t) {
  Weight w;
  w.name = name;
  w.tensor = std::move(t);
  return w;
}
Layer dense(const std::string& name, int64_t in, int64_t out, float start) {
  Layer l;
  l.name = name;
  l.class_name = "Dense";
  l.weights.push_back(weight(name + "/kernel:0", seq({in, out}, start)));
  l.weights.push_back(weight(name + "/bias:0", seq({out}, -start)));
  return l;
}
Model arch_model(const std::string& json) {
  Model m;
  m.origin = Format::kJson;
  m.path = "arch.json";
  m.model_config = json;
  m.keras_version = "2.15.0";
  return m;
}
std::vector<float> floats(const TensorRef& r) {
  Tensor t = r.load();
  return std::vector<float>(t.as<float>(), t.as<float>() + t.num_elements());
}
const Layer& find(const Model& m, const std::string& name) {
  for (const auto& l : m.layers)
    if (l.name == name) return l;
  FAIL("no layer " << name);
  return m.layers.front();
}

// Functional: input (None, 3) -> d1 Dense(4) -> drop Dropout -> d2 Dense(2).
const char* kFunctionalWithDropout = R"({"class_name": "Functional", "config": {"name": "m", "layers": [
  {"class_name": "InputLayer", "name": "x", "inbound_nodes": [], "config": {"batch_input_shape": [null, 3], "name": "x"}},
  {"class_name": "Dense", "name": "d1", "inbound_nodes": [[["x", 0, 0, {}]]], "config": {"name": "d1", "units": 4}},
  {"class_name": "Dropout", "name": "drop", "inbound_nodes": [[["d1", 0, 0, {}]]], "config": {"name": "drop", "rate": 0.5}},
  {"class_name": "Dense", "name": "d2", "inbound_nodes": [[["drop", 0, 0, {}]]], "config": {"name": "d2", "units": 2}}],
  "input_layers": [["x", 0, 0]], "output_layers": [["d2", 0, 0]]}})";

// Sequential: Dense(4, input 3) -> Dense(4) -> Dense(5, "head").
const char* kTransfer = R"({"class_name": "Sequential", "config": {"name": "new", "layers": [
  {"class_name": "Dense", "config": {"name": "dense_1", "units": 4, "batch_input_shape": [null, 3]}},
  {"class_name": "Dense", "config": {"name": "dense_2", "units": 4}},
  {"class_name": "Dense", "config": {"name": "head", "units": 5, "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": null}}}}]}})";

// Functional whose middle is a nested Sequential "inner" (d1, d2), plus a head.
const char* kNested = R"({"class_name": "Functional", "config": {"name": "outer", "layers": [
  {"class_name": "InputLayer", "name": "in", "inbound_nodes": [], "config": {"batch_input_shape": [null, 3], "name": "in"}},
  {"class_name": "Sequential", "name": "inner", "inbound_nodes": [[["in", 0, 0, {}]]], "config": {"name": "inner", "layers": [
     {"class_name": "Dense", "config": {"name": "d1", "units": 4, "batch_input_shape": [null, 3]}},
     {"class_name": "Dense", "config": {"name": "d2", "units": 4}}]}},
  {"class_name": "Dense", "name": "head", "inbound_nodes": [[["inner", 1, 0, {}]]], "config": {"name": "head", "units": 2}}],
  "input_layers": [["in", 0, 0]], "output_layers": [["head", 0, 0]]}})";

}  // namespace

TEST_CASE("assemble by order: a model with an extra Dropout and other names takes the weights", "[diff][assemble]") {
  Model source;  // Sequential-built equivalent without the Dropout, other layer names
  source.layers.push_back(dense("dense_a", 3, 4, 1));
  source.layers.push_back(dense("dense_b", 4, 2, 100));
  AssembleOptions o;
  o.by = MatchBy::kOrder;
  AssembleReport rep;
  Model m = assemble_model(arch_model(kFunctionalWithDropout), &source, o, rep);
  INFO(rep.text());
  CHECK(rep.ok());
  CHECK(rep.loaded.size() == 4);
  CHECK(rep.missing.empty());
  CHECK(rep.unexpected.empty());
  REQUIRE(m.layers.size() == 4);  // InputLayer stays in a functional model's layers
  CHECK(find(m, "drop").weights.empty());
  const Layer& d2 = find(m, "d2");
  REQUIRE(d2.weights.size() == 2);
  CHECK(d2.weights[0].name == "d2/kernel:0");
  CHECK(floats(d2.weights[0].tensor)[0] == 100.0f);
  CHECK(floats(find(m, "d1").weights[1].tensor) == std::vector<float>{-1, 0, 1, 2});

  // By name the same source matches nothing: an error that says so.
  o.by = MatchBy::kName;
  assemble_model(arch_model(kFunctionalWithDropout), &source, o, rep);
  CHECK_FALSE(rep.ok());
  CHECK(rep.error.find("0 of 4 weights matched") != std::string::npos);

  // By order with a different count: Keras set_weights refuses, so do we.
  source.layers.push_back(dense("dense_c", 2, 2, 0));
  o.by = MatchBy::kOrder;
  assemble_model(arch_model(kFunctionalWithDropout), &source, o, rep);
  CHECK(rep.error.find("expects 4 weights but the source holds 6") != std::string::npos);
}

TEST_CASE("assemble by name: transfer learning keeps fresh weights for the new head", "[diff][assemble]") {
  Model pretrained;
  pretrained.layers.push_back(dense("dense_1", 3, 4, 1));
  pretrained.layers.push_back(dense("dense_2", 4, 4, 50));
  pretrained.layers.push_back(dense("dense_3", 4, 10, 200));  // the old 10-class head
  AssembleOptions o;
  AssembleReport rep;
  assemble_model(arch_model(kTransfer), &pretrained, o, rep);
  CHECK_FALSE(rep.ok());  // incomplete coverage without --allow-partial
  CHECK(rep.missing == std::vector<std::string>{"head/kernel", "head/bias"});
  CHECK(rep.error.find("2 of 6 weights missing") != std::string::npos);

  o.allow_partial = true;
  o.init_seed = 11;
  Model m = assemble_model(arch_model(kTransfer), &pretrained, o, rep);
  INFO(rep.text());
  CHECK(rep.ok());
  CHECK(rep.loaded.size() == 4);
  CHECK(rep.initialized == std::vector<std::string>{"head/kernel", "head/bias"});
  CHECK(rep.unexpected == std::vector<std::string>{"dense_3/kernel", "dense_3/bias"});
  CHECK(rep.text().find("missing    head/kernel (keeps fresh weights from its initializer)") != std::string::npos);
  const Layer& head = find(m, "head");
  REQUIRE(head.weights.size() == 2);
  CHECK(head.weights[0].tensor.shape() == Shape{4, 5});
  auto k = floats(head.weights[0].tensor);
  double limit = std::sqrt(6.0 / 9.0);
  for (float x : k) CHECK(std::fabs(x) <= limit);
  CHECK(floats(head.weights[1].tensor) == std::vector<float>(5, 0.0f));
  CHECK(floats(find(m, "dense_2").weights[0].tensor)[0] == 50.0f);
}

TEST_CASE("assemble: shape mismatches fail, or are skipped with --skip-mismatch", "[diff][assemble]") {
  Model pretrained;
  pretrained.layers.push_back(dense("dense_1", 3, 4, 1));
  pretrained.layers.push_back(dense("dense_2", 4, 4, 50));
  pretrained.layers.push_back(dense("head", 4, 10, 200));  // same name, 10 units instead of 5
  AssembleOptions o;
  AssembleReport rep;
  assemble_model(arch_model(kTransfer), &pretrained, o, rep);
  CHECK_FALSE(rep.ok());
  REQUIRE(rep.mismatched.size() == 2);
  CHECK(rep.mismatched[0] == "head/kernel: architecture expects (4, 5), source head/kernel:0 has (4, 10)");
  o.skip_mismatch = true;
  Model m = assemble_model(arch_model(kTransfer), &pretrained, o, rep);
  INFO(rep.text());
  CHECK(rep.ok());
  CHECK(rep.skipped.size() == 2);
  CHECK(rep.initialized.size() == 2);
  CHECK(find(m, "head").weights[0].tensor.shape() == Shape{4, 5});
}

TEST_CASE("assemble: a sub-model's weights into the outer model is 0 of N and explains the trap",
          "[diff][assemble]") {
  Model sub;  // what inner.save_weights() holds: layers d1, d2
  sub.layers.push_back(dense("d1", 3, 4, 1));
  sub.layers.push_back(dense("d2", 4, 4, 10));
  AssembleOptions o;
  o.allow_partial = true;  // even with --allow-partial, zero is an error
  AssembleReport rep;
  assemble_model(arch_model(kNested), &sub, o, rep);
  CHECK_FALSE(rep.ok());
  CHECK(rep.expected == 6);
  CHECK(rep.error.find("0 of 6 weights matched") != std::string::npos);
  CHECK(rep.hint.find("nested model 'inner'") != std::string::npos);
  CHECK(rep.hint.find("d1, d2") != std::string::npos);
  CHECK(rep.json().find("\"ok\":false") != std::string::npos);

  // The outer model's own weights (H5 nested naming: "d1/kernel:0" inside layer "inner") do load.
  Model outer;
  Layer inner;
  inner.name = "inner";
  inner.class_name = "Sequential";
  for (const char* n : {"d1/kernel:0", "d1/bias:0", "d2/kernel:0", "d2/bias:0"}) {
    Shape s = std::string(n).find("kernel") != std::string::npos
                  ? (n[1] == '1' ? Shape{3, 4} : Shape{4, 4}) : Shape{4};
    inner.weights.push_back(weight(n, seq(s, 0)));
  }
  outer.layers.push_back(inner);
  outer.layers.push_back(dense("head", 4, 2, 7));
  Model m = assemble_model(arch_model(kNested), &outer, AssembleOptions{}, rep);
  INFO(rep.text());
  CHECK(rep.ok());
  CHECK(rep.loaded.size() == 6);
  CHECK(find(m, "inner").weights.size() == 4);
}

TEST_CASE("assemble with --init only: every weight fresh and reproducible", "[diff][assemble]") {
  AssembleOptions o;
  o.init_seed = 3;
  AssembleReport rep;
  Model a = assemble_model(arch_model(kNested), nullptr, o, rep);
  CHECK(rep.ok());
  CHECK(rep.initialized.size() == 6);
  Model b = assemble_model(arch_model(kNested), nullptr, o, rep);
  CHECK(floats(find(a, "head").weights[0].tensor) == floats(find(b, "head").weights[0].tensor));
  o.init_seed = 4;
  Model c = assemble_model(arch_model(kNested), nullptr, o, rep);
  CHECK(floats(find(a, "head").weights[0].tensor) != floats(find(c, "head").weights[0].tensor));
  // No source and no seed: an error, not an empty model.
  assemble_model(arch_model(kNested), nullptr, AssembleOptions{}, rep);
  CHECK(rep.error == "no weights: pass --weights SRC or --init SEED");
  // No architecture at all.
  Model none;
  CHECK_THROWS_AS(assemble_model(none, nullptr, o, rep), UsageError);
}

TEST_CASE("assemble: layers of unknown classes", "[diff][assemble]") {
  const char* json = R"({"class_name": "Sequential", "config": {"name": "s", "layers": [
    {"class_name": "Dense", "config": {"name": "d1", "units": 2, "batch_input_shape": [null, 3]}},
    {"class_name": "MyQuantDense", "config": {"name": "q", "units": 2}},
    {"class_name": "Dense", "config": {"name": "d2", "units": 1}}]}})";
  Model source;
  source.layers.push_back(dense("d1", 3, 2, 0));
  Layer q;
  q.name = "q";
  q.class_name = "MyQuantDense";
  q.weights.push_back(weight("q/kernel:0", seq({2, 2}, 9)));
  source.layers.push_back(q);
  source.layers.push_back(dense("d2", 2, 1, 3));
  AssembleReport rep;
  // By name the custom layer's weights travel as they are.
  Model m = assemble_model(arch_model(json), &source, AssembleOptions{}, rep);
  INFO(rep.text());
  CHECK(rep.ok());
  CHECK(rep.expected == 4);
  CHECK(rep.loaded.size() == 5);
  REQUIRE(find(m, "q").weights.size() == 1);
  CHECK(floats(find(m, "q").weights[0].tensor)[0] == 9.0f);
  CHECK(rep.unknown_layers == std::vector<std::string>{"q (MyQuantDense): weights taken as they are from the source layer of that name"});
  // By order kmodel cannot know how many weights the custom layer takes.
  AssembleOptions o;
  o.by = MatchBy::kOrder;
  assemble_model(arch_model(json), &source, o, rep);
  CHECK(rep.error.find("kmodel does not know the layer class of q (MyQuantDense); use --by name") != std::string::npos);
}
