// Per-format sections of the inspect report, each implemented in its own file so that format
// owners can extend them independently: <fmt>_section.cc renders Model::checkpoint / saved_model.
#pragma once

#include <ostream>

#include <rapidjson/document.h>

#include "kmodel/model.h"
#include "kmodel/report.h"

namespace kmodel::inspect {

using JsonAlloc = rapidjson::Document::AllocatorType;

// Checkpoint variable map (Model::checkpoint): text and JSON (adds members to `out`, an object).
void checkpoint_text(const Model& model, const InspectOptions& options, std::ostream& os);
void checkpoint_json(const Model& model, const InspectOptions& options, rapidjson::Value& out, JsonAlloc& alloc);

// SavedModel signatures, object graph, fingerprint (Model::saved_model).
void savedmodel_text(const Model& model, const InspectOptions& options, std::ostream& os);
void savedmodel_json(const Model& model, const InspectOptions& options, rapidjson::Value& out, JsonAlloc& alloc);

}  // namespace kmodel::inspect
