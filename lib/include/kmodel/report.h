// Reports over the IR: inspect (text and JSON), the model.summary()-style table, and the validation
// that `kmodel load` performs. None of these read tensor data unless asked (stats).
#pragma once

#include <string>
#include <vector>

#include "kmodel/model.h"

namespace kmodel {

struct InspectOptions {
  bool tree = false;   // print the whole object graph (checkpoints, SavedModels)
  bool stats = false;  // read tensors and print min/max/mean/std
};

std::string inspect_text(const Model& model, const InspectOptions& options = {});
std::string inspect_json(const Model& model, const InspectOptions& options = {});

// One row of the Keras-style summary.
struct SummaryRow {
  std::string name, class_name, output_shape;  // output_shape "?" when it cannot be derived
  int64_t params = 0;
  int depth = 0;                               // nesting depth for nested models
};
struct Summary {
  std::vector<SummaryRow> rows;
  int64_t total_params = 0, trainable_params = 0, non_trainable_params = 0;
};
Summary summarize(const Model& model);
std::string summary_text(const Model& model);

struct Validation {
  std::vector<std::string> problems;  // empty when the model is valid
  std::vector<std::string> notes;     // informational (custom layers, lambda code, ...)
  size_t weights_checked = 0;
  uint64_t bytes_read = 0;
  bool ok() const { return problems.empty(); }
};
// Reads every tensor (verifying checksums through the sources) and checks the model's consistency.
Validation validate(const Model& model);

}  // namespace kmodel
