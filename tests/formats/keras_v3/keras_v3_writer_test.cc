// Writing .keras archives: round trips of the real Keras 3 archives, H5 (Keras 1/2) -> .keras with
// bit-identical weights and a Keras 3 config, the structure of the output compared with real
// archives (entries, JSON keys, HDF5 layout, checked independently with Python's zipfile + h5py),
// atomic output and overwrite refusal.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>
#include <string>

#include <unistd.h>

#include "core/json_util.h"
#include "core/keras3_dialect.h"
#include "formats/keras_v3/keras_v3_layout.h"
#include "io/zip.h"
#include "kmodel/architecture.h"
#include "kmodel/error.h"
#include "kmodel/formats.h"

namespace fs = std::filesystem;
using namespace kmodel;

namespace {
std::string out_dir() {
  static std::string d = [] {
    fs::path p = fs::temp_directory_path() / ("kmodel_k3_writer_" + std::to_string(::getpid()));
    fs::remove_all(p);
    fs::create_directories(p);
    return p.string();
  }();
  return d;
}

// Every weight of `a` equals (bytes, dtype, shape) the weight at the same layer name and position in `b`.
void require_same_weights(const Model& a, const Model& b) {
  size_t n = 0;
  for (const auto& la : a.layers) {
    if (la.weights.empty()) continue;
    const Layer* lb = nullptr;
    for (const auto& l : b.layers)
      if (l.name == la.name) lb = &l;
    INFO("layer " << la.name);
    REQUIRE(lb != nullptr);
    REQUIRE(lb->weights.size() == la.weights.size());
    for (size_t i = 0; i < la.weights.size(); ++i) {
      Tensor ta = la.weights[i].tensor.load();
      Tensor tb = lb->weights[i].tensor.load();
      INFO("weight " << la.weights[i].name);
      CHECK(ta.dtype == tb.dtype);
      CHECK(ta.shape == tb.shape);
      CHECK(ta.data == tb.data);
      ++n;
    }
  }
  CHECK(n > 0);
}

std::string entry(const std::string& archive, const std::string& name) {
  io::ZipReader z(archive);
  return z.read(name);
}

// Independent structure check of a .keras written by kmodel with Python's zipfile + h5py.
const char* kStructureCheck = R"PY(
import io, json, sys, zipfile, h5py
z = zipfile.ZipFile(sys.argv[1])
names = [i.filename for i in z.infolist()]
assert names[:3] == ['metadata.json', 'config.json', 'model.weights.h5'], names
assert all(i.compress_type == zipfile.ZIP_STORED for i in z.infolist())
meta = json.loads(z.read('metadata.json'))
assert list(meta) == ['keras_version', 'date_saved'] and meta['keras_version'].startswith('3.'), meta
cfg = json.loads(z.read('config.json'))
assert set(cfg) <= {'module', 'class_name', 'config', 'registered_name', 'build_config', 'compile_config'}, set(cfg)
assert {'module', 'class_name', 'config', 'registered_name'} <= set(cfg)
text = z.read('config.json').decode()
assert 'batch_input_shape' not in text
def layers(c):
    for l in c['config'].get('layers', []):
        yield l
        if l['class_name'] in ('Sequential', 'Functional'):
            yield from layers(l)
for l in layers(cfg):
    assert {'module', 'class_name', 'config', 'registered_name'} <= set(l), l.keys()
    if l['class_name'] == 'InputLayer':
        assert 'batch_shape' in l['config']
    if cfg['class_name'] == 'Functional' and 'inbound_nodes' in l:
        for n in l['inbound_nodes']:
            assert set(n) == {'args', 'kwargs'}, n
    d = l['config'].get('dtype')
    if l['class_name'] != 'InputLayer' and d is not None:
        assert isinstance(d, dict) and d['class_name'] == 'DTypePolicy', d
f = h5py.File(io.BytesIO(z.read('model.weights.h5')), 'r')
assert 'vars' in f and 'layers' in f
def check(name, obj):
    parts = name.split('/')
    if isinstance(obj, h5py.Dataset):
        assert parts[-2] == 'vars' and parts[-1].isdigit(), name
        assert parts[0] in ('layers', 'vars', 'optimizer'), name
f.visititems(check)
for g in f['layers']:
    assert 'vars' in f['layers'][g], g
print(len(names))
)PY";

bool structure_ok(const std::string& archive) {
  std::string script = out_dir() + "/check.py";
  if (!fs::exists(script)) {
    FILE* f = std::fopen(script.c_str(), "w");
    std::fputs(kStructureCheck, f);
    std::fclose(f);
  }
  std::string cmd = "/usr/bin/python3 " + script + " " + archive + " >/dev/null";
  return std::system(cmd.c_str()) == 0;
}
}  // namespace

TEST_CASE("keras3 writer: corpus .keras round trip keeps config, layout and weights", "[keras_v3]") {
  for (const char* name : {"stock_rnn_model", "qkeras_v3_3layer", "nested_container"}) {
    std::string src = std::string(KMODEL_TESTDATA "/keras_v3/") + name + ".keras";
    std::string dst = out_dir() + "/" + name + ".rt.keras";
    INFO(name);
    Model a = read(src);
    write(a, dst, Format::kKerasV3);
    Model b = read(dst);
    require_same_weights(a, b);
    CHECK(b.optimizer.weights.size() == a.optimizer.weights.size());
    for (size_t i = 0; i < a.optimizer.weights.size(); ++i)
      CHECK(a.optimizer.weights[i].tensor.load().data == b.optimizer.weights[i].tensor.load().data);
    // config.json is carried byte for byte; the Keras version is kept.
    CHECK(entry(src, "config.json") == entry(dst, "config.json"));
    CHECK(b.keras_version == a.keras_version);
    CHECK(structure_ok(dst));
    // Same HDF5 layout as the original (datasets, shapes, dtypes), checked with h5py.
    std::string cmd =
        "/usr/bin/python3 -c \"import io,sys,zipfile,h5py\n"
        "def lay(p):\n"
        "  f=h5py.File(io.BytesIO(zipfile.ZipFile(p).read('model.weights.h5')),'r'); out=[]\n"
        "  f.visititems(lambda n,o: out.append((n, getattr(o,'shape',None), str(getattr(o,'dtype','')))))\n"
        "  return sorted(out)\n"
        "assert lay(sys.argv[1])==lay(sys.argv[2])\" " + src + " " + dst;
    CHECK(std::system(cmd.c_str()) == 0);
  }
}

TEST_CASE("keras3 writer: H5 models convert to .keras with identical weights and a Keras 3 config", "[keras_v3]") {
  struct Case {
    const char* file;
    const char* first_weighted_group;  // where the first weights land in model.weights.h5
  };
  const Case cases[] = {
      {"fml_keras_3layer_h5__keras_3layer.h5", "layers/dense/vars"},
      {"fml_keras_3layer_batch_norm_h5__keras_3layer_batch_norm.h5", "layers/dense/vars"},
      {"fml_keras_conv2d_model_h5__keras_conv2d_model.h5", "layers/conv2d/vars"},
      {"dl4j_simple_lstm_tf_keras_2_io__simple_lstm_tf_keras_2_model.h5", "layers/lstm/cell/vars"},
      {"hls4ml_KERAS_gru_json_weights__KERAS_gru_model_weights.h5", "layers/gru/cell/vars"},
      {"dl4j_tfkeras_issue_9349_functional_adam__issue_9349.hdf5", "layers/embedding/vars"},
      {"signature_siamese_lstm_h5__siamese_model.h5", "layers/input_layer/vars"},
      {"fml_hgq_jet_classifier_h5__hgq_jet_classifier.h5", "layers/input_layer/vars"},
  };
  for (const auto& c : cases) {
    std::string src = std::string(KMODEL_TESTDATA "/h5/") + c.file;
    std::string dst = out_dir() + "/" + c.file + ".keras";
    INFO(c.file);
    Model a = read(src);
    REQUIRE(a.has_architecture());
    write(a, dst, Format::kKerasV3);
    REQUIRE(detect(dst) == Format::kKerasV3);
    Model b = read(dst);
    require_same_weights(a, b);
    CHECK(b.dialect == KerasDialect::kKeras3);
    // Same layers, same classes, in the same order.
    ArchitectureSpec aa = parse_architecture(a.model_config, src);
    ArchitectureSpec ab = parse_architecture(b.model_config, dst);
    CHECK(ab.class_name == (aa.class_name == "Model" ? "Functional" : aa.class_name));
    std::vector<std::string> la, lb;
    for (const auto& l : aa.layers) la.push_back(l.name);
    for (const auto& l : ab.layers)
      if (!(ab.class_name == "Sequential" && l.class_name == "InputLayer")) lb.push_back(l.name);
    if (aa.class_name == "Sequential" && !aa.layers.empty() && aa.layers[0].class_name == "InputLayer") la.erase(la.begin());
    CHECK(la == lb);
    // Functional graphs keep their edges.
    for (size_t i = 0; i < aa.layers.size() && aa.class_name != "Sequential"; ++i) {
      REQUIRE(i < ab.layers.size());
      REQUIRE(aa.layers[i].inbound_nodes.size() == ab.layers[i].inbound_nodes.size());
      for (size_t n = 0; n < aa.layers[i].inbound_nodes.size(); ++n) {
        const auto& x = aa.layers[i].inbound_nodes[n].inputs;
        const auto& y = ab.layers[i].inbound_nodes[n].inputs;
        REQUIRE(x.size() == y.size());
        for (size_t t = 0; t < x.size(); ++t) {
          CHECK(x[t].layer == y[t].layer);
          CHECK(x[t].node_index == y[t].node_index);
          CHECK(x[t].tensor_index == y[t].tensor_index);
        }
      }
    }
    CHECK(structure_ok(dst));
    std::string cmd = std::string("/usr/bin/python3 -c \"import io,sys,zipfile,h5py; "
                                  "f=h5py.File(io.BytesIO(zipfile.ZipFile(sys.argv[1]).read('model.weights.h5')),'r'); "
                                  "assert sys.argv[2] in f, list(f['layers'])\" ") + dst + " " + c.first_weighted_group;
    CHECK(std::system(cmd.c_str()) == 0);
  }
}

TEST_CASE("keras3 writer: training_config becomes compile_config", "[keras_v3]") {
  std::string src = KMODEL_TESTDATA "/h5/dl4j_tfkeras_issue_9349_functional_adam__issue_9349.hdf5";
  std::string dst = out_dir() + "/compile.keras";
  Model a = read(src);
  REQUIRE_FALSE(a.training_config.empty());
  write(a, dst, Format::kKerasV3);
  auto cfg = json::parse(entry(dst, "config.json"), dst);
  REQUIRE(cfg.HasMember("compile_config"));
  const auto& cc = cfg["compile_config"];
  REQUIRE(cc["optimizer"].IsObject());
  CHECK(std::string(cc["optimizer"]["module"].GetString()) == "keras.optimizers");
  CHECK(std::string(cc["optimizer"]["class_name"].GetString()) == "Adam");
  CHECK(cc["optimizer"]["config"].HasMember("learning_rate"));
  CHECK(cc.HasMember("loss"));
  // Optimizer variables of an H5 model are not written (Keras 3 orders them differently).
  Model b = read(dst);
  CHECK(b.optimizer.weights.empty());
  CHECK(b.optimizer.class_name == "Adam");
}

TEST_CASE("keras3 writer: output is atomic and never overwritten without force", "[keras_v3]") {
  std::string dir = out_dir() + "/atomic";
  fs::create_directories(dir);
  std::string dst = dir + "/m.keras";
  Model a = read(KMODEL_TESTDATA "/keras_v3/qkeras_v3_3layer.keras");
  write(a, dst, Format::kKerasV3);
  auto size = fs::file_size(dst);
  CHECK_THROWS_AS(write(a, dst, Format::kKerasV3), IoError);
  CHECK(fs::file_size(dst) == size);
  WriteOptions force;
  force.force = true;
  write(a, dst, Format::kKerasV3, force);
  // A model without architecture cannot become a .keras: refused, nothing left behind.
  Model w = read(KMODEL_TESTDATA "/h5/fml_keras_3layer_h5__keras_3layer.h5");
  w.model_config.clear();
  CHECK_THROWS_AS(write(w, dir + "/none.keras", Format::kKerasV3), UnsupportedError);
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    (void)e;
    ++files;
  }
  CHECK(files == 1);  // only m.keras: no temp files, no partial output
}

TEST_CASE("keras3 writer: weights-only output is a standalone Keras 3 weights file", "[keras_v3]") {
  std::string dst = out_dir() + "/rnn.weights.h5";
  Model a = read(KMODEL_TESTDATA "/keras_v3/stock_rnn_model.keras");
  WriteOptions o;
  o.weights_only = true;
  write(a, dst, Format::kKerasV3, o);
  REQUIRE(detect(dst) == Format::kKerasV3);
  std::string cmd = "/usr/bin/python3 -c \"import h5py,sys; f=h5py.File(sys.argv[1],'r'); "
                    "assert f['layers/lstm/cell/vars/0'].shape==(6,400); assert f['optimizer/vars/0'].dtype=='int64'\" " + dst;
  CHECK(std::system(cmd.c_str()) == 0);
  Model b = read(dst);
  size_t n = 0;
  for (const auto& l : b.layers) n += l.weights.size();
  CHECK(n == 8);
}

TEST_CASE("keras3 writer: Keras 1 per-gate LSTM weights are merged like Keras' own loader", "[keras_v3]") {
  std::string src = KMODEL_TESTDATA "/h5/dl4j_simple_lstm_tf_keras_1_io__simple_lstm_tf_keras_1_model.h5";
  std::string dst = out_dir() + "/keras1_lstm.keras";
  Model a = read(src);
  write(a, dst, Format::kKerasV3);
  Model b = read(dst);
  const Layer* la = nullptr;
  const Layer* lb = nullptr;
  for (const auto& l : a.layers)
    if (l.name == "lstm_1") la = &l;
  for (const auto& l : b.layers)
    if (l.name == "lstm_1") lb = &l;
  REQUIRE(la);
  REQUIRE(lb);
  REQUIRE(la->weights.size() == 12);  // W_i U_i b_i W_c U_c b_c W_f U_f b_f W_o U_o b_o
  REQUIRE(lb->weights.size() == 3);
  CHECK(lb->weights[0].attr == "cell/kernel");
  CHECK(lb->weights[0].tensor.shape() == Shape{1, 200});
  CHECK(lb->weights[1].tensor.shape() == Shape{50, 200});
  CHECK(lb->weights[2].tensor.shape() == Shape{200});
  // Gate order i, f, c, o along the last axis, row by row.
  const size_t order[4] = {0, 2, 1, 3};  // position in Keras 1's (i, c, f, o) list of the i, f, c, o blocks
  for (size_t part = 0; part < 3; ++part) {
    Tensor merged = lb->weights[part].tensor.load();
    int64_t rows = part == 2 ? 1 : merged.shape[0];
    size_t block = 50 * 4;  // bytes per row per gate
    for (int64_t r = 0; r < rows; ++r)
      for (size_t g = 0; g < 4; ++g) {
        Tensor src_t = la->weights[order[g] * 3 + part].tensor.load();
        std::vector<uint8_t> want(src_t.data.begin() + r * block, src_t.data.begin() + (r + 1) * block);
        std::vector<uint8_t> got(merged.data.begin() + (r * 4 + g) * block, merged.data.begin() + (r * 4 + g + 1) * block);
        CHECK(want == got);
      }
  }
}

TEST_CASE("keras3 writer: Keras SavedModels convert to .keras with identical weights", "[keras_v3]") {
  // Fixtures of the SavedModel module (testdata/savedmodel, copied from the corpus).
  for (const char* name : {"coffee_roast_savedmodel_keras", "kerasteam_lso_savedmodel_tf2_2",
                           "tfnet_lstm_from_sequential_savedmodel_keras", "tfnet_python_func_model_savedmodel_keras"}) {
    std::string src = std::string(KMODEL_TESTDATA "/savedmodel/") + name;
    std::string dst = out_dir() + "/" + name + ".keras";
    INFO(name);
    REQUIRE(fs::exists(src));
    Model a = read(src);
    write(a, dst, Format::kKerasV3);
    Model b = read(dst);
    CHECK(structure_ok(dst));
    size_t compared = 0, dropped = 0;
    for (const auto& la : a.layers) {
      const Layer* lb = nullptr;
      for (const auto& l : b.layers)
        if (l.name == la.name) lb = &l;
      if (la.weights.empty()) continue;
      REQUIRE(lb);
      size_t j = 0;
      for (const auto& w : la.weights) {
        // tf.keras Normalization's `count` has no Keras 3 variable: the only weight allowed to go.
        if (la.class_name == "Normalization" && w.name.find("count") != std::string::npos) {
          ++dropped;
          continue;
        }
        REQUIRE(j < lb->weights.size());
        Tensor x = w.tensor.load(), y = lb->weights[j++].tensor.load();
        CHECK(x.shape == y.shape);
        CHECK(x.data == y.data);
        ++compared;
      }
      CHECK(j == lb->weights.size());
    }
    CHECK(compared > 0);
    CHECK(dropped == (std::string(name) == "coffee_roast_savedmodel_keras" ? 1u : 0u));
  }
}

TEST_CASE("keras3 writer: .keras -> H5 (Keras 2 config) -> .keras keeps weights and layers", "[keras_v3]") {
  // What the H5 writer does with a Keras 3 model once it calls core's translation: done here by hand.
  for (const char* name : {"stock_rnn_model", "qkeras_v3_3layer"}) {
    INFO(name);
    std::string src = std::string(KMODEL_TESTDATA "/keras_v3/") + name + ".keras";
    Model a = read(src);
    Model k2 = a;
    std::vector<std::string> warnings;
    k2.model_config = to_keras2_model_config(a.model_config, &warnings);
    if (!a.training_config.empty()) k2.training_config = to_keras2_training_config(a.training_config, &warnings);
    k2.dialect = KerasDialect::kKeras2;
    k2.optimizer = OptimizerState{};  // optimizer variables are version-specific; not carried to H5
    std::string h5 = out_dir() + "/" + name + ".h5";
    write(k2, h5, Format::kH5);
    Model b = read(h5);
    REQUIRE(b.has_architecture());
    require_same_weights(a, b);
    std::string back = out_dir() + "/" + name + ".back.keras";
    write(b, back, Format::kKerasV3);
    Model c = read(back);
    require_same_weights(a, c);
    CHECK(structure_ok(back));
    // The layer lists match the original archive's.
    ArchitectureSpec x = parse_architecture(a.model_config, src);
    ArchitectureSpec y = parse_architecture(c.model_config, back);
    REQUIRE(x.layers.size() == y.layers.size());
    for (size_t i = 0; i < x.layers.size(); ++i) {
      CHECK(x.layers[i].name == y.layers[i].name);
      CHECK(x.layers[i].class_name == y.layers[i].class_name);
    }
    // Same weights layout as the original archive (paths, shapes, dtypes) apart from the optimizer.
    std::string cmd =
        "/usr/bin/python3 -c \"import io,sys,zipfile,h5py\n"
        "def lay(p):\n"
        "  f=h5py.File(io.BytesIO(zipfile.ZipFile(p).read('model.weights.h5')),'r'); out=[]\n"
        "  f.visititems(lambda n,o: out.append((n, getattr(o,'shape',None))) if not n.startswith('optimizer') else None)\n"
        "  return sorted(out)\n"
        "assert lay(sys.argv[1])==lay(sys.argv[2]), (lay(sys.argv[1]), lay(sys.argv[2]))\" " + src + " " + back;
    CHECK(std::system(cmd.c_str()) == 0);
  }
}

TEST_CASE("keras3 writer: assets/ entries survive a round trip byte for byte", "[keras_v3]") {
  std::string src = out_dir() + "/with_assets.keras";
  std::string cmd = "/usr/bin/python3 -c \"import zipfile,sys\n"
                    "zi=zipfile.ZipFile(sys.argv[1]); zo=zipfile.ZipFile(sys.argv[2],'w')\n"
                    "[zo.writestr(i, zi.read(i.filename)) for i in zi.infolist()]\n"
                    "zo.writestr('assets/layers/string_lookup/vocabulary.txt', b'[UNK]\\na\\nb\\n')\n"
                    "zo.close()\" " KMODEL_TESTDATA "/keras_v3/qkeras_v3_3layer.keras " + src;
  REQUIRE(std::system(cmd.c_str()) == 0);
  Model a = read(src);
  CHECK(a.extra(std::string(formats::keras_v3::kAssetExtraPrefix) + "assets/layers/string_lookup/vocabulary.txt") ==
        "[UNK]\na\nb\n");
  std::string dst = out_dir() + "/with_assets.rt.keras";
  write(a, dst, Format::kKerasV3);
  io::ZipReader z(dst);
  REQUIRE(z.entries().size() == 4);
  CHECK(z.entries()[3].name == "assets/layers/string_lookup/vocabulary.txt");
  CHECK(z.read("assets/layers/string_lookup/vocabulary.txt") == "[UNK]\na\nb\n");
}

TEST_CASE("keras3 writer and reader: a Sequential nested in a Functional model", "[keras_v3]") {
  Model m;
  m.origin = Format::kH5;
  m.keras_version = "2.15.0";
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
  auto tensor = [](Shape shape, float base) {
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
  };
  auto weight = [&](const std::string& name, const std::string& attr, Shape s, float base) {
    Weight w;
    w.name = name;
    w.attr = attr;
    w.tensor = tensor(s, base);
    return w;
  };
  m.layers.push_back(Layer{"inp", "InputLayer", {}});
  m.layers.push_back(Layer{"inner", "Sequential",
                           {weight("dense_a/kernel:0", "dense_a/kernel", {4, 3}, 100), weight("dense_a/bias:0", "dense_a/bias", {3}, 200),
                            weight("dense_b/kernel:0", "dense_b/kernel", {3, 2}, 300), weight("dense_b/bias:0", "dense_b/bias", {2}, 400)}});
  m.layers.push_back(Layer{"head", "Dense", {weight("head/kernel:0", "kernel", {2, 1}, 500), weight("head/bias:0", "bias", {1}, 600)}});
  std::string dst = out_dir() + "/nested.keras";
  write(m, dst, Format::kKerasV3);
  CHECK(structure_ok(dst));
  std::string cmd = "/usr/bin/python3 -c \"import io,sys,zipfile,h5py\n"
                    "f=h5py.File(io.BytesIO(zipfile.ZipFile(sys.argv[1]).read('model.weights.h5')),'r')\n"
                    "assert f['layers/sequential/layers/dense/vars/0'].shape==(4,3)\n"
                    "assert f['layers/sequential/layers/dense/vars/0'][0,0]==100\n"
                    "assert f['layers/sequential/layers/dense_1/vars/1'][1]==401\n"
                    "assert f['layers/dense/vars/0'].shape==(2,1)\n"
                    "assert f['layers/sequential/layers/dense/vars'].attrs['name']=='dense_a'\n"
                    "assert 'layers/input_layer/vars' in f\" " + dst;
  CHECK(std::system(cmd.c_str()) == 0);
  Model b = read(dst);
  require_same_weights(m, b);
  const Layer* inner = nullptr;
  for (const auto& l : b.layers)
    if (l.name == "inner") inner = &l;
  REQUIRE(inner);
  REQUIRE(inner->weights.size() == 4);
  CHECK(inner->weights[0].name == "dense_a/kernel:0");
  CHECK(inner->weights[3].name == "dense_b/bias:0");
}
