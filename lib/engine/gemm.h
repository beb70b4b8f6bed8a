// The engine's one GEMM entry point for layers whose right-hand side is a weight matrix:
// C (M x N, row stride ldc) = A (M x K, row stride lda) * B (K x N, row-major, dense) [+ C]
// [+ bias row]. With AVX-512 a register-blocked kernel (8 rows x 32 columns of accumulators,
// weights read in place: no packing, which matters for the small and skinny shapes of inference);
// Eigen otherwise.
#pragma once

#include <cstdint>

namespace kmodel::engine {

// accumulate: add to what C holds (C += A * B); otherwise C = A * B + bias (bias may be null).
// relu: max(0, .) applied as C is stored (a Dense/Conv "relu" activation without another pass).
void gemm(const float* A, int64_t M, int64_t K, int64_t lda, const float* B, int64_t N, float* C, int64_t ldc,
          const float* bias, bool accumulate = false, bool relu = false);

// Implicit GEMM for convolutions (no im2col copy): row r of A is the concatenation of the nseg
// segments rows[r][seg[s] .. seg[s] + L); B is (nseg * L) x N. C = A * B + bias [relu].
void gemm_rows(const float* const* rows, int64_t M, const int64_t* seg, int64_t nseg, int64_t L, const float* B,
               int64_t N, float* C, int64_t ldc, const float* bias, bool relu);

}  // namespace kmodel::engine
