// Nested models (a Sequential / Functional used as a layer of another model) as tf.keras tracks them
// in object graphs (TF checkpoints, SavedModels): the nested model is a layer of its parent (layer-N,
// and layer_with_weights-M when it has weights) with its own layer-N / layer_with_weights-M children
// over its own `layers` (a Sequential's without its InputLayer), recursively. In the IR a nested model
// is one Layer whose weights are named by its sublayers ("dense_a/kernel:0", deeper "inner/dense/kernel:0").
// This plans which sublayer owns each weight and its object path below the nested model's node; used by
// objgraph::build_keras (checkpoint and SavedModel writers) and, for the names, by objgraph::map_to_model.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "kmodel/architecture.h"
#include "kmodel/model.h"

namespace kmodel::nested {

constexpr int kMaxNesting = 32;  // models inside models, deeper is refused

// One entry of a nested model's `layers`.
struct Member {
  LayerSpec spec;
  std::string key;  // layer names from the top, "pretrained/fc1_relu" (infer_layer_shapes keys)
  std::vector<std::pair<size_t, std::string>> weights;  // plain layer: (index in the IR layer's weights, attr)
  std::vector<Member> members;                          // nested model: its own members
  bool has_weights = false;
  int node = -1;  // object graph node, once built
};

struct Layout {
  std::map<size_t, std::vector<Member>> members;     // index in model.layers -> the nested model's members
  std::map<size_t, std::vector<std::string>> paths;  // index in model.layers -> per weight, the object
                                                     // path below the nested model ("layer_with_weights-1/beta")
  bool empty() const { return members.empty(); }
};

// The layers a model tracks as layer-N: `arch.layers`, for a Sequential without its InputLayer.
std::vector<const LayerSpec*> tracked_layers(const ArchitectureSpec& arch);

// Which of a nested model's own layers (`arch.layers`) holds a weight, from the weight's name or path
// ("d1/kernel:0"; a layer nested deeper "deep/d1/kernel:0" or, as tf.keras names it, "d1/kernel:0"):
// the first path component (the last excluded) naming one of them, else the first naming a layer
// further down, whose enclosing nested model then holds it.
class Owners {
 public:
  Owners(const ArchitectureSpec& arch, const std::string& file);
  // Index into arch.layers, or -1 when no component names a layer.
  int find(const std::string& weight_name) const;

 private:
  std::map<std::string, int> direct_, below_;
};

// Plans every layer of `model` that `arch` (its parsed architecture) declares as a nested model.
// `file` names the destination for errors. Throws UnsupportedError when a weight of a nested model
// names none of its layers, or for nesting deeper than kMaxNesting.
Layout plan(const Model& model, const ArchitectureSpec& arch, const std::string& file);

}  // namespace kmodel::nested
