// The model_config and training_config texts an H5 file gets: Keras 2 dialect. Keras 3 configs
// (from .keras archives) are translated by core/keras3_dialect; every argument that has no Keras 2
// equivalent is named in a warning, never dropped silently.
#include <spdlog/spdlog.h>

#include "core/json_util.h"
#include "core/keras3_dialect.h"
#include "formats/h5/h5_format.h"
#include "kmodel/error.h"

namespace kmodel::formats::h5 {

namespace {
void log_warnings(const Model& model, const std::vector<std::string>& warnings) {
  for (const auto& w : warnings) spdlog::warn("{}: Keras 3 -> Keras 2 config: {}", model.path, w);
}
}  // namespace

std::string keras2_model_config(const Model& model) {
  std::string config = model.model_config;
  if (model.dialect == KerasDialect::kKeras3) {
    std::vector<std::string> warnings;
    config = to_keras2_model_config(config, &warnings);
    log_warnings(model, warnings);
  }
  // H5 stores exactly {"class_name", "config"}: keep the text untouched when it already is that.
  auto doc = json::parse(config, model.path);
  if (doc.IsObject() && doc.MemberCount() == 2 && doc.HasMember("class_name") && doc.HasMember("config"))
    return config;
  json::Document out;
  out.SetObject();
  auto& a = out.GetAllocator();
  out.AddMember("class_name", json::Value(doc["class_name"], a), a);
  out.AddMember("config", json::Value(doc["config"], a), a);
  return json::to_string(out);
}

std::string keras2_training_config(const Model& model) {
  if (model.training_config.empty() || !is_keras3_compile_config(model.training_config))
    return model.training_config;
  std::vector<std::string> warnings;
  std::string out = to_keras2_training_config(model.training_config, &warnings);
  log_warnings(model, warnings);
  return out;
}

}  // namespace kmodel::formats::h5
