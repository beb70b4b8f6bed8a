// Shared geometry for spatial layers (conv, pooling, ConvLSTM): output sizes and padding for valid / same /
// causal, and channels_first <-> channels_last moves. Everything runs channels_last internally.
#pragma once

#include <array>
#include <string>

#include "engine/array.h"

namespace kmodel::engine {

enum class Padding { kValid, kSame, kCausal, kFull };
Padding parse_padding(const std::string& s, const std::string& layer);

// Up to 3 spatial dims; unused trailing dims have size 1 (kernel 1, stride 1).
struct Geometry {
  int rank = 0;
  std::array<int64_t, 3> in{1, 1, 1}, out{1, 1, 1}, k{1, 1, 1}, s{1, 1, 1}, d{1, 1, 1}, pad{0, 0, 0};
  int64_t in_size() const { return in[0] * in[1] * in[2]; }
  int64_t out_size() const { return out[0] * out[1] * out[2]; }
  int64_t k_size() const { return k[0] * k[1] * k[2]; }
};

// Forward conv / pooling geometry for spatial input dims `in` (channels_last, no batch/channels).
Geometry conv_geometry(const Shape& in, const std::vector<int64_t>& k, const std::vector<int64_t>& s,
                       const std::vector<int64_t>& d, Padding padding);

// Input to channels_last (moves axis 1 to the end) when channels_first; identity otherwise.
inline Array to_channels_last(const Array& x, bool channels_first) {
  return channels_first ? move_axis(x, 1, static_cast<int>(x.shape.size()) - 1) : x;
}
inline Array from_channels_last(Array y, bool channels_first) {
  if (channels_first) return move_axis(y, static_cast<int>(y.shape.size()) - 1, 1);
  return y;  // moved, not copied (a ?: here would copy)
}
// Gathers the patches of one channels_last item (in: D*H*W*C floats, geometry g) into rows of
// `cols` (one row of k_size() * cg floats per output position), for channels [c0, c0 + cg); taps
// that fall in padding are zero.
void im2col(const float* x, const Geometry& g, int64_t C, int64_t c0, int64_t cg, float* cols);
// Checks that x has rank spatial+2; throws UsageError naming the layer otherwise.
void expect_rank(const Array& x, int spatial, const std::string& what);

class Layer;
// A MaxPooling layer's window, for layers that fuse the pooling of their output (Conv).
struct MaxPoolWindow {
  int rank = 0;
  std::vector<int64_t> k, s;
  Padding padding = Padding::kValid;
  bool channels_first = false;
};
// The window when `layer` is a MaxPooling1D/2D/3D; false otherwise.
bool max_pool_window(const Layer& layer, MaxPoolWindow* window);
// Max pooling of B channels_last items when no window reaches padding (g from conv_geometry).
void max_pool_inside(const float* x, const Geometry& g, int64_t B, int64_t C, float* out);

}  // namespace kmodel::engine
