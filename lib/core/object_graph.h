// The TF2 trackable object graph (_CHECKPOINTABLE_OBJECT_GRAPH, also the trackable part of a
// SavedModel's object graph) and its mapping onto Keras layers, in both directions. Format-neutral:
// used by the checkpoint format and reusable by SavedModel. See FORMATS.md sections C.6 and E.
//
// Naming conventions of the IR produced by map_to_model():
// - A layer variable: Weight::attr = object path below the layer node ("kernel", "cell/kernel",
//   "forward_layer/cell/bias"), Weight::name = "<layer name>/<attr>:0".
// - An optimizer variable: Weight::attr = object path below the optimizer node ("iter",
//   "base_optimizer/learning_rate"), Weight::name = its full_name + ":0" ("SGD/iter:0") when the graph
//   stores one, else "optimizer/<attr>:0".
// - An optimizer slot: Weight::attr = ".OPTIMIZER_SLOT/<owner path below the optimizer>/<slot name>"
//   (owner path empty for a plain optimizer: ".OPTIMIZER_SLOT/m"), Weight::name =
//   "<optimizer prefix>/<name of the original variable without :0>/<slot>:0" ("Adam/dense/kernel/m:0",
//   the tf.keras H5 convention), optimizer prefix = first component of the slot's full_name, else
//   "optimizer".
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/nested_layout.h"
#include "kmodel/architecture.h"
#include "kmodel/model.h"

namespace kmodel::objgraph {

struct Attribute {
  std::string name;            // "VARIABLE_VALUE"
  std::string full_name;       // "sequential/dense/kernel" (may be empty)
  std::string checkpoint_key;  // bundle key
};
struct SlotRef {
  int original_node = 0;
  std::string slot_name;
  int slot_node = 0;
};
struct Node {
  std::vector<std::pair<std::string, int>> children;  // (local_name, node id), unescaped names
  std::vector<Attribute> attributes;
  std::vector<SlotRef> slots;
};
struct Graph {
  std::vector<Node> nodes;  // nodes[0] = root
};

// Parses a serialized TrackableObjectGraph; node ids are range-checked. Throws BadInputError(file, ...).
Graph parse(const std::string& bytes, const std::string& file);
std::string serialize(const Graph& graph);
// IR form for inspect --tree.
std::vector<ObjectNode> to_object_nodes(const Graph& graph);

// Checkpoint key escaping of one local name (E.2): "." -> "..", "/" -> ".S".
std::string escape(std::string_view name);
std::string unescape(std::string_view escaped);
// Escaped object path of every node (first path in breadth-first order from the root; root = "").
// Unreachable nodes get an empty path and reachable[i] = false.
std::vector<std::string> node_paths(const Graph& graph, std::vector<bool>* reachable = nullptr);
// "<path>/.ATTRIBUTES/VARIABLE_VALUE" (path "" gives ".ATTRIBUTES/VARIABLE_VALUE").
std::string variable_key(const std::string& object_path);

// ---------------------------------------------------------------------------------------------------
// Graph -> Keras layers

struct VariableRef {
  int node = 0;
  std::string attr;       // unescaped object path below the owner (layer / optimizer / root)
  std::string key;        // checkpoint key of the VARIABLE_VALUE attribute
  std::string full_name;  // may be empty
};
struct LayerNode {
  int node = 0;
  int layer_index = -1;          // N of the root's "layer-N" edge, -1 when absent
  int weights_index = -1;        // M of "layer_with_weights-M", -1 when absent
  std::string edge;              // the first edge name naming it ("layer_with_weights-0", "dense1")
  std::vector<VariableRef> vars; // graph order (depth-first over children, first path wins)
};
struct SlotVariable {
  std::string original_key;   // key of the variable the slot belongs to
  int original_node = 0;
  std::string owner_path;     // unescaped path of the optimizer node that owns the slot, below "optimizer"
  std::string slot_name;
  VariableRef var;
};
struct KerasMapping {
  int model_node = 0;                   // root, or the root's "model" child for tf.train.Checkpoint
  int optimizer_node = -1;
  std::vector<LayerNode> layers;        // in layer-N order; layers reached only by other edges appended
  std::vector<VariableRef> optimizer_vars;  // below the optimizer node, slots excluded
  std::vector<SlotVariable> slots;
  std::vector<VariableRef> others;      // everything else (save_counter, keras_api/..., attribute paths)
};
KerasMapping map_keras(const Graph& graph);

// Loads tensors for keys; implemented by the caller (bundle reader).
struct TensorLookup {
  virtual ~TensorLookup() = default;
  // nullptr-equivalent: an invalid TensorRef when the key is absent.
  virtual TensorRef get(const std::string& key) const = 0;
};

// Fills model.layers / optimizer / top_level_weights from a mapping. When `arch_layers` is non-empty
// (the layers implied by an architecture, in model.layers order) layer-N maps onto arch_layers[N];
// otherwise one Layer per weighted layer node, named from its variables' full_name (else the edge).
// With `arch` (the architecture arch_layers came from) the variables of a nested model are named by
// its layers through the nested model's layer-N edges, as the H5 reader names them: attr
// "bn1/beta" / "inner/dense/kernel", name = the variable's full_name (else the attr) + ":0".
// Throws BadInputError(file, ...) when the graph disagrees with the architecture (layer count, a
// nested model's layer-N beyond its layers).
void map_to_model(const Graph& graph, const KerasMapping& mapping, const TensorLookup& tensors,
                  const std::vector<Layer>& arch_layers, const std::string& file, Model& model,
                  const ArchitectureSpec* arch = nullptr);

// ---------------------------------------------------------------------------------------------------
// Keras layers -> graph (for writers)

// The attribute path of a weight below its layer: Weight::attr when set, else derived from the name
// ("dense_1/kernel:0" -> "kernel", "lstm/lstm_cell/kernel:0" -> "cell/kernel", Keras 1 "dense_1_W" ->
// "kernel"). Throws UnsupportedError when it cannot be derived.
std::string weight_attr(const Weight& weight, const Layer& layer, const std::string& file);

struct BuiltVariable {
  std::string key;
  const Weight* weight = nullptr;
};
struct BuiltGraph {
  Graph graph;
  std::vector<BuiltVariable> variables;  // model variables first, then optimizer ones; keys unique
  // Nested models: index in model.layers -> its members, Member::node = their node ids in `graph`.
  std::map<size_t, std::vector<nested::Member>> nested;
};
// Builds the object graph model.save_weights() would write: root = model, children
// layer_with_weights-M then layer-N per layer, variable nodes, optional optimizer node with slots.
// A nested model (per `arch`) gets its own layer_with_weights-M / layer-N children over its layers,
// recursively (nested_layout.h); node ids are then breadth-first, as TF numbers them.
// `file` names the destination for errors.
BuiltGraph build_keras(const Model& model, const ArchitectureSpec* arch, bool include_optimizer, const std::string& file);
// The same with the architecture parsed from model.model_config (none when absent or unparsable).
BuiltGraph build_keras(const Model& model, bool include_optimizer, const std::string& file);

}  // namespace kmodel::objgraph
