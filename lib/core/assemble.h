// Combining parts into one Model: layers implied by an architecture, and weights taken from another
// artifact and attached to an architecture by layer name.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/weight_matching.h"
#include "kmodel/assemble.h"
#include "kmodel/architecture.h"
#include "kmodel/model.h"

namespace kmodel {

// The layers of `model.layers` implied by an architecture, in order, without weights. For Sequential
// models the InputLayer entry is left out (Keras does not list it in model.layers).
std::vector<Layer> layers_from_architecture(const ArchitectureSpec& arch);

struct AttachReport {
  size_t layers_matched = 0;
  size_t weights_attached = 0;
  std::vector<std::string> missing;     // layers of the architecture expecting weights that got none
  std::vector<std::string> unexpected;  // weight-bearing layers of the source that match no layer
};

// Copies weights from `source` into the layers of `target` with the same name (Keras load_weights
// by_name semantics); also takes the source's optimizer state and versions when the target lacks them.
AttachReport attach_weights_by_name(Model& target, const Model& source);

// The full assembler (AssembleOptions, AssembleReport, assemble_model) is public: kmodel/assemble.h.

}  // namespace kmodel
