// The model_config text an H5 file gets: Keras 2 dialect {"class_name", "config"}. Keras 3 configs
// are translated by core/ when that translation is available; otherwise they are refused clearly.
#include "core/json_util.h"
#include "formats/h5/h5_format.h"
#include "kmodel/error.h"

namespace kmodel::formats::h5 {

std::string keras2_model_config(const Model& model) {
  if (model.dialect == KerasDialect::kKeras3)
    throw UnsupportedError(model.path, "", "writing a Keras 3 architecture to H5 needs the Keras 3 -> 2 config translation, which is not available yet");
  // H5 stores exactly {"class_name", "config"}: keep the text untouched when it already is that.
  auto doc = json::parse(model.model_config, model.path);
  if (doc.IsObject() && doc.MemberCount() == 2 && doc.HasMember("class_name") && doc.HasMember("config"))
    return model.model_config;
  json::Document out;
  out.SetObject();
  auto& a = out.GetAllocator();
  out.AddMember("class_name", json::Value(doc["class_name"], a), a);
  out.AddMember("config", json::Value(doc["config"], a), a);
  return json::to_string(out);
}

}  // namespace kmodel::formats::h5
