// Output shapes of tf.keras TF-op layers (TFOpLambda, SlicingOpLambda) from their recorded call:
// the TensorFlow function's name, the first argument (tensors or a constant) and the kwargs
// (constants, or tensors whose shapes the caller looked up). Used by layer_shapes.cc so that
// `inspect` shows these layers' shapes and layers after them get their weight shapes (save --init).
// Unknown dimensions are -1; a function this table does not know gives nullopt (shape unknown).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "kmodel/architecture.h"
#include "kmodel/tensor.h"

namespace kmodel {

bool is_tf_op_layer(const std::string& class_name);

// A tensor among call arguments: a tf.keras [layer, node, tensor] triple or a Keras 3 __keras_tensor__.
bool is_tensor_link(const rapidjson::Value& v);

// Python's slice rules over a dimension of size n (open, negative and out-of-range bounds; any
// non-zero step): the first index and the number of elements. Shared by shape inference and the
// engine's indexing (engine/tensor_ops).
struct SliceRange {
  int64_t start = 0;
  int64_t count = 0;
};
SliceRange python_slice(int64_t n, std::optional<int64_t> start, std::optional<int64_t> stop, int64_t step);

// The tensor links among a TF-op call's kwargs, by kwarg name.
std::map<std::string, TensorLink> tf_op_kwarg_links(const LayerCall& call, const std::string& file);

// `function` is the config's "function"; `first` the shapes of the call's tensor inputs (empty
// when the first argument is a constant); `kwarg_shapes` the shapes of kwargs that are tensors
// (nullopt where unknown).
std::optional<Shape> tf_op_output_shape(const std::string& function, const LayerCall& call,
                                        const std::vector<std::optional<Shape>>& first,
                                        const std::map<std::string, std::optional<Shape>>& kwarg_shapes,
                                        const std::string& file);

}  // namespace kmodel
