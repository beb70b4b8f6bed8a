// Tests of the Keras H5 reader and writer on real corpus files (values cross-checked with h5py/h5dump)
// and on a synthetic model large enough to need chunked layer_names attributes.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstring>
#include <unistd.h>
#include <filesystem>
#include <string>

#include "io/hdf5.h"
#include "kmodel/error.h"
#include "kmodel/formats.h"

using namespace kmodel;
namespace fs = std::filesystem;

namespace {
std::string fixture(const std::string& name) { return std::string(KMODEL_TESTDATA) + "/h5/" + name; }

std::string temp_path(const std::string& name) {
  auto dir = fs::temp_directory_path() / ("kmodel_h5_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return (dir / name).string();
}

const Layer& layer_named(const Model& m, const std::string& name) {
  for (const auto& l : m.layers)
    if (l.name == name) return l;
  FAIL("no layer " << name);
  throw std::logic_error("unreachable");
}

float first_float(const Tensor& t) { return t.as<float>()[0]; }
}  // namespace

TEST_CASE("reads a tf.keras 2.3 full-model H5: versions, layer order, weight names, shapes, values", "[h5]") {
  Model m = read(fixture("fml_keras_3layer_h5__keras_3layer.h5"));
  CHECK(m.origin == Format::kH5);
  CHECK(m.keras_version == "2.3.1");
  CHECK(m.backend == "tensorflow");
  CHECK(m.has_architecture());
  CHECK(m.training_config.empty());
  REQUIRE(m.layers.size() == 5);
  CHECK(m.layers[0].name == "input_1");
  CHECK(m.layers[0].weights.empty());  // weight_names is an empty float64 array
  CHECK(m.layers[4].name == "output_softmax");
  const Layer& fc1 = layer_named(m, "fc1_relu");
  CHECK(fc1.class_name == "Dense");
  REQUIRE(fc1.weights.size() == 2);
  CHECK(fc1.weights[0].name == "fc1_relu/kernel:0");
  CHECK(fc1.weights[0].attr == "kernel");
  CHECK(fc1.weights[1].attr == "bias");
  CHECK(fc1.weights[0].tensor.dtype() == DType::kFloat32);
  CHECK(fc1.weights[0].tensor.shape() == Shape{16, 64});
  Tensor k = fc1.weights[0].tensor.load();
  CHECK(first_float(k) == Approx(0.27313474f));
  CHECK(k.as<float>()[2] == Approx(0.4952146f));
  Tensor b = fc1.weights[1].tensor.load();
  CHECK(first_float(b) == Approx(-0.65034235f));
}

TEST_CASE("reads a Keras 1 weights-only file: no keras_version, fixed-length names, 12 LSTM tensors", "[h5]") {
  Model m = read(fixture("dl4j_simple_lstm_tf_keras_1_io__simple_lstm_tf_keras_1_weights.h5"));
  CHECK(m.keras_version.empty());
  CHECK(m.backend.empty());
  CHECK_FALSE(m.has_architecture());
  REQUIRE(m.layers.size() == 2);
  CHECK(m.layers[0].name == "lstm_1");
  REQUIRE(m.layers[0].weights.size() == 12);
  CHECK(m.layers[0].weights[0].name == "lstm_1_W_i:0");
  CHECK(m.layers[0].weights[11].name == "lstm_1_b_o:0");
  CHECK(m.layers[1].weights[0].tensor.shape() == Shape{50, 1});
}

TEST_CASE("reads optimizer_weights in stored order", "[h5]") {
  Model m = read(fixture("hls4ml_KERAS_gru_json_weights__KERAS_gru_model_weights.h5"));
  REQUIRE(m.optimizer.weights.size() == 22);
  CHECK(m.optimizer.weights[0].name == "Adam/iterations:0");
  CHECK(m.optimizer.weights[1].name == "training/Adam/Variable:0");
  CHECK(m.optimizer.class_name == "Adam");
  CHECK_FALSE(m.training_config.empty());
}

TEST_CASE("every corpus H5 file round-trips through the writer with identical content", "[h5]") {
  size_t files = 0;
  for (const auto& entry : fs::directory_iterator(std::string(KMODEL_TESTDATA) + "/h5")) {
    Model a = read(entry.path().string());
    std::string out = temp_path("rt_" + entry.path().filename().string());
    fs::remove(out);
    write(a, out, Format::kH5);
    Model b = read(out);
    INFO(entry.path().filename().string());
    CHECK(a.keras_version == b.keras_version);
    CHECK(a.backend == b.backend);
    CHECK(a.model_config == b.model_config);
    CHECK(a.training_config == b.training_config);
    REQUIRE(a.layers.size() == b.layers.size());
    for (size_t i = 0; i < a.layers.size(); ++i) {
      CHECK(a.layers[i].name == b.layers[i].name);
      REQUIRE(a.layers[i].weights.size() == b.layers[i].weights.size());
      for (size_t j = 0; j < a.layers[i].weights.size(); ++j) {
        const auto& wa = a.layers[i].weights[j];
        const auto& wb = b.layers[i].weights[j];
        CHECK(wa.name == wb.name);
        Tensor ta = wa.tensor.load(), tb = wb.tensor.load();
        CHECK(ta.dtype == tb.dtype);
        CHECK(ta.shape == tb.shape);
        CHECK(ta.data == tb.data);
      }
    }
    REQUIRE(a.optimizer.weights.size() == b.optimizer.weights.size());
    for (size_t j = 0; j < a.optimizer.weights.size(); ++j)
      CHECK(a.optimizer.weights[j].tensor.load().data == b.optimizer.weights[j].tensor.load().data);
    fs::remove(out);
    ++files;
  }
  CHECK(files >= 44);
}

TEST_CASE("a model with thousands of layers gets chunked layer_names and reads back in order", "[h5]") {
  Model m;
  m.origin = Format::kH5;
  m.keras_version = "2.15.0";
  m.backend = "tensorflow";
  const int kLayers = 3000;
  for (int i = 0; i < kLayers; ++i) {
    Layer l;
    l.name = "a_rather_long_layer_name_for_chunking_" + std::to_string(i);
    Tensor t;
    t.dtype = DType::kFloat32;
    t.shape = {2};
    t.data.resize(8);
    float v[2] = {static_cast<float>(i), -static_cast<float>(i)};
    std::memcpy(t.data.data(), v, 8);
    Weight w;
    w.name = l.name + "/bias:0";
    w.tensor = TensorRef::from_tensor(t);
    l.weights.push_back(w);
    m.layers.push_back(l);
  }
  std::string out = temp_path("chunked.h5");
  fs::remove(out);
  WriteOptions wo;
  wo.weights_only = true;
  write(m, out, Format::kH5, wo);
  {
    auto f = io::h5::open_file_readonly(out);
    CHECK_FALSE(io::h5::has_attribute(f.get(), "layer_names"));
    CHECK(io::h5::has_attribute(f.get(), "layer_names0"));
    CHECK(io::h5::has_attribute(f.get(), "layer_names1"));
    // Each chunk must fit in Keras' header limit: count * maxlen <= 64512.
    for (int c = 0; io::h5::has_attribute(f.get(), "layer_names" + std::to_string(c)); ++c) {
      auto part = io::h5::read_string_list_attr(f.get(), "layer_names" + std::to_string(c), "/");
      CHECK(part.size() * m.layers.back().name.size() <= io::h5::kHdf5ObjectHeaderLimit);
    }
  }
  Model back = read(out);
  REQUIRE(back.layers.size() == static_cast<size_t>(kLayers));
  CHECK(back.layers[0].name == m.layers[0].name);
  CHECK(back.layers[kLayers - 1].name == m.layers[kLayers - 1].name);
  Tensor t = back.layers[1234].weights[0].tensor.load();
  CHECK(t.as<float>()[1] == -1234.0f);
  fs::remove(out);
}

TEST_CASE("H5 errors name the file: truncated, not HDF5, no Keras attributes", "[h5]") {
  std::string truncated = temp_path("truncated.h5");
  {
    std::string full = fixture("fml_keras_3layer_h5__keras_3layer.h5");
    auto size = fs::file_size(full);
    fs::copy_file(full, truncated, fs::copy_options::overwrite_existing);
    fs::resize_file(truncated, size / 2);
  }
  try {
    read(truncated);
    FAIL("truncated file was accepted");
  } catch (const BadInputError& e) {
    CHECK(std::string(e.what()).find(truncated) != std::string::npos);
  }
  fs::remove(truncated);
  std::string plain = temp_path("plain.h5");
  fs::remove(plain);
  { auto f = io::h5::create_file(plain); }
  try {
    read(plain);
    FAIL("HDF5 file without Keras attributes was accepted");
  } catch (const BadInputError& e) {
    CHECK(std::string(e.what()).find("without Keras attributes") != std::string::npos);
  }
  fs::remove(plain);
}

TEST_CASE("refuses to overwrite an existing output without force", "[h5]") {
  Model m = read(fixture("fml_keras_3layer_h5__keras_3layer.h5"));
  std::string out = temp_path("exists.h5");
  { std::FILE* f = std::fopen(out.c_str(), "w"); std::fputs("keep me", f); std::fclose(f); }
  CHECK_THROWS_AS(write(m, out, Format::kH5), IoError);
  CHECK(fs::file_size(out) == 7);
  WriteOptions wo;
  wo.force = true;
  write(m, out, Format::kH5, wo);
  CHECK(read(out).layers.size() == 5);
  fs::remove(out);
}
