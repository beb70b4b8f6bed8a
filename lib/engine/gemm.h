// The engine's one GEMM entry point for layers whose right-hand side is a weight matrix:
// C (M x N, row stride ldc) = A (M x K, row stride lda) * B (K x N) [+ C] [+ bias row] [relu].
// B is packed once, when the layer is built (GemmWeights). With AVX-512, register-blocked kernels:
// 8 rows x 32 columns of accumulators (8 x 16 when N <= 16) for M >= 4, and one row against 128
// columns for matrix-vector products; Eigen otherwise.
#pragma once

#include <cstdint>
#include <vector>

namespace kmodel::engine {

// A weight matrix B (K x N, given row-major) prepared for gemm(): with AVX-512 its columns are
// stored in panels of 32 (each panel K x 32 contiguous, zero-padded past N) that the kernels read
// as one sequential stream; otherwise row-major as given.
class GemmWeights {
 public:
  GemmWeights() = default;
  GemmWeights(const float* B, int64_t K, int64_t N);
  int64_t rows() const { return K_; }
  int64_t cols() const { return N_; }
  const float* data() const { return data_.data(); }

 private:
  std::vector<float> data_;
  int64_t K_ = 0, N_ = 0;
};

// accumulate: add to what C holds (C += A * B); otherwise C = A * B + bias (bias may be null).
// relu: max(0, .) applied as C is stored (a Dense/Conv "relu" activation without another pass).
void gemm(const float* A, int64_t M, int64_t lda, const GemmWeights& B, float* C, int64_t ldc, const float* bias,
          bool accumulate = false, bool relu = false);

// Implicit GEMM for convolutions (no im2col copy): row r of A is the concatenation of the nseg
// segments rows[r][seg[s] .. seg[s] + L); B has nseg * L rows. C = A * B + bias [relu].
// pool_rows (1, 2, 4 or 8, dividing M) > 1: each run of pool_rows consecutive rows is reduced to
// its element-wise maximum, stored as row r / pool_rows of C (max pooling, the caller listing each
// window's cells as consecutive rows).
void gemm_rows(const float* const* rows, int64_t M, const int64_t* seg, int64_t nseg, int64_t L, const GemmWeights& B,
               float* C, int64_t ldc, const float* bias, bool relu, int64_t pool_rows = 1);

}  // namespace kmodel::engine
