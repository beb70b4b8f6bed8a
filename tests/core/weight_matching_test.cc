// Tests for weight pairing (canonical keys, by name / by order) and the weight diff
// (allclose semantics, NaN handling, statuses, JSON), on in-memory Models.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>

#include "core/weight_matching.h"
#include "kmodel/diff.h"
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
TensorRef f64(std::vector<double> v, Shape shape) {
  Tensor t;
  t.dtype = DType::kFloat64;
  t.shape = std::move(shape);
  t.data.resize(v.size() * 8);
  std::memcpy(t.data.data(), v.data(), t.data.size());
  return TensorRef::from_tensor(std::move(t));
}
Weight weight(const std::string& name, const std::string& attr, TensorRef t) {
  Weight w;
  w.name = name;
  w.attr = attr;
  w.tensor = std::move(t);
  return w;
}
Layer layer(const std::string& name, std::vector<Weight> ws, const std::string& cls = "Dense") {
  Layer l;
  l.name = name;
  l.class_name = cls;
  l.weights = std::move(ws);
  return l;
}

}  // namespace

TEST_CASE("canonical weight keys normalise every format's spelling", "[diff][matching]") {
  // H5 (tf.keras): layer prefix and :0.
  CHECK(canonical_weight_key("dense_1", "", "dense_1/kernel:0") == "kernel");
  // H5 reader's attr for an RNN in a named cell scope, and checkpoint attrs.
  CHECK(canonical_weight_key("LSTM_layer_3", "lstm_cell_45/kernel", "LSTM_layer_3/lstm_cell_45/kernel:0") == "kernel");
  CHECK(canonical_weight_key("lstm", "cell/recurrent_kernel", "") == "recurrent_kernel");
  CHECK(canonical_weight_key("lstm", "", "lstm/lstm_cell/bias:0") == "bias");
  // Bidirectional: H5 "forward_lstm_1/kernel:0" vs checkpoint "forward_layer/cell/kernel".
  CHECK(canonical_weight_key("bidirectional_1", "", "bidirectional_1/forward_lstm_1/kernel:0") == "forward/kernel");
  CHECK(canonical_weight_key("bidirectional_1", "forward_layer/cell/kernel", "") == "forward/kernel");
  CHECK(canonical_weight_key("bidirectional_1", "backward_layer/cell/bias", "") == "backward/bias");
  // Checkpoint keys with .ATTRIBUTES.
  CHECK(canonical_weight_key("dense", "kernel/.ATTRIBUTES/VARIABLE_VALUE", "") == "kernel");
  // Keras 1.
  CHECK(canonical_weight_key("dense_1", "", "dense_1_W") == "W");
  CHECK(canonical_weight_key("lstm_1", "", "lstm_1_U_f:0") == "U_f");
  // Nested model: the sublayer name stays.
  CHECK(canonical_weight_key("inner", "", "dense_1/kernel:0") == "dense_1/kernel");
  // Keras 3 weights files without names keep their index.
  CHECK(canonical_weight_key("dense", "vars/0", "") == "vars/0");
  // MultiHeadAttention projections: H5 "query", checkpoint "_query_dense", Keras 3 "output_dense".
  CHECK(canonical_weight_key("mha", "", "mha/query/kernel:0") == "query/kernel");
  CHECK(canonical_weight_key("mha", "_query_dense/kernel", "") == "query/kernel");
  CHECK(canonical_weight_key("mha", "output_dense/bias", "") == "attention_output/bias");
  // TimeDistributed's inner "layer/".
  CHECK(canonical_weight_key("td", "layer/kernel", "") == "kernel");
}

TEST_CASE("matching by name and by order", "[diff][matching]") {
  Model a, b;
  a.layers.push_back(layer("dense_1", {weight("dense_1/kernel:0", "kernel", f32({1, 2}, {1, 2})),
                                       weight("dense_1/bias:0", "bias", f32({0, 0}, {2}))}));
  a.layers.push_back(layer("dropout", {}, "Dropout"));
  a.layers.push_back(layer("dense_2", {weight("dense_2/kernel:0", "kernel", f32({3, 4}, {2, 1}))}));
  // B: a checkpoint-like spelling with other layer names, no dropout.
  b.layers.push_back(layer("fc_a", {weight("fc_a/kernel:0", "kernel", f32({1, 2}, {1, 2})),
                                    weight("fc_a/bias:0", "bias", f32({0, 0}, {2}))}));
  b.layers.push_back(layer("fc_b", {weight("fc_b/kernel:0", "kernel", f32({3, 4}, {2, 1}))}));
  auto fa = flatten_weights(a), fb = flatten_weights(b);
  REQUIRE(fa.size() == 3);
  CHECK(fa[2].key == "dense_2/kernel");
  auto by_name = match_flat(fa, fb, MatchBy::kName);
  REQUIRE(by_name.size() == 6);  // nothing in common: 3 only-in-A, 3 only-in-B
  CHECK(by_name[0].b == nullptr);
  CHECK(by_name[5].a == nullptr);
  auto by_order = match_flat(fa, fb, MatchBy::kOrder);
  REQUIRE(by_order.size() == 3);
  CHECK(by_order[2].a->key == "dense_2/kernel");
  CHECK(by_order[2].b->key == "fc_b/kernel");

  DiffOptions o;
  o.by = MatchBy::kOrder;
  DiffResult r = diff_weights(a, b, o);
  CHECK(r.same());
  CHECK(r.count(WeightStatus::kEqual) == 3);
  o.by = MatchBy::kName;
  r = diff_weights(a, b, o);
  CHECK_FALSE(r.same());
  CHECK(r.count(WeightStatus::kOnlyInA) == 3);
  CHECK(r.count(WeightStatus::kOnlyInB) == 3);
}

TEST_CASE("diff: allclose semantics, NaN rules, shape and dtype mismatches, JSON", "[diff][matching]") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  Model a, b;
  a.path = "a.h5";
  b.path = "b.h5";
  a.layers.push_back(layer("d", {weight("d/kernel:0", "kernel", f32({1.0f, 2.0f, 100.0f}, {3})),
                                 weight("d/bias:0", "bias", f32({0.5f}, {1}))}));
  b.layers.push_back(layer("d", {weight("d/kernel:0", "kernel", f32({1.0f, 2.0f, 100.0005f}, {3})),
                                 weight("d/bias:0", "bias", f32({0.5f}, {1}))}));
  DiffResult r = diff_weights(a, b);
  REQUIRE(r.weights.size() == 2);
  // |100 - 100.0005| = 4.9e-4 (float) <= 1e-8 + 1e-5 * 100.0005: within tolerance, not equal.
  CHECK(r.weights[0].status == WeightStatus::kWithinTolerance);
  CHECK(r.weights[0].max_abs == Approx(0.00050354).epsilon(0.01));
  CHECK(r.weights[0].max_rel == Approx(0.00050354 / 100.0005).epsilon(0.01));
  CHECK(r.weights[1].status == WeightStatus::kEqual);
  CHECK(r.same());
  DiffOptions tight;
  tight.rtol = 1e-6;
  r = diff_weights(a, b, tight);
  CHECK(r.weights[0].status == WeightStatus::kDiffers);
  CHECK(r.weights[0].mismatches == 1);
  CHECK_FALSE(r.same());
  // atol alone (rtol 0): numpy's |a-b| <= atol.
  DiffOptions abs_only;
  abs_only.rtol = 0;
  abs_only.atol = 1e-3;
  CHECK(diff_weights(a, b, abs_only).same());

  Model n1, n2;
  n1.layers.push_back(layer("x", {weight("x/w:0", "w", f32({nan, 1.0f, inf}, {3}))}));
  n2.layers.push_back(layer("x", {weight("x/w:0", "w", f32({nan, 1.0f, inf}, {3}))}));
  r = diff_weights(n1, n2);
  CHECK(r.weights[0].status == WeightStatus::kDiffers);  // NaN != NaN unless --equal-nan
  CHECK(r.weights[0].mismatches == 1);
  DiffOptions en;
  en.equal_nan = true;
  r = diff_weights(n1, n2, en);
  CHECK(r.weights[0].status == WeightStatus::kEqual);
  Model n3;
  n3.layers.push_back(layer("x", {weight("x/w:0", "w", f32({nan, 1.0f, -inf}, {3}))}));
  r = diff_weights(n1, n3, en);
  CHECK(r.weights[0].status == WeightStatus::kDiffers);  // inf vs -inf

  Model s1, s2;
  s1.layers.push_back(layer("x", {weight("x/w:0", "w", f32({1, 2, 3, 4}, {2, 2})), weight("x/b:0", "b", f32({1}, {1}))}));
  s2.layers.push_back(layer("x", {weight("x/w:0", "w", f32({1, 2, 3, 4}, {4})), weight("x/b:0", "b", f64({1}, {1}))}));
  r = diff_weights(s1, s2);
  CHECK(r.weights[0].status == WeightStatus::kShapeMismatch);
  CHECK(r.weights[1].status == WeightStatus::kDTypeMismatch);
  CHECK(r.weights[1].max_abs == 0.0);
  std::string js = diff_json(r);
  CHECK(js.find("\"same\":false") != std::string::npos);
  CHECK(js.find("\"shape_mismatch\":1") != std::string::npos);
  CHECK(js.find("\"dtype_a\":\"float32\",\"shape_a\":[1]") != std::string::npos);
  CHECK(diff_summary(r).find("DIFFERENT") != std::string::npos);
  CHECK(diff_text(r).find("shape_mismatch  x/w  A (2, 2) vs B (4,)") != std::string::npos);
}

TEST_CASE("diff: optimizer state is compared by order only with --optimizer", "[diff][matching]") {
  Model a, b;
  a.layers.push_back(layer("d", {weight("d/k:0", "k", f32({1}, {1}))}));
  b.layers.push_back(layer("d", {weight("d/k:0", "k", f32({1}, {1}))}));
  a.optimizer.weights.push_back(weight("Adam/iter:0", "", f32({10}, {})));
  b.optimizer.weights.push_back(weight("adam/iterations", "", f32({11}, {})));
  CHECK(diff_weights(a, b).same());
  DiffOptions o;
  o.optimizer = true;
  DiffResult r = diff_weights(a, b, o);
  REQUIRE(r.weights.size() == 2);
  CHECK(r.weights[1].optimizer);
  CHECK(r.weights[1].status == WeightStatus::kDiffers);
  CHECK(r.weights[1].max_abs == 1.0);
}
