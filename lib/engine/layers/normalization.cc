// Normalization layers: BatchNormalization (inference: moving statistics), LayerNormalization,
// UnitNormalization, GroupNormalization, Normalization (preprocessing, mean/variance).
#include <cmath>

#include "engine/layer.h"

namespace kmodel::engine {
namespace {

// y = x * scale[c] + shift[c] along one axis.
class ChannelAffine : public Layer {
 public:
  ChannelAffine(int axis, std::vector<float> scale, std::vector<float> shift)
      : axis_(axis), scale_(std::move(scale)), shift_(std::move(shift)) {}
  std::vector<Array> apply(const std::vector<Array>& in, const Mask&) const override {
    Array out = in.at(0);
    const int a = norm_axis(axis_, out.shape.size(), "BatchNormalization");
    if (scale_.size() == 1) {
      for (float& v : out.values) v = v * scale_[0] + shift_[0];
      return single(std::move(out));
    }
    const int64_t C = out.shape[a];
    if (C != static_cast<int64_t>(scale_.size()))
      throw UsageError("normalization expects " + std::to_string(scale_.size()) + " channels on axis " +
                       std::to_string(axis_) + ", got input " + shape_str(out.shape));
    const int64_t inner = dims_product(out.shape, a + 1, out.shape.size());
    const int64_t outer = dims_product(out.shape, 0, a);
    float* p = out.values.data();
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t c = 0; c < C; ++c) {
        const float s = scale_[c], t = shift_[c];
        for (int64_t i = 0; i < inner; ++i, ++p) *p = *p * s + t;
      }
    return single(std::move(out));
  }
  Mask output_mask(const std::vector<Array>&, const Mask& m, const std::vector<Array>&) const override { return m; }

 private:
  int axis_;
  std::vector<float> scale_, shift_;
};

// Normalizes over the trailing `axes` (must be contiguous trailing axes) then applies gamma/beta
// shaped like those axes. groups > 1: GroupNormalization over the last axis split in groups.
class LayerNorm : public Layer {
 public:
  LayerNorm(std::vector<int> axes, float eps, Array gamma, Array beta, bool rms)
      : axes_(std::move(axes)), eps_(eps), gamma_(std::move(gamma)), beta_(std::move(beta)), rms_(rms) {}
  std::vector<Array> apply(const std::vector<Array>& in, const Mask&) const override {
    Array out = in.at(0);
    const size_t r = out.shape.size();
    std::vector<int> ax;
    const int64_t groups_ = 1;
    for (int a : axes_) ax.push_back(norm_axis(a, r, "LayerNormalization"));
    std::sort(ax.begin(), ax.end());
    for (size_t i = 0; i < ax.size(); ++i)
      if (ax[i] != static_cast<int>(r - ax.size() + i))
        throw UnsupportedError("", "LayerNormalization", "normalization over non-trailing axes");
    const int64_t n = dims_product(out.shape, r - ax.size(), r);
    const int64_t rows = numel(out.shape) / std::max<int64_t>(n, 1);
    const int64_t gsize = n / groups_;
    for (int64_t row = 0; row < rows; ++row) {
      float* p = out.values.data() + row * n;
      for (int64_t g = 0; g < groups_; ++g) {
        float* q = p + g * gsize;
        double mean = 0, var = 0;
        if (!rms_) {
          for (int64_t i = 0; i < gsize; ++i) mean += q[i];
          mean /= static_cast<double>(gsize);
        }
        for (int64_t i = 0; i < gsize; ++i) var += (q[i] - mean) * (q[i] - mean);
        var /= static_cast<double>(gsize);
        const double inv = 1.0 / std::sqrt(var + eps_);
        for (int64_t i = 0; i < gsize; ++i) q[i] = static_cast<float>((q[i] - mean) * inv);
      }
      if (!gamma_.values.empty())
        for (int64_t i = 0; i < n; ++i) p[i] *= gamma_.values[i];
      if (!beta_.values.empty())
        for (int64_t i = 0; i < n; ++i) p[i] += beta_.values[i];
    }
    return single(std::move(out));
  }
  Mask output_mask(const std::vector<Array>&, const Mask& m, const std::vector<Array>&) const override { return m; }

 private:
  std::vector<int> axes_;
  float eps_;
  Array gamma_, beta_;
  bool rms_;
};

// GroupNormalization over the last axis: statistics over all non-batch positions of each group.
class GroupNorm : public Layer {
 public:
  GroupNorm(int64_t groups, float eps, Array gamma, Array beta)
      : groups_(groups), eps_(eps), gamma_(std::move(gamma)), beta_(std::move(beta)) {}
  std::vector<Array> apply(const std::vector<Array>& in, const Mask&) const override {
    Array out = in.at(0);
    const int64_t B = out.shape[0], C = out.shape.back();
    if (C % groups_ != 0) throw UsageError("GroupNormalization: channels not divisible by groups");
    const int64_t S = numel(out.shape) / (B * C), cg = C / groups_;
    for (int64_t b = 0; b < B; ++b) {
      float* p = out.values.data() + b * S * C;
      for (int64_t g = 0; g < groups_; ++g) {
        double mean = 0, var = 0;
        for (int64_t s = 0; s < S; ++s)
          for (int64_t c = g * cg; c < (g + 1) * cg; ++c) mean += p[s * C + c];
        mean /= static_cast<double>(S * cg);
        for (int64_t s = 0; s < S; ++s)
          for (int64_t c = g * cg; c < (g + 1) * cg; ++c) var += (p[s * C + c] - mean) * (p[s * C + c] - mean);
        var /= static_cast<double>(S * cg);
        const double inv = 1.0 / std::sqrt(var + eps_);
        for (int64_t s = 0; s < S; ++s)
          for (int64_t c = g * cg; c < (g + 1) * cg; ++c) {
            float v = static_cast<float>((p[s * C + c] - mean) * inv);
            if (!gamma_.values.empty()) v *= gamma_.values[c];
            if (!beta_.values.empty()) v += beta_.values[c];
            p[s * C + c] = v;
          }
      }
    }
    return single(std::move(out));
  }

 private:
  int64_t groups_;
  float eps_;
  Array gamma_, beta_;
};

class UnitNorm : public Layer {
 public:
  explicit UnitNorm(std::vector<int> axes) : axes_(std::move(axes)) {}
  std::vector<Array> apply(const std::vector<Array>& in, const Mask&) const override {
    Array out = in.at(0);
    const size_t r = out.shape.size();
    std::vector<int> ax;
    for (int a : axes_) ax.push_back(norm_axis(a, r, "UnitNormalization"));
    std::sort(ax.begin(), ax.end());
    for (size_t i = 0; i < ax.size(); ++i)
      if (ax[i] != static_cast<int>(r - ax.size() + i))
        throw UnsupportedError("", "UnitNormalization", "normalization over non-trailing axes");
    const int64_t n = dims_product(out.shape, r - ax.size(), r);
    for (int64_t row = 0; row < numel(out.shape) / std::max<int64_t>(n, 1); ++row) {
      float* p = out.values.data() + row * n;
      double s = 0;
      for (int64_t i = 0; i < n; ++i) s += static_cast<double>(p[i]) * p[i];
      const double inv = 1.0 / std::sqrt(std::max(s, 1e-12));
      for (int64_t i = 0; i < n; ++i) p[i] = static_cast<float>(p[i] * inv);
    }
    return single(std::move(out));
  }

 private:
  std::vector<int> axes_;
};

std::vector<int> axes_of(const Config& c, int fallback) {
  auto a = c.int_list("axis");
  std::vector<int> out;
  if (!a || a->empty()) out.push_back(fallback);
  else
    for (int64_t v : *a) out.push_back(static_cast<int>(v));
  return out;
}

std::unique_ptr<Layer> make_batchnorm(const LayerParams& p) {
  const Config& c = p.config;
  const bool center = c.bool_or({"center"}, true), scale = c.bool_or({"scale"}, true);
  const size_t n = 2 + (center ? 1 : 0) + (scale ? 1 : 0);
  p.expect_weights(n, n);
  if (c.int_or({"mode"}, 0) != 0) p.unsupported("Keras 1 BatchNormalization mode " + std::to_string(c.int_or({"mode"}, 0)));
  std::vector<int> axes = axes_of(c, -1);
  if (axes.size() != 1) p.unsupported("BatchNormalization over several axes");
  const double eps = c.num_or({"epsilon"}, 1e-3);
  size_t i = 0;
  const Array* gamma = scale ? &p.weights[i++] : nullptr;
  const Array* beta = center ? &p.weights[i++] : nullptr;
  const Array& mean = p.weights[i++];
  const Array& var = p.weights[i++];
  const size_t C = mean.values.size();
  for (const Array* w : {gamma, beta, &var})
    if (w && w->values.size() != C) p.bad("BatchNormalization weights have different sizes");
  std::vector<float> sc(C), sh(C);
  for (size_t k = 0; k < C; ++k) {
    const double g = gamma ? gamma->values[k] : 1.0;
    const double b = beta ? beta->values[k] : 0.0;
    const double s = g / std::sqrt(static_cast<double>(var.values[k]) + eps);
    sc[k] = static_cast<float>(s);
    sh[k] = static_cast<float>(b - mean.values[k] * s);
  }
  return std::make_unique<ChannelAffine>(axes[0], sc, sh);
}

std::unique_ptr<Layer> make_layernorm(const LayerParams& p, int64_t groups) {
  const Config& c = p.config;
  const bool rms = groups == 0 && c.bool_or({"rms_scaling"}, false);
  const bool center = c.bool_or({"center"}, true) && !rms, scale = c.bool_or({"scale"}, true);
  const size_t n = (center ? 1 : 0) + (scale ? 1 : 0);
  p.expect_weights(n, n);
  size_t i = 0;
  Array gamma = scale ? p.weights[i++] : Array{};
  Array beta = center ? p.weights[i++] : Array{};
  std::vector<int> axes = axes_of(c, -1);
  if (groups > 0) {
    if (axes.size() != 1 || axes[0] != -1) p.unsupported("GroupNormalization on an axis other than the last");
    return std::make_unique<GroupNorm>(groups, static_cast<float>(c.num_or({"epsilon"}, 1e-3)), gamma, beta);
  }
  return std::make_unique<LayerNorm>(axes, static_cast<float>(c.num_or({"epsilon"}, 1e-3)), gamma, beta, rms);
}

std::unique_ptr<Layer> make_normalization(const LayerParams& p) {
  const Config& c = p.config;
  std::vector<float> mean, var;
  if (auto m = c.numbers("mean")) {
    auto v = c.numbers("variance");
    if (!v) p.bad("Normalization has a mean but no variance");
    for (double d : *m) mean.push_back(static_cast<float>(d));
    for (double d : *v) var.push_back(static_cast<float>(d));
  } else {
    p.expect_weights(2, 3);  // mean, variance, count
    mean = p.weights[0].values;
    var = p.weights[1].values;
  }
  if (mean.size() != var.size()) p.bad("Normalization mean and variance differ in size");
  const bool invert = c.bool_or({"invert"}, false);
  std::vector<int> axes = axes_of(c, -1);
  if (axes.size() != 1) p.unsupported("Normalization over several axes");
  std::vector<float> sc(mean.size()), sh(mean.size());
  for (size_t k = 0; k < mean.size(); ++k) {
    const float sd = std::max(std::sqrt(var[k]), 1e-7f);
    if (invert) {
      sc[k] = sd;
      sh[k] = mean[k];
    } else {
      sc[k] = 1.f / sd;
      sh[k] = -mean[k] / sd;
    }
  }
  if (mean.size() == 1) return std::make_unique<ChannelAffine>(-1, sc, sh);  // broadcast scalar below
  return std::make_unique<ChannelAffine>(axes[0], sc, sh);
}

}  // namespace

void register_normalization_layers(Registry& r) {
  r.add("BatchNormalization", make_batchnorm);
  r.add("LayerNormalization", [](const LayerParams& p) { return make_layernorm(p, 0); });
  r.add("GroupNormalization", [](const LayerParams& p) { return make_layernorm(p, p.config.int_or({"groups"}, 32)); });
  r.add("UnitNormalization", [](const LayerParams& p) -> std::unique_ptr<Layer> {
    return std::make_unique<UnitNorm>(axes_of(p.config, -1));
  });
  r.add("Normalization", make_normalization);
}

}  // namespace kmodel::engine
