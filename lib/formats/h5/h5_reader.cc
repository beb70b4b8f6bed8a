// Reads Keras HDF5 files (full models and save_weights files, Keras 1.x to 3.x legacy H5) into the
// IR. Layer order comes from `layer_names`, weight order from `weight_names` (chunked or not); tensor
// data stays in the file behind lazy TensorRefs that share one open file handle.
#include <map>

#include "core/assemble.h"
#include "core/json_util.h"
#include "formats/h5/h5_format.h"
#include "formats/h5/h5_layout.h"
#include "io/file_util.h"
#include "io/hdf5.h"
#include "kmodel/architecture.h"
#include "kmodel/error.h"

namespace kmodel::formats::h5 {

namespace hio = kmodel::io::h5;

namespace {

// One open HDF5 file shared by all TensorRefs of a Model.
struct OpenFile {
  std::string path;
  hio::Handle file;
  bool plain_layout = false;  // no user block: dataset offsets are file offsets
};

class DatasetSource : public TensorSource {
 public:
  DatasetSource(std::shared_ptr<OpenFile> file, std::string dataset_path)
      : file_(std::move(file)), dataset_path_(std::move(dataset_path)) {}
  Tensor read() const override {
    hio::Handle ds(H5Dopen2(file_->file.get(), dataset_path_.c_str(), H5P_DEFAULT));
    if (!ds.valid()) throw BadInputError(file_->path, dataset_path_, "cannot open dataset");
    auto info = hio::dataset_info(ds.get(), dataset_path_);
    try {
      return hio::read_dataset(ds.get(), info, dataset_path_);
    } catch (const Error& e) {
      if (!e.file().empty()) throw;
      throw BadInputError(file_->path, e.where(), e.detail());
    }
  }
  std::string describe() const override { return file_->path + ":" + dataset_path_; }
  std::optional<RawExtent> raw_extent() const override {
    if (!file_->plain_layout) return std::nullopt;
    hio::Handle ds(H5Dopen2(file_->file.get(), dataset_path_.c_str(), H5P_DEFAULT));
    if (!ds.valid() || !hio::is_plain_little_endian(ds.get())) return std::nullopt;
    auto offset = hio::contiguous_offset(ds.get());
    if (!offset) return std::nullopt;
    RawExtent extent;
    extent.path = file_->path;
    extent.offset = *offset;
    extent.size = H5Dget_storage_size(ds.get());
    return extent;
  }

 private:
  std::shared_ptr<OpenFile> file_;
  std::string dataset_path_;
};

std::string optional_string_attr(hid_t obj, const char* name, const std::string& where) {
  if (!hio::has_attribute(obj, name)) return "";
  return hio::read_string_attr(obj, name, where);
}

// Rethrows an error from the io layer with the file name filled in.
template <class F>
auto with_file(const std::string& path, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const BadInputError& e) {
    if (!e.file().empty()) throw;
    throw BadInputError(path, e.where(), e.detail());
  } catch (const UnsupportedError& e) {
    if (!e.file().empty()) throw;
    throw UnsupportedError(path, e.where(), e.detail());
  }
}

bool is_non_trainable_name(const std::string& attr) {
  auto last = attr.substr(attr.rfind('/') == std::string::npos ? 0 : attr.rfind('/') + 1);
  return last == "moving_mean" || last == "moving_variance" || last == "running_mean" ||
         last == "running_std";
}

// Reads the weights listed in a group's weight_names, resolving names with '/' as nested paths.
std::vector<Weight> read_weight_list(const std::shared_ptr<OpenFile>& file, hid_t group,
                                     const std::string& group_path, const std::string& layer_name,
                                     const std::string& class_name, bool layer_trainable) {
  auto names = hio::read_chunked_string_list(group, kWeightNamesAttr, group_path);
  std::vector<Weight> weights;
  if (!names) return weights;
  for (const auto& name : *names) {
    std::string where = group_path + "/" + name;
    if (!hio::has_link(group, name) || !hio::is_dataset(group, name))
      throw BadInputError(file->path, where, "weight listed in weight_names has no dataset");
    hio::Handle ds(H5Dopen2(group, name.c_str(), H5P_DEFAULT));
    if (!ds.valid()) throw BadInputError(file->path, where, "cannot open dataset");
    auto info = hio::dataset_info(ds.get(), where);
    if (info.dtype == DType::kInvalid)
      throw UnsupportedError(file->path, where, "dataset type (" + info.type_description + ") is not supported");
    Weight w;
    w.name = name;
    w.attr = attr_from_weight_name(layer_name, class_name, name);
    w.trainable = layer_trainable && !is_non_trainable_name(w.attr);
    w.tensor = TensorRef(info.dtype, info.shape, std::make_shared<DatasetSource>(file, where));
    weights.push_back(std::move(w));
  }
  return weights;
}

struct LayerInfo {
  std::string class_name;
  bool trainable = true;
};

// Layer name -> class and trainable flag, from the architecture (top level only).
std::map<std::string, LayerInfo> layer_infos(const std::string& model_config, const std::string& path) {
  std::map<std::string, LayerInfo> out;
  if (model_config.empty()) return out;
  ArchitectureSpec arch = parse_architecture(model_config, path);
  for (const auto& spec : arch.layers) {
    LayerInfo info;
    info.class_name = spec.class_name;
    auto cfg = json::parse(spec.config_json, path);
    info.trainable = json::get_bool(cfg, "trainable").value_or(true);
    out[spec.name] = info;
  }
  return out;
}

}  // namespace

bool sniff(const std::string& path) { return io::is_regular_file(path) && hio::has_hdf5_signature(path); }

Model read(const std::string& path, const ReadOptions&) {
  auto file = std::make_shared<OpenFile>();
  file->path = path;
  file->file = hio::open_file_readonly(path);
  hid_t root = file->file.get();
  {
    hio::Handle fcpl(H5Fget_create_plist(root));
    hsize_t userblock = 1;
    file->plain_layout = fcpl.valid() && H5Pget_userblock(fcpl.get(), &userblock) >= 0 && userblock == 0;
  }

  return with_file(path, [&]() {
    Model model;
    model.origin = Format::kH5;
    model.path = path;
    model.keras_version = optional_string_attr(root, kKerasVersionAttr, "/");
    model.backend = optional_string_attr(root, kBackendAttr, "/");
    model.model_config = optional_string_attr(root, kModelConfigAttr, "/");
    model.training_config = optional_string_attr(root, kTrainingConfigAttr, "/");

    // Where the layer groups live (Keras' own rule, FORMATS A.1).
    hio::Handle weights_group;
    std::string wg_path;
    if (hio::has_attribute(root, kLayerNamesAttr) || hio::has_attribute(root, std::string(kLayerNamesAttr) + "0")) {
      weights_group = hio::Handle(H5Gopen2(root, "/", H5P_DEFAULT));
      wg_path = "";
    } else if (hio::has_link(root, kModelWeightsGroup) && hio::is_group(root, kModelWeightsGroup)) {
      weights_group = hio::open_group(root, kModelWeightsGroup, path);
      wg_path = std::string("/") + kModelWeightsGroup;
    } else if (model.model_config.empty()) {
      if (hio::has_link(root, "layers") || hio::has_link(root, "vars"))
        throw UnsupportedError(path, "", "this is a Keras 3 .weights.h5 file, not a Keras 2 H5 model");
      throw BadInputError(path, "", "HDF5 file without Keras attributes (no model_config, layer_names or model_weights)");
    }
    if (!model.model_config.empty()) {
      model.dialect = detect_dialect(model.model_config, model.keras_version);
      json::parse(model.model_config, path + ":/@model_config");
    }
    if (!model.training_config.empty()) {
      auto tc = json::parse(model.training_config, path + ":/@training_config");
      if (const json::Value* oc = json::member(tc, "optimizer_config"))
        model.optimizer.class_name = json::get_string(*oc, "class_name").value_or("");
    }

    auto infos = layer_infos(model.model_config, path);
    if (weights_group.valid()) {
      hid_t wg = weights_group.get();
      std::string where = wg_path.empty() ? "/" : wg_path;
      if (hio::has_attribute(wg, kKerasVersionAttr)) {
        std::string v = hio::read_string_attr(wg, kKerasVersionAttr, where);
        if (model.keras_version.empty()) model.keras_version = v;
        if (v != model.keras_version) model.set_extra(kExtraWeightsGroupKerasVersion, v);
      } else {
        model.set_extra(kExtraNoWeightsGroupKerasVersion, "1");
      }
      if (hio::has_attribute(wg, kBackendAttr)) {
        std::string v = hio::read_string_attr(wg, kBackendAttr, where);
        if (model.backend.empty()) model.backend = v;
        if (v != model.backend) model.set_extra(kExtraWeightsGroupBackend, v);
      } else {
        model.set_extra(kExtraNoWeightsGroupBackend, "1");
      }
      auto names = hio::read_chunked_string_list(wg, kLayerNamesAttr, where);
      if (!names) throw BadInputError(path, where, "weights group has no layer_names attribute");
      for (const auto& name : *names) {
        std::string gpath = wg_path + "/" + name;
        if (!hio::has_link(wg, name) || !hio::is_group(wg, name))
          throw BadInputError(path, gpath, "layer named in layer_names has no group");
        hio::Handle g = hio::open_group(wg, name, path);
        Layer layer;
        layer.name = name;
        auto it = infos.find(name);
        bool trainable = true;
        if (it != infos.end()) {
          layer.class_name = it->second.class_name;
          trainable = it->second.trainable;
        }
        layer.weights = read_weight_list(file, g.get(), gpath, name, layer.class_name, trainable);
        model.layers.push_back(std::move(layer));
      }
      if (hio::has_link(wg, kTopLevelWeightsGroup) && hio::is_group(wg, kTopLevelWeightsGroup)) {
        hio::Handle g = hio::open_group(wg, kTopLevelWeightsGroup, path);
        model.set_extra(kExtraHasTopLevelGroup, "1");
        model.top_level_weights =
            read_weight_list(file, g.get(), wg_path + "/" + kTopLevelWeightsGroup, "", "", true);
      }
    } else {
      // A full-model file saved without weights: layers from the architecture.
      model.layers = layers_from_architecture(parse_architecture(model.model_config, path));
    }
    if (hio::has_link(root, kOptimizerWeightsGroup) && hio::is_group(root, kOptimizerWeightsGroup)) {
      hio::Handle g = hio::open_group(root, kOptimizerWeightsGroup, path);
      auto weights = read_weight_list(file, g.get(), std::string("/") + kOptimizerWeightsGroup, "", "", true);
      for (auto& w : weights) w.attr = w.name;
      model.optimizer.weights = std::move(weights);
    }
    return model;
  });
}

}  // namespace kmodel::formats::h5
