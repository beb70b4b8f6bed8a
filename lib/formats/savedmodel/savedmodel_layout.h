// What tf.keras' SavedModel serialization tracks beyond the model.save_weights() object graph, added
// to the graph objgraph::build_keras gives (the checkpoint writer's graph is left alone): the list
// wrappers of every model/layer (`variables`, `trainable_variables`, `regularization_losses`), the
// `keras_api` holder with its own lists and the compiled metrics (`keras_api/metrics/N/{total,count}`),
// `signatures`, and the optimizer laid out as its class tracks it (legacy OptimizerV2 with slot
// variables, Keras >= 2.11 `optimizer_experimental` with `_variables` lists, LossScaleOptimizer
// wrapping a base optimizer). Node ids are then renumbered breadth-first and the checkpoint keys
// recomputed from the first paths, as TF names them (FORMATS.md C.5, C.6).
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/object_graph.h"
#include "kmodel/architecture.h"
#include "kmodel/model.h"

namespace kmodel::formats::savedmodel {

struct SavedModelLayout {
  std::map<int, std::string> identifiers;  // user_object identifier of every node added or restyled
  std::map<int, int> synchronization;      // variable node -> VariableSynchronization
  std::map<int, int> aggregation;          // variable node -> VariableAggregation (overrides the default)
  std::map<int, bool> trainable;           // variable node -> trainable (overrides the default)
  std::vector<std::pair<int, std::string>> metric_metadata;  // metric node -> keras_metadata JSON
  std::deque<Weight> extra_weights;        // metric variables written zero-initialised
  std::vector<std::string> warnings;
};

// `trainable(w)` says whether a model variable is trainable. `training_config` is the Keras 2 one.
// Updates built.graph, built.variables (keys) and built.nested (node ids).
SavedModelLayout add_keras_serialization(objgraph::BuiltGraph& built, const Model& model, const ArchitectureSpec& arch,
                                         const std::string& training_config,
                                         const std::function<bool(const Weight*)>& trainable);

}  // namespace kmodel::formats::savedmodel
