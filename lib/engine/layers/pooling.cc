// Pooling: Max/Average Pooling 1D/2D/3D (valid/same; same-padded averages count only real cells,
// as TensorFlow does) and Global Max/Average Pooling 1D/2D/3D (keepdims, 1D average honours masks).
#include <algorithm>
#include <limits>
#include <vector>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "engine/layer.h"
#include "engine/layers/spatial.h"

namespace kmodel::engine {
namespace {

// True when every window lies inside the input (no padding reached).
bool inside(const Geometry& g) {
  for (int i = 0; i < 3; ++i)
    if (g.pad[i] != 0 || (g.out[i] - 1) * g.s[i] + g.k[i] > g.in[i]) return false;
  return true;
}

}  // namespace

// Max pooling when no window reaches padding: no bounds checks; each window's maximum is kept in
// registers (16 channels at a time with AVX-512) and stored once.
void max_pool_inside(const float* x, const Geometry& g, int64_t B, int64_t C, float* out) {
  const int64_t s2 = g.in[2] * C, s1 = g.in[1] * s2;  // input strides of dims 1 and 0 within an item
  std::vector<int64_t> taps;                          // offsets of the window's cells from its corner
  for (int64_t k0 = 0; k0 < g.k[0]; ++k0)
    for (int64_t k1 = 0; k1 < g.k[1]; ++k1)
      for (int64_t k2 = 0; k2 < g.k[2]; ++k2) taps.push_back(k0 * s1 + k1 * s2 + k2 * C);
  const size_t nt = taps.size();
  for (int64_t b = 0; b < B; ++b) {
    const float* xb = x + b * g.in_size() * C;
    for (int64_t o0 = 0; o0 < g.out[0]; ++o0)
      for (int64_t o1 = 0; o1 < g.out[1]; ++o1)
        for (int64_t o2 = 0; o2 < g.out[2]; ++o2, out += C) {
          const float* corner = xb + o0 * g.s[0] * s1 + o1 * g.s[1] * s2 + o2 * g.s[2] * C;
#if defined(__AVX512F__)
          for (int64_t c = 0; c < C; c += 16) {
            const __mmask16 m = C - c >= 16 ? __mmask16(0xffff) : __mmask16((1u << (C - c)) - 1);
            __m512 v = _mm512_maskz_loadu_ps(m, corner + c);
            // max(src, v) keeps v when either is NaN, as std::max(v, src) does
            for (size_t t = 1; t < nt; ++t) v = _mm512_max_ps(_mm512_maskz_loadu_ps(m, corner + taps[t] + c), v);
            _mm512_mask_storeu_ps(out + c, m, v);
          }
#else
          for (int64_t c = 0; c < C; ++c) {
            float v = corner[c];
            for (size_t t = 1; t < nt; ++t) v = std::max(v, corner[taps[t] + c]);
            out[c] = v;
          }
#endif
        }
  }
}

namespace {

class Pool : public Layer {
 public:
  Pool(int rank, bool max, std::vector<int64_t> k, std::vector<int64_t> s, Padding pad, bool cf)
      : rank_(rank), max_(max), k_(std::move(k)), s_(std::move(s)), pad_(pad), cf_(cf) {}
  bool window(MaxPoolWindow* w) const {
    if (!max_) return false;
    *w = MaxPoolWindow{rank_, k_, s_, pad_, cf_};
    return true;
  }
  std::vector<Array> apply(const std::vector<Array>& in, const Mask&) const override {
    expect_rank(in.at(0), rank_, "Pooling");
    Array moved;
    if (cf_) moved = to_channels_last(in[0], true);
    const Array& x = cf_ ? moved : in[0];
    const int64_t B = x.shape[0], C = x.shape.back();
    Geometry g = conv_geometry(Shape(x.shape.begin() + 1, x.shape.end() - 1), k_, s_, std::vector<int64_t>(rank_, 1), pad_);
    Shape os{B};
    for (int i = 0; i < rank_; ++i) os.push_back(g.out[i]);
    os.push_back(C);
    Array out = make_array(os);
    if (max_ && inside(g)) {
      max_pool_inside(x.values.data(), g, B, C, out.values.data());
      return single(from_channels_last(std::move(out), cf_));
    }
    for (int64_t b = 0; b < B; ++b) {
      const float* xb = x.values.data() + b * g.in_size() * C;
      float* ob = out.values.data() + b * g.out_size() * C;
      int64_t p = 0;
      for (int64_t o0 = 0; o0 < g.out[0]; ++o0)
        for (int64_t o1 = 0; o1 < g.out[1]; ++o1)
          for (int64_t o2 = 0; o2 < g.out[2]; ++o2, ++p) {
            float* __restrict dst = ob + p * C;  // accumulates in place: the first cell is copied
            int64_t count = 0;
            for (int64_t k0 = 0; k0 < g.k[0]; ++k0) {
              const int64_t i0 = o0 * g.s[0] + k0 - g.pad[0];
              if (i0 < 0 || i0 >= g.in[0]) continue;
              for (int64_t k1 = 0; k1 < g.k[1]; ++k1) {
                const int64_t i1 = o1 * g.s[1] + k1 - g.pad[1];
                if (i1 < 0 || i1 >= g.in[1]) continue;
                for (int64_t k2 = 0; k2 < g.k[2]; ++k2) {
                  const int64_t i2 = o2 * g.s[2] + k2 - g.pad[2];
                  if (i2 < 0 || i2 >= g.in[2]) continue;
                  const float* __restrict src = xb + ((i0 * g.in[1] + i1) * g.in[2] + i2) * C;
                  if (count++ == 0) for (int64_t c = 0; c < C; ++c) dst[c] = src[c];
                  else if (max_) for (int64_t c = 0; c < C; ++c) dst[c] = std::max(dst[c], src[c]);
                  else for (int64_t c = 0; c < C; ++c) dst[c] += src[c];
                }
              }
            }
            if (count == 0) std::fill_n(dst, C, max_ ? -std::numeric_limits<float>::infinity() : 0.f);
            else if (!max_) for (int64_t c = 0; c < C; ++c) dst[c] /= static_cast<float>(count);
          }
    }
    return single(from_channels_last(std::move(out), cf_));
  }

 private:
  int rank_;
  bool max_;
  std::vector<int64_t> k_, s_;
  Padding pad_;
  bool cf_;
};

class GlobalPool : public Layer {
 public:
  GlobalPool(int rank, bool max, bool cf, bool keepdims) : rank_(rank), max_(max), cf_(cf), keepdims_(keepdims) {}
  std::vector<Array> apply(const std::vector<Array>& in, const Mask& mask) const override {
    expect_rank(in.at(0), rank_, "GlobalPooling");
    Array x = to_channels_last(in[0], cf_);
    const int64_t B = x.shape[0], C = x.shape.back();
    const int64_t S = numel(x.shape) / (B * C);
    Array out = make_array({B, C}, max_ ? -std::numeric_limits<float>::infinity() : 0.f);
    const bool masked = mask && rank_ == 1 && !cf_ && static_cast<int64_t>(mask->size()) == B * S;
    for (int64_t b = 0; b < B; ++b) {
      float* dst = out.values.data() + b * C;
      int64_t count = 0;
      for (int64_t s = 0; s < S; ++s) {
        if (masked && !(*mask)[b * S + s]) continue;
        ++count;
        const float* src = x.values.data() + (b * S + s) * C;
        if (max_) for (int64_t c = 0; c < C; ++c) dst[c] = std::max(dst[c], src[c]);
        else for (int64_t c = 0; c < C; ++c) dst[c] += src[c];
      }
      if (!max_) for (int64_t c = 0; c < C; ++c) dst[c] /= static_cast<float>(std::max<int64_t>(count, 1));
    }
    if (keepdims_) {
      Shape s{B};
      if (cf_) s.push_back(C);
      for (int i = 0; i < rank_; ++i) s.push_back(1);
      if (!cf_) s.push_back(C);
      out.shape = s;
    }
    return single(std::move(out));
  }
  Mask output_mask(const std::vector<Array>&, const Mask&, const std::vector<Array>&) const override { return nullptr; }

 private:
  int rank_;
  bool max_, cf_, keepdims_;
};

Creator pool_creator(int rank, bool max) {
  return [rank, max](const LayerParams& p) -> std::unique_ptr<Layer> {
    const Config& c = p.config;
    std::vector<int64_t> k = c.ints({"pool_size", "pool_length"}, rank, 2);
    std::vector<int64_t> s = c.has("strides") || c.has("stride") ? c.ints({"strides", "stride"}, rank, 1) : k;
    Padding pad = parse_padding(c.str_or({"padding", "border_mode"}, "valid"), p.name);
    return std::make_unique<Pool>(rank, max, k, s, pad, c.channels_first());
  };
}

Creator global_creator(int rank, bool max) {
  return [rank, max](const LayerParams& p) -> std::unique_ptr<Layer> {
    return std::make_unique<GlobalPool>(rank, max, p.config.channels_first(), p.config.bool_or({"keepdims"}, false));
  };
}

}  // namespace

bool max_pool_window(const Layer& layer, MaxPoolWindow* window) {
  const auto* pool = dynamic_cast<const Pool*>(&layer);
  return pool && pool->window(window);
}

void register_pooling_layers(Registry& r) {
  const char* dims[] = {"1D", "2D", "3D"};
  for (int rank = 1; rank <= 3; ++rank) {
    const std::string d = dims[rank - 1];
    r.add("MaxPooling" + d, pool_creator(rank, true));
    r.add("AveragePooling" + d, pool_creator(rank, false));
    r.add("MaxPool" + d, pool_creator(rank, true));
    r.add("AvgPool" + d, pool_creator(rank, false));
    r.add("GlobalMaxPooling" + d, global_creator(rank, true));
    r.add("GlobalAveragePooling" + d, global_creator(rank, false));
    r.add("GlobalMaxPool" + d, global_creator(rank, true));
    r.add("GlobalAvgPool" + d, global_creator(rank, false));
  }
}

}  // namespace kmodel::engine
