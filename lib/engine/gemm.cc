// GEMM for weight matrices (see gemm.h).
#include "engine/gemm.h"

#include <algorithm>

#include "engine/array.h"

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace kmodel::engine {
namespace {

#if defined(__AVX512F__)
constexpr int64_t kRows = 8;    // rows of A per tile
constexpr int64_t kPanel = 32;  // columns of B per packed panel: two 16-float registers

__mmask16 mask_for(int64_t n) {
  return n >= 16 ? __mmask16(0xffff) : n <= 0 ? __mmask16(0) : __mmask16((1u << n) - 1);
}

// One tile: 8 rows x 32 columns of C (16 when !kTwo; m0/m1 mask the columns that exist), against
// one packed panel of B. Rows past the end of A point at its last row and are not stored (c[i]
// null). With group > 1, rows i .. i + group - 1 are reduced to their maximum, stored at c[i].
// The accumulators are named variables, not an array: GCC keeps an array of vectors in memory
// and stores it back on every step.
#define KM_EACH_ROW(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
template <bool kTwo>
void tile(const float* const* a, const int64_t* seg, int64_t nseg, int64_t L, const float* panel, float* const* c,
          const float* bias, bool accumulate, bool relu, int64_t group, __mmask16 m0, __mmask16 m1) {
  const __m512 b0 = bias ? _mm512_maskz_loadu_ps(m0, bias) : _mm512_setzero_ps();
  const __m512 b1 = bias && kTwo ? _mm512_maskz_loadu_ps(m1, bias + 16) : _mm512_setzero_ps();
  const float* a_last = a[7];
#define KM_INIT(i)                                                          \
  __m512 acc##i##_0 = b0, acc##i##_1 = b1;                                  \
  const float* a##i = a[i] ? a[i] : a_last;                                 \
  if (accumulate && c[i]) {                                                 \
    acc##i##_0 = _mm512_maskz_loadu_ps(m0, c[i]);                           \
    if constexpr (kTwo) acc##i##_1 = _mm512_maskz_loadu_ps(m1, c[i] + 16);  \
  }
  KM_EACH_ROW(KM_INIT)
#undef KM_INIT
  for (int64_t si = 0; si < nseg; ++si) {
    const int64_t off = seg[si];
    const float* w = panel + si * L * kPanel;
    for (int64_t k = off; k < off + L; ++k, w += kPanel) {
      const __m512 w0 = _mm512_loadu_ps(w);
      const __m512 w1 = kTwo ? _mm512_loadu_ps(w + 16) : w0;
#define KM_FMA(i)                                                           \
  {                                                                         \
    const __m512 x = _mm512_set1_ps(a##i[k]);                               \
    acc##i##_0 = _mm512_fmadd_ps(x, w0, acc##i##_0);                        \
    if constexpr (kTwo) acc##i##_1 = _mm512_fmadd_ps(x, w1, acc##i##_1);    \
  }
      KM_EACH_ROW(KM_FMA)
#undef KM_FMA
    }
  }
  if (relu) {
    const __m512 zero = _mm512_setzero_ps();
#define KM_RELU(i)                                                          \
  acc##i##_0 = _mm512_max_ps(acc##i##_0, zero);                             \
  if constexpr (kTwo) acc##i##_1 = _mm512_max_ps(acc##i##_1, zero);
    KM_EACH_ROW(KM_RELU)
#undef KM_RELU
  }
  if (group > 1) {  // max(later row, earlier row): NaN only from the window's first cell, as in pooling
#define KM_MAX(i, j)                                                        \
  acc##i##_0 = _mm512_max_ps(acc##j##_0, acc##i##_0);                       \
  if constexpr (kTwo) acc##i##_1 = _mm512_max_ps(acc##j##_1, acc##i##_1);
    KM_MAX(0, 1) KM_MAX(2, 3) KM_MAX(4, 5) KM_MAX(6, 7)
    if (group > 2) { KM_MAX(0, 2) KM_MAX(4, 6) }
    if (group > 4) { KM_MAX(0, 4) }
#undef KM_MAX
  }
#define KM_STORE(i)                                                         \
  if (c[i]) {                                                               \
    _mm512_mask_storeu_ps(c[i], m0, acc##i##_0);                            \
    if constexpr (kTwo) _mm512_mask_storeu_ps(c[i] + 16, m1, acc##i##_1);   \
  }
  KM_EACH_ROW(KM_STORE)
#undef KM_STORE
}
#undef KM_EACH_ROW

// Matrix-vector step: one row a (K values) against kP consecutive panels (32 * kP columns; the
// panels are K * 32 floats apart), c (the n columns that exist) = a * B [+ c or + bias] [relu].
// Each panel is a sequential stream; 2 * kP independent accumulators hide the FMA latency.
template <int kP>
void row_panels(const float* a, int64_t K, const float* panel, int64_t n, float* c, const float* bias, bool accumulate,
                bool relu) {
  __mmask16 m[2 * kP];
  __m512 acc[2 * kP];
  for (int j = 0; j < 2 * kP; ++j) {
    m[j] = mask_for(n - 16 * j);
    acc[j] = accumulate ? _mm512_maskz_loadu_ps(m[j], c + 16 * j)
                        : bias ? _mm512_maskz_loadu_ps(m[j], bias + 16 * j) : _mm512_setzero_ps();
  }
  for (int64_t k = 0; k < K; ++k) {
    const __m512 x = _mm512_set1_ps(a[k]);
#pragma GCC unroll 8
    for (int j = 0; j < 2 * kP; ++j)
      acc[j] = _mm512_fmadd_ps(x, _mm512_loadu_ps(panel + (j / 2) * K * kPanel + k * kPanel + (j % 2) * 16), acc[j]);
  }
  for (int j = 0; j < 2 * kP; ++j) {
    if (relu) acc[j] = _mm512_max_ps(acc[j], _mm512_setzero_ps());
    _mm512_mask_storeu_ps(c + 16 * j, m[j], acc[j]);
  }
}

void gemv(const float* a, const GemmWeights& B, float* c, const float* bias, bool accumulate, bool relu) {
  const int64_t K = B.rows(), N = B.cols();
  for (int64_t n0 = 0; n0 < N; n0 += 4 * kPanel) {
    const float* panel = B.data() + n0 * K;
    const float* bp = bias ? bias + n0 : nullptr;
    const int64_t n = std::min(N - n0, 4 * kPanel);
    switch ((n + kPanel - 1) / kPanel) {
      case 4: row_panels<4>(a, K, panel, n, c + n0, bp, accumulate, relu); break;
      case 3: row_panels<3>(a, K, panel, n, c + n0, bp, accumulate, relu); break;
      case 2: row_panels<2>(a, K, panel, n, c + n0, bp, accumulate, relu); break;
      default: row_panels<1>(a, K, panel, n, c + n0, bp, accumulate, relu); break;
    }
  }
}
#else
void eigen_gemm(const float* A, int64_t M, int64_t K, int64_t lda, const float* B, int64_t N, float* C, int64_t ldc,
                const float* bias, bool accumulate, bool relu) {
  using Stride = Eigen::OuterStride<>;
  Eigen::Map<const MatR, 0, Stride> a(A, M, K, Stride(lda));
  Eigen::Map<MatR, 0, Stride> c(C, M, N, Stride(ldc));
  if (accumulate) {
    c.noalias() += a * CMapR(B, K, N);
    if (relu) c = c.cwiseMax(0.f);
    return;
  }
  c.noalias() = a * CMapR(B, K, N);
  if (bias) c.rowwise() += CRowMap(bias, N);
  if (relu) c = c.cwiseMax(0.f);
}
#endif

// Shared driver: row(r) is the base pointer of row r of A, whose K = nseg * L elements are the
// segments base[seg[s] .. seg[s] + L).
template <class RowPtr>
void drive(RowPtr row, int64_t M, const int64_t* seg, int64_t nseg, int64_t L, const GemmWeights& B, float* C,
           int64_t ldc, const float* bias, bool accumulate, bool relu, int64_t group) {
  const int64_t N = B.cols();
#if defined(__AVX512F__)
  if (M < 4 && nseg == 1 && group == 1) {  // matrix-vector products: B streamed once per row, no wasted tile rows
    for (int64_t r = 0; r < M; ++r) gemv(row(r) + seg[0], B, C + r * ldc, bias, accumulate, relu);
    return;
  }
  // Column panels outermost: a K x 32 panel of B stays in cache while all rows of A pass by it.
  for (int64_t n0 = 0; n0 < N; n0 += kPanel) {
    const __mmask16 m0 = mask_for(N - n0), m1 = mask_for(N - n0 - 16);
    const float* panel = B.data() + n0 * B.rows();
    const float* bp = bias ? bias + n0 : nullptr;
    for (int64_t r0 = 0; r0 < M; r0 += kRows) {
      const float* a[kRows];
      float* c[kRows];
      for (int64_t i = 0; i < kRows; ++i) {
        const bool in = r0 + i < M;
        a[i] = in ? row(r0 + i) : nullptr;
        c[i] = in && i % group == 0 ? C + (r0 + i) / group * ldc + n0 : nullptr;
      }
      if (!a[kRows - 1]) a[kRows - 1] = row(M - 1);
      if (N - n0 > 16) tile<true>(a, seg, nseg, L, panel, c, bp, accumulate, relu, group, m0, m1);
      else tile<false>(a, seg, nseg, L, panel, c, bp, accumulate, relu, group, m0, m1);
    }
  }
#else
  // Gather the rows (unless A is one dense block), then Eigen.
  const int64_t K = nseg * L;
  MatR a(M, K);
  for (int64_t r = 0; r < M; ++r)
    for (int64_t si = 0; si < nseg; ++si) std::copy_n(row(r) + seg[si], L, a.data() + r * K + si * L);
  if (group == 1) {
    eigen_gemm(a.data(), M, K, K, B.data(), N, C, ldc, bias, accumulate, relu);
    return;
  }
  MatR full(M, N);
  eigen_gemm(a.data(), M, K, K, B.data(), N, full.data(), N, bias, false, relu);
  for (int64_t r = 0; r < M; r += group) {
    float* dst = C + r / group * ldc;
    for (int64_t j = 0; j < N; ++j) {
      float v = full(r, j);
      for (int64_t i = 1; i < group; ++i) v = std::max(v, full(r + i, j));
      dst[j] = v;
    }
  }
#endif
}

}  // namespace

GemmWeights::GemmWeights(const float* B, int64_t K, int64_t N) : K_(K), N_(N) {
#if defined(__AVX512F__)
  const int64_t panels = (N + kPanel - 1) / kPanel;
  data_.assign(static_cast<size_t>(panels * kPanel * K), 0.f);
  for (int64_t p = 0; p < panels; ++p)
    for (int64_t k = 0; k < K; ++k)
      for (int64_t j = 0; j < kPanel && p * kPanel + j < N; ++j) data_[(p * K + k) * kPanel + j] = B[k * N + p * kPanel + j];
#else
  data_.assign(B, B + K * N);
#endif
}

void gemm(const float* A, int64_t M, int64_t lda, const GemmWeights& B, float* C, int64_t ldc, const float* bias,
          bool accumulate, bool relu) {
  if (M <= 0 || B.cols() <= 0) return;
#if defined(__AVX512F__)
  const int64_t seg = 0;
  drive([&](int64_t r) { return A + r * lda; }, M, &seg, 1, B.rows(), B, C, ldc, bias, accumulate, relu, 1);
#else
  eigen_gemm(A, M, B.rows(), lda, B.data(), B.cols(), C, ldc, bias, accumulate, relu);
#endif
}

void gemm_rows(const float* const* rows, int64_t M, const int64_t* seg, int64_t nseg, int64_t L, const GemmWeights& B,
               float* C, int64_t ldc, const float* bias, bool relu, int64_t pool_rows) {
  if (M <= 0 || B.cols() <= 0) return;
  drive([&](int64_t r) { return rows[r]; }, M, seg, nseg, L, B, C, ldc, bias, false, relu, pool_rows);
}

}  // namespace kmodel::engine
