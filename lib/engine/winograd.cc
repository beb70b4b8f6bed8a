// Winograd F(2x2, 3x3) convolution (see winograd.h). With d a 4x4 input tile and g a 3x3 kernel
// slice: V = B^T d B, U = G g G^T, M = sum over channels of U * V (the 16 GEMMs), Y = A^T M A with
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1], G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1],
//   A^T = [1 1 1 0; 0 1 -1 -1]  (Lavin & Gray 2015, in the cross-correlation form Keras computes).
#include "engine/winograd.h"

#include <algorithm>
#include <cstring>


namespace kmodel::engine {
namespace {

// 16 floats as one value (GCC/Clang vector extension): the transforms run over 16 channels at a
// time, in one AVX-512 register where the target has them. Channel counts are multiples of 16.
typedef float V16 __attribute__((vector_size(64)));

inline void load(V16& v, const float* p) { std::memcpy(&v, p, sizeof v); }  // (no V16 by value: ABI)
inline void store(float* p, const V16& v) { std::memcpy(p, &v, sizeof v); }

// One input tile: cell[4i + j] points at the C channels of tile cell (i, j) (zeros for padding);
// component k of V goes to v + k * stride.
void input_tile(const float* const cell[16], int64_t C, float* v, int64_t stride) {
  for (int64_t c = 0; c < C; c += 16) {
    V16 r[16];  // d B
    for (int i = 0; i < 4; ++i) {
      V16 d0, d1, d2, d3;
      load(d0, cell[4 * i] + c);
      load(d1, cell[4 * i + 1] + c);
      load(d2, cell[4 * i + 2] + c);
      load(d3, cell[4 * i + 3] + c);
      r[4 * i] = d0 - d2;
      r[4 * i + 1] = d1 + d2;
      r[4 * i + 2] = d2 - d1;
      r[4 * i + 3] = d1 - d3;
    }
    for (int j = 0; j < 4; ++j) {  // B^T (d B)
      store(v + j * stride + c, r[j] - r[8 + j]);
      store(v + (4 + j) * stride + c, r[4 + j] + r[8 + j]);
      store(v + (8 + j) * stride + c, r[8 + j] - r[4 + j]);
      store(v + (12 + j) * stride + c, r[4 + j] - r[12 + j]);
    }
  }
}

// One output tile: component k of M at m + k * stride (F values); y[2a + b] receives output
// (a, b) of the tile, or is null when that output lies past the edge.
void output_tile(const float* m, int64_t stride, int64_t F, const float* bias, bool relu, float* const y[4]) {
  const V16 zero{};
  for (int64_t f = 0; f < F; f += 16) {
    V16 s0[4], s1[4];  // A^T M
    for (int j = 0; j < 4; ++j) {
      V16 m0, m1, m2, m3;
      load(m0, m + j * stride + f);
      load(m1, m + (4 + j) * stride + f);
      load(m2, m + (8 + j) * stride + f);
      load(m3, m + (12 + j) * stride + f);
      s0[j] = m0 + m1 + m2;
      s1[j] = m1 - m2 - m3;
    }
    V16 b = zero;
    if (bias) load(b, bias + f);
    V16 out[4] = {s0[0] + s0[1] + s0[2] + b, s0[1] - s0[2] - s0[3] + b, s1[0] + s1[1] + s1[2] + b,
                  s1[1] - s1[2] - s1[3] + b};  // (A^T M) A
    for (int k = 0; k < 4; ++k) {
      if (!y[k]) continue;
      if (relu) out[k] = out[k] > zero ? out[k] : zero;  // NaN -> 0, as the GEMM's fused relu
      store(y[k] + f, out[k]);
    }
  }
}

}  // namespace

Winograd3x3::Winograd3x3(const float* kernel, int64_t C, int64_t F) : C_(C), F_(F) {
  std::vector<float> u(static_cast<size_t>(16 * C * F));
  static const double G[4][3] = {{1, 0, 0}, {.5, .5, .5}, {.5, -.5, .5}, {0, 0, 1}};
  for (int64_t c = 0; c < C; ++c)
    for (int64_t f = 0; f < F; ++f) {
      double gg[4][3] = {};  // G g
      for (int i = 0; i < 4; ++i)
        for (int b = 0; b < 3; ++b)
          for (int a = 0; a < 3; ++a) gg[i][b] += G[i][a] * kernel[((a * 3 + b) * C + c) * F + f];
      for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j) {
          double s = 0;  // (G g) G^T
          for (int b = 0; b < 3; ++b) s += gg[i][b] * G[j][b];
          u[((i * 4 + j) * C + c) * F + f] = static_cast<float>(s);
        }
    }
  for (int k = 0; k < 16; ++k) u_.emplace_back(u.data() + k * C * F, C, F);
}

void Winograd3x3::run(const float* x, int64_t nb, int64_t H, int64_t W, int64_t pad_top, int64_t pad_left, int64_t OH,
                      int64_t OW, const float* bias, bool relu, float* y) const {
  const int64_t TH = (OH + 1) / 2, TW = (OW + 1) / 2, per_item = TH * TW;
  if (per_item == 0) return;
  // Items per pass: the transformed inputs and products (16 x tiles x (C + F)) stay within ~512 KB.
  const int64_t chunk = std::max<int64_t>(1, (int64_t{1} << 17) / (16 * per_item * (C_ + F_)));
  thread_local std::vector<float> v, m, zeros;  // the engine is single-threaded per thread
  zeros.assign(static_cast<size_t>(C_), 0.f);
  for (int64_t b0 = 0; b0 < nb; b0 += chunk) {
    const int64_t ni = std::min(chunk, nb - b0), T = ni * per_item;
    v.resize(static_cast<size_t>(16 * T * C_));
    m.resize(static_cast<size_t>(16 * T * F_));
    int64_t t = 0;
    for (int64_t b = 0; b < ni; ++b) {
      const float* xb = x + (b0 + b) * H * W * C_;
      for (int64_t ty = 0; ty < TH; ++ty)
        for (int64_t tx = 0; tx < TW; ++tx, ++t) {
          const float* cell[16];
          for (int i = 0; i < 4; ++i)
            for (int j = 0; j < 4; ++j) {
              const int64_t r = 2 * ty - pad_top + i, col = 2 * tx - pad_left + j;
              cell[4 * i + j] = r >= 0 && r < H && col >= 0 && col < W ? xb + (r * W + col) * C_ : zeros.data();
            }
          input_tile(cell, C_, v.data() + t * C_, T * C_);
        }
    }
    for (int k = 0; k < 16; ++k)
      gemm(v.data() + k * T * C_, T, C_, u_[k], m.data() + k * T * F_, F_, nullptr);
    t = 0;
    for (int64_t b = 0; b < ni; ++b)
      for (int64_t ty = 0; ty < TH; ++ty)
        for (int64_t tx = 0; tx < TW; ++tx, ++t) {
          float* out[4];
          for (int a = 0; a < 2; ++a)
            for (int c = 0; c < 2; ++c) {
              const int64_t oy = 2 * ty + a, ox = 2 * tx + c;
              out[2 * a + c] = oy < OH && ox < OW ? y + (((b0 + b) * OH + oy) * OW + ox) * F_ : nullptr;
            }
          output_tile(m.data() + t * F_, T * F_, F_, bias, relu, out);
        }
  }
}

}  // namespace kmodel::engine
