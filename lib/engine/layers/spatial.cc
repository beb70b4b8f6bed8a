// Spatial geometry and patch gathering (im2col) shared by conv, pooling and ConvLSTM (see spatial.h).
#include "engine/layers/spatial.h"

#include "kmodel/error.h"

namespace kmodel::engine {

Padding parse_padding(const std::string& s, const std::string& layer) {
  if (s == "valid") return Padding::kValid;
  if (s == "same") return Padding::kSame;
  if (s == "causal") return Padding::kCausal;
  if (s == "full") return Padding::kFull;
  throw UnsupportedError("", "layer " + layer, "padding \"" + s + "\" is not supported");
}

Geometry conv_geometry(const Shape& in, const std::vector<int64_t>& k, const std::vector<int64_t>& s,
                       const std::vector<int64_t>& d, Padding padding) {
  Geometry g;
  g.rank = static_cast<int>(in.size());
  for (int i = 0; i < g.rank; ++i) {
    g.in[i] = in[i];
    g.k[i] = k[i];
    g.s[i] = s[i];
    g.d[i] = d[i];
    const int64_t keff = (k[i] - 1) * d[i] + 1;
    switch (padding) {
      case Padding::kValid:
        g.out[i] = in[i] >= keff ? (in[i] - keff) / s[i] + 1 : 0;
        g.pad[i] = 0;
        break;
      case Padding::kSame: {
        g.out[i] = (in[i] + s[i] - 1) / s[i];
        int64_t total = std::max<int64_t>((g.out[i] - 1) * s[i] + keff - in[i], 0);
        g.pad[i] = total / 2;
        break;
      }
      case Padding::kCausal:
        g.pad[i] = keff - 1;
        g.out[i] = (in[i] + keff - 1 - keff) / s[i] + 1;
        break;
      case Padding::kFull:
        g.pad[i] = keff - 1;
        g.out[i] = (in[i] + 2 * (keff - 1) - keff) / s[i] + 1;
        break;
    }
  }
  return g;
}

// Gathers patches of a channels_last item (in: D*H*W*C) into rows of `cols` (P x K*cg), for
// channels [c0, c0 + cg). The copies are short (often 1..64 floats): GCC is kept from turning the
// loops into memcpy calls, which cost more than the copy itself.
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("no-tree-loop-distribute-patterns")))
#endif
void im2col(const float* x, const Geometry& g, int64_t C, int64_t c0, int64_t cg, float* cols) {
  const int64_t row_len = g.k_size() * cg;
  const bool whole_runs = cg == C && g.d[2] == 1;  // a row's innermost taps are adjacent in memory
  const int64_t run = g.k[2] * C;
  int64_t p = 0;
  for (int64_t o0 = 0; o0 < g.out[0]; ++o0)
    for (int64_t o1 = 0; o1 < g.out[1]; ++o1)
      for (int64_t o2 = 0; o2 < g.out[2]; ++o2, ++p) {
        float* row = cols + p * row_len;
        int64_t j = 0;
        for (int64_t k0 = 0; k0 < g.k[0]; ++k0) {
          const int64_t i0 = o0 * g.s[0] + k0 * g.d[0] - g.pad[0];
          for (int64_t k1 = 0; k1 < g.k[1]; ++k1) {
            const int64_t i1 = o1 * g.s[1] + k1 * g.d[1] - g.pad[1];
            const int64_t i2_first = o2 * g.s[2] - g.pad[2], i2_last = i2_first + (g.k[2] - 1) * g.d[2];
            if (whole_runs && i0 >= 0 && i0 < g.in[0] && i1 >= 0 && i1 < g.in[1] && i2_first >= 0 && i2_last < g.in[2]) {
              // All channels of k[2] neighbouring cells: one contiguous run of the input.
              const float* src = x + ((i0 * g.in[1] + i1) * g.in[2] + i2_first) * C;
              for (int64_t c = 0; c < run; ++c) row[j + c] = src[c];
              j += run;
              continue;
            }
            for (int64_t k2 = 0; k2 < g.k[2]; ++k2, j += cg) {
              const int64_t i2 = o2 * g.s[2] + k2 * g.d[2] - g.pad[2];
              float* dst = row + j;
              if (i0 < 0 || i0 >= g.in[0] || i1 < 0 || i1 >= g.in[1] || i2 < 0 || i2 >= g.in[2]) {
                for (int64_t c = 0; c < cg; ++c) dst[c] = 0.f;
              } else {
                const float* src = x + ((i0 * g.in[1] + i1) * g.in[2] + i2) * C + c0;
                for (int64_t c = 0; c < cg; ++c) dst[c] = src[c];  // short runs: a loop beats memmove calls
              }
            }
          }
        }
      }
}

void expect_rank(const Array& x, int spatial, const std::string& what) {
  if (static_cast<int>(x.shape.size()) != spatial + 2)
    throw UsageError(what + " expects a rank-" + std::to_string(spatial + 2) + " input, got " + shape_str(x.shape));
}

}  // namespace kmodel::engine
