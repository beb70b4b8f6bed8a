// The savedmodel section of the inspect report (placeholder until the savedmodel module fills it).
#include "inspect/sections.h"

namespace kmodel::inspect {

void savedmodel_text(const Model&, const InspectOptions&, std::ostream&) {}
void savedmodel_json(const Model&, const InspectOptions&, rapidjson::Value&, JsonAlloc&) {}

}  // namespace kmodel::inspect
