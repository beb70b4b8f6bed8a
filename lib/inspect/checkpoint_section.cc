// The checkpoint section of the inspect report (placeholder until the checkpoint module fills it).
#include "inspect/sections.h"

namespace kmodel::inspect {

void checkpoint_text(const Model&, const InspectOptions&, std::ostream&) {}
void checkpoint_json(const Model&, const InspectOptions&, rapidjson::Value&, JsonAlloc&) {}

}  // namespace kmodel::inspect
