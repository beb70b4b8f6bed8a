// Tests for core/keras1_weights: Keras 1 per-gate LSTM/GRU arrays merged in Keras 2's gate order,
// and the Keras-2 view of a Keras 1 model that diff-weights uses.
#include <catch2/catch.hpp>

#include <cstring>

#include "core/keras1_weights.h"
#include "kmodel/model.h"

using namespace kmodel;

namespace {

// A float32 [rows, cols] array whose every element is `tag` * 1000 + its flat index.
Weight tagged(const std::string& name, int tag, Shape shape) {
  Tensor t;
  t.dtype = DType::kFloat32;
  t.shape = shape;
  int64_t n = 1;
  for (auto d : shape) n *= d;
  t.data.resize(static_cast<size_t>(n) * 4);
  for (int64_t i = 0; i < n; ++i) {
    float v = static_cast<float>(tag * 1000 + i);
    std::memcpy(t.data.data() + i * 4, &v, 4);
  }
  Weight w;
  w.name = name;
  w.tensor = TensorRef::from_tensor(std::move(t));
  return w;
}

float at(const Tensor& t, int64_t i) {
  float v;
  std::memcpy(&v, t.data.data() + i * 4, 4);
  return v;
}

// Keras 1 LSTM arrays as Keras 1 stores them: W, U, b for gates i, c, f, o (tags 1..12 in file order).
std::vector<Weight> keras1_lstm(const std::string& layer, int in, int units) {
  std::vector<Weight> ws;
  int tag = 1;
  for (const char* g : {"i", "c", "f", "o"}) {
    ws.push_back(tagged(layer + "_W_" + g, tag++, {in, units}));
    ws.push_back(tagged(layer + "_U_" + g, tag++, {units, units}));
    ws.push_back(tagged(layer + "_b_" + g, tag++, {units}));
  }
  return ws;
}

}  // namespace

TEST_CASE("Keras 1 LSTM per-gate arrays merge into kernel/recurrent_kernel/bias in i, f, c, o order", "[core]") {
  auto ws = keras1_lstm("lstm_1", 3, 2);
  std::vector<const Weight*> ptrs;
  for (const auto& w : ws) ptrs.push_back(&w);
  auto merged = merge_keras1_rnn(ptrs, "lstm_1");
  REQUIRE(merged.size() == 3);
  CHECK(merged[0].name == "lstm_1/kernel:0");
  CHECK(merged[1].attr == "cell/recurrent_kernel");
  CHECK(merged[0].tensor.shape() == Shape{3, 8});
  CHECK(merged[1].tensor.shape() == Shape{2, 8});
  CHECK(merged[2].tensor.shape() == Shape{8});
  Tensor k = merged[0].tensor.load();
  // Row 1 of the kernel: W_i (tag 1), W_f (tag 7), W_c (tag 4), W_o (tag 10), two columns each.
  const float row1[] = {1002, 1003, 7002, 7003, 4002, 4003, 10002, 10003};
  for (int c = 0; c < 8; ++c) CHECK(at(k, 8 + c) == row1[c]);
  Tensor b = merged[2].tensor.load();
  const float bias[] = {3000, 3001, 9000, 9001, 6000, 6001, 12000, 12001};
  for (int c = 0; c < 8; ++c) CHECK(at(b, c) == bias[c]);
}

TEST_CASE("Keras 1 GRU per-gate arrays merge in z, r, h order; other lists are not merged", "[core]") {
  std::vector<Weight> ws;
  int tag = 1;
  for (const char* g : {"z", "r", "h"}) {
    ws.push_back(tagged(std::string("W_") + g, tag++, {2, 2}));
    ws.push_back(tagged(std::string("U_") + g, tag++, {2, 2}));
    ws.push_back(tagged(std::string("b_") + g, tag++, {2}));
  }
  std::vector<const Weight*> ptrs;
  for (const auto& w : ws) ptrs.push_back(&w);
  auto merged = merge_keras1_rnn(ptrs, "gru");
  REQUIRE(merged.size() == 3);
  Tensor u = merged[1].tensor.load();
  REQUIRE(u.shape == Shape{2, 6});
  const float row0[] = {2000, 2001, 5000, 5001, 8000, 8001};  // U_z, U_r, U_h
  for (int c = 0; c < 6; ++c) CHECK(at(u, c) == row0[c]);
  ptrs.pop_back();
  CHECK(merge_keras1_rnn(ptrs, "gru").empty());
}

TEST_CASE("keras2_weight_view reads a Keras 1 model's weights as Keras 2 loads them", "[core]") {
  Model m;
  m.path = "k1.h5";
  m.keras_version = "1.2.2";
  m.dialect = KerasDialect::kKeras1;
  m.model_config = R"({"class_name": "Sequential", "config": [
    {"class_name": "LSTM", "config": {"name": "lstm_1", "output_dim": 2, "batch_input_shape": [null, 4, 3],
      "return_sequences": false, "input_dim": 3, "input_length": 4}},
    {"class_name": "Dense", "config": {"name": "dense_1", "output_dim": 1, "input_dim": 2}}]})";
  Layer lstm;
  lstm.name = "lstm_1";
  lstm.class_name = "LSTM";
  lstm.weights = keras1_lstm("lstm_1", 3, 2);
  Layer dense;
  dense.name = "dense_1";
  dense.class_name = "Dense";
  dense.weights = {tagged("dense_1_W", 20, {2, 1}), tagged("dense_1_b", 21, {1})};
  m.layers = {lstm, dense};

  std::vector<std::string> notes;
  Model v = keras2_weight_view(m, &notes);
  REQUIRE(v.layers.size() == 2);
  REQUIRE(v.layers[0].weights.size() == 3);
  CHECK(v.layers[0].weights[0].tensor.shape() == Shape{3, 8});
  CHECK(v.layers[1].weights[0].name == "dense_1/kernel:0");
  CHECK(v.layers[1].weights[1].name == "dense_1/bias:0");
  CHECK(at(v.layers[1].weights[0].tensor.load(), 1) == 20001);
  REQUIRE(notes.size() == 2);
  CHECK(notes[0].find("lstm_1: Keras 1 per-gate weights (12 arrays) merged") == 0);
  // The input model is untouched, and a Keras 2 model passes through as it is.
  CHECK(m.layers[0].weights.size() == 12);
  m.dialect = KerasDialect::kKeras2;
  notes.clear();
  CHECK(keras2_weight_view(m, &notes).layers[0].weights.size() == 12);
  CHECK(notes.empty());
}
