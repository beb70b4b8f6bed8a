// Reading the real Keras 3 archives of the corpus: layers, Keras-3 auto-named variable groups mapped
// to (layer, weight), RNN cells, optimizer state, subclassed models, unzipped directories.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>

#include <unistd.h>

#include "formats/keras_v3/keras_v3_format.h"
#include "formats/keras_v3/keras_v3_layout.h"
#include "io/hdf5.h"
#include "kmodel/error.h"
#include "kmodel/formats.h"

namespace fs = std::filesystem;
using namespace kmodel;

namespace {
const Layer* find_layer(const Model& m, const std::string& name) {
  for (const auto& l : m.layers)
    if (l.name == name) return &l;
  return nullptr;
}
}  // namespace

TEST_CASE("keras3 snake_case follows Keras' naming rules", "[keras_v3]") {
  using formats::keras_v3::to_snake_case;
  CHECK(to_snake_case("Dense") == "dense");
  CHECK(to_snake_case("BatchNormalization") == "batch_normalization");
  CHECK(to_snake_case("Conv2D") == "conv2d");
  CHECK(to_snake_case("Conv2DTranspose") == "conv2d_transpose");
  CHECK(to_snake_case("QDense") == "q_dense");
  CHECK(to_snake_case("QActivation") == "q_activation");
  CHECK(to_snake_case("LSTM") == "lstm");
  CHECK(to_snake_case("SimpleRNN") == "simple_rnn");
  CHECK(to_snake_case("InputLayer") == "input_layer");
}

TEST_CASE("keras3 reader: LSTM archive (Keras 3.4.1) with optimizer state", "[keras_v3]") {
  std::string path = KMODEL_TESTDATA "/keras_v3/stock_rnn_model.keras";
  REQUIRE(detect(path) == Format::kKerasV3);
  Model m = read(path);
  CHECK(m.origin == Format::kKerasV3);
  CHECK(m.dialect == KerasDialect::kKeras3);
  CHECK(m.keras_version == "3.4.1");
  CHECK(m.extra(formats::keras_v3::kDateSavedExtra) == "2024-08-17@03:19:00");
  REQUIRE(m.layers.size() == 4);  // Sequential: no InputLayer in model.layers
  CHECK(m.layers[0].name == "lstm");
  CHECK(m.layers[1].name == "dropout");
  CHECK(m.layers[2].name == "lstm_1");
  CHECK(m.layers[3].name == "dense");
  const Layer& lstm = m.layers[0];
  REQUIRE(lstm.weights.size() == 3);
  CHECK(lstm.weights[0].name == "lstm/lstm_cell/kernel:0");
  CHECK(lstm.weights[0].attr == "cell/kernel");
  CHECK(lstm.weights[0].tensor.shape() == Shape{6, 400});
  CHECK(lstm.weights[1].attr == "cell/recurrent_kernel");
  CHECK(lstm.weights[1].tensor.shape() == Shape{100, 400});
  CHECK(lstm.weights[2].attr == "cell/bias");
  CHECK(m.layers[1].weights.empty());
  REQUIRE(m.layers[3].weights.size() == 2);
  CHECK(m.layers[3].weights[0].name == "dense/kernel:0");
  CHECK(m.layers[3].weights[0].tensor.shape() == Shape{64, 1});
  CHECK(m.layers[3].weights[1].name == "dense/bias:0");
  CHECK(m.layers[3].weights[0].tensor.describe().find("layers/dense/vars/0") != std::string::npos);
  // Data comes through the extracted weights file intact (values checked against h5py below).
  Tensor bias = m.layers[3].weights[1].tensor.load();
  REQUIRE(bias.dtype == DType::kFloat32);
  REQUIRE(bias.data.size() == 4);
  // Optimizer: Adam, iteration + learning_rate + (momentum, velocity) per trainable variable.
  CHECK(m.optimizer.class_name == "Adam");
  REQUIRE(m.optimizer.weights.size() == 18);
  CHECK(m.optimizer.weights[0].name == "adam/iteration");
  CHECK(m.optimizer.weights[0].tensor.dtype() == DType::kInt64);
  CHECK(m.optimizer.weights[0].tensor.shape().empty());
  CHECK(m.optimizer.weights[1].name == "adam/learning_rate");
  CHECK(m.optimizer.weights[2].name == "adam/lstm_lstm_cell_kernel_momentum");
  CHECK(m.optimizer.weights[2].tensor.shape() == Shape{6, 400});
  CHECK(m.optimizer.weights[17].name == "adam/dense_bias_velocity");
  // compile_config is kept as the training config (Keras 3 form).
  CHECK(m.training_config.find("\"loss\":\"mse\"") != std::string::npos);
  CHECK(m.training_config.find("\"class_name\":\"Adam\"") != std::string::npos);

  // Cross-check one value with h5py on the archive's own weights file.
  std::string tmp = (fs::temp_directory_path() / "kmodel_k3_reader_bias.txt").string();
  std::string cmd = "/usr/bin/python3 -c \"import zipfile,io,h5py,sys; z=zipfile.ZipFile(sys.argv[1]); "
                    "f=h5py.File(io.BytesIO(z.read('model.weights.h5')),'r'); "
                    "open(sys.argv[2],'w').write(f['layers/dense/vars/1'][()].tobytes().hex())\" " +
                    path + " " + tmp;
  REQUIRE(std::system(cmd.c_str()) == 0);
  std::string hex;
  {
    FILE* f = std::fopen(tmp.c_str(), "r");
    REQUIRE(f);
    char buf[64] = {0};
    size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    hex.assign(buf, n);
  }
  char mine[16];
  std::snprintf(mine, sizeof mine, "%02x%02x%02x%02x", bias.data[0], bias.data[1], bias.data[2], bias.data[3]);
  CHECK(hex == mine);
}

TEST_CASE("keras3 reader: QKeras custom layers (Keras 3.14.1) keep their weights and names", "[keras_v3]") {
  Model m = read(KMODEL_TESTDATA "/keras_v3/qkeras_v3_3layer.keras");
  CHECK(m.keras_version == "3.14.1");
  REQUIRE(m.layers.size() == 8);
  const Layer* fc1 = find_layer(m, "fc1");
  REQUIRE(fc1);
  CHECK(fc1->class_name == "QDense");
  REQUIRE(fc1->weights.size() == 2);
  CHECK(fc1->weights[0].name == "fc1/kernel:0");
  CHECK(fc1->weights[0].tensor.shape() == Shape{16, 64});
  CHECK(fc1->weights[0].tensor.describe().find("layers/q_dense/vars/0") != std::string::npos);
  const Layer* out = find_layer(m, "output");
  REQUIRE(out);
  CHECK(out->weights[0].tensor.describe().find("layers/q_dense_3/vars/0") != std::string::npos);
  CHECK(out->weights[1].tensor.shape() == Shape{5});
  CHECK(find_layer(m, "relu1")->weights.empty());
  CHECK(m.optimizer.weights.empty());
}

TEST_CASE("keras3 reader: subclassed model takes layers from the weights file", "[keras_v3]") {
  Model m = read(KMODEL_TESTDATA "/keras_v3/nested_container.keras");
  CHECK(m.keras_version == "3.15.0");
  CHECK_FALSE(m.has_architecture());
  CHECK(m.extra(formats::keras_v3::kSubclassedConfigExtra).find("NestedDenseModel") != std::string::npos);
  REQUIRE(m.layers.size() == 4);
  CHECK(m.layers[0].name == "d_0");  // from the Keras >= 3.6 name attribute
  CHECK(m.layers[3].name == "dense");
  REQUIRE(m.layers[0].weights.size() == 1);
  CHECK(m.layers[0].weights[0].tensor.shape() == Shape{4, 4});
  REQUIRE(m.layers[3].weights.size() == 2);
  CHECK(m.layers[3].weights[1].tensor.shape() == Shape{2});
}

TEST_CASE("keras3 reader: unzipped directory and standalone weights file", "[keras_v3]") {
  fs::path dir = fs::temp_directory_path() / ("kmodel_k3_dir_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::string cmd = "/usr/bin/python3 -c \"import zipfile,sys; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])\" " KMODEL_TESTDATA
                    "/keras_v3/stock_rnn_model.keras " + dir.string();
  REQUIRE(std::system(cmd.c_str()) == 0);
  REQUIRE(detect(dir.string()) == Format::kKerasV3);
  Model m = read(dir.string());
  REQUIRE(m.layers.size() == 4);
  CHECK(m.layers[0].weights.size() == 3);
  std::string weights = (dir / "model.weights.h5").string();
  REQUIRE(detect(weights) == Format::kKerasV3);
  {
    io::h5::Handle f = io::h5::open_file_readonly(weights);
    CHECK(formats::keras_v3::is_keras3_weights_h5(f.get()));
  }
  Model w = read(weights);
  CHECK_FALSE(w.has_architecture());
  size_t n = 0;
  for (const auto& l : w.layers) n += l.weights.size();
  CHECK(n == 8);
  CHECK(w.optimizer.weights.size() == 18);
  fs::remove_all(dir);
}

TEST_CASE("keras3 reader refuses hostile archives", "[keras_v3]") {
  fs::path dir = fs::temp_directory_path() / ("kmodel_k3_evil_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  std::string cmd = "/usr/bin/python3 " KMODEL_TESTDATA "/keras_v3/make_unsafe_zips.py " + dir.string();
  REQUIRE(std::system(cmd.c_str()) == 0);
  std::string evil = (dir / "evil.keras").string();
  CHECK(detect(evil) == Format::kKerasV3);
  CHECK_THROWS_AS(read(evil), BadInputError);
  CHECK_FALSE(fs::exists(dir.parent_path() / "escape.txt"));
  fs::remove_all(dir);
}

TEST_CASE("keras3 reader: archives re-packed with deflate read the same", "[keras_v3]") {
  std::string src = KMODEL_TESTDATA "/keras_v3/stock_rnn_model.keras";
  std::string dst = (fs::temp_directory_path() / ("kmodel_k3_deflated_" + std::to_string(::getpid()) + ".keras")).string();
  std::string cmd = "/usr/bin/python3 -c \"import zipfile,sys\n"
                    "zi=zipfile.ZipFile(sys.argv[1]); zo=zipfile.ZipFile(sys.argv[2],'w',zipfile.ZIP_DEFLATED)\n"
                    "[zo.writestr(i.filename, zi.read(i.filename)) for i in zi.infolist()]\n"
                    "zo.close()\" " + src + " " + dst;
  REQUIRE(std::system(cmd.c_str()) == 0);
  Model a = read(src);
  Model b = read(dst);
  REQUIRE(a.layers.size() == b.layers.size());
  for (size_t i = 0; i < a.layers.size(); ++i) {
    REQUIRE(a.layers[i].weights.size() == b.layers[i].weights.size());
    for (size_t j = 0; j < a.layers[i].weights.size(); ++j)
      CHECK(a.layers[i].weights[j].tensor.load().data == b.layers[i].weights[j].tensor.load().data);
  }
  fs::remove(dst);
}

TEST_CASE("keras3 reader: standalone weights file named by an architecture (--arch)", "[keras_v3]") {
  std::string dir = (fs::temp_directory_path() / ("kmodel_k3_arch_" + std::to_string(::getpid()))).string();
  fs::remove_all(dir);
  fs::create_directories(dir);
  // Keras 2 H5 model -> Keras 3 weights file; the H5's own (Keras 2) config names it again.
  std::string h5 = KMODEL_TESTDATA "/h5/fml_keras_3layer_batch_norm_h5__keras_3layer_batch_norm.h5";
  Model src = read(h5);
  WriteOptions wo;
  wo.weights_only = true;
  std::string w = dir + "/bn.weights.h5";
  write(src, w, Format::kKerasV3, wo);
  ReadOptions ro;
  ro.arch_path = h5;
  Model m = read(w, ro);
  CHECK(m.has_architecture());
  CHECK(m.dialect == KerasDialect::kKeras3);
  size_t compared = 0;
  for (const auto& l : src.layers) {
    const Layer* x = find_layer(m, l.name);
    REQUIRE(x);
    REQUIRE(x->weights.size() == l.weights.size());
    for (size_t i = 0; i < l.weights.size(); ++i) {
      CHECK(x->weights[i].attr == l.weights[i].attr);
      CHECK(x->weights[i].tensor.load().data == l.weights[i].tensor.load().data);
      ++compared;
    }
  }
  CHECK(compared >= 10);  // dense, batch norm (gamma, beta, moving mean/variance), ...
  // Without the architecture the same file still loads, layers named by their `name` attributes.
  Model bare = read(w);
  CHECK_FALSE(bare.has_architecture());
  CHECK(find_layer(bare, src.layers[1].name) != nullptr);
  fs::remove_all(dir);
}

TEST_CASE("keras3 reader: early writers' _layer_checkpoint_dependencies container", "[keras_v3]") {
  std::string src = KMODEL_TESTDATA "/keras_v3/stock_rnn_model.keras";
  std::string dst = (fs::temp_directory_path() / ("kmodel_k3_lcd_" + std::to_string(::getpid()) + ".keras")).string();
  std::string cmd = "/usr/bin/python3 -c \"import zipfile,sys,io,h5py\n"
                    "zi=zipfile.ZipFile(sys.argv[1]); b=io.BytesIO(zi.read('model.weights.h5'))\n"
                    "f=h5py.File(b,'r+'); f.move('layers','_layer_checkpoint_dependencies'); f.close()\n"
                    "zo=zipfile.ZipFile(sys.argv[2],'w')\n"
                    "[zo.writestr(i.filename, zi.read(i.filename)) for i in zi.infolist() if i.filename!='model.weights.h5']\n"
                    "zo.writestr('model.weights.h5', b.getvalue()); zo.close()\" " + src + " " + dst;
  REQUIRE(std::system(cmd.c_str()) == 0);
  Model a = read(src);
  Model b = read(dst);
  REQUIRE(b.layers.size() == a.layers.size());
  for (size_t i = 0; i < a.layers.size(); ++i) {
    REQUIRE(b.layers[i].weights.size() == a.layers[i].weights.size());
    for (size_t j = 0; j < a.layers[i].weights.size(); ++j) {
      CHECK(b.layers[i].weights[j].name == a.layers[i].weights[j].name);
      CHECK(b.layers[i].weights[j].tensor.load().data == a.layers[i].weights[j].tensor.load().data);
    }
  }
  fs::remove(dst);
}
