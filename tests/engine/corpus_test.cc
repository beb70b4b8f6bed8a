// predict against Keras's own outputs stored beside real corpus models (testdata/predict/):
// dl4j *_inputs_and_outputs.h5 ("predictions" group = what Keras predicted; "outputs" are training
// targets) and hls4ml's tb_input_features.dat / tb_output_predictions.dat. Tolerance: 1e-5 relative
// with a 1e-6 absolute floor. Also: custom (GarNet) and Lambda layers are refused by name.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <sstream>

#include "io/hdf5.h"
#include "kmodel/error.h"
#include "kmodel/formats.h"
#include "kmodel/predict.h"

using namespace kmodel;

namespace {

const std::string kDir = std::string(KMODEL_TESTDATA) + "/predict/";

FloatArray read_h5_array(const std::string& file, const std::string& group) {
  io::h5::silence_errors();
  auto f = io::h5::open_file_readonly(file);
  auto g = io::h5::open_group(f.get(), group, file);
  auto names = io::h5::list_children(g.get(), file);
  REQUIRE(names.size() == 1);
  io::h5::Handle ds(H5Dopen2(g.get(), names[0].c_str(), H5P_DEFAULT));
  REQUIRE(ds.valid());
  auto info = io::h5::dataset_info(ds.get(), group + "/" + names[0]);
  return to_float_array(io::h5::read_dataset(ds.get(), info, group), file);
}

void require_close(const FloatArray& got, const FloatArray& want) {
  REQUIRE(got.shape == want.shape);
  REQUIRE(got.values.size() == want.values.size());
  size_t bad = 0;
  double worst = 0;
  for (size_t i = 0; i < got.values.size(); ++i) {
    const double g = got.values[i], w = want.values[i];
    const double err = std::fabs(g - w);
    if (err > std::max(1e-5 * std::fabs(w), 1e-6)) ++bad;
    worst = std::max(worst, err);
  }
  INFO("max abs error " << worst);
  REQUIRE(bad == 0);
}

std::vector<float> read_dat(const std::string& path) {
  std::ifstream f(path);
  std::vector<float> v;
  float x;
  while (f >> x) v.push_back(x);
  return v;
}

}  // namespace

TEST_CASE("predict matches Keras predictions stored with dl4j corpus models", "[engine][corpus]") {
  const char* stems[] = {"LeakyReLU_0", "conv1d_k2_s1_d1_cf_same", "simple_flatten_lstm_tf_keras_2",
                         "simple_lstm_tf_keras_1", "simple_lstm_th_keras_1", "simple_sparse_xent_mlp_keras_2"};
  for (const char* stem : stems) {
    SECTION(stem) {
      Model model = read(kDir + stem + "_model.h5");
      Predictor p(model);
      REQUIRE(p.inputs().size() == 1);
      const std::string io_file = kDir + stem + "_inputs_and_outputs.h5";
      FloatArray x = read_h5_array(io_file, "inputs");
      FloatArray want = read_h5_array(io_file, "predictions");
      auto out = p.run({x});
      REQUIRE(out.size() == 1);
      require_close(out[0], want);
    }
  }
}

TEST_CASE("predict matches hls4ml conv2d_1layer testbench outputs (H5 and JSON + weights)", "[engine][corpus]") {
  std::vector<float> in = read_dat(kDir + "tb_input_features.dat");
  std::vector<float> want = read_dat(kDir + "tb_output_predictions.dat");
  REQUIRE(in.size() == 50);
  REQUIRE(want.size() == 18);
  FloatArray x{{2, 5, 5, 1}, in};
  FloatArray expected{{2, 3, 3, 1}, want};
  SECTION("full model h5") {
    Predictor p(read(kDir + "conv2d_1layer.h5"));
    require_close(p.run({x})[0], expected);
  }
  SECTION("json + weights") {
    ReadOptions ro;
    ro.weights_path = kDir + "conv2d_1layer_weights.h5";
    Predictor p(read(kDir + "conv2d_1layer.json", ro));
    require_close(p.run({x})[0], expected);
  }
}

TEST_CASE("predict refuses the custom GarNet layer with a clear error", "[engine][corpus]") {
  ReadOptions ro;
  ro.weights_path = kDir + "garnet_1layer_weights.h5";
  Model model = read(kDir + "garnet_1layer.json", ro);
  try {
    Predictor p(model);
    FAIL("GarNet accepted");
  } catch (const UnsupportedError& e) {
    std::string what = e.what();
    CHECK(what.find("gar_1") != std::string::npos);
    CHECK(what.find("GarNet") != std::string::npos);
  }
}
