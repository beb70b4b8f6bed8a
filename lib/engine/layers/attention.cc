// Attention layers: Attention (Luong dot-product, optional scale, causal mask) and
// MultiHeadAttention (query/key/value/output EinsumDense projections as in Keras).
#include <cmath>
#include <cstdio>
#include <limits>

#include "core/json_util.h"
#include "core/tf_op_shapes.h"

#include "engine/activations.h"
#include "engine/layer.h"

namespace kmodel::engine {
namespace {

// softmax(q k^T * scale, masked) v for one batch item: q (Tq, d), k (Tv, d), v (Tv, dv). Where
// keep (Tq x Tv, may be null) is 0 the score is lowered by 1e9 before the softmax, as Keras does.
void attend(const float* q, const float* k, const float* v, int64_t Tq, int64_t Tv, int64_t d, int64_t dv,
            float scale, const uint8_t* keep, float* out) {
  MatR s = CMapR(q, Tq, d) * CMapR(k, Tv, d).transpose();
  s *= scale;
  if (keep)
    for (int64_t i = 0; i < Tq; ++i)
      for (int64_t j = 0; j < Tv; ++j)
        if (!keep[i * Tv + j]) s(i, j) -= 1e9f;
  Activation sm;
  sm.kind = Activation::Kind::kSoftmax;
  apply_activation(sm, s.data(), Tq * Tv, Tv);
  MapR(out, Tq, dv).noalias() = s * CMapR(v, Tv, dv);
}

// The (Tq x Tv) keep matrix of batch item b from a causal flag, (batch, time) masks of the query
// and of the keys (each may be null) and an explicit (batch, Tq, Tv) attention mask (may be null);
// false when nothing masks (no matrix needed).
bool keep_matrix(int64_t b, int64_t Tq, int64_t Tv, bool causal, const Mask& qmask, const Mask& kmask,
                 const Mask& vmask, const Array* explicit_mask, std::vector<uint8_t>& keep) {
  if (!causal && !qmask && !kmask && !vmask && !explicit_mask) return false;
  keep.assign(static_cast<size_t>(Tq * Tv), 1);
  for (int64_t i = 0; i < Tq; ++i)
    for (int64_t j = 0; j < Tv; ++j) {
      bool k = !causal || j <= i;
      if (qmask) k = k && (*qmask)[static_cast<size_t>(b * Tq + i)];
      if (kmask) k = k && (*kmask)[static_cast<size_t>(b * Tv + j)];
      if (vmask) k = k && (*vmask)[static_cast<size_t>(b * Tv + j)];
      if (explicit_mask) k = k && explicit_mask->values[static_cast<size_t>((b * Tq + i) * Tv + j)] != 0.f;
      keep[static_cast<size_t>(i * Tv + j)] = k;
    }
  return true;
}

void check_mask(const Mask& m, int64_t B, int64_t T, const char* what) {
  if (m && m->size() != static_cast<size_t>(B * T))
    throw UsageError(std::string(what) + " mask does not match its input's (batch, time)");
}

// Keras's Attention (Luong): scores masked by the value's mask (and causally), outputs of masked
// query steps set to zero; the output keeps the query's mask.
class Attention : public Layer {
 public:
  Attention(float scale, bool causal) : scale_(scale), causal_(causal) {}
  std::vector<Array> apply(const std::vector<Array>& in, const Mask& mask) const override {
    return apply_masked(in, {mask});
  }
  std::vector<Array> apply_masked(const std::vector<Array>& in, const std::vector<Mask>& masks) const override {
    if (in.size() < 2) throw UsageError("Attention needs [query, value] or [query, value, key]");
    const Array& q = in[0];
    const Array& v = in[1];
    const Array& k = in.size() > 2 ? in[2] : in[1];
    if (q.shape.size() != 3 || v.shape.size() != 3 || k.shape.size() != 3 || k.shape[1] != v.shape[1] ||
        k.shape[2] != q.shape[2] || q.shape[0] != v.shape[0] || k.shape[0] != v.shape[0])
      throw UsageError("Attention: query, value and key shapes do not fit");
    const int64_t B = q.shape[0], Tq = q.shape[1], d = q.shape[2], Tv = v.shape[1], dv = v.shape[2];
    const Mask qmask = masks.size() > 0 ? masks[0] : nullptr, vmask = masks.size() > 1 ? masks[1] : nullptr;
    check_mask(qmask, B, Tq, "Attention query");
    check_mask(vmask, B, Tv, "Attention value");
    Array out = make_array({B, Tq, dv});
    std::vector<uint8_t> keep;
    for (int64_t b = 0; b < B; ++b) {
      const bool masked = keep_matrix(b, Tq, Tv, causal_, nullptr, nullptr, vmask, nullptr, keep);
      float* ob = out.values.data() + b * Tq * dv;
      attend(q.values.data() + b * Tq * d, k.values.data() + b * Tv * d, v.values.data() + b * Tv * dv, Tq, Tv, d,
             dv, scale_, masked ? keep.data() : nullptr, ob);
      if (qmask)
        for (int64_t i = 0; i < Tq; ++i)
          if (!(*qmask)[static_cast<size_t>(b * Tq + i)]) std::fill_n(ob + i * dv, dv, 0.f);
    }
    return single(std::move(out));
  }

 private:
  float scale_;
  bool causal_;
};

// Where a MultiHeadAttention call finds its tensors: query first, then value, key and an explicit
// attention_mask either positionally (Keras 3 args) or as kwargs (in tensor_kwargs() order).
struct MhaInputs {
  int value = 1, key = -1, attention_mask = -1;
};

class MultiHeadAttention : public Layer {
 public:
  // Projections: q/k/v kernels (dim, H, Dk) with biases (H, Dk); output kernel (H, Dv, out) + (out).
  // implicit_masks: apply the inputs' (batch, time) masks (tf.keras >= 2.10 and Keras 3 do).
  MultiHeadAttention(std::vector<Array> w, bool bias, int64_t heads, int64_t key_dim, int64_t value_dim, bool causal,
                     bool implicit_masks, MhaInputs where)
      : causal_(causal), implicit_masks_(implicit_masks), where_(where), bias_(bias), H_(heads), Dk_(key_dim), Dv_(value_dim) {
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
  std::vector<std::string> tensor_kwargs() const override { return {"value", "key", "attention_mask"}; }

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

  std::vector<Array> apply(const std::vector<Array>& in, const Mask& mask) const override {
    return apply_masked(in, {mask});
  }
  std::vector<Array> apply_masked(const std::vector<Array>& in, const std::vector<Mask>& masks) const override {
    auto at = [&](int i) { return i >= 0 && static_cast<size_t>(i) < in.size() ? &in[static_cast<size_t>(i)] : nullptr; };
    auto mask_at = [&](int i) { return i >= 0 && static_cast<size_t>(i) < masks.size() ? masks[static_cast<size_t>(i)] : nullptr; };
    if (!at(where_.value)) throw UsageError("MultiHeadAttention needs query and value");
    const Array& qx = in[0];
    const Array& vx = *at(where_.value);
    const Array& kx = at(where_.key) ? *at(where_.key) : vx;
    const Array* explicit_mask = at(where_.attention_mask);
    if (qx.shape.size() != 3 || vx.shape.size() != 3) throw UnsupportedError("", "MultiHeadAttention", "inputs other than (batch, time, features)");
    const int64_t B = qx.shape[0], Tq = qx.shape[1], Tv = vx.shape[1];
    if (kx.shape.size() != 3 || kx.shape[1] != Tv || vx.shape[0] != B || kx.shape[0] != B)
      throw UsageError("MultiHeadAttention: query, value and key shapes do not fit");
    if (explicit_mask && explicit_mask->shape != Shape{B, Tq, Tv})
      throw UnsupportedError("", "MultiHeadAttention", "attention_mask of shape " + shape_str(explicit_mask->shape) +
                                                           " (only (batch, query steps, value steps))");
    Mask qmask, vmask, kmask;
    if (implicit_masks_) {
      qmask = mask_at(0);
      vmask = mask_at(where_.value);
      kmask = at(where_.key) ? mask_at(where_.key) : nullptr;
      check_mask(qmask, B, Tq, "MultiHeadAttention query");
      check_mask(vmask, B, Tv, "MultiHeadAttention value");
      check_mask(kmask, B, Tv, "MultiHeadAttention key");
    }
    Array q = project(qx, qk_, qb_), k = project(kx, kk_, kb_), v = project(vx, vk_, vb_);
    // q: (B*Tq, H*Dk) -> per head slices
    Array ctx = make_array({B * Tq, H_ * Dv_});
    const float scale = 1.f / std::sqrt(static_cast<float>(Dk_));
    std::vector<float> qh(Tq * Dk_), kh(Tv * Dk_), vh(Tv * Dv_), oh(Tq * Dv_);
    std::vector<uint8_t> keep;
    for (int64_t b = 0; b < B; ++b) {
      const bool masked = keep_matrix(b, Tq, Tv, causal_, qmask, kmask, vmask, explicit_mask, keep);
      for (int64_t h = 0; h < H_; ++h) {
        for (int64_t t = 0; t < Tq; ++t) std::copy_n(q.values.data() + (b * Tq + t) * H_ * Dk_ + h * Dk_, Dk_, qh.data() + t * Dk_);
        for (int64_t t = 0; t < Tv; ++t) {
          std::copy_n(k.values.data() + (b * Tv + t) * H_ * Dk_ + h * Dk_, Dk_, kh.data() + t * Dk_);
          std::copy_n(v.values.data() + (b * Tv + t) * H_ * Dv_ + h * Dv_, Dv_, vh.data() + t * Dv_);
        }
        attend(qh.data(), kh.data(), vh.data(), Tq, Tv, Dk_, Dv_, scale, masked ? keep.data() : nullptr, oh.data());
        for (int64_t t = 0; t < Tq; ++t) std::copy_n(oh.data() + t * Dv_, Dv_, ctx.values.data() + (b * Tq + t) * H_ * Dv_ + h * Dv_);
      }
    }
    ctx.shape = {B * Tq, H_ * Dv_};
    Array out = project(ctx, ok_, ob_);
    out.shape = {B, Tq, out.shape[1]};
    return single(std::move(out));
  }

 private:
  bool causal_, implicit_masks_;
  MhaInputs where_;
  bool bias_;
  int64_t H_, Dk_, Dv_;
  Array qk_, qb_, kk_, kb_, vk_, vb_, ok_, ob_;
};

// What the layer's calls say beyond its config: use_causal_mask (a call argument since tf.keras
// 2.10). Calls that differ, or return_attention_scores (a second output kmodel does not compute),
// are refused.
struct CallFlags {
  bool causal = false;
};
CallFlags call_flags(const LayerParams& p) {
  CallFlags f;
  for (size_t i = 0; i < p.calls.size(); ++i) {
    const std::string& kw = p.calls[i].kwargs_json;
    if (i > 0 && kw != p.calls[0].kwargs_json) p.unsupported("calls with different arguments");
    if (kw.size() < 3) continue;
    auto doc = json::parse(kw, p.file);
    if (!doc.IsObject()) continue;
    if (auto v = json::get_bool(doc, "use_causal_mask")) f.causal = *v;
    for (const char* explicit_mask : {"mask", "query_mask", "value_mask", "key_mask"})
      if (const json::Value* m = json::member(doc, explicit_mask); m && !m->IsNull())
        p.unsupported(std::string("an explicit '") + explicit_mask + "' call argument");
    if (json::get_bool(doc, "return_attention_scores").value_or(false)) p.unsupported("return_attention_scores");
  }
  return f;
}

// tf.keras >= 2.10 and Keras 3 apply the query/value/key masks inside MultiHeadAttention.
bool masks_reach_mha(const LayerParams& p) {
  if (p.dialect == KerasDialect::kKeras3) return true;
  int major = 0, minor = 0;
  if (std::sscanf(p.keras_version.c_str(), "%d.%d", &major, &minor) != 2) return true;  // unknown: the current behaviour
  return major > 2 || (major == 2 && minor >= 10);
}

// Positions of value, key and attention_mask among the call's tensors.
MhaInputs mha_inputs(const LayerParams& p) {
  MhaInputs w;
  if (p.calls.empty()) return w;
  const LayerCall& c = p.calls[0];
  int next = static_cast<int>(c.inputs.size());  // positional first (Keras 3: query, value[, key])
  w.value = c.inputs.size() > 1 ? 1 : -1;
  w.key = c.inputs.size() > 2 ? 2 : -1;
  if (c.kwargs_json.size() >= 3) {
    auto doc = json::parse(c.kwargs_json, p.file);
    for (const char* key : {"value", "key", "attention_mask"}) {  // tensor_kwargs() order
      const json::Value* v = doc.IsObject() ? json::member(doc, key) : nullptr;
      if (!v || v->IsNull()) continue;
      if (!is_tensor_link(*v)) p.unsupported(std::string(key) + " that is not a tensor");
      int& slot = std::string(key) == "value" ? w.value : std::string(key) == "key" ? w.key : w.attention_mask;
      slot = next++;
    }
  }
  return w;
}

}  // namespace

void register_attention_layers(Registry& r) {
  r.add("Attention", [](const LayerParams& p) -> std::unique_ptr<Layer> {
    if (p.config.str_or({"score_mode"}, "dot") != "dot") p.unsupported("Attention score_mode other than dot");
    const CallFlags call = call_flags(p);
    float scale = 1.f;
    if (p.config.bool_or({"use_scale"}, false)) {
      p.expect_weights(1, 1);
      scale = p.weights[0].values.at(0);
    }
    return std::make_unique<Attention>(scale, call.causal || p.config.bool_or({"causal", "use_causal_mask"}, false));
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
    const CallFlags call = call_flags(p);
    // Keras 3 and tf.keras >= 2.10 mask attention by the inputs' masks; earlier versions ignore them.
    return std::make_unique<MultiHeadAttention>(p.weights, bias, heads, kd, vd, call.causal,
                                                masks_reach_mha(p), mha_inputs(p));
  });
}

}  // namespace kmodel::engine
