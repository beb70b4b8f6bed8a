// Loading and formatting helpers for SavedModel protobuf files (see savedmodel_proto.h).
#include "formats/savedmodel/savedmodel_proto.h"

#include <climits>
#include <cstring>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/text_format.h>

#include "io/file_util.h"
#include "kmodel/error.h"

namespace kmodel::formats::savedmodel {

namespace {

// Parses a binary message from the whole of `bytes`, with the size limit raised to what TF allows (2 GiB).
bool parse_binary(const std::string& bytes, google::protobuf::Message& message) {
  google::protobuf::io::ArrayInputStream raw(bytes.data(), static_cast<int>(bytes.size()));
  google::protobuf::io::CodedInputStream in(&raw);
  in.SetTotalBytesLimit(INT_MAX);
  if (!message.ParseFromCodedStream(&in)) return false;
  return in.ConsumedEntireMessage() && in.CurrentPosition() == static_cast<int>(bytes.size());
}

class FirstError : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, int column, const std::string& message) override {
    if (!has_) {
      has_ = true;
      where_ = "line " + std::to_string(line + 1) + ", column " + std::to_string(column + 1);
      what_ = message;
    }
  }
  void AddWarning(int, int, const std::string&) override {}
  bool has_ = false;
  std::string where_, what_;
};

std::string read_proto_file(const std::string& file) {
  // A proto larger than 2 GiB cannot be parsed (TF itself refuses); read_file enforces that bound.
  return io::read_file(file, uint64_t{INT_MAX});
}

}  // namespace

std::string saved_model_file(const std::string& dir) {
  std::string pb = io::join_path(dir, kSavedModelPb);
  if (io::is_regular_file(pb)) return pb;
  std::string txt = io::join_path(dir, kSavedModelPbtxt);
  if (io::is_regular_file(txt)) return txt;
  return "";
}

tf::SavedModel load_saved_model(const std::string& file) {
  tf::SavedModel sm;
  std::string bytes = read_proto_file(file);
  if (bytes.empty()) throw BadInputError(file, "", "file is empty, expected a serialized SavedModel");
  bool text = file.size() >= 6 && file.compare(file.size() - 6, 6, ".pbtxt") == 0;
  if (text) {
    google::protobuf::TextFormat::Parser parser;
    FirstError errors;
    parser.RecordErrorsTo(&errors);
    if (!parser.ParseFromString(bytes, &sm))
      throw BadInputError(file, errors.where_, "not a text-format SavedModel: " + errors.what_);
  } else if (!parse_binary(bytes, sm)) {
    throw BadInputError(file, "", "not a valid SavedModel protobuf (truncated, corrupt or another kind of file)");
  }
  if (sm.meta_graphs_size() == 0)
    throw BadInputError(file, "SavedModel.meta_graphs",
                        "holds no MetaGraphDef: not a SavedModel (or an empty one)");
  if (sm.saved_model_schema_version() < 0 || sm.saved_model_schema_version() > 1)
    throw UnsupportedError(file, "SavedModel.saved_model_schema_version",
                           "schema version " + std::to_string(sm.saved_model_schema_version()) +
                               " (only 0/1 are known)");
  return sm;
}

std::optional<keras::SavedMetadata> load_keras_metadata(const std::string& dir) {
  std::string file = io::join_path(dir, kKerasMetadataPb);
  if (!io::path_exists(file)) return std::nullopt;
  keras::SavedMetadata md;
  std::string bytes = read_proto_file(file);
  if (!parse_binary(bytes, md))
    throw BadInputError(file, "", "not a valid Keras SavedMetadata protobuf (truncated or corrupt)");
  return md;
}

std::optional<tf::FingerprintDef> load_fingerprint(const std::string& dir) {
  std::string file = io::join_path(dir, kFingerprintPb);
  if (!io::path_exists(file)) return std::nullopt;
  tf::FingerprintDef fp;
  std::string bytes = read_proto_file(file);
  if (!parse_binary(bytes, fp))
    throw BadInputError(file, "", "not a valid FingerprintDef protobuf (truncated or corrupt)");
  return fp;
}

std::string dt_name(int dtype) {
  if (tf::DataType_IsValid(dtype)) return tf::DataType_Name(static_cast<tf::DataType>(dtype));
  return "DT_" + std::to_string(dtype);
}

std::string cli_shape(const tf::TensorShapeProto& shape) {
  if (shape.unknown_rank()) return "unknown_rank";
  std::string s = "(";
  for (int i = 0; i < shape.dim_size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape.dim(i).size());
  }
  return s + ")";
}

void normalize_keras_json(rapidjson::Value& value, rapidjson::Document::AllocatorType& alloc) {
  if (value.IsArray()) {
    for (auto& v : value.GetArray()) normalize_keras_json(v, alloc);
    return;
  }
  if (!value.IsObject()) return;
  auto cls = value.FindMember("class_name");
  if (cls != value.MemberEnd() && cls->value.IsString()) {
    const char* name = cls->value.GetString();
    auto items = value.FindMember("items");
    if ((std::strcmp(name, "__tuple__") == 0 || std::strcmp(name, "TensorShape") == 0) &&
        items != value.MemberEnd() && items->value.IsArray()) {
      rapidjson::Value arr;
      arr.Swap(items->value);
      value.Swap(arr);
      normalize_keras_json(value, alloc);
      return;
    }
  }
  for (auto& m : value.GetObject()) normalize_keras_json(m.value, alloc);
}

}  // namespace kmodel::formats::savedmodel
