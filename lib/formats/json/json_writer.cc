// Writes the architecture of a Model as model.to_json() would: {"class_name", "config",
// "keras_version", "backend"} (Keras 3 configs keep their module/registered_name keys).
#include <cstdio>
#include <fstream>

#include "core/json_util.h"
#include "formats/json/json_format.h"
#include "io/atomic_output.h"
#include "kmodel/error.h"

namespace kmodel::formats::json {

std::string to_json_text(const Model& model) {
  if (!model.has_architecture())
    throw UnsupportedError(model.path, "", "has no architecture (weights only), so it cannot be written as JSON");
  auto doc = kmodel::json::parse(model.model_config, model.path);
  auto& alloc = doc.GetAllocator();
  if (model.dialect != KerasDialect::kKeras3) {
    if (!model.keras_version.empty() && !doc.HasMember("keras_version"))
      doc.AddMember("keras_version", rapidjson::Value(model.keras_version.c_str(), alloc), alloc);
    if (!model.backend.empty() && !doc.HasMember("backend"))
      doc.AddMember("backend", rapidjson::Value(model.backend.c_str(), alloc), alloc);
  }
  return kmodel::json::to_string(doc);
}

void write(const Model& model, const std::string& path, const WriteOptions& options) {
  std::string text = to_json_text(model);
  io::AtomicOutput out(path, io::AtomicOutput::Kind::kFile, options.force);
  {
    std::ofstream f(out.temp_path(), std::ios::binary);
    if (!f) throw IoError(path, "cannot create temporary output " + out.temp_path());
    f << text;
    f.flush();
    if (!f) throw IoError(path, "write failed (disk full or file size limit?)");
  }
  out.commit();
}

}  // namespace kmodel::formats::json
