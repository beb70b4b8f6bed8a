// Reading Keras 3 `.keras` archives, unzipped `.keras` directories and standalone `.weights.h5` files
// (FORMATS.md B). The weights file inside a zip is extracted (streamed, CRC-checked) into a private
// temporary directory, opened with HDF5 and unlinked at once (the open descriptor keeps it readable for
// the TensorRefs): HDF5 cannot open a file image at an offset inside another file, and extraction keeps
// peak memory independent of the model size (an in-memory image would hold the whole weights file).
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>

#include <spdlog/spdlog.h>

#include "core/json_util.h"
#include "core/keras3_dialect.h"
#include "formats/keras_v3/keras_v3_format.h"
#include "formats/keras_v3/keras_v3_layout.h"
#include "io/atomic_output.h"
#include "io/file_util.h"
#include "io/hdf5.h"
#include "io/zip.h"
#include "kmodel/architecture.h"
#include "kmodel/error.h"

namespace kmodel::formats::keras_v3 {
namespace hio = kmodel::io::h5;
namespace fs = std::filesystem;

namespace {

constexpr uint64_t kMaxJsonBytes = uint64_t{256} << 20;
constexpr uint64_t kMaxAssetBytes = uint64_t{64} << 20;

// A private temporary directory removed with everything in it on destruction.
struct TempDir {
  std::string path;
  TempDir() {
    std::string base = fs::temp_directory_path().string() + "/kmodel-keras3-XXXXXX";
    std::vector<char> buf(base.begin(), base.end());
    buf.push_back('\0');
    if (!::mkdtemp(buf.data())) throw IoError(base, std::string("cannot create temporary directory: ") + std::strerror(errno));
    path = buf.data();
  }
  ~TempDir() { io::remove_all_quietly(path); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

// The open weights file, shared by every TensorSource of the model.
struct WeightsFile {
  std::string h5_path;            // file HDF5 opens
  std::string display;            // "model.keras:model.weights.h5" for messages
  hio::Handle file;
};

class VarSource : public TensorSource {
 public:
  VarSource(std::shared_ptr<WeightsFile> file, std::string dataset_path, DType dtype)
      : file_(std::move(file)), path_(std::move(dataset_path)), dtype_(dtype) {}
  Tensor read() const override {
    hio::Handle ds(H5Dopen2(file_->file.get(), path_.c_str(), H5P_DEFAULT));
    if (!ds.valid()) throw BadInputError(file_->display, path_, "cannot open dataset");
    try {
      auto info = hio::dataset_info(ds.get(), path_);
      Tensor t = hio::read_dataset(ds.get(), info, path_);
      if (dtype_ == DType::kBFloat16 && dtype_size(t.dtype) == 2) t.dtype = DType::kBFloat16;
      return t;
    } catch (const Error& e) {
      if (!e.file().empty() && e.file() != file_->h5_path) throw;
      throw BadInputError(file_->display, e.where().empty() ? path_ : e.where(), e.detail());
    }
  }
  std::string describe() const override { return file_->display + ":/" + path_; }

 private:
  std::shared_ptr<WeightsFile> file_;
  std::string path_;
  DType dtype_;
};

bool starts_with(const std::string& s, const std::string& p) { return s.compare(0, p.size(), p) == 0; }

// Datasets named "0", "1", ... of a `vars` group, in numeric order. Empty when the group is absent.
std::vector<std::string> var_datasets(hid_t file, const std::string& vars_path, const std::string& display) {
  std::vector<std::string> out;
  if (!hio::has_link(file, vars_path) || !hio::is_group(file, vars_path)) return out;
  hio::Handle g = hio::open_group(file, vars_path, display);
  std::vector<std::pair<long long, std::string>> numbered;
  for (const auto& child : hio::list_children(g.get(), display)) {
    if (!hio::is_dataset(g.get(), child)) continue;
    char* end = nullptr;
    long long n = std::strtoll(child.c_str(), &end, 10);
    if (child.empty() || *end != '\0' || n < 0)
      throw BadInputError(display, vars_path + "/" + child, "variable dataset name is not a number");
    numbered.emplace_back(n, child);
  }
  std::sort(numbered.begin(), numbered.end());
  for (size_t i = 0; i < numbered.size(); ++i) {
    if (numbered[i].first != static_cast<long long>(i))
      throw BadInputError(display, vars_path, "variables are not numbered 0.." + std::to_string(numbered.size() - 1));
    out.push_back(vars_path + "/" + numbered[i].second);
  }
  return out;
}

// Every `vars` group below `root` (inclusive), depth first, children in sorted order.
void find_vars_groups(hid_t file, const std::string& root, const std::string& display, std::vector<std::string>& out) {
  if (!hio::has_link(file, root) || !hio::is_group(file, root)) return;
  hio::Handle g = hio::open_group(file, root, display);
  auto children = hio::list_children(g.get(), display);
  if (std::find(children.begin(), children.end(), "vars") != children.end()) out.push_back(root + "/vars");
  for (const auto& c : children)
    if (c != "vars" && hio::is_group(g.get(), c)) find_vars_groups(file, root + "/" + c, display, out);
}

std::string name_attr(hid_t file, const std::string& vars_path, const std::string& display) {
  if (!hio::has_link(file, vars_path)) return "";
  hio::Handle g = hio::open_group(file, vars_path, display);
  if (!hio::has_attribute(g.get(), "name")) return "";
  return hio::read_string_attr(g.get(), "name", vars_path);
}

class Reader {
 public:
  Reader(std::string path, std::shared_ptr<WeightsFile> wf) : path_(std::move(path)), wf_(std::move(wf)) {}

  Weight make_weight(const std::string& dataset, std::string name, std::string attr, bool trainable) {
    hio::Handle ds(H5Dopen2(wf_->file.get(), dataset.c_str(), H5P_DEFAULT));
    if (!ds.valid()) throw BadInputError(wf_->display, dataset, "cannot open dataset");
    auto info = hio::dataset_info(ds.get(), dataset);
    DType dtype = info.dtype;
    if (hio::has_attribute(ds.get(), "dtype") &&
        hio::read_string_attr(ds.get(), "dtype", dataset) == "bfloat16" && (dtype == DType::kInvalid || dtype_size(dtype) == 2))
      dtype = DType::kBFloat16;
    if (dtype == DType::kInvalid || dtype == DType::kString)
      throw UnsupportedError(wf_->display, dataset, "variable type (" + info.type_description + ") is not supported");
    consumed_.insert(dataset);
    Weight w;
    w.name = std::move(name);
    w.attr = std::move(attr);
    w.trainable = trainable;
    w.tensor = TensorRef(dtype, info.shape, std::make_shared<VarSource>(wf_, dataset, dtype));
    return w;
  }

  // Weights of every vars group below `group` when the class is not understood: "var_N" by owner path.
  std::vector<Weight> generic_weights(const std::string& layer, const std::string& group, bool trainable) {
    std::vector<std::string> groups;
    find_vars_groups(wf_->file.get(), group, wf_->display, groups);
    std::vector<Weight> out;
    for (const auto& vg : groups) {
      std::string owner = vg.substr(group.size());
      owner = owner.size() > 5 ? owner.substr(1, owner.size() - 6) : "";  // "/cell/vars" -> "cell"
      auto dsets = var_datasets(wf_->file.get(), vg, wf_->display);
      for (size_t j = 0; j < dsets.size(); ++j) {
        std::string attr = (owner.empty() ? "" : owner + "/") + "var_" + std::to_string(j);
        out.push_back(make_weight(dsets[j], layer + "/" + attr + ":0", attr, trainable));
      }
    }
    return out;
  }

  // Weights of one (non-model) layer stored at `group` ("layers/dense_1").
  std::vector<Weight> layer_weights(const LayerSpec& spec, const std::string& group, const LayerShapes* expected,
                                    const std::string& name_prefix, bool trainable) {
    const std::string wname = name_prefix + spec.name;
    if (expected && expected->known) {
      // Group expected weights by owner object, keeping their order inside each owner.
      std::map<std::string, std::vector<const ExpectedWeight*>> by_owner;
      std::vector<std::string> owners;
      for (const auto& ew : expected->weights) {
        std::string attr = ew.attr.empty() ? ew.name : ew.attr;
        std::string owner = owner_path(attr);
        if (!by_owner.count(owner)) owners.push_back(owner);
        by_owner[owner].push_back(&ew);
      }
      bool match = true;
      std::map<std::string, std::vector<std::string>> dsets;
      for (const auto& o : owners) {
        dsets[o] = var_datasets(wf_->file.get(), group + (o.empty() ? "" : "/" + o) + "/vars", wf_->display);
        if (dsets[o].size() != by_owner[o].size()) match = false;
      }
      // Every vars group with data below the layer must be one we expect.
      std::vector<std::string> all;
      find_vars_groups(wf_->file.get(), group, wf_->display, all);
      size_t total = 0;
      for (const auto& vg : all) total += var_datasets(wf_->file.get(), vg, wf_->display).size();
      if (total != expected->weights.size()) match = false;
      if (match) {
        // Emit in the expected (legacy) order.
        std::map<std::string, size_t> next;
        std::vector<Weight> out;
        for (const auto& ew : expected->weights) {
          std::string attr = ew.attr.empty() ? ew.name : ew.attr;
          std::string owner = owner_path(attr);
          const std::string& ds = dsets[owner][next[owner]++];
          out.push_back(make_weight(ds, h5_weight_name(wname, spec.class_name, attr), attr, trainable && ew.trainable));
        }
        return out;
      }
      warnings_.push_back("layer '" + spec.name + "' (" + spec.class_name + "): stored variables under " + group +
                          " do not match the " + std::to_string(expected->weights.size()) +
                          " weights kmodel expects; naming them var_N");
    }
    return generic_weights(wname, group, trainable);
  }

  // Maps a model's `layers` container. Returns IR layers for the top level; for nested models the
  // sublayer weights are collected into the nested model's own IR layer.
  void map_container(const ArchitectureSpec& arch, const std::string& base, const std::string& key_prefix,
                     const std::string& name_prefix, const std::map<std::string, LayerShapes>& shapes,
                     bool trainable, std::vector<Weight>& flat, std::vector<Layer>* top) {
    auto items = container_items(arch, base);
    // Keras >= 3.6 names each vars group after its object: use it to cross-check the auto names.
    std::map<std::string, std::string> group_by_name;
    if (hio::has_link(wf_->file.get(), base) && hio::is_group(wf_->file.get(), base)) {
      hio::Handle g = hio::open_group(wf_->file.get(), base, wf_->display);
      for (const auto& c : hio::list_children(g.get(), wf_->display)) {
        std::string n = name_attr(wf_->file.get(), base + "/" + c + "/vars", wf_->display);
        if (!n.empty()) group_by_name[n] = base + "/" + c;
      }
    }
    std::set<size_t> listed;
    for (const auto& item : items) listed.insert(item.spec_index);
    for (size_t i = 0; i < arch.layers.size(); ++i) {
      const LayerSpec& spec = arch.layers[i];
      std::string group;
      for (const auto& item : items)
        if (item.spec_index == i) group = item.group;
      if (group.empty()) continue;  // Sequential's InputLayer: not in model.layers, not saved
      std::string stored = name_attr(wf_->file.get(), group + "/vars", wf_->display);
      if (!stored.empty() && stored != spec.name) {
        auto it = group_by_name.find(spec.name);
        if (it != group_by_name.end()) {
          warnings_.push_back("layer '" + spec.name + "': expected at " + group + " (holds '" + stored +
                              "'), found by its name attribute at " + it->second);
          group = it->second;
        } else {
          throw BadInputError(wf_->display, group + "/vars",
                              "name attribute is '" + stored + "' but the config's layer at this position is '" +
                                  spec.name + "'");
        }
      }
      bool layer_trainable = trainable;
      if (auto cfg = json::parse(spec.config_json, path_); cfg.IsObject())
        if (auto t = json::get_bool(cfg, "trainable")) layer_trainable = layer_trainable && *t;
      std::vector<Weight> weights;
      if (spec.is_model()) {
        ArchitectureSpec sub = parse_nested_architecture(spec, arch.dialect, path_);
        std::vector<Weight> sub_flat;
        // Sublayer weights are named "<sublayer>/<var>" inside the top nested model's IR layer, those
        // of a model nested deeper "<model>/<sublayer>/<var>" (the H5 writer's and infer_layer_shapes' keys).
        map_container(sub, group + "/layers", key_prefix + spec.name + "/", top ? "" : name_prefix + spec.name + "/",
                      shapes, layer_trainable, sub_flat, nullptr);
        // Legacy order across the nested model: trainable first.
        std::stable_partition(sub_flat.begin(), sub_flat.end(), [](const Weight& w) { return w.trainable; });
        weights = std::move(sub_flat);
      } else {
        auto it = shapes.find(key_prefix + spec.name);
        weights = layer_weights(spec, group, it == shapes.end() ? nullptr : &it->second, name_prefix, layer_trainable);
      }
      if (top) {
        top->push_back(Layer{spec.name, spec.class_name, std::move(weights)});
      } else {
        for (auto& w : weights) flat.push_back(std::move(w));
      }
    }
  }

  std::string path_;
  std::shared_ptr<WeightsFile> wf_;
  std::set<std::string> consumed_;
  std::vector<std::string> warnings_;
};

std::string guess_class(const std::string& group) {
  std::string leaf = group.substr(group.rfind('/') + 1);
  // Strip the per-class counter "_<n>".
  auto us = leaf.rfind('_');
  if (us != std::string::npos && us + 1 < leaf.size() &&
      std::all_of(leaf.begin() + static_cast<long>(us) + 1, leaf.end(), ::isdigit))
    leaf.resize(us);
  static const std::map<std::string, std::string> known = {
      {"dense", "Dense"}, {"conv1d", "Conv1D"}, {"conv2d", "Conv2D"}, {"conv3d", "Conv3D"},
      {"batch_normalization", "BatchNormalization"}, {"layer_normalization", "LayerNormalization"},
      {"embedding", "Embedding"}, {"lstm", "LSTM"}, {"gru", "GRU"}, {"simple_rnn", "SimpleRNN"},
      {"depthwise_conv2d", "DepthwiseConv2D"}, {"separable_conv2d", "SeparableConv2D"},
      {"conv2d_transpose", "Conv2DTranspose"}, {"q_dense", "QDense"}, {"q_conv2d", "QConv2D"}};
  auto it = known.find(leaf);
  return it == known.end() ? "" : it->second;
}

// Optimizer variable names in Keras 3 style: iteration, learning_rate, then per-variable slots.
std::vector<std::string> optimizer_var_names(const std::string& opt_class, const std::string& opt_name, size_t count,
                                             const std::vector<const Weight*>& trainable) {
  std::vector<std::string> slots;
  if (opt_class == "Adam" || opt_class == "AdamW" || opt_class == "Adamax" || opt_class == "Nadam")
    slots = {"momentum", "velocity"};
  else if (opt_class == "SGD" || opt_class == "Lion")
    slots = {"momentum"};
  else if (opt_class == "RMSprop" || opt_class == "Adagrad" || opt_class == "Adadelta")
    slots = {"velocity"};  // single-slot form (RMSprop with momentum / centered adds more: falls back)
  std::string prefix = opt_name.empty() ? "optimizer" : opt_name;
  std::vector<std::string> names;
  size_t per = slots.size();
  bool fits = per > 0 && count >= 2 && (count - 2) == per * trainable.size();
  for (size_t i = 0; i < count; ++i) {
    if (fits && i == 0) names.push_back(prefix + "/iteration");
    else if (fits && i == 1) names.push_back(prefix + "/learning_rate");
    else if (fits) {
      size_t k = i - 2;
      std::string v = trainable[k / per]->name;
      if (v.size() > 2 && v.compare(v.size() - 2, 2, ":0") == 0) v.resize(v.size() - 2);
      std::replace(v.begin(), v.end(), '/', '_');
      names.push_back(prefix + "/" + v + "_" + slots[k % per]);
    } else {
      names.push_back(prefix + "/var_" + std::to_string(i));
    }
  }
  return names;
}

void read_weights(Model& model, const std::string& path, const std::shared_ptr<WeightsFile>& wf,
                  const std::optional<ArchitectureSpec>& arch, std::vector<std::string>& warnings) {
  Reader r(path, wf);
  hid_t f = wf->file.get();
  if (arch) {
    auto shapes = expected_layer_weights(*arch, path);
    std::vector<Weight> unused;
    // Early tf-keras .keras writers named the container `_layer_checkpoint_dependencies` (FORMATS B.4).
    std::string base = "layers";
    if (!hio::has_link(f, "layers") && hio::has_link(f, "_layer_checkpoint_dependencies"))
      base = "_layer_checkpoint_dependencies";
    r.map_container(*arch, base, "", "", shapes, true, unused, &model.layers);
  }
  // Whatever the architecture did not claim (subclassed models, unknown attributes) becomes layers
  // named after their `name` attribute or their group path: never dropped.
  std::vector<std::string> groups;
  if (hio::has_link(f, "layers")) find_vars_groups(f, "layers", wf->display, groups);
  std::vector<std::string> other;
  for (const auto& c : hio::list_children(f, wf->display))
    if (c != "layers" && c != "vars" && c != "optimizer" && hio::is_group(f, c)) find_vars_groups(f, c, wf->display, other);
  groups.insert(groups.end(), other.begin(), other.end());
  for (const auto& vg : groups) {
    auto dsets = var_datasets(f, vg, wf->display);
    bool fresh = !dsets.empty() && std::none_of(dsets.begin(), dsets.end(), [&](const std::string& d) { return r.consumed_.count(d); });
    if (!fresh) continue;
    std::string owner = vg.substr(0, vg.size() - 5);  // strip "/vars"
    std::string name = name_attr(f, vg, wf->display);
    if (name.empty()) name = owner;
    std::string cls = guess_class(owner);
    Layer layer{name, cls, {}};
    std::vector<std::string> attrs;
    if (cls == "Dense" || cls == "QDense" || cls.find("Conv") != std::string::npos) attrs = {"kernel", "bias"};
    else if (cls == "Embedding") attrs = {"embeddings"};
    else if (cls == "BatchNormalization") attrs = {"gamma", "beta", "moving_mean", "moving_variance"};
    else if (cls == "LayerNormalization") attrs = {"gamma", "beta"};
    bool named = !attrs.empty() && (attrs.size() == dsets.size() || (attrs.size() == 2 && dsets.size() == 1));
    for (size_t j = 0; j < dsets.size(); ++j) {
      std::string attr = named ? attrs[j] : "var_" + std::to_string(j);
      bool trainable = !(attr == "moving_mean" || attr == "moving_variance");
      layer.weights.push_back(r.make_weight(dsets[j], name + "/" + attr + ":0", attr, trainable));
    }
    if (arch) warnings.push_back("variables at " + vg + " belong to no layer of the config; kept as layer '" + name + "'");
    model.set_extra(std::string(kGroupExtraPrefix) + name, owner);
    model.layers.push_back(std::move(layer));
  }
  // The model's own variables.
  for (const auto& ds : var_datasets(f, "vars", wf->display)) {
    std::string attr = "var_" + std::to_string(model.top_level_weights.size());
    model.top_level_weights.push_back(r.make_weight(ds, attr + ":0", attr, true));
  }
  // Optimizer state.
  auto odsets = var_datasets(f, "optimizer/vars", wf->display);
  {
    std::string opt_class, opt_name;
    if (!model.training_config.empty()) {
      auto tc = json::parse(model.training_config, path);
      if (const json::Value* opt = tc.IsObject() ? json::member(tc, "optimizer") : nullptr) {
        if (opt->IsObject()) {
          opt_class = json::get_string(*opt, "class_name").value_or("");
          if (const json::Value* oc = json::member(*opt, "config"))
            if (oc->IsObject()) opt_name = json::get_string(*oc, "name").value_or("");
        } else if (opt->IsString()) {
          opt_class = opt->GetString();
        }
      }
    }
    model.optimizer.class_name = opt_class;
    std::vector<const Weight*> trainable;
    for (const auto* w : model.all_weights())
      if (w->trainable) trainable.push_back(w);
    auto names = optimizer_var_names(opt_class, opt_name, odsets.size(), trainable);
    for (size_t i = 0; i < odsets.size(); ++i) {
      std::string leaf = names[i].substr(names[i].find('/') + 1);
      model.optimizer.weights.push_back(r.make_weight(odsets[i], names[i], leaf, false));
    }
  }
  warnings.insert(warnings.end(), r.warnings_.begin(), r.warnings_.end());
}

std::shared_ptr<WeightsFile> open_weights(const std::string& h5_path, const std::string& display) {
  auto wf = std::make_shared<WeightsFile>();
  wf->h5_path = h5_path;
  wf->display = display;
  try {
    wf->file = hio::open_file_readonly(h5_path);
  } catch (const Error& e) {
    throw BadInputError(display, e.where(), e.detail());
  }
  return wf;
}

bool is_zip(const std::string& path) {
  std::string head = io::read_head(path, 4);
  return head.size() == 4 && head.compare(0, 4, "PK\x03\x04", 4) == 0;
}

void apply_config(Model& model, const std::string& config_text, const std::string& where,
                  std::optional<ArchitectureSpec>& arch, std::vector<std::string>& warnings) {
  auto doc = json::parse(config_text, where);
  if (!doc.IsObject() || !json::get_string(doc, "class_name"))
    throw BadInputError(where, "config.json", "expected a serialized Keras object with \"class_name\"");
  model.model_config = config_text;
  model.dialect = KerasDialect::kKeras3;
  if (const json::Value* cc = json::member(doc, "compile_config"))
    if (cc->IsObject() && cc->MemberCount() > 0) model.training_config = json::to_string(*cc);
  try {
    arch = parse_architecture(config_text, where);
    arch->dialect = KerasDialect::kKeras3;
  } catch (const UnsupportedError&) {
    // A subclassed model: its config is its own (only its Python class can rebuild it). Keep the text
    // for .keras round trips, but present the model as weights-only: layers come from the weights file.
    std::string cls = json::get_string(doc, "class_name").value_or("?");
    warnings.push_back("model class '" + cls +
                       "' is a subclassed model (not Sequential/Functional): its config is kept for .keras output "
                       "only; layers are taken from the weights file");
    model.set_extra(kSubclassedConfigExtra, config_text);
    model.model_config.clear();
  }
}

}  // namespace

bool is_keras3_weights_h5(hid_t file) {
  try {
    if (hio::has_attribute(file, "model_config") || hio::has_attribute(file, "layer_names") ||
        hio::has_link(file, "model_weights"))
      return false;
    bool layers = (hio::has_link(file, "layers") && hio::is_group(file, "layers")) ||
                  (hio::has_link(file, "_layer_checkpoint_dependencies") &&
                   hio::is_group(file, "_layer_checkpoint_dependencies"));
    bool vars = hio::has_link(file, "vars") && hio::is_group(file, "vars");
    bool opt = hio::has_link(file, "optimizer") && hio::is_group(file, "optimizer") && hio::has_link(file, "optimizer/vars");
    return layers || vars || opt;
  } catch (...) {
    return false;
  }
}

bool sniff(const std::string& path) {
  try {
    if (io::is_directory(path))
      return io::is_regular_file(io::join_path(path, kConfigEntry)) &&
             io::is_regular_file(io::join_path(path, kWeightsEntry));
    if (!io::is_regular_file(path)) return false;
    if (is_zip(path)) {
      try {
        io::ZipReader zr(path);
        return zr.has(kConfigEntry);
      } catch (const BadInputError&) {
        // A hostile or broken zip that still names config.json: claim it so read() reports why.
        std::string head = io::read_head(path, 1 << 16);
        return head.find(kConfigEntry) != std::string::npos;
      }
    }
    if (hio::has_hdf5_signature(path)) {
      // Same open properties as every other reader (HDF5 refuses mixed close degrees on one file).
      hio::Handle f = hio::open_file_readonly(path);
      return f.valid() && is_keras3_weights_h5(f.get());
    }
  } catch (...) {
  }
  return false;
}

Model read(const std::string& path, const ReadOptions& options) {
  Model model;
  model.origin = Format::kKerasV3;
  model.path = path;
  std::vector<std::string> warnings;
  std::optional<ArchitectureSpec> arch;
  std::shared_ptr<WeightsFile> wf;
  std::string metadata;

  if (io::is_directory(path)) {
    std::string cfg = io::join_path(path, kConfigEntry);
    if (!io::is_regular_file(cfg)) throw BadInputError(path, "", "directory holds no config.json");
    std::string meta = io::join_path(path, kMetadataEntry);
    if (io::is_regular_file(meta)) metadata = io::read_file(meta, kMaxJsonBytes);
    apply_config(model, io::read_file(cfg, kMaxJsonBytes), cfg, arch, warnings);
    std::string w = io::join_path(path, kWeightsEntry);
    if (io::is_regular_file(w)) wf = open_weights(w, w);
    else if (io::is_regular_file(io::join_path(path, kNpzWeightsEntry)))
      throw UnsupportedError(path, kNpzWeightsEntry, "npz weights hold pickled Python dicts; not supported");
  } else if (is_zip(path)) {
    io::ZipReader zr(path);
    if (!zr.has(kConfigEntry)) throw BadInputError(path, "zip entries", "archive holds no config.json");
    if (zr.has(kMetadataEntry)) metadata = zr.read(kMetadataEntry, kMaxJsonBytes);
    else warnings.push_back("archive holds no metadata.json");
    apply_config(model, zr.read(kConfigEntry, kMaxJsonBytes), path + ":config.json", arch, warnings);
    if (zr.has(kWeightsEntry)) {
      auto temp = std::make_unique<TempDir>();
      std::string dest = temp->path + "/model.weights.h5";
      zr.extract_to(kWeightsEntry, dest);
      wf = open_weights(dest, path + ":" + kWeightsEntry);
      // HDF5 keeps the file descriptor: unlink the extracted copy now, so nothing is left behind even
      // if the process dies (the data stays readable until the handle closes).
      temp.reset();
    } else if (zr.has(kNpzWeightsEntry)) {
      throw UnsupportedError(path, kNpzWeightsEntry, "npz weights hold pickled Python dicts; not supported");
    } else {
      warnings.push_back("archive holds no model.weights.h5: architecture only");
    }
    for (const auto& e : zr.entries()) {
      if (starts_with(e.name, kAssetsPrefix) && !e.is_directory())
        model.set_extra(std::string(kAssetExtraPrefix) + e.name, zr.read(e.name, kMaxAssetBytes));
      else if (e.name != kConfigEntry && e.name != kMetadataEntry && e.name != kWeightsEntry && !e.is_directory())
        warnings.push_back("archive entry '" + e.name + "' is not part of the Keras 3 format; ignored");
    }
  } else {
    // A standalone Keras 3 weights file.
    wf = open_weights(path, path);
    if (!is_keras3_weights_h5(wf->file.get()))
      throw BadInputError(path, "/", "not a Keras 3 weights file (no layers/ or vars/ groups)");
    model.keras_version = "3";
    // `--arch`: an architecture (any format, any dialect) names the variables, as model.load_weights would.
    if (!options.arch_path.empty()) {
      Model archm = kmodel::read(options.arch_path);
      if (!archm.has_architecture())
        throw UsageError("--arch " + options.arch_path + " holds no model architecture");
      std::string k3 = to_keras3_model_config(archm.model_config, &warnings);
      apply_config(model, k3, options.arch_path, arch, warnings);
      if (model.training_config.empty() && !archm.training_config.empty())
        model.training_config = is_keras3_compile_config(archm.training_config)
                                    ? archm.training_config
                                    : to_keras3_compile_config(archm.training_config, &warnings);
    }
  }

  if (!metadata.empty()) {
    auto meta = json::parse(metadata, path + ":metadata.json");
    if (meta.IsObject()) {
      model.keras_version = json::get_string(meta, "keras_version").value_or("");
      if (auto d = json::get_string(meta, "date_saved")) model.set_extra(kDateSavedExtra, *d);
    }
  }
  if (wf) read_weights(model, path, wf, arch, warnings);
  else if (arch) {
    auto shapes = expected_layer_weights(*arch, path);
    for (const auto& spec : arch->layers)
      if (!(arch->class_name == "Sequential" && spec.class_name == "InputLayer"))
        model.layers.push_back(Layer{spec.name, spec.class_name, {}});
  }
  for (const auto& w : warnings) spdlog::warn("{}: {}", path, w);
  (void)options;
  return model;
}

}  // namespace kmodel::formats::keras_v3
