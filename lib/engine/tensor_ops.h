// Whole-array operations with NumPy/TensorFlow semantics for the TF-op layers (layers/tf_ops.cc):
// broadcasting element-wise binaries, reductions, basic indexing (ints, slices, new axes, ellipsis),
// concatenation, stacking, tiling, constant padding and batched matrix products. Shapes are checked
// and errors are UsageErrors naming `what` (the layer), since they come from the input's shape.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "engine/array.h"

namespace kmodel::engine::ops {

// out = f(a, b) with NumPy broadcasting (shapes aligned at the right; sizes equal or 1).
Array broadcast_binary(const Array& a, const Array& b, const std::function<float(float, float)>& f,
                       const std::string& what);

enum class Reduce { kSum, kMean, kMax, kMin, kProd };
// Reduces over `axes` (normalized, any order; empty = every axis), keeping them as size 1 if keepdims.
Array reduce(const Array& a, std::vector<int> axes, Reduce kind, bool keepdims);
// Index of the largest (or smallest) element along `axis`, as floats; the axis is removed.
Array arg_extreme(const Array& a, int axis, bool largest);

// One item of a NumPy/TF index: an integer, a slice (unset bounds are open), a new axis, or "...".
struct IndexItem {
  enum class Kind { kInt, kSlice, kNewAxis, kEllipsis } kind = Kind::kSlice;
  int64_t index = 0;
  std::optional<int64_t> start, stop, step;
};
Array basic_index(const Array& a, const std::vector<IndexItem>& items, const std::string& what);

// Joins arrays along `axis` (all other dims equal); stack inserts a new axis first.
Array concat(const std::vector<const Array*>& parts, int axis, const std::string& what);
Array stack(const std::vector<const Array*>& parts, int axis, const std::string& what);
Array tile(const Array& a, const std::vector<int64_t>& multiples, const std::string& what);
// Constant padding: pads[i] = (before, after) for axis i.
Array pad(const Array& a, const std::vector<std::pair<int64_t, int64_t>>& pads, float value, const std::string& what);
// a (..., M, K) x b (..., K, N) with broadcast batch dims; transposes apply to the last two axes.
Array matmul(const Array& a, const Array& b, bool transpose_a, bool transpose_b, const std::string& what);
// Reshape with at most one -1 (inferred); sizes must match.
Array reshape(Array a, const std::vector<int64_t>& shape, const std::string& what);

}  // namespace kmodel::engine::ops
