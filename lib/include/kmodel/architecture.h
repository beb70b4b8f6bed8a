// A parsed view of a Keras architecture (model_config / to_json) in any dialect (Keras 1, 2, 3):
// layers in order with class, name, config and inbound edges, plus model inputs and outputs.
// The IR keeps the JSON text; this view is derived from it on demand.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kmodel/model.h"

namespace kmodel {

// A reference to one output tensor of a layer call: [layer, node_index, tensor_index].
struct TensorLink {
  std::string layer;
  int node_index = 0;
  int tensor_index = 0;
};

// One call of a layer: its input tensors (in order) and extra call kwargs as JSON text ("{}" if none).
// tf.keras TF-op layers may be called on constants (`1.0 - x` calls tf.math.subtract(1.0, x)): such
// first-argument values are kept as JSON texts, apart from the tensor inputs.
struct LayerCall {
  std::vector<TensorLink> inputs;
  std::string kwargs_json = "{}";
  std::vector<std::string> constant_args_json;
};

struct LayerSpec {
  std::string name;
  std::string class_name;   // Keras class name as written ("Dense", "Convolution2D" in Keras 1)
  std::string module;       // Keras 3 entries: "keras.layers", or "keras.src.ops.numpy" for an operation; "" before
  std::string config_json;  // the layer's "config" object as JSON text
  std::vector<LayerCall> inbound_nodes;  // empty for Sequential members and Input layers
  bool is_model() const;    // Sequential / Functional / Model nested as a layer
};

struct ArchitectureSpec {
  std::string class_name;   // "Sequential", "Functional", "Model"
  std::string name;
  KerasDialect dialect = KerasDialect::kUnknown;
  std::string keras_version;       // the JSON's top-level "keras_version"; "" when absent or nested
  std::vector<LayerSpec> layers;   // config order
  std::vector<TensorLink> inputs;  // functional input_layers (Sequential: empty)
  std::vector<TensorLink> outputs; // functional output_layers (Sequential: empty)
  std::string batch_input_shape_json;  // Sequential: from first layer / InputLayer / build_input_shape, "" if unknown
};

// Parses a model JSON {"class_name", "config"} (to_json output or model_config). Throws BadInputError
// naming `file` when it is not a Keras model description.
ArchitectureSpec parse_architecture(std::string_view model_json, const std::string& file);
// Parses a nested model layer (LayerSpec::is_model()) into its own architecture.
ArchitectureSpec parse_nested_architecture(const LayerSpec& layer, KerasDialect dialect, const std::string& file);
// Guesses the dialect of a model JSON text.
KerasDialect detect_dialect(std::string_view model_json, const std::string& keras_version);

}  // namespace kmodel
