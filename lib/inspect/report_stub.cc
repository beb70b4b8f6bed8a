// Temporary report stubs (replaced by inspect/report.cc, summary.cc, validate.cc).
#include "kmodel/report.h"
namespace kmodel {
std::string inspect_text(const Model& m, const InspectOptions&) { return "model " + m.path + "\n"; }
std::string inspect_json(const Model& m, const InspectOptions&) { return "{}"; }
Summary summarize(const Model&) { return {}; }
std::string summary_text(const Model&) { return ""; }
Validation validate(const Model&) { return {}; }
}  // namespace kmodel
