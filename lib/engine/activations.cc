// Activation math (formulas from the Keras activation docs).
#include "engine/activations.h"

#include <Eigen/Core>

#include <algorithm>
#include <cmath>

namespace kmodel::engine {
namespace {
inline float sigmoid(float x) {
  return x >= 0 ? 1.f / (1.f + std::exp(-x)) : std::exp(x) / (1.f + std::exp(x));
}
inline float softplus(float x) { return x > 20.f ? x : std::log1p(std::exp(x)); }

void softmax_rows(float* x, int64_t rows, int64_t d, bool log) {
  for (int64_t r = 0; r < rows; ++r) {
    float* p = x + r * d;
    float m = *std::max_element(p, p + d);
    double s = 0;
    for (int64_t i = 0; i < d; ++i) s += std::exp(static_cast<double>(p[i] - m));
    if (log) {
      float ls = static_cast<float>(std::log(s));
      for (int64_t i = 0; i < d; ++i) p[i] = p[i] - m - ls;
    } else {
      for (int64_t i = 0; i < d; ++i) p[i] = static_cast<float>(std::exp(static_cast<double>(p[i] - m)) / s);
    }
  }
}
}  // namespace

void apply_activation(const Activation& act, float* x, int64_t n, int64_t last_dim) {
  using K = Activation::Kind;
  const float alpha = act.alpha;
  // The hot ones (dense layers, recurrent gates) use Eigen's vectorized exp/tanh.
  Eigen::Map<Eigen::ArrayXf> a(x, n);
  switch (act.kind) {
    case K::kLinear: return;
    case K::kRelu: a = a.max(0.f); return;
    case K::kSigmoid: a = (1.f + (-a).exp()).inverse(); return;
    case K::kHardSigmoid: a = (0.2f * a + 0.5f).max(0.f).min(1.f); return;
    case K::kHardSigmoidK3:
      for (int64_t i = 0; i < n; ++i) x[i] = std::clamp(x[i] + 3.f, 0.f, 6.f) / 6.f;
      return;
    case K::kHardSilu:
      for (int64_t i = 0; i < n; ++i) x[i] = x[i] * std::clamp(x[i] + 3.f, 0.f, 6.f) / 6.f;
      return;
    case K::kTanh: a = a.tanh(); return;
    case K::kSoftmax: softmax_rows(x, n / std::max<int64_t>(last_dim, 1), last_dim, false); return;
    case K::kLogSoftmax: softmax_rows(x, n / std::max<int64_t>(last_dim, 1), last_dim, true); return;
    case K::kSoftplus: for (int64_t i = 0; i < n; ++i) x[i] = softplus(x[i]); return;
    case K::kSoftsign: for (int64_t i = 0; i < n; ++i) x[i] = x[i] / (1.f + std::fabs(x[i])); return;
    case K::kSelu: {
      const float a = 1.6732632423543772f, s = 1.0507009873554805f;
      for (int64_t i = 0; i < n; ++i) x[i] = x[i] > 0 ? s * x[i] : s * a * std::expm1(x[i]);
      return;
    }
    case K::kElu: for (int64_t i = 0; i < n; ++i) x[i] = x[i] > 0 ? x[i] : alpha * std::expm1(x[i]); return;
    case K::kExponential: for (int64_t i = 0; i < n; ++i) x[i] = std::exp(x[i]); return;
    case K::kSwish: for (int64_t i = 0; i < n; ++i) x[i] = x[i] * sigmoid(x[i]); return;
    case K::kGelu:
      for (int64_t i = 0; i < n; ++i) x[i] = 0.5f * x[i] * (1.f + std::erf(x[i] * 0.70710678118654752f));
      return;
    case K::kGeluTanh:
      for (int64_t i = 0; i < n; ++i) {
        float v = x[i];
        x[i] = 0.5f * v * (1.f + std::tanh(0.7978845608028654f * (v + 0.044715f * v * v * v)));
      }
      return;
    case K::kRelu6: for (int64_t i = 0; i < n; ++i) x[i] = std::clamp(x[i], 0.f, 6.f); return;
    case K::kLeakyRelu: for (int64_t i = 0; i < n; ++i) x[i] = x[i] >= 0 ? x[i] : alpha * x[i]; return;
    case K::kMish: for (int64_t i = 0; i < n; ++i) x[i] = x[i] * std::tanh(softplus(x[i])); return;
  }
}

void add_bias_activate(const Activation& act, float* y, int64_t rows, int64_t cols, const float* bias) {
  if (!bias) {
    apply_activation(act, y, rows * cols, cols);
    return;
  }
  using K = Activation::Kind;
  Eigen::Map<const Eigen::ArrayXf> b(bias, cols);
  for (int64_t r = 0; r < rows; ++r) {
    Eigen::Map<Eigen::ArrayXf> row(y + r * cols, cols);
    if (act.kind == K::kRelu) {
      row = (row + b).max(0.f);
    } else {
      row += b;
      apply_activation(act, row.data(), cols, cols);
    }
  }
}

void softmax_axis(Array& a, int axis, bool log) {
  const int64_t d = a.shape[axis];
  const int64_t inner = dims_product(a.shape, axis + 1, a.shape.size());
  if (inner == 1) {
    softmax_rows(a.values.data(), static_cast<int64_t>(a.values.size()) / std::max<int64_t>(d, 1), d, log);
    return;
  }
  Array t = move_axis(a, axis, static_cast<int>(a.shape.size()) - 1);
  softmax_rows(t.values.data(), static_cast<int64_t>(t.values.size()) / std::max<int64_t>(d, 1), d, log);
  a = move_axis(t, static_cast<int>(a.shape.size()) - 1, axis);
}

}  // namespace kmodel::engine
