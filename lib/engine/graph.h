// The executable graph: layers created from an ArchitectureSpec (Sequential, Functional with several
// inputs/outputs, shared layers called at several nodes, nested models as layers) and run by
// evaluating each (layer, node) once per batch, with masks carried beside values.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/layer.h"
#include "kmodel/architecture.h"
#include "kmodel/predict.h"

namespace kmodel::engine {

// Gives the weights of a layer by name (in Keras legacy order); empty when it has none.
using WeightProvider = std::function<std::vector<const Weight*>(const std::string& layer)>;

class Graph {
 public:
  // Builds every layer and loads its weights. `file` names the model in errors.
  Graph(const ArchitectureSpec& arch, const WeightProvider& weights, const std::string& file);
  ~Graph();

  const std::vector<PredictIO>& inputs() const { return inputs_; }
  const std::vector<PredictIO>& outputs() const { return outputs_; }
  // Runs one batch; inputs in the order of inputs(). Masks of inputs are null.
  std::vector<Array> run(const std::vector<Array>& inputs) const;

 private:
  struct Node;
  struct Value {
    Array array;
    Mask mask;
  };
  // The outputs of one call of a layer, computed once per run (memo); the reference is valid until
  // the memo of that layer grows.
  const std::vector<Value>& eval_node(size_t layer, int node, std::vector<std::vector<std::vector<Value>>*>& memo,
                                      const std::vector<Array>& inputs) const;

  std::string file_;
  bool sequential_ = false;
  std::vector<std::unique_ptr<Node>> nodes_;  // one per LayerSpec
  std::vector<PredictIO> inputs_, outputs_;
  std::vector<TensorLink> input_links_, output_links_;
  std::map<std::string, size_t> index_;  // layer name -> nodes_ position
};

}  // namespace kmodel::engine
