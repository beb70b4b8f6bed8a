// Writes a Model as a Keras HDF5 file in the layout tf.keras 2.x writes (FORMATS.md A.12): a full
// model (root attributes + model_weights + optional optimizer_weights) or a save_weights file.
// Tensors are streamed one at a time from their TensorRefs; output goes to a temp file first.
#include "core/json_util.h"
#include "formats/h5/h5_data_copy.h"
#include "formats/h5/h5_format.h"
#include "formats/h5/h5_layout.h"
#include "io/atomic_output.h"
#include "io/hdf5.h"
#include "kmodel/error.h"

namespace kmodel::formats::h5 {

namespace hio = kmodel::io::h5;

namespace {

std::string weight_name_for(const Layer& layer, const Weight& w) {
  if (!w.name.empty()) return w.name;
  return layer.name + "/" + (w.attr.empty() ? "weight" : w.attr) + ":0";
}

// Creates each weight's dataset at the path its name gives ('/' makes sub-groups, as h5py does);
// the bytes are written after HDF5 closes the file (phase two, h5_data_copy.h).
void write_weight_datasets(hid_t group, const std::vector<std::string>& names, const std::vector<const Weight*>& weights,
                           const std::string& file, std::vector<PendingData>& pending) {
  for (size_t i = 0; i < weights.size(); ++i) {
    const std::string& name = names[i];
    auto slash = name.rfind('/');
    hio::Handle parent;
    hid_t loc = group;
    if (slash != std::string::npos) {
      parent = hio::ensure_group(group, name.substr(0, slash), file);
      loc = parent.get();
    }
    std::string leaf = slash == std::string::npos ? name : name.substr(slash + 1);
    if (H5Lexists(loc, leaf.c_str(), H5P_DEFAULT) > 0)
      throw UnsupportedError(file, name, "two weights share this name; cannot store both in HDF5");
    const TensorRef& ref = weights[i]->tensor;
    if (ref.dtype() == DType::kString || ref.dtype() == DType::kInvalid)
      throw UnsupportedError(file, name, dtype_name(ref.dtype()) + " tensors cannot be written as Keras H5 weights");
    hio::Handle ds = hio::create_dataset_allocated(loc, leaf, ref.dtype(), ref.shape(), file);
    PendingData p;
    p.tensor = &ref;
    p.size = ref.byte_size();
    if (p.size > 0) {
      auto offset = hio::contiguous_offset(ds.get());
      if (!offset) throw IoError(file, "HDF5 did not allocate storage for " + name);
      p.offset = *offset;
      pending.push_back(p);
    }
  }
}

void write_weight_group(hid_t group, const std::vector<const Weight*>& weights, const std::vector<std::string>& names,
                        const std::string& file, std::vector<PendingData>& pending) {
  if (names.empty()) hio::write_empty_list_attr(group, kWeightNamesAttr, file);
  else hio::write_chunked_string_list(group, kWeightNamesAttr, names, file);
  write_weight_datasets(group, names, weights, file, pending);
}

void write_weights_group(const Model& model, hid_t wg, const std::string& file, std::vector<PendingData>& pending) {
  std::vector<std::string> layer_names;
  for (const auto& layer : model.layers) layer_names.push_back(layer.name);
  hio::write_chunked_string_list(wg, kLayerNamesAttr, layer_names, file);
  std::string backend = model.extra(kExtraWeightsGroupBackend);
  if (backend.empty()) backend = model.backend;
  if (!backend.empty() && model.extra(kExtraNoWeightsGroupBackend).empty())
    hio::write_string_attr(wg, kBackendAttr, backend, false, file);
  std::string version = model.extra(kExtraWeightsGroupKerasVersion);
  if (version.empty()) version = model.keras_version;
  if (!version.empty() && model.extra(kExtraNoWeightsGroupKerasVersion).empty())
    hio::write_string_attr(wg, kKerasVersionAttr, version, false, file);

  for (const auto& layer : model.layers) {
    if (layer.name.empty() || layer.name.find('/') != std::string::npos)
      throw UnsupportedError(file, "", "layer name '" + layer.name + "' cannot be an HDF5 group name");
    hio::Handle g = hio::create_group(wg, layer.name, file);
    std::vector<const Weight*> weights;
    std::vector<std::string> names;
    for (const auto& w : layer.weights) {
      weights.push_back(&w);
      names.push_back(weight_name_for(layer, w));
    }
    write_weight_group(g.get(), weights, names, file, pending);
  }
  if (!model.top_level_weights.empty() || !model.extra(kExtraHasTopLevelGroup).empty()) {
    hio::Handle g = hio::create_group(wg, kTopLevelWeightsGroup, file);
    std::vector<const Weight*> weights;
    std::vector<std::string> names;
    for (const auto& w : model.top_level_weights) {
      weights.push_back(&w);
      names.push_back(w.name.empty() ? w.attr + ":0" : w.name);
    }
    write_weight_group(g.get(), weights, names, file, pending);
  }
}

}  // namespace

std::string keras2_model_config(const Model& model);
std::string keras2_training_config(const Model& model);

void write(const Model& model, const std::string& path, const WriteOptions& options) {
  // A weights-only H5 source stays weights-only: there is no architecture to write.
  bool full = !options.weights_only && !(model.origin == Format::kH5 && !model.has_architecture());
  if (full && !model.has_architecture())
    throw UnsupportedError(model.path, "", "has no Keras architecture, so it cannot be written as a full-model H5 "
                                           "(use --weights-only, or give one with --arch)");
  if (!model.has_weights() && model.layers.empty())
    throw UnsupportedError(model.path, "", "has no layers or weights to write");
  std::string config = full ? keras2_model_config(model) : "";

  io::AtomicOutput out(path, io::AtomicOutput::Kind::kFile, options.force);
  std::vector<PendingData> pending;
  {
    hio::Handle f = hio::create_file(out.temp_path());
    hid_t root = f.get();
    if (full) {
      if (!model.keras_version.empty())
        hio::write_string_attr(root, kKerasVersionAttr, model.keras_version, true, path);
      if (!model.backend.empty()) hio::write_string_attr(root, kBackendAttr, model.backend, true, path);
      hio::write_string_attr(root, kModelConfigAttr, config, false, path);
      std::string training = keras2_training_config(model);
      if (options.include_optimizer && !training.empty())
        hio::write_string_attr(root, kTrainingConfigAttr, training, false, path);
      hio::Handle wg = hio::create_group(root, kModelWeightsGroup, path);
      write_weights_group(model, wg.get(), path, pending);
      if (options.include_optimizer && !model.optimizer.weights.empty()) {
        hio::Handle og = hio::create_group(root, kOptimizerWeightsGroup, path);
        std::vector<const Weight*> weights;
        std::vector<std::string> names;
        for (const auto& w : model.optimizer.weights) {
          weights.push_back(&w);
          names.push_back(w.name.empty() ? w.attr + ":0" : w.name);
        }
        write_weight_group(og.get(), weights, names, path, pending);
      }
    } else {
      write_weights_group(model, root, path, pending);
    }
    if (H5Fflush(root, H5F_SCOPE_GLOBAL) < 0) throw IoError(path, "cannot flush HDF5 file (disk full?)");
    hid_t id = f.release();
    if (H5Fclose(id) < 0) throw IoError(path, "cannot close HDF5 file (disk full?)");
  }
  write_pending_data(out.temp_path(), path, pending);
  out.commit();
}

}  // namespace kmodel::formats::h5
