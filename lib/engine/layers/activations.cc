// Activation layers with parameters: ReLU, LeakyReLU, PReLU, ELU, Softmax, ThresholdedReLU.
#include <cmath>
#include <limits>

#include "engine/activations.h"
#include "engine/layer.h"

namespace kmodel::engine {
namespace {

class Elementwise : public InPlaceLayer {
 public:
  explicit Elementwise(std::function<float(float)> f) : f_(std::move(f)) {}
  Array run(Array x, const Mask&) const override {
    for (float& v : x.values) v = f_(v);
    return x;
  }
  Mask output_mask(const std::vector<Array>&, const Mask& m, const std::vector<Array>&) const override { return m; }

 private:
  std::function<float(float)> f_;
};

class PReLU : public InPlaceLayer {
 public:
  explicit PReLU(Array alpha) : alpha_(std::move(alpha)) {}
  Array run(Array out, const Mask&) const override {
    // alpha has the input shape without batch, with 1 on shared axes: broadcast it.
    const Shape& s = out.shape;
    if (alpha_.shape.size() + 1 != s.size()) throw UsageError("PReLU alpha " + shape_str(alpha_.shape) + " does not fit input " + shape_str(s));
    const size_t r = s.size();
    std::vector<int64_t> astr(r, 0);
    int64_t st = 1;
    for (size_t i = r; i-- > 1;) {
      astr[i] = alpha_.shape[i - 1] == 1 ? 0 : st;
      st *= alpha_.shape[i - 1];
    }
    std::vector<int64_t> idx(r, 0);
    for (size_t n = 0; n < out.values.size(); ++n) {
      int64_t ai = 0;
      for (size_t i = 1; i < r; ++i) ai += idx[i] * astr[i];
      float& v = out.values[n];
      if (v < 0) v *= alpha_.values[ai];
      for (size_t k = r; k-- > 0;) {
        if (++idx[k] < s[k]) break;
        idx[k] = 0;
      }
    }
    return out;
  }

 private:
  Array alpha_;
};

class Softmax : public Layer {
 public:
  explicit Softmax(int axis) : axis_(axis) {}
  std::vector<Array> apply(const std::vector<Array>& in, const Mask&) const override {
    Array out = in.at(0);
    softmax_axis(out, norm_axis(axis_, out.shape.size(), "Softmax"));
    return single(std::move(out));
  }

 private:
  int axis_;
};

}  // namespace

void register_activation_layers(Registry& r) {
  r.add("ReLU", [](const LayerParams& p) -> std::unique_ptr<Layer> {
    const float inf = std::numeric_limits<float>::infinity();
    const float max_value = static_cast<float>(p.config.num_or({"max_value"}, inf));
    const float slope = static_cast<float>(p.config.num_or({"negative_slope"}, 0.0));
    const float thr = static_cast<float>(p.config.num_or({"threshold"}, 0.0));
    return std::make_unique<Elementwise>([=](float x) {
      if (x >= max_value) return max_value;
      if (x >= thr) return x;
      return slope * (x - thr);
    });
  });
  r.add("LeakyReLU", [](const LayerParams& p) -> std::unique_ptr<Layer> {
    const float a = static_cast<float>(p.config.num_or({"alpha", "negative_slope"}, 0.3));
    return std::make_unique<Elementwise>([=](float x) { return x >= 0 ? x : a * x; });
  });
  r.add("ELU", [](const LayerParams& p) -> std::unique_ptr<Layer> {
    const float a = static_cast<float>(p.config.num_or({"alpha"}, 1.0));
    return std::make_unique<Elementwise>([=](float x) { return x > 0 ? x : a * std::expm1(x); });
  });
  r.add("ThresholdedReLU", [](const LayerParams& p) -> std::unique_ptr<Layer> {
    const float t = static_cast<float>(p.config.num_or({"theta"}, 1.0));
    return std::make_unique<Elementwise>([=](float x) { return x > t ? x : 0.f; });
  });
  r.add("PReLU", [](const LayerParams& p) -> std::unique_ptr<Layer> {
    p.expect_weights(1, 1);
    return std::make_unique<PReLU>(p.weights[0]);
  });
  r.add("Softmax", [](const LayerParams& p) -> std::unique_ptr<Layer> {
    auto axes = p.config.int_list("axis");
    if (axes && axes->size() != 1) p.unsupported("Softmax over several axes");
    return std::make_unique<Softmax>(axes ? static_cast<int>((*axes)[0]) : -1);
  });
}

}  // namespace kmodel::engine
