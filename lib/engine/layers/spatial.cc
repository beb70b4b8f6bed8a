// Spatial geometry (see spatial.h).
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

void expect_rank(const Array& x, int spatial, const std::string& what) {
  if (static_cast<int>(x.shape.size()) != spatial + 2)
    throw UsageError(what + " expects a rank-" + std::to_string(spatial + 2) + " input, got " + shape_str(x.shape));
}

}  // namespace kmodel::engine
