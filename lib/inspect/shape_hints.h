// Output shapes and parameter counts derived from the architecture (for layers whose weights are
// not in the artifact, and for the summary's Output Shape column). Empty when nothing is derivable.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "kmodel/model.h"

namespace kmodel::inspect {

struct ShapeHint {
  std::string output_shape = "?";  // "(None, 10)"
  int64_t params = 0;
  int64_t trainable_params = 0;
};
using ShapeHints = std::map<std::string, ShapeHint>;  // by top-level layer name

ShapeHints shape_hints(const Model& model);
// Weights whose shapes disagree with what their layer's config implies (known classes only).
std::vector<std::string> weight_shape_problems(const Model& model);

}  // namespace kmodel::inspect
