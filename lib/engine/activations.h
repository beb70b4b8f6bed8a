// Activation functions applied in place; softmax and log_softmax work over the last axis.
#pragma once

#include "engine/array.h"
#include "engine/config.h"

namespace kmodel::engine {

void apply_activation(const Activation& act, float* x, int64_t n, int64_t last_dim);
inline void apply_activation(const Activation& act, Array& a) {
  if (act.is_linear()) return;
  apply_activation(act, a.values.data(), static_cast<int64_t>(a.values.size()),
                   a.shape.empty() ? 1 : a.shape.back());
}
// y (rows x cols, row-major) += bias (may be null), then the activation, in one pass over the rows
// (each row is still in cache for the activation); softmax works per row.
void add_bias_activate(const Activation& act, float* y, int64_t rows, int64_t cols, const float* bias);
// Softmax over `axis` of a (outer, axis, inner) view.
void softmax_axis(Array& a, int axis, bool log = false);

}  // namespace kmodel::engine
