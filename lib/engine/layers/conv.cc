// Convolutions: Conv1D/2D/3D (groups, dilation, valid/same/causal) by GEMM (engine/gemm.h): implicit
// (patches read in place) when no tap reaches padding, else im2col; 3x3 stride-1 kernels by
// Winograd F(2x2, 3x3) (engine/winograd.h);
// DepthwiseConv1D/2D, SeparableConv1D/2D, Conv1D/2D/3DTranspose (GEMM + col2im). Keras 1 names
// (Convolution1D/2D/3D, AtrousConvolution*) map to the same code. A Conv takes over a following
// MaxPooling (Layer::fuse_next).
#include <algorithm>
#include <array>

#include "engine/activations.h"
#include "engine/gemm.h"
#include "engine/layer.h"
#include "engine/layers/spatial.h"
#include "engine/winograd.h"

namespace kmodel::engine {
namespace {

// True when every tap of every output lies inside the input (no padding reached).
bool all_taps_inside(const Geometry& g) {
  for (int i = 0; i < 3; ++i)
    if (g.pad[i] != 0 || (g.out[i] - 1) * g.s[i] + (g.k[i] - 1) * g.d[i] >= g.in[i]) return false;
  return true;
}

struct ConvParams {
  int rank = 2;
  std::vector<int64_t> k, s, d;
  Padding padding = Padding::kValid;
  bool channels_first = false;
  int64_t groups = 1;
  Activation act;
};

ConvParams parse_conv(const LayerParams& p, int rank) {
  const Config& c = p.config;
  ConvParams cp;
  cp.rank = rank;
  if (rank == 2 && c.has("nb_row")) {  // Keras 1 Convolution2D
    cp.k = {c.int_or({"nb_row"}, 1), c.int_or({"nb_col"}, 1)};
  } else if (rank == 3 && c.has("kernel_dim1")) {
    cp.k = {c.int_or({"kernel_dim1"}, 1), c.int_or({"kernel_dim2"}, 1), c.int_or({"kernel_dim3"}, 1)};
  } else {
    cp.k = c.ints({"kernel_size", "filter_length"}, rank, 1);
  }
  cp.s = c.ints({"strides", "subsample", "subsample_length"}, rank, 1);
  cp.d = c.ints({"dilation_rate", "atrous_rate"}, rank, 1);
  cp.padding = parse_padding(c.str_or({"padding", "border_mode"}, "valid"), p.name);
  cp.channels_first = c.channels_first();
  cp.groups = c.int_or({"groups"}, 1);
  cp.act = c.activation({"activation"}, p.dialect);
  return cp;
}

class Conv : public Layer {
 public:
  Conv(ConvParams cp, Array kernel, Array bias) : cp_(std::move(cp)), kernel_(std::move(kernel)), bias_(std::move(bias)) {
    const int64_t C = kernel_.shape[cp_.rank], F = kernel_.shape.back();
    if (cp_.groups == 1) w_ = GemmWeights(kernel_.values.data(), numel(kernel_.shape) / F, F);
    if (cp_.rank == 2 && cp_.k == std::vector<int64_t>{3, 3} && cp_.s == std::vector<int64_t>{1, 1} &&
        cp_.d == std::vector<int64_t>{1, 1} && cp_.groups == 1 && Winograd3x3::worthwhile(C, F))
      winograd_ = std::make_unique<Winograd3x3>(kernel_.values.data(), C, F);
    if (cp_.groups == 1) kernel_.values = {};  // only grouped convolutions read it (its shape stays)
  }

  // A following MaxPooling (valid padding, same rank and data format) is computed here, so the
  // full-size convolution output never goes through memory: pooled as the GEMM stores its tiles
  // (pools_in_gemm), else chunk by chunk of batch items from a cache-sized scratch buffer.
  bool fuse_next(const Layer& next) override {
    MaxPoolWindow w;
    if (pooled_ || !max_pool_window(next, &w) || w.rank != cp_.rank || w.channels_first != cp_.channels_first ||
        w.padding != Padding::kValid)
      return false;
    pool_ = std::move(w);
    pooled_ = true;
    return true;
  }

  std::vector<Array> apply(const std::vector<Array>& in, const Mask&) const override {
    expect_rank(in.at(0), cp_.rank, "Conv");
    Array moved;
    if (cp_.channels_first) moved = to_channels_last(in[0], true);
    const Array& x = cp_.channels_first ? moved : in[0];
    const int64_t B = x.shape[0], C = x.shape.back();
    const int64_t F = kernel_.shape.back(), cg = kernel_.shape[cp_.rank];
    if (cg * cp_.groups != C)
      throw UsageError("Conv expects " + std::to_string(cg * cp_.groups) + " input channels, got " + std::to_string(C));
    Geometry g = conv_geometry(Shape(x.shape.begin() + 1, x.shape.end() - 1), cp_.k, cp_.s, cp_.d, cp_.padding);
    Shape conv_dims;
    for (int i = 0; i < cp_.rank; ++i) conv_dims.push_back(g.out[i]);
    if (!pooled_) {
      Shape os{B};
      os.insert(os.end(), conv_dims.begin(), conv_dims.end());
      os.push_back(F);
      Array out = make_array(os);
      convolve(x, g, 0, B, out.values.data());
      return single(from_channels_last(std::move(out), cp_.channels_first));
    }
    Geometry pg = conv_geometry(conv_dims, pool_.k, pool_.s, std::vector<int64_t>(cp_.rank, 1), Padding::kValid);
    // Only the convolution outputs some pooling window reads are computed (the trailing row or
    // column a valid pooling drops is not).
    for (int i = 0; i < cp_.rank; ++i) {
      g.out[i] = pg.out[i] > 0 ? (pg.out[i] - 1) * pg.s[i] + pg.k[i] : 0;
      pg.in[i] = g.out[i];
    }
    Shape os{B};
    for (int i = 0; i < cp_.rank; ++i) os.push_back(pg.out[i]);
    os.push_back(F);
    Array out = make_array(os);
    if (pools_in_gemm(g, pg)) {
      convolve(x, g, 0, B, out.values.data(), &pg);
      return single(from_channels_last(std::move(out), cp_.channels_first));
    }
    const int64_t P = g.out_size(), chunk = std::max<int64_t>(1, (int64_t{1} << 15) / std::max<int64_t>(P * F, 1));
    thread_local std::vector<float> scratch;  // reused across calls; the engine is single-threaded per thread
    for (int64_t b0 = 0; b0 < B; b0 += chunk) {
      const int64_t nb = std::min(chunk, B - b0);
      scratch.resize(static_cast<size_t>(nb * P * F));
      convolve(x, g, b0, nb, scratch.data());
      max_pool_inside(scratch.data(), pg, nb, F, out.values.data() + b0 * pg.out_size() * F);
    }
    return single(from_channels_last(std::move(out), cp_.channels_first));
  }

 private:
  // Whether the implicit GEMM can pool as it stores (gemm_rows' pool_rows): windows of 2, 4 or 8
  // cells that do not overlap, and an activation that commutes with max (linear, relu).
  bool pools_in_gemm(const Geometry& g, const Geometry& pg) const {
    const int64_t window = pg.k_size();
    bool tiling = window == 2 || window == 4 || window == 8;
    for (int i = 0; i < 3; ++i) tiling = tiling && pg.s[i] == pg.k[i];
    return tiling && !winograd_ && cp_.groups == 1 && all_taps_inside(g) &&
           (cp_.act.is_linear() || cp_.act.kind == Activation::Kind::kRelu);
  }

  // Convolves batch items [b0, b0 + nb) of x (channels_last) into y (nb x P x F), with bias and
  // activation. With pool (only when pools_in_gemm), y receives the max-pooled outputs instead
  // (nb x pool->out_size() x F), straight from the GEMM.
  void convolve(const Array& x, const Geometry& g, int64_t b0, int64_t nb, float* y,
                const Geometry* pool = nullptr) const {
    const int64_t C = x.shape.back(), F = kernel_.shape.back(), cg = kernel_.shape[cp_.rank];
    const int64_t P = g.out_size(), K = g.k_size() * cg, Fg = F / cp_.groups;
    const int64_t in_item = g.in_size() * C;
    const float* xb = x.values.data() + b0 * in_item;
    const bool pointwise = g.k_size() == 1 && g.s[0] == 1 && g.s[1] == 1 && g.s[2] == 1 && cp_.groups == 1;
    const float* bias = bias_.values.empty() ? nullptr : bias_.values.data();
    // The activation (and the bias, for grouped convolutions) is applied per chunk of rows while
    // they are still in cache; gemm() and Winograd add the bias themselves.
    const bool fused_relu = cp_.groups == 1 && cp_.act.kind == Activation::Kind::kRelu;  // done by gemm()
    auto finish = [&](int64_t row0, int64_t rows) {
      if (fused_relu) return;
      add_bias_activate(cp_.act, y + row0 * F, rows, F, cp_.groups == 1 ? nullptr : bias);
    };
    if (winograd_ && !pool) {
      winograd_->run(xb, nb, g.in[0], g.in[1], g.pad[0], g.pad[1], g.out[0], g.out[1], bias, fused_relu, y);
      finish(0, nb * P);
    } else if (pointwise && !pool) {
      gemm(xb, nb * P, C, w_, y, F, bias, false, fused_relu);
      finish(0, nb * P);
    } else if (cp_.groups == 1 && all_taps_inside(g)) {
      // Implicit GEMM: each output pixel's patch is read where it lies in the input, as runs of
      // k * C adjacent floats along the innermost spatial dim (C when that dim is dilated), with no
      // im2col copy. Dims past the innermost are size 1, so the runs follow the kernel's row order.
      const int m = std::max(g.rank, 1) - 1;
      const bool runs = g.d[m] == 1;
      std::array<int64_t, 3> taps = g.k;
      if (runs) taps[m] = 1;
      std::vector<int64_t> seg;
      for (int64_t k0 = 0; k0 < taps[0]; ++k0)
        for (int64_t k1 = 0; k1 < taps[1]; ++k1)
          for (int64_t k2 = 0; k2 < taps[2]; ++k2)
            seg.push_back(((k0 * g.d[0] * g.in[1] + k1 * g.d[1]) * g.in[2] + k2 * g.d[2]) * C);
      const int64_t L = runs ? g.k[m] * C : C;
      // One row per output pixel; when pooling, window by window (each window's cells adjacent).
      // Their offsets within an item are worked out once, then each chunk of items gets pointers.
      const int64_t window = pool ? pool->k_size() : 1, per_item = pool ? pool->out_size() * window : P;
      thread_local std::vector<int64_t> offsets;
      offsets.clear();
      const Geometry& walk = pool ? *pool : g;  // positions, and the cells of each (1 without pooling)
      const std::array<int64_t, 3> cells = pool ? pool->k : std::array<int64_t, 3>{1, 1, 1};
      for (int64_t p0 = 0; p0 < walk.out[0]; ++p0)
        for (int64_t p1 = 0; p1 < walk.out[1]; ++p1)
          for (int64_t p2 = 0; p2 < walk.out[2]; ++p2)
            for (int64_t w0 = 0; w0 < cells[0]; ++w0)
              for (int64_t w1 = 0; w1 < cells[1]; ++w1)
                for (int64_t w2 = 0; w2 < cells[2]; ++w2) {
                  const int64_t o0 = p0 * cells[0] + w0, o1 = p1 * cells[1] + w1, o2 = p2 * cells[2] + w2;
                  offsets.push_back(((o0 * g.s[0] * g.in[1] + o1 * g.s[1]) * g.in[2] + o2 * g.s[2]) * C);
                }
      const int64_t out_rows = per_item / window;  // rows of y per item
      const int64_t chunk = std::max<int64_t>(1, (int64_t{1} << 14) / std::max<int64_t>(per_item * F, 1));
      thread_local std::vector<const float*> rows;
      rows.resize(static_cast<size_t>(std::min(chunk, nb) * per_item));
      for (int64_t i0 = 0; i0 < nb; i0 += chunk) {
        const int64_t ni = std::min(chunk, nb - i0);
        for (int64_t b = 0; b < ni; ++b) {
          const float* item = xb + (i0 + b) * in_item;
          for (int64_t j = 0; j < per_item; ++j) rows[b * per_item + j] = item + offsets[j];
        }
        gemm_rows(rows.data(), ni * per_item, seg.data(), static_cast<int64_t>(seg.size()), L, w_,
                  y + i0 * out_rows * F, F, bias, fused_relu, window);
        finish(i0 * out_rows, ni * out_rows);
      }
    } else {
      // Batch items in chunks so patches and outputs stay cache-sized (~512 KB, within L2 on current
      // x86 cores) between im2col, GEMM and the bias/activation pass.
      const int64_t chunk = std::max<int64_t>(1, (int64_t{1} << 17) / std::max<int64_t>(P * (K + F), 1));
      thread_local std::vector<float> cols;  // patch buffer reused across calls (engine is single-threaded)
      for (int64_t i0 = 0; i0 < nb; i0 += chunk) {
        const int64_t ni = std::min(chunk, nb - i0);
        cols.resize(static_cast<size_t>(ni * P * K));
        float* yc = y + i0 * P * F;
        for (int64_t gi = 0; gi < cp_.groups; ++gi) {
          for (int64_t b = 0; b < ni; ++b)
            im2col(xb + (i0 + b) * in_item, g, C, gi * cg, cg, cols.data() + b * P * K);
          if (cp_.groups == 1) {
            gemm(cols.data(), ni * P, K, w_, yc, F, bias, false, fused_relu);
            continue;
          }
          Eigen::Map<MatR, 0, Eigen::OuterStride<>> Y(yc + gi * Fg, ni * P, Fg, Eigen::OuterStride<>(F));
          Y.noalias() = CMapR(cols.data(), ni * P, K) * CMapR(kernel_.values.data(), K, F).middleCols(gi * Fg, Fg);
        }
        finish(i0 * P, ni * P);
      }
    }
  }

  ConvParams cp_;
  Array kernel_, bias_;
  GemmWeights w_;  // the kernel as a (taps * C) x F matrix, for ungrouped convolutions
  bool pooled_ = false;
  MaxPoolWindow pool_;
  std::unique_ptr<Winograd3x3> winograd_;  // 3x3 stride-1 kernels with enough channels
};

// Depthwise convolution: kernel (k..., C, M); output channel c*M + m.
Array depthwise(const Array& x, const Array& kernel, const Geometry& g, int64_t M) {
  const int64_t B = x.shape[0], C = x.shape.back();
  Shape os{B};
  for (int i = 0; i < g.rank; ++i) os.push_back(g.out[i]);
  os.push_back(C * M);
  Array out = make_array(os);
  const int64_t CM = C * M;
  for (int64_t b = 0; b < B; ++b) {
    const float* xb = x.values.data() + b * g.in_size() * C;
    float* ob = out.values.data() + b * g.out_size() * CM;
    int64_t p = 0;
    for (int64_t o0 = 0; o0 < g.out[0]; ++o0)
      for (int64_t o1 = 0; o1 < g.out[1]; ++o1)
        for (int64_t o2 = 0; o2 < g.out[2]; ++o2, ++p) {
          float* dst = ob + p * CM;
          int64_t kj = 0;
          for (int64_t k0 = 0; k0 < g.k[0]; ++k0) {
            const int64_t i0 = o0 * g.s[0] + k0 * g.d[0] - g.pad[0];
            for (int64_t k1 = 0; k1 < g.k[1]; ++k1) {
              const int64_t i1 = o1 * g.s[1] + k1 * g.d[1] - g.pad[1];
              for (int64_t k2 = 0; k2 < g.k[2]; ++k2, ++kj) {
                const int64_t i2 = o2 * g.s[2] + k2 * g.d[2] - g.pad[2];
                if (i0 < 0 || i0 >= g.in[0] || i1 < 0 || i1 >= g.in[1] || i2 < 0 || i2 >= g.in[2]) continue;
                const float* src = xb + ((i0 * g.in[1] + i1) * g.in[2] + i2) * C;
                const float* w = kernel.values.data() + kj * CM;
                for (int64_t c = 0; c < C; ++c)
                  for (int64_t m = 0; m < M; ++m) dst[c * M + m] += src[c] * w[c * M + m];
              }
            }
          }
        }
  }
  return out;
}

class DepthwiseConv : public Layer {
 public:
  // pointwise kernel empty: DepthwiseConv; else SeparableConv.
  DepthwiseConv(ConvParams cp, Array dw, Array pw, Array bias)
      : cp_(std::move(cp)), dw_(std::move(dw)), pw_(std::move(pw)), bias_(std::move(bias)) {}
  std::vector<Array> apply(const std::vector<Array>& in, const Mask&) const override {
    expect_rank(in.at(0), cp_.rank, "DepthwiseConv");
    Array moved;
    if (cp_.channels_first) moved = to_channels_last(in[0], true);
    const Array& x = cp_.channels_first ? moved : in[0];
    const int64_t C = x.shape.back();
    if (dw_.shape[cp_.rank] != C)
      throw UsageError("depthwise kernel expects " + std::to_string(dw_.shape[cp_.rank]) + " channels, got " + std::to_string(C));
    const int64_t M = dw_.shape.back();
    Geometry g = conv_geometry(Shape(x.shape.begin() + 1, x.shape.end() - 1), cp_.k, cp_.s, cp_.d, cp_.padding);
    Array out = depthwise(x, dw_, g, M);
    if (!pw_.values.empty()) {
      const int64_t F = pw_.shape.back(), rows = numel(out.shape) / (C * M);
      Array y;
      y.shape = out.shape;
      y.shape.back() = F;
      y.values.resize(static_cast<size_t>(rows * F));
      MapR(y.values.data(), rows, F).noalias() = CMapR(out.values.data(), rows, C * M) * CMapR(pw_.values.data(), C * M, F);
      out = std::move(y);
    }
    const int64_t OC = out.shape.back();
    if (!bias_.values.empty()) MapR(out.values.data(), numel(out.shape) / OC, OC).rowwise() += CRowMap(bias_.values.data(), OC);
    apply_activation(cp_.act, out);
    return single(from_channels_last(std::move(out), cp_.channels_first));
  }

 private:
  ConvParams cp_;
  Array dw_, pw_, bias_;
};

class ConvTranspose : public Layer {
 public:
  ConvTranspose(ConvParams cp, std::vector<int64_t> out_pad, bool has_out_pad, Array kernel, Array bias)
      : cp_(std::move(cp)), out_pad_(std::move(out_pad)), has_out_pad_(has_out_pad), bias_(std::move(bias)) {
    // kernel (k..., F, C) -> Wall (C, K*F) with Wall[c, j*F + f] = kernel[j, f, c]
    const int64_t C = kernel.shape.back(), F = kernel.shape[cp_.rank];
    K_ = numel(kernel.shape) / (C * F);
    F_ = F;
    C_ = C;
    wall_ = make_array({C, K_ * F});
    for (int64_t j = 0; j < K_; ++j)
      for (int64_t f = 0; f < F; ++f)
        for (int64_t c = 0; c < C; ++c) wall_.values[c * K_ * F + j * F + f] = kernel.values[(j * F + f) * C + c];
  }
  std::vector<Array> apply(const std::vector<Array>& in, const Mask&) const override {
    expect_rank(in.at(0), cp_.rank, "ConvTranspose");
    Array x = to_channels_last(in[0], cp_.channels_first);
    const int64_t B = x.shape[0];
    if (x.shape.back() != C_) throw UsageError("ConvTranspose expects " + std::to_string(C_) + " channels");
    Geometry g;
    g.rank = cp_.rank;
    for (int i = 0; i < cp_.rank; ++i) {
      const int64_t n = x.shape[i + 1], k = cp_.k[i], s = cp_.s[i], d = cp_.d[i];
      const int64_t keff = (k - 1) * d + 1;
      int64_t len;
      if (!has_out_pad_) {
        len = cp_.padding == Padding::kSame ? n * s : n * s + std::max<int64_t>(keff - s, 0);
      } else {
        const int64_t pad = cp_.padding == Padding::kSame ? keff / 2 : 0;
        len = (n - 1) * s + keff - 2 * pad + out_pad_[i];
      }
      g.in[i] = n;
      g.out[i] = len;
      g.k[i] = k;
      g.s[i] = s;
      g.d[i] = d;
      g.pad[i] = cp_.padding == Padding::kSame ? std::max<int64_t>((n - 1) * s + keff - len, 0) / 2 : 0;
    }
    Shape os{B};
    for (int i = 0; i < cp_.rank; ++i) os.push_back(g.out[i]);
    os.push_back(F_);
    Array out = make_array(os);
    const int64_t P = g.in_size();
    MatR cols(P, K_ * F_);
    for (int64_t b = 0; b < B; ++b) {
      cols.noalias() = CMapR(x.values.data() + b * P * C_, P, C_) * CMapR(wall_.values.data(), C_, K_ * F_);
      float* ob = out.values.data() + b * g.out_size() * F_;
      int64_t p = 0;
      for (int64_t i0 = 0; i0 < g.in[0]; ++i0)
        for (int64_t i1 = 0; i1 < g.in[1]; ++i1)
          for (int64_t i2 = 0; i2 < g.in[2]; ++i2, ++p) {
            const float* row = cols.data() + p * K_ * F_;
            int64_t j = 0;
            for (int64_t k0 = 0; k0 < g.k[0]; ++k0) {
              const int64_t o0 = i0 * g.s[0] + k0 * g.d[0] - g.pad[0];
              for (int64_t k1 = 0; k1 < g.k[1]; ++k1) {
                const int64_t o1 = i1 * g.s[1] + k1 * g.d[1] - g.pad[1];
                for (int64_t k2 = 0; k2 < g.k[2]; ++k2, ++j) {
                  const int64_t o2 = i2 * g.s[2] + k2 * g.d[2] - g.pad[2];
                  if (o0 < 0 || o0 >= g.out[0] || o1 < 0 || o1 >= g.out[1] || o2 < 0 || o2 >= g.out[2]) continue;
                  float* dst = ob + ((o0 * g.out[1] + o1) * g.out[2] + o2) * F_;
                  const float* w = row + j * F_;
                  for (int64_t f = 0; f < F_; ++f) dst[f] += w[f];
                }
              }
            }
          }
    }
    if (!bias_.values.empty()) MapR(out.values.data(), numel(out.shape) / F_, F_).rowwise() += CRowMap(bias_.values.data(), F_);
    apply_activation(cp_.act, out);
    return single(from_channels_last(std::move(out), cp_.channels_first));
  }

 private:
  ConvParams cp_;
  std::vector<int64_t> out_pad_;
  bool has_out_pad_;
  Array wall_, bias_;
  int64_t K_ = 1, F_ = 1, C_ = 1;
};

// Keras 1 "th" kernels are (F, C, k...): bring them to (k..., C, F).
Array kernel_to_tf(const Array& k, int rank) {
  std::vector<int> perm;
  for (int i = 0; i < rank; ++i) perm.push_back(i + 2);
  perm.push_back(1);
  perm.push_back(0);
  return transpose(k, perm);
}

Creator conv_creator(int rank) {
  return [rank](const LayerParams& p) -> std::unique_ptr<Layer> {
    ConvParams cp = parse_conv(p, rank);
    const bool use_bias = p.config.bool_or({"use_bias", "bias"}, true);
    p.expect_weights(use_bias ? 2 : 1, use_bias ? 2 : 1);
    Array k = p.weights[0];
    if (p.dialect == KerasDialect::kKeras1 && cp.channels_first && static_cast<int>(k.shape.size()) == rank + 2)
      k = kernel_to_tf(k, rank);
    if (rank == 1 && k.shape.size() == 4 && k.shape[1] == 1) k.shape = {k.shape[0], k.shape[2], k.shape[3]};  // Keras 1 Conv1D
    if (static_cast<int>(k.shape.size()) != rank + 2) p.bad("kernel has shape " + shape_str(k.shape));
    for (int i = 0; i < rank; ++i)
      if (k.shape[i] != cp.k[i]) p.bad("kernel shape " + shape_str(k.shape) + " disagrees with kernel_size");
    if (use_bias) p.expect_shape(1, {k.shape.back()});
    return std::make_unique<Conv>(cp, std::move(k), use_bias ? p.weights[1] : Array{});
  };
}

Creator depthwise_creator(int rank, bool separable) {
  return [rank, separable](const LayerParams& p) -> std::unique_ptr<Layer> {
    ConvParams cp = parse_conv(p, rank);
    const bool use_bias = p.config.bool_or({"use_bias", "bias"}, true);
    const size_t n = (separable ? 2 : 1) + (use_bias ? 1 : 0);
    p.expect_weights(n, n);
    Array dw = p.weights[0];
    if (static_cast<int>(dw.shape.size()) != rank + 2) p.bad("depthwise kernel has shape " + shape_str(dw.shape));
    Array pw;
    if (separable) {
      pw = p.weights[1];
      const int64_t F = pw.shape.back();
      pw.shape = {numel(pw.shape) / F, F};
    }
    return std::make_unique<DepthwiseConv>(cp, std::move(dw), std::move(pw), use_bias ? p.weights.back() : Array{});
  };
}

Creator transpose_creator(int rank) {
  return [rank](const LayerParams& p) -> std::unique_ptr<Layer> {
    ConvParams cp = parse_conv(p, rank);
    if (cp.groups != 1) p.unsupported("grouped transposed convolution");
    const bool use_bias = p.config.bool_or({"use_bias", "bias"}, true);
    p.expect_weights(use_bias ? 2 : 1, use_bias ? 2 : 1);
    const Array& k = p.weights[0];
    if (static_cast<int>(k.shape.size()) != rank + 2) p.bad("kernel has shape " + shape_str(k.shape));
    const bool has_op = p.config.has("output_padding");
    std::vector<int64_t> op = p.config.ints({"output_padding"}, rank, 0);
    return std::make_unique<ConvTranspose>(cp, op, has_op, k, use_bias ? p.weights[1] : Array{});
  };
}

}  // namespace

void register_conv_layers(Registry& r) {
  r.add("Conv1D", conv_creator(1));
  r.add("Conv2D", conv_creator(2));
  r.add("Conv3D", conv_creator(3));
  r.add("Convolution1D", conv_creator(1));
  r.add("Convolution2D", conv_creator(2));
  r.add("Convolution3D", conv_creator(3));
  r.add("AtrousConvolution1D", conv_creator(1));
  r.add("AtrousConvolution2D", conv_creator(2));
  r.add("DepthwiseConv1D", depthwise_creator(1, false));
  r.add("DepthwiseConv2D", depthwise_creator(2, false));
  r.add("SeparableConv1D", depthwise_creator(1, true));
  r.add("SeparableConv2D", depthwise_creator(2, true));
  r.add("SeparableConvolution2D", depthwise_creator(2, true));
  r.add("Conv1DTranspose", transpose_creator(1));
  r.add("Conv2DTranspose", transpose_creator(2));
  r.add("Conv3DTranspose", transpose_creator(3));
  r.add("Deconvolution2D", transpose_creator(2));
}

}  // namespace kmodel::engine
