// Winograd F(2x2, 3x3) for 3x3, stride-1, undilated 2-D convolutions over channels_last data: each
// 2x2 block of outputs comes from a 4x4 input tile through 16 products instead of 36, done as 16
// GEMMs over all tiles (engine/gemm.h) between an input and an output transform. The transforms
// use only 0, +-1 and +-1/2, so results stay within float rounding of the direct sum.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/gemm.h"

namespace kmodel::engine {

class Winograd3x3 {
 public:
  // kernel: Keras layout (3, 3, C, F). The transformed kernel (16 x C x F) is computed here, once.
  Winograd3x3(const float* kernel, int64_t C, int64_t F);
  // Whether the tile transforms pay off for C input and F output channels (and suit them: the
  // transforms work on whole groups of 16 channels).
  static bool worthwhile(int64_t C, int64_t F) { return C % 16 == 0 && F % 16 == 0 && C > 0 && F > 0; }

  // y (nb x OH x OW x F) = the convolution of x (nb x H x W x C) zero-padded by pad_top rows and
  // pad_left columns, plus bias (may be null), then max(0, .) when relu. OH and OW may be fewer
  // than the full output (only those outputs are computed).
  void run(const float* x, int64_t nb, int64_t H, int64_t W, int64_t pad_top, int64_t pad_left, int64_t OH,
           int64_t OW, const float* bias, bool relu, float* y) const;

 private:
  int64_t C_, F_;
  std::vector<GemmWeights> u_;  // 16 matrices C x F: component k of G g G^T for each (c, f)
};

}  // namespace kmodel::engine
