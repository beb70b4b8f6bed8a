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
constexpr int64_t kRows = 8;   // rows of A per tile
constexpr int64_t kCols = 32;  // columns of B per tile: two 16-float registers

// One tile: 8 rows x 32 columns of C (m0/m1 mask the columns that exist). Rows past the end of A
// point at its last row and are not stored (c[i] null). The accumulators are named variables, not
// an array: GCC keeps an array of vectors in memory and stores it back on every step.
#define KM_EACH_ROW(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
void tile(const float* const* a, const int64_t* seg, int64_t nseg, int64_t L, const float* B, int64_t ldb,
          float* const* c, const float* bias, bool accumulate, bool relu, __mmask16 m0, __mmask16 m1) {
  const __m512 b0 = bias ? _mm512_maskz_loadu_ps(m0, bias) : _mm512_setzero_ps();
  const __m512 b1 = bias ? _mm512_maskz_loadu_ps(m1, bias + 16) : _mm512_setzero_ps();
  const float* a_last = a[7];
#define KM_INIT(i)                                                                \
  __m512 acc##i##_0 = b0, acc##i##_1 = b1;                                        \
  const float* a##i = a[i] ? a[i] : a_last;                                       \
  if (accumulate && c[i]) {                                                       \
    acc##i##_0 = _mm512_maskz_loadu_ps(m0, c[i]);                                 \
    acc##i##_1 = _mm512_maskz_loadu_ps(m1, c[i] + 16);                            \
  }
  KM_EACH_ROW(KM_INIT)
#undef KM_INIT
  for (int64_t si = 0; si < nseg; ++si) {
    const int64_t off = seg[si];
    const float* w = B + si * L * ldb;
    for (int64_t k = off; k < off + L; ++k, w += ldb) {
      const __m512 w0 = _mm512_maskz_loadu_ps(m0, w);
      const __m512 w1 = _mm512_maskz_loadu_ps(m1, w + 16);
#define KM_FMA(i)                                         \
  {                                                       \
    const __m512 x = _mm512_set1_ps(a##i[k]);             \
    acc##i##_0 = _mm512_fmadd_ps(x, w0, acc##i##_0);      \
    acc##i##_1 = _mm512_fmadd_ps(x, w1, acc##i##_1);      \
  }
      KM_EACH_ROW(KM_FMA)
#undef KM_FMA
    }
  }
  if (relu) {
    const __m512 zero = _mm512_setzero_ps();
#define KM_RELU(i)                                \
  acc##i##_0 = _mm512_max_ps(acc##i##_0, zero);   \
  acc##i##_1 = _mm512_max_ps(acc##i##_1, zero);
    KM_EACH_ROW(KM_RELU)
#undef KM_RELU
  }
#define KM_STORE(i)                                   \
  if (c[i]) {                                         \
    _mm512_mask_storeu_ps(c[i], m0, acc##i##_0);      \
    _mm512_mask_storeu_ps(c[i] + 16, m1, acc##i##_1); \
  }
  KM_EACH_ROW(KM_STORE)
#undef KM_STORE
}
#undef KM_EACH_ROW

__mmask16 mask_for(int64_t n) {
  return n >= 16 ? __mmask16(0xffff) : n <= 0 ? __mmask16(0) : __mmask16((1u << n) - 1);
}
#endif

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

// Shared driver: row(r) is the base pointer of row r of A, whose K = nseg * L elements are the
// segments base[seg[s] .. seg[s] + L).
template <class RowPtr>
void drive(RowPtr row, int64_t M, const int64_t* seg, int64_t nseg, int64_t L, const float* B, int64_t N, float* C,
           int64_t ldc, const float* bias, bool accumulate, bool relu) {
#if defined(__AVX512F__)
  // Column panels outermost: a K x 32 panel of B stays in cache while all rows of A pass by it.
  for (int64_t n0 = 0; n0 < N; n0 += kCols) {
    const __mmask16 m0 = mask_for(N - n0), m1 = mask_for(N - n0 - 16);
    const float* bp = bias ? bias + n0 : nullptr;
    for (int64_t r0 = 0; r0 < M; r0 += kRows) {
      const float* a[kRows];
      float* c[kRows];
      for (int64_t i = 0; i < kRows; ++i) {
        const bool in = r0 + i < M;
        a[i] = in ? row(r0 + i) : nullptr;
        c[i] = in ? C + (r0 + i) * ldc + n0 : nullptr;
      }
      if (!a[kRows - 1]) a[kRows - 1] = row(M - 1);
      tile(a, seg, nseg, L, B + n0, N, c, bp, accumulate, relu, m0, m1);
    }
  }
#else
  // Gather the rows, then Eigen.
  const int64_t K = nseg * L;
  MatR a(M, K);
  for (int64_t r = 0; r < M; ++r)
    for (int64_t si = 0; si < nseg; ++si) std::copy_n(row(r) + seg[si], L, a.data() + r * K + si * L);
  eigen_gemm(a.data(), M, K, K, B, N, C, ldc, bias, accumulate, relu);
#endif
}

}  // namespace

void gemm(const float* A, int64_t M, int64_t K, int64_t lda, const float* B, int64_t N, float* C, int64_t ldc,
          const float* bias, bool accumulate, bool relu) {
  if (M <= 0 || N <= 0) return;
#if defined(__AVX512F__)
  if (M >= 4) {  // below that (matrix-vector products) Eigen's GEMV streams B once without wasted tile rows
    const int64_t seg = 0;
    drive([&](int64_t r) { return A + r * lda; }, M, &seg, 1, K, B, N, C, ldc, bias, accumulate, relu);
    return;
  }
#endif
  eigen_gemm(A, M, K, lda, B, N, C, ldc, bias, accumulate, relu);
}

void gemm_rows(const float* const* rows, int64_t M, const int64_t* seg, int64_t nseg, int64_t L, const float* B,
               int64_t N, float* C, int64_t ldc, const float* bias, bool relu) {
  if (M <= 0 || N <= 0) return;
  drive([&](int64_t r) { return rows[r]; }, M, seg, nseg, L, B, N, C, ldc, bias, false, relu);
}

}  // namespace kmodel::engine
