// Format detection by content, and dispatch of read/write to the per-format modules.
#include "kmodel/formats.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "core/assemble.h"
#include "core/keras2_completion.h"
#include "formats/checkpoint/checkpoint_format.h"
#include "formats/h5/h5_format.h"
#include "formats/json/json_format.h"
#include "formats/keras_v3/keras_v3_format.h"
#include "formats/savedmodel/savedmodel_format.h"
#include "io/file_util.h"
#include "kmodel/error.h"

namespace kmodel {

std::string format_name(Format format) {
  switch (format) {
    case Format::kH5: return "h5";
    case Format::kJson: return "json";
    case Format::kCheckpoint: return "checkpoint";
    case Format::kSavedModel: return "savedmodel";
    case Format::kKerasV3: return "keras";
    case Format::kUnknown: break;
  }
  return "unknown";
}

std::optional<Format> format_from_name(std::string_view name) {
  std::string n(name);
  std::transform(n.begin(), n.end(), n.begin(), ::tolower);
  if (n == "h5" || n == "hdf5" || n == "keras-h5") return Format::kH5;
  if (n == "json") return Format::kJson;
  if (n == "checkpoint" || n == "ckpt" || n == "tf-checkpoint") return Format::kCheckpoint;
  if (n == "savedmodel" || n == "saved_model" || n == "tf") return Format::kSavedModel;
  if (n == "keras" || n == "keras3" || n == "keras-v3" || n == "zip") return Format::kKerasV3;
  return std::nullopt;
}

namespace {
bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
}  // namespace

std::optional<Format> format_for_destination(const std::string& path) {
  std::string p = path;
  std::transform(p.begin(), p.end(), p.begin(), ::tolower);
  if (ends_with(p, ".h5") || ends_with(p, ".hdf5") || ends_with(p, ".keras.h5")) return Format::kH5;
  if (ends_with(p, ".json")) return Format::kJson;
  if (ends_with(p, ".keras")) return Format::kKerasV3;
  if (ends_with(p, ".ckpt") || ends_with(p, ".index")) return Format::kCheckpoint;
  if (ends_with(p, ".pb") || ends_with(p, ".npy") || ends_with(p, ".npz") || ends_with(p, ".txt"))
    return std::nullopt;
  // Like Keras' model.save(path): a name without an extension (or ending in '/') is a SavedModel dir.
  std::string base = io::basename(p);
  if (!p.empty() && (p.back() == '/' || base.find('.') == std::string::npos)) return Format::kSavedModel;
  return std::nullopt;
}

Format detect(const std::string& path) {
  if (!io::path_exists(path)) {
    // A checkpoint prefix names no file itself: "<prefix>.index" exists.
    if (formats::checkpoint::sniff(path)) return Format::kCheckpoint;
    throw IoError(path, "no such file or directory");
  }
  if (formats::savedmodel::sniff(path)) return Format::kSavedModel;
  if (formats::keras_v3::sniff(path)) return Format::kKerasV3;
  if (formats::h5::sniff(path)) return Format::kH5;
  if (formats::checkpoint::sniff(path)) return Format::kCheckpoint;
  if (formats::json::sniff(path)) return Format::kJson;
  if (io::is_directory(path))
    throw BadInputError(path, "", "directory holds no saved_model.pb, checkpoint or .keras contents");
  std::string head = io::read_head(path, 64);
  if (head.empty()) throw BadInputError(path, "", "file is empty");
  if (io::is_git_lfs_pointer(head))
    throw BadInputError(path, "", "this is a Git LFS pointer, not the model itself (run `git lfs pull`)");
  throw BadInputError(path, "", "not a Keras/TensorFlow model artifact (unrecognised content)");
}

Model read_as(Format format, const std::string& path, const ReadOptions& options) {
  Model model;
  switch (format) {
    case Format::kH5: model = formats::h5::read(path, options); break;
    case Format::kJson: model = formats::json::read(path, options); break;
    case Format::kCheckpoint: model = formats::checkpoint::read(path, options); break;
    case Format::kSavedModel: model = formats::savedmodel::read(path, options); break;
    case Format::kKerasV3: model = formats::keras_v3::read(path, options); break;
    case Format::kUnknown: throw UsageError("unknown input format");
  }
  if (!options.weights_path.empty() && format != Format::kCheckpoint) {
    Model weights = read(options.weights_path);
    attach_weights_by_name(model, weights);
  }
  return model;
}

Model read(const std::string& path, const ReadOptions& options) { return read_as(detect(path), path, options); }

void write(const Model& model, const std::string& path, Format format, const WriteOptions& options) {
  if (!model.path.empty() && io::path_exists(path) &&
      io::absolute_path(model.path) == io::absolute_path(path))
    throw IoError(path, "refusing to write over the input file");
  if (model.origin == Format::kSavedModel && !model.has_architecture() && format != Format::kSavedModel)
    throw UnsupportedError(model.path, "", "this SavedModel has no Keras architecture (a plain TensorFlow "
                                           "SavedModel): it can be inspected, not converted to " + format_name(format));
  if (model.dialect == KerasDialect::kKeras3 &&
      (format == Format::kH5 || format == Format::kCheckpoint || format == Format::kSavedModel)) {
    // tf.keras loads weights by position: give it the variables it creates that Keras 3 does not.
    std::vector<std::string> warnings;
    Model completed = with_keras2_only_variables(model, &warnings);
    for (const auto& w : warnings) spdlog::warn("{}: {}", path, w);
    if (!warnings.empty()) return write(completed, path, format, options);
  }
  switch (format) {
    case Format::kH5: formats::h5::write(model, path, options); return;
    case Format::kJson: formats::json::write(model, path, options); return;
    case Format::kCheckpoint: formats::checkpoint::write(model, path, options); return;
    case Format::kSavedModel: formats::savedmodel::write(model, path, options); return;
    case Format::kKerasV3: formats::keras_v3::write(model, path, options); return;
    case Format::kUnknown: break;
  }
  throw UsageError("unknown output format");
}

}  // namespace kmodel
