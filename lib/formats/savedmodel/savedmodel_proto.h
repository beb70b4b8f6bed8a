// Loading the protobuf files of a SavedModel directory (saved_model.pb / .pbtxt, keras_metadata.pb,
// fingerprint.pb) with file-named one-line errors, and the small pieces of formatting that both the
// reader and the writer need (DT_ names, saved_model_cli shapes, Keras metadata JSON normalisation).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "fingerprint.pb.h"
#include "saved_metadata.pb.h"
#include "saved_model.pb.h"

namespace kmodel::formats::savedmodel {

inline constexpr const char* kSavedModelPb = "saved_model.pb";
inline constexpr const char* kSavedModelPbtxt = "saved_model.pbtxt";
inline constexpr const char* kKerasMetadataPb = "keras_metadata.pb";
inline constexpr const char* kFingerprintPb = "fingerprint.pb";
inline constexpr const char* kVariablesPrefix = "variables/variables";

// Path of saved_model.pb (preferred) or saved_model.pbtxt inside `dir`; "" when neither exists.
std::string saved_model_file(const std::string& dir);

// Parses saved_model.pb (binary) or saved_model.pbtxt (text format). Throws BadInputError naming the
// file when it is truncated, not a SavedModel, or holds no MetaGraphDef.
tf::SavedModel load_saved_model(const std::string& file);

// Parses keras_metadata.pb; nullopt when absent. Throws BadInputError when unreadable.
std::optional<keras::SavedMetadata> load_keras_metadata(const std::string& dir);

// Parses fingerprint.pb; nullopt when absent. Throws BadInputError when unreadable.
std::optional<tf::FingerprintDef> load_fingerprint(const std::string& dir);

// "DT_FLOAT"; "DT_<n>" for values our enum does not name.
std::string dt_name(int dtype);
// saved_model_cli style: "unknown_rank", "()", "(-1, 2)", "(-1)".
std::string cli_shape(const tf::TensorShapeProto& shape);

// Keras json_utils decoding for configs: {"class_name": "__tuple__"|"TensorShape", "items": [...]}
// becomes a plain array. Applied recursively in place. "shared_object_id" members are kept: Keras
// uses them to restore shared objects, and H5 files written by tf.keras carry them too.
void normalize_keras_json(rapidjson::Value& value, rapidjson::Document::AllocatorType& alloc);

}  // namespace kmodel::formats::savedmodel
