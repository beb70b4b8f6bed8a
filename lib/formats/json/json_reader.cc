// Reads a Keras JSON architecture (model.to_json() of Keras 1, 2 or 3) into the IR.
#include <algorithm>
#include <cctype>

#include "core/assemble.h"
#include "core/json_util.h"
#include "formats/json/json_format.h"
#include "io/file_util.h"
#include "kmodel/architecture.h"
#include "kmodel/error.h"

namespace kmodel::formats::json {

namespace {
constexpr uint64_t kMaxJsonBytes = uint64_t{1} << 30;  // architectures are small; refuse absurd files
}

bool sniff(const std::string& path) {
  if (!io::is_regular_file(path)) return false;
  std::string head = io::read_head(path, 4096);
  auto first = std::find_if(head.begin(), head.end(), [](unsigned char c) { return !std::isspace(c); });
  return first != head.end() && *first == '{' && head.find("\"class_name\"") != std::string::npos;
}

Model read(const std::string& path, const ReadOptions&) {
  std::string text = io::read_file(path, kMaxJsonBytes);
  auto doc = kmodel::json::parse(text, path);
  if (!doc.IsObject() || !doc.HasMember("class_name") || !doc.HasMember("config"))
    throw BadInputError(path, "", "not a Keras model JSON: expected an object with \"class_name\" and \"config\"");
  ArchitectureSpec arch = parse_architecture(text, path);

  Model model;
  model.origin = Format::kJson;
  model.path = path;
  model.keras_version = kmodel::json::get_string(doc, "keras_version").value_or("");
  model.backend = kmodel::json::get_string(doc, "backend").value_or("");
  // The stored model_config keeps every key except the to_json envelope's version fields.
  doc.RemoveMember("keras_version");
  doc.RemoveMember("backend");
  model.model_config = kmodel::json::to_string(doc);
  model.dialect = arch.dialect;
  model.layers = layers_from_architecture(arch);
  return model;
}

}  // namespace kmodel::formats::json
