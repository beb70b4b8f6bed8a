// The intermediate representation (IR) every reader produces and every writer consumes.
// A Model holds the architecture as the JSON it came in, the layers with their weights (lazy
// TensorRefs), the training config, the optimizer state, and format extras for inspection.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kmodel/tensor.h"

namespace kmodel {

enum class Format : uint8_t { kUnknown, kH5, kJson, kCheckpoint, kSavedModel, kKerasV3 };

// Which Keras generation wrote a config (decides key names such as batch_input_shape vs batch_shape).
enum class KerasDialect : uint8_t { kUnknown, kKeras1, kKeras2, kKeras3 };

struct Weight {
  // Full Keras variable name as an H5 `weight_names` entry holds it: "dense_1/kernel:0",
  // "lstm/lstm_cell/kernel:0", Keras 1 "dense_1_W". Formats without one synthesize "<layer>/<attr>:0".
  std::string name;
  // Object path of the variable below its layer, as in checkpoints: "kernel", "cell/kernel",
  // "forward_layer/cell/bias". Empty when the format does not say and it cannot be derived.
  std::string attr;
  bool trainable = true;
  TensorRef tensor;
};

struct Layer {
  std::string name;
  std::string class_name;       // empty when the artifact carries no architecture
  std::vector<Weight> weights;  // Keras legacy order: trainable first, then non-trainable
};

struct OptimizerState {
  std::string class_name;       // from training_config when known
  std::vector<Weight> weights;  // in the order the format stores them (H5 weight_names order)
};

// One variable of a TensorBundle (checkpoint or SavedModel variables/), as tf.train.list_variables sees it.
struct BundleVariable {
  std::string key;
  DType dtype = DType::kInvalid;
  Shape shape;
  uint64_t bytes = 0;
  int shard = 0;
  TensorRef tensor;
};

// A node of a trackable/saved object graph, for `inspect --tree`.
struct ObjectNode {
  int id = 0;
  std::string kind;         // "user_object", "variable", "function", ... or "" for checkpoint nodes
  std::string identifier;   // user_object identifier or variable name
  std::vector<std::pair<std::string, int>> children;       // (local_name, node id)
  std::vector<std::pair<std::string, std::string>> attributes;  // checkpoint: (attr name, key)
  std::vector<std::pair<std::string, int>> slots;          // (slot_name, slot node) for optimizer nodes
};

struct CheckpointInfo {
  std::string prefix;
  int num_shards = 1;
  bool object_based = false;             // has _CHECKPOINTABLE_OBJECT_GRAPH
  std::vector<BundleVariable> variables; // sorted by key, as list_variables
  std::vector<ObjectNode> object_graph;
};

struct TensorInfoEntry {
  std::string key, dtype, shape, name;  // as saved_model_cli prints them
};
struct SignatureInfo {
  std::string key, method_name;
  std::vector<TensorInfoEntry> inputs, outputs;
};
struct MetaGraphInfo {
  std::vector<std::string> tags;
  std::string tensorflow_version;
  std::vector<SignatureInfo> signatures;  // sorted by key
};
struct SavedModelInfo {
  int64_t schema_version = 0;
  std::vector<MetaGraphInfo> meta_graphs;
  std::vector<ObjectNode> object_graph;
  std::vector<std::pair<std::string, std::string>> fingerprint;  // field -> value
  std::vector<std::string> assets;
  bool has_keras_metadata = false;
};

struct Model {
  Format origin = Format::kUnknown;
  std::string path;                 // what it was read from
  std::string keras_version;        // "" when absent (Keras 1 weights files)
  std::string backend;
  std::string model_config;         // JSON text {"class_name", "config", ...} exactly as stored; "" if none
  KerasDialect dialect = KerasDialect::kUnknown;
  std::string training_config;      // JSON text; "" if none
  std::vector<Layer> layers;        // model.layers order (H5 layer_names order)
  std::vector<Weight> top_level_weights;  // weights owned by the model object itself (usually none)
  OptimizerState optimizer;
  // Format-specific values kept so that a round trip through the same format preserves them
  // (e.g. "h5.weights_group.keras_version" when it differs from the root attribute).
  std::vector<std::pair<std::string, std::string>> extras;
  std::optional<CheckpointInfo> checkpoint;
  std::optional<SavedModelInfo> saved_model;

  bool has_architecture() const { return !model_config.empty(); }
  bool has_weights() const;
  // Value of an extras key, or "" when absent.
  std::string extra(const std::string& key) const;
  void set_extra(const std::string& key, const std::string& value);
  // All layer weights in model.weights-like order (layer by layer), then top-level weights.
  std::vector<const Weight*> all_weights() const;
};

}  // namespace kmodel
