// Shape hints for reports (see shape_hints.h). Filled from core/layer_shapes when it knows a layer.
#include "inspect/shape_hints.h"

namespace kmodel::inspect {

ShapeHints shape_hints(const Model&) { return {}; }

std::vector<std::string> weight_shape_problems(const Model&) { return {}; }

}  // namespace kmodel::inspect
