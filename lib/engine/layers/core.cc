// Core layers: InputLayer-free pass-throughs (Dropout family), Dense, Activation, Flatten, Reshape,
// Permute, RepeatVector, Rescaling, Masking, Embedding.
#include <cmath>

#include "engine/activations.h"
#include "engine/gemm.h"
#include "engine/layer.h"
#include "engine/layers/identity.h"

namespace kmodel::engine {
namespace {

class Dense : public Layer {
 public:
  Dense(const Array& kernel, Array bias, Activation act)
      : kernel_(kernel.values.data(), kernel.shape[0], kernel.shape[1]), bias_(std::move(bias)), act_(act) {}
  std::vector<Array> apply(const std::vector<Array>& in, const Mask&) const override {
    const Array& x = in.at(0);
    const int64_t k = kernel_.rows(), u = kernel_.cols();
    if (x.shape.empty() || x.shape.back() != k)
      throw UsageError("Dense expects last dimension " + std::to_string(k) + ", got input " + shape_str(x.shape));
    const int64_t rows = numel(x.shape) / k;
    Shape os = x.shape;
    os.back() = u;
    Array out = make_array(os);
    const bool relu = act_.kind == Activation::Kind::kRelu;
    gemm(x.values.data(), rows, k, kernel_, out.values.data(), u, bias_.values.empty() ? nullptr : bias_.values.data(),
         false, relu);
    if (!relu) apply_activation(act_, out);
    return single(std::move(out));
  }

 private:
  GemmWeights kernel_;
  Array bias_;
  Activation act_;
};

class ActivationLayer : public InPlaceLayer {
 public:
  explicit ActivationLayer(Activation a) : act_(a) {}
  Array run(Array x, const Mask&) const override {
    apply_activation(act_, x);
    return x;
  }
  Mask output_mask(const std::vector<Array>&, const Mask& m, const std::vector<Array>&) const override { return m; }

 private:
  Activation act_;
};

class Transposing : public Layer {  // Permute, and Flatten's channels_first reordering
 public:
  explicit Transposing(std::vector<int> perm) : perm_(std::move(perm)) {}
  std::vector<Array> apply(const std::vector<Array>& in, const Mask&) const override {
    const Array& x = in.at(0);
    if (x.shape.size() != perm_.size() + 1)
      throw UsageError("Permute expects rank " + std::to_string(perm_.size() + 1) + ", got " + shape_str(x.shape));
    std::vector<int> full{0};
    for (int p : perm_) full.push_back(p);
    return single(transpose(x, full));
  }

 private:
  std::vector<int> perm_;
};

class Flatten : public InPlaceLayer {
 public:
  explicit Flatten(bool channels_first) : channels_first_(channels_first) {}
  Array run(Array x, const Mask&) const override {
    if (channels_first_ && x.shape.size() >= 3) x = move_axis(x, 1, static_cast<int>(x.shape.size()) - 1);
    int64_t b = x.shape.empty() ? 1 : x.shape[0];
    x.shape = {b, b ? numel(x.shape) / b : 0};
    return x;
  }

 private:
  bool channels_first_;
};

class Reshape : public InPlaceLayer {
 public:
  explicit Reshape(std::vector<int64_t> target) : target_(std::move(target)) {}
  Array run(Array x, const Mask&) const override {
    const int64_t b = x.shape[0];
    const int64_t per = b ? numel(x.shape) / b : 0;
    Shape s{b};
    int64_t known = 1, unknown = -1;
    for (size_t i = 0; i < target_.size(); ++i) {
      if (target_[i] < 0) unknown = static_cast<int64_t>(i);
      else known *= target_[i];
      s.push_back(target_[i]);
    }
    if (unknown >= 0) s[unknown + 1] = known ? per / known : 0;
    if (numel(s) != numel(x.shape))
      throw UsageError("Reshape cannot turn " + shape_str(x.shape) + " into target " + shape_str(target_));
    x.shape = s;
    return x;
  }

 private:
  std::vector<int64_t> target_;
};

class RepeatVector : public Layer {
 public:
  explicit RepeatVector(int64_t n) : n_(n) {}
  std::vector<Array> apply(const std::vector<Array>& in, const Mask&) const override {
    const Array& x = in.at(0);
    const int64_t b = x.shape[0], d = x.shape.at(1);
    Array out = make_array({b, n_, d});
    for (int64_t i = 0; i < b; ++i)
      for (int64_t t = 0; t < n_; ++t)
        std::copy_n(x.values.data() + i * d, d, out.values.data() + (i * n_ + t) * d);
    return single(std::move(out));
  }

 private:
  int64_t n_;
};

class Rescaling : public Layer {
 public:
  Rescaling(std::vector<double> scale, std::vector<double> offset) : scale_(std::move(scale)), offset_(std::move(offset)) {}
  std::vector<Array> apply(const std::vector<Array>& in, const Mask&) const override {
    Array out = in.at(0);
    const size_t c = out.shape.empty() ? 1 : static_cast<size_t>(out.shape.back());
    for (size_t i = 0; i < out.values.size(); ++i) {
      double s = scale_.size() == 1 ? scale_[0] : scale_[i % c];
      double o = offset_.size() == 1 ? offset_[0] : offset_[i % c];
      out.values[i] = static_cast<float>(out.values[i] * s + o);
    }
    return single(std::move(out));
  }
  Mask output_mask(const std::vector<Array>&, const Mask& m, const std::vector<Array>&) const override { return m; }

 private:
  std::vector<double> scale_, offset_;
};

class Masking : public Layer {
 public:
  explicit Masking(float value) : value_(value) {}
  std::vector<Array> apply(const std::vector<Array>& in, const Mask&) const override {
    Array out = in.at(0);
    const int64_t d = out.shape.back();
    for (int64_t r = 0; r < numel(out.shape) / d; ++r) {
      float* p = out.values.data() + r * d;
      bool keep = false;
      for (int64_t i = 0; i < d; ++i) keep |= p[i] != value_;
      if (!keep) std::fill_n(p, d, 0.f);
    }
    return single(std::move(out));
  }
  Mask output_mask(const std::vector<Array>& in, const Mask&, const std::vector<Array>&) const override {
    const Array& x = in.at(0);
    const int64_t d = x.shape.back();
    const int64_t rows = x.shape.size() >= 3 ? x.shape[0] * x.shape[1] : x.shape[0];
    const int64_t per = numel(x.shape) / rows;
    auto m = std::make_shared<std::vector<uint8_t>>(rows, 0);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t i = 0; i < per; ++i)
        if (x.values[r * per + i] != value_) {
          (*m)[r] = 1;
          break;
        }
    (void)d;
    return m;
  }

 private:
  float value_;
};

class Embedding : public Layer {
 public:
  Embedding(Array table, bool mask_zero) : table_(std::move(table)), mask_zero_(mask_zero) {}
  std::vector<Array> apply(const std::vector<Array>& in, const Mask&) const override {
    const Array& ids = in.at(0);
    const int64_t vocab = table_.shape[0], d = table_.shape[1];
    Shape os = ids.shape;
    os.push_back(d);
    Array out = make_array(os);
    for (size_t i = 0; i < ids.values.size(); ++i) {
      float f = ids.values[i];
      int64_t id = static_cast<int64_t>(std::floor(f));
      if (id < 0 || id >= vocab || f != static_cast<float>(id))
        throw UsageError("Embedding input " + std::to_string(f) + " is not an index below " + std::to_string(vocab));
      std::copy_n(table_.values.data() + id * d, d, out.values.data() + static_cast<int64_t>(i) * d);
    }
    return single(std::move(out));
  }
  Mask output_mask(const std::vector<Array>& in, const Mask&, const std::vector<Array>&) const override {
    if (!mask_zero_) return nullptr;
    const Array& ids = in.at(0);
    auto m = std::make_shared<std::vector<uint8_t>>(ids.values.size());
    for (size_t i = 0; i < ids.values.size(); ++i) (*m)[i] = ids.values[i] != 0.f;
    return m;
  }

 private:
  Array table_;
  bool mask_zero_;
};

std::unique_ptr<Layer> make_dense(const LayerParams& p) {
  const bool use_bias = p.config.bool_or({"use_bias", "bias"}, true);
  p.expect_weights(use_bias ? 2 : 1, use_bias ? 2 : 1);
  const Array& k = p.weights[0];
  if (k.shape.size() != 2) p.bad("kernel must be 2-D, found " + shape_str(k.shape));
  if (use_bias) p.expect_shape(1, {k.shape[1]});
  return std::make_unique<Dense>(k, use_bias ? p.weights[1] : Array{}, p.config.activation({"activation"}, p.dialect));
}

}  // namespace

// Shared with other families (TimeDistributed(Dense) etc. go through the registry instead).
void register_core_layers(Registry& r) {
  // Identity at inference: Dropout and friends, noise, regularization.
  auto identity = [](const LayerParams&) -> std::unique_ptr<Layer> { return std::make_unique<IdentityLayer>(); };
  for (const char* n : {"Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise",
                        "GaussianDropout", "AlphaDropout", "ActivityRegularization", "InputLayer"})
    r.add(n, identity);
  r.add("Dense", make_dense);
  r.add("Activation", [](const LayerParams& p) -> std::unique_ptr<Layer> {
    return std::make_unique<ActivationLayer>(p.config.activation({"activation"}, p.dialect));
  });
  r.add("Flatten", [](const LayerParams& p) -> std::unique_ptr<Layer> {
    return std::make_unique<Flatten>(p.config.channels_first());
  });
  r.add("Reshape", [](const LayerParams& p) -> std::unique_ptr<Layer> {
    auto t = p.config.int_list("target_shape");
    if (!t) p.bad("Reshape has no target_shape");
    return std::make_unique<Reshape>(*t);
  });
  r.add("Permute", [](const LayerParams& p) -> std::unique_ptr<Layer> {
    auto d = p.config.int_list("dims");
    if (!d) p.bad("Permute has no dims");
    std::vector<int> perm;
    for (int64_t v : *d) perm.push_back(static_cast<int>(v));
    return std::make_unique<Transposing>(perm);
  });
  r.add("RepeatVector", [](const LayerParams& p) -> std::unique_ptr<Layer> {
    return std::make_unique<RepeatVector>(p.config.int_or({"n"}, 1));
  });
  r.add("Rescaling", [](const LayerParams& p) -> std::unique_ptr<Layer> {
    auto s = p.config.numbers("scale");
    auto o = p.config.numbers("offset");
    return std::make_unique<Rescaling>(s && !s->empty() ? *s : std::vector<double>{1.0},
                                       o && !o->empty() ? *o : std::vector<double>{0.0});
  });
  r.add("Masking", [](const LayerParams& p) -> std::unique_ptr<Layer> {
    return std::make_unique<Masking>(static_cast<float>(p.config.num_or({"mask_value"}, 0.0)));
  });
  r.add("Embedding", [](const LayerParams& p) -> std::unique_ptr<Layer> {
    p.expect_weights(1, 1);
    if (p.weights[0].shape.size() != 2) p.bad("embeddings must be 2-D");
    return std::make_unique<Embedding>(p.weights[0], p.config.bool_or({"mask_zero"}, false));
  });
}

}  // namespace kmodel::engine
