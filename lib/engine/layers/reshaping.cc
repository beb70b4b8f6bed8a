// Spatial reshaping: ZeroPadding1D/2D/3D, Cropping1D/2D/3D, UpSampling1D/2D/3D (nearest; bilinear
// UpSampling2D is a resize, see image_resize.h). Each of the others is a per-axis index map (output
// index -> input index, or -1 for a zero) applied channels_last.
#include "engine/layer.h"
#include "engine/layers/image_resize.h"
#include "engine/layers/spatial.h"

namespace kmodel::engine {
namespace {

using AxisMap = std::vector<int64_t>;

// out[b, o0, o1, o2, c] = in[b, map0[o0], map1[o1], map2[o2], c] (0 when any map is -1).
Array remap(const Array& x, const std::vector<AxisMap>& maps) {
  const int rank = static_cast<int>(maps.size());
  const int64_t B = x.shape[0], C = x.shape.back();
  std::array<int64_t, 3> in{1, 1, 1};
  std::array<AxisMap, 3> m{AxisMap{0}, AxisMap{0}, AxisMap{0}};
  Shape os{B};
  for (int i = 0; i < rank; ++i) {
    in[i] = x.shape[i + 1];
    m[i] = maps[i];
    os.push_back(static_cast<int64_t>(maps[i].size()));
  }
  os.push_back(C);
  Array out = make_array(os);
  float* dst = out.values.data();
  for (int64_t b = 0; b < B; ++b) {
    const float* xb = x.values.data() + b * in[0] * in[1] * in[2] * C;
    for (int64_t a : m[0])
      for (int64_t c1 : m[1])
        for (int64_t c2 : m[2]) {
          if (a >= 0 && c1 >= 0 && c2 >= 0) std::copy_n(xb + ((a * in[1] + c1) * in[2] + c2) * C, C, dst);
          dst += C;
        }
  }
  return out;
}

enum class Kind { kPad, kCrop, kUp };

class Remap : public Layer {
 public:
  Remap(Kind kind, std::vector<std::pair<int64_t, int64_t>> amounts, std::vector<int64_t> sizes, bool cf)
      : kind_(kind), amounts_(std::move(amounts)), sizes_(std::move(sizes)), cf_(cf) {}
  std::vector<Array> apply(const std::vector<Array>& in, const Mask&) const override {
    const int rank = kind_ == Kind::kUp ? static_cast<int>(sizes_.size()) : static_cast<int>(amounts_.size());
    expect_rank(in.at(0), rank, "padding/cropping/upsampling");
    Array x = to_channels_last(in[0], cf_);
    std::vector<AxisMap> maps(rank);
    for (int i = 0; i < rank; ++i) {
      const int64_t n = x.shape[i + 1];
      AxisMap& mp = maps[i];
      if (kind_ == Kind::kPad) {
        for (int64_t j = 0; j < amounts_[i].first; ++j) mp.push_back(-1);
        for (int64_t j = 0; j < n; ++j) mp.push_back(j);
        for (int64_t j = 0; j < amounts_[i].second; ++j) mp.push_back(-1);
      } else if (kind_ == Kind::kCrop) {
        for (int64_t j = amounts_[i].first; j < n - amounts_[i].second; ++j) mp.push_back(j);
      } else {
        for (int64_t j = 0; j < n; ++j)
          for (int64_t r = 0; r < sizes_[i]; ++r) mp.push_back(j);
      }
    }
    return single(from_channels_last(remap(x, maps), cf_));
  }

 private:
  Kind kind_;
  std::vector<std::pair<int64_t, int64_t>> amounts_;
  std::vector<int64_t> sizes_;
  bool cf_;
};

Creator pad_creator(int rank, Kind kind) {
  return [rank, kind](const LayerParams& p) -> std::unique_ptr<Layer> {
    const char* key = kind == Kind::kPad ? "padding" : "cropping";
    return std::make_unique<Remap>(kind, p.config.pairs(key, rank, kind == Kind::kPad ? 1 : 0), std::vector<int64_t>{},
                                   p.config.channels_first());
  };
}

Creator up_creator(int rank) {
  return [rank](const LayerParams& p) -> std::unique_ptr<Layer> {
    if (rank == 2 && p.config.str_or({"interpolation"}, "nearest") == "bilinear") return make_bilinear_upsampling2d(p);
    if (p.config.str_or({"interpolation"}, "nearest") != "nearest")
      p.unsupported("UpSampling interpolation \"" + p.config.str_or({"interpolation"}, "") + "\"");
    return std::make_unique<Remap>(Kind::kUp, std::vector<std::pair<int64_t, int64_t>>{},
                                   p.config.ints({"size", "length"}, rank, 2), p.config.channels_first());
  };
}

}  // namespace

void register_reshaping_layers(Registry& r) {
  const char* dims[] = {"1D", "2D", "3D"};
  for (int rank = 1; rank <= 3; ++rank) {
    const std::string d = dims[rank - 1];
    r.add("ZeroPadding" + d, pad_creator(rank, Kind::kPad));
    r.add("Cropping" + d, pad_creator(rank, Kind::kCrop));
    r.add("UpSampling" + d, up_creator(rank));
  }
}

}  // namespace kmodel::engine
