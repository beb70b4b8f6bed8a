// Per-format sections of the inspect report, each implemented in its own file so that format
// owners can extend them independently: <fmt>_section.cc renders Model::checkpoint / saved_model.
#pragma once

#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include <rapidjson/document.h>

#include "kmodel/model.h"
#include "kmodel/report.h"

namespace kmodel::inspect {

using JsonAlloc = rapidjson::Document::AllocatorType;

// A JSON string value copied into `alloc`.
inline rapidjson::Value json_str(const std::string& s, JsonAlloc& alloc) {
  return rapidjson::Value(s.c_str(), static_cast<rapidjson::SizeType>(s.size()), alloc);
}

// (name, node id) edges of an object-graph node as [{<name_key>: name, "node": id}, ...].
inline rapidjson::Value json_node_edges(const std::vector<std::pair<std::string, int>>& edges,
                                        const char* name_key, JsonAlloc& alloc) {
  rapidjson::Value list(rapidjson::kArrayType);
  for (const auto& [name, id] : edges) {
    rapidjson::Value e(rapidjson::kObjectType);
    e.AddMember(rapidjson::StringRef(name_key), json_str(name, alloc), alloc);
    e.AddMember("node", id, alloc);
    list.PushBack(e, alloc);
  }
  return list;
}

// Checkpoint variable map (Model::checkpoint): text and JSON (adds members to `out`, an object).
void checkpoint_text(const Model& model, const InspectOptions& options, std::ostream& os);
void checkpoint_json(const Model& model, const InspectOptions& options, rapidjson::Value& out, JsonAlloc& alloc);

// SavedModel signatures, object graph, fingerprint (Model::saved_model).
void savedmodel_text(const Model& model, const InspectOptions& options, std::ostream& os);
void savedmodel_json(const Model& model, const InspectOptions& options, rapidjson::Value& out, JsonAlloc& alloc);

}  // namespace kmodel::inspect
