// Attention layers: Attention (Luong dot-product, optional scale, causal mask) and
// MultiHeadAttention (query/key/value/output EinsumDense projections as in Keras).
#include <cmath>
#include <limits>

#include "engine/activations.h"
#include "engine/layer.h"

namespace kmodel::engine {
namespace {

// softmax(q k^T * scale + causal) v for one batch item: q (Tq, d), k (Tv, d), v (Tv, dv).
void attend(const float* q, const float* k, const float* v, int64_t Tq, int64_t Tv, int64_t d, int64_t dv,
            float scale, bool causal, const uint8_t* vmask, float* out) {
  MatR s = CMapR(q, Tq, d) * CMapR(k, Tv, d).transpose();
  s *= scale;
  for (int64_t i = 0; i < Tq; ++i)
    for (int64_t j = 0; j < Tv; ++j)
      if ((causal && j > i) || (vmask && !vmask[j])) s(i, j) -= 1e9f;
  Activation sm;
  sm.kind = Activation::Kind::kSoftmax;
  apply_activation(sm, s.data(), Tq * Tv, Tv);
  MapR(out, Tq, dv).noalias() = s * CMapR(v, Tv, dv);
}

class Attention : public Layer {
 public:
  Attention(float scale, bool causal) : scale_(scale), causal_(causal) {}
  std::vector<Array> apply(const std::vector<Array>& in, const Mask&) const override {
    if (in.size() < 2) throw UsageError("Attention needs [query, value] or [query, value, key]");
    const Array& q = in[0];
    const Array& v = in[1];
    const Array& k = in.size() > 2 ? in[2] : in[1];
    const int64_t B = q.shape[0], Tq = q.shape[1], d = q.shape[2], Tv = v.shape[1], dv = v.shape[2];
    Array out = make_array({B, Tq, dv});
    for (int64_t b = 0; b < B; ++b)
      attend(q.values.data() + b * Tq * d, k.values.data() + b * Tv * d, v.values.data() + b * Tv * dv, Tq, Tv, d,
             dv, scale_, causal_, nullptr, out.values.data() + b * Tq * dv);
    return single(std::move(out));
  }

 private:
  float scale_;
  bool causal_;
};

class MultiHeadAttention : public Layer {
 public:
  // Projections: q/k/v kernels (dim, H, Dk) with biases (H, Dk); output kernel (H, Dv, out) + (out).
  MultiHeadAttention(std::vector<Array> w, bool bias, int64_t heads, int64_t key_dim, int64_t value_dim)
      : bias_(bias), H_(heads), Dk_(key_dim), Dv_(value_dim) {
    size_t i = 0;
    qk_ = w.at(i++);
    if (bias) qb_ = w.at(i++);
    kk_ = w.at(i++);
    if (bias) kb_ = w.at(i++);
    vk_ = w.at(i++);
    if (bias) vb_ = w.at(i++);
    ok_ = w.at(i++);
    if (bias) ob_ = w.at(i++);
    const int64_t out = ok_.shape.back();
    ok_.shape = {numel(ok_.shape) / out, out};  // (H, Dv, out) -> (H*Dv, out)
  }
  std::vector<std::string> tensor_kwargs() const override { return {"value", "key"}; }

  static Array project(const Array& x, const Array& kernel, const Array& bias) {
    const int64_t rows = numel(x.shape) / x.shape.back(), din = x.shape.back();
    const int64_t dout = numel(kernel.shape) / kernel.shape[0];
    if (kernel.shape[0] != din) throw UsageError("MultiHeadAttention projection expects " + std::to_string(kernel.shape[0]) + " features");
    Array y = make_array({rows, dout});
    MapR Y(y.values.data(), rows, dout);
    Y.noalias() = CMapR(x.values.data(), rows, din) * CMapR(kernel.values.data(), din, dout);
    if (!bias.values.empty()) Y.rowwise() += CRowMap(bias.values.data(), dout);
    return y;
  }

  std::vector<Array> apply(const std::vector<Array>& in, const Mask&) const override {
    if (in.size() < 2) throw UsageError("MultiHeadAttention needs query and value");
    const Array& qx = in[0];
    const Array& vx = in[1];
    const Array& kx = in.size() > 2 ? in[2] : in[1];
    if (qx.shape.size() != 3 || vx.shape.size() != 3) throw UnsupportedError("", "MultiHeadAttention", "inputs other than (batch, time, features)");
    const int64_t B = qx.shape[0], Tq = qx.shape[1], Tv = vx.shape[1];
    Array q = project(qx, qk_, qb_), k = project(kx, kk_, kb_), v = project(vx, vk_, vb_);
    // q: (B*Tq, H*Dk) -> per head slices
    Array ctx = make_array({B * Tq, H_ * Dv_});
    const float scale = 1.f / std::sqrt(static_cast<float>(Dk_));
    std::vector<float> qh(Tq * Dk_), kh(Tv * Dk_), vh(Tv * Dv_), oh(Tq * Dv_);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < H_; ++h) {
        for (int64_t t = 0; t < Tq; ++t) std::copy_n(q.values.data() + (b * Tq + t) * H_ * Dk_ + h * Dk_, Dk_, qh.data() + t * Dk_);
        for (int64_t t = 0; t < Tv; ++t) {
          std::copy_n(k.values.data() + (b * Tv + t) * H_ * Dk_ + h * Dk_, Dk_, kh.data() + t * Dk_);
          std::copy_n(v.values.data() + (b * Tv + t) * H_ * Dv_ + h * Dv_, Dv_, vh.data() + t * Dv_);
        }
        attend(qh.data(), kh.data(), vh.data(), Tq, Tv, Dk_, Dv_, scale, causal_, nullptr, oh.data());
        for (int64_t t = 0; t < Tq; ++t) std::copy_n(oh.data() + t * Dv_, Dv_, ctx.values.data() + (b * Tq + t) * H_ * Dv_ + h * Dv_);
      }
    ctx.shape = {B * Tq, H_ * Dv_};
    Array out = project(ctx, ok_, ob_);
    out.shape = {B, Tq, out.shape[1]};
    return single(std::move(out));
  }
  bool causal_ = false;

 private:
  bool bias_;
  int64_t H_, Dk_, Dv_;
  Array qk_, qb_, kk_, kb_, vk_, vb_, ok_, ob_;
};

}  // namespace

void register_attention_layers(Registry& r) {
  r.add("Attention", [](const LayerParams& p) -> std::unique_ptr<Layer> {
    if (p.config.str_or({"score_mode"}, "dot") != "dot") p.unsupported("Attention score_mode other than dot");
    float scale = 1.f;
    if (p.config.bool_or({"use_scale"}, false)) {
      p.expect_weights(1, 1);
      scale = p.weights[0].values.at(0);
    }
    return std::make_unique<Attention>(scale, p.config.bool_or({"causal", "use_causal_mask"}, false));
  });
  r.add("MultiHeadAttention", [](const LayerParams& p) -> std::unique_ptr<Layer> {
    const Config& c = p.config;
    const int64_t heads = c.int_or({"num_heads"}, 1), kd = c.int_or({"key_dim"}, 0);
    const int64_t vd = c.int_or({"value_dim"}, kd);
    const bool bias = c.bool_or({"use_bias"}, true);
    if (c.has("attention_axes")) {
      auto ax = c.int_list("attention_axes");
      if (ax && !(ax->size() == 1 && ((*ax)[0] == 1 || (*ax)[0] == -2))) p.unsupported("attention_axes other than the time axis");
    }
    p.expect_weights(bias ? 8 : 4, bias ? 8 : 4);
    return std::make_unique<MultiHeadAttention>(p.weights, bias, heads, kd, vd);
  });
}

}  // namespace kmodel::engine
