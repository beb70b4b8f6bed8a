// Per-layer shape knowledge derived from an architecture alone: output shapes propagated through
// Sequential and Functional graphs (nested models included) and the weights each layer class
// creates (Keras variable names, shapes, trainable flag, initializer config), in Keras' legacy
// `layer.weights` order (trainable first, then non-trainable).
//
// Unknown dimensions (the batch, or anything that cannot be derived) are -1, printed "None".
// Layer classes kmodel does not know (custom objects, Lambda, TF-op layers calling functions
// core/tf_op_shapes does not know) are reported with
// known = false and no output shape ("?"); that is never an error.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "kmodel/architecture.h"
#include "kmodel/tensor.h"

namespace kmodel {

struct ExpectedWeight {
  // Keras variable name below its layer: "kernel", "bias", "gamma", "moving_mean", "embeddings",
  // "recurrent_kernel", "depthwise_kernel"; for nested models and wrappers prefixed with the
  // sub-layer name: "forward_lstm/kernel", "dense_1/kernel". Keras 1 configs use Keras 1 names
  // ("W", "b", "W_i", "U_i", "running_std"...).
  std::string name;
  // Object path as checkpoints name it below the layer: "kernel", "cell/kernel",
  // "forward_layer/cell/kernel", "layer/kernel" (TimeDistributed).
  std::string attr;
  Shape shape;  // -1 where a dimension cannot be derived
  bool trainable = true;
  DType dtype = DType::kFloat32;
  // The initializer config as JSON text: an object {"class_name", "config"} or a string
  // ("glorot_uniform", Keras 1 "init"). kmodel's own LSTM forget-gate bias (unit_forget_bias) is
  // {"class_name": "kmodel>UnitForgetBias", "config": {"units": U, "base": <bias initializer>}}.
  std::string initializer_json;
};

struct LayerShapes {
  std::string class_name;
  bool known = false;                      // the class is one kmodel understands
  std::vector<Shape> output_shapes;        // of the layer's first call; empty when unknown
  std::vector<ExpectedWeight> weights;     // legacy order: trainable first, then non-trainable
  int64_t param_count() const;             // -1 when a weight shape is not fully known
};

// Infers shapes for every layer of `arch`. Keys are layer names; layers of nested models are also
// listed as "<outer>/<inner>" (the nested model's own entry carries all its sublayers' weights,
// trainable first, names prefixed "<inner>/"). `file` names the source in error messages.
std::map<std::string, LayerShapes> infer_layer_shapes(const ArchitectureSpec& arch, const std::string& file);

// Keras summary style: "(None, 10)"; several outputs "[(None, 3), (None, 4)]"; "?" when unknown.
std::string output_shape_str(const LayerShapes& shapes);
// "(None, 10)" for one shape (-1 printed as None).
std::string keras_shape_str(const Shape& shape);

}  // namespace kmodel
