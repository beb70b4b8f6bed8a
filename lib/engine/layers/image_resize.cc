// tf.image.resize (TF 2) on channels_last images: each output pixel reads the input at
// src = (o + 0.5) * in / out - 0.5 (bilinear: the two neighbouring pixels, clamped into the image,
// weighted by the fractional part) or at floor((o + 0.5) * in / out) (nearest). Positions are
// computed in float32 as TensorFlow does, so that nearest picks the same pixel at exact ties.
#include "engine/layers/image_resize.h"

#include <algorithm>
#include <cmath>

#include "kmodel/error.h"

namespace kmodel::engine {
namespace {

// For each output index along one axis: the two input indices (relative to the window) and the
// weight of the second.
struct AxisTaps {
  std::vector<int64_t> first, second;
  std::vector<float> weight;
};

AxisTaps axis_taps(int64_t in, int64_t out, ResizeMethod method) {
  AxisTaps t;
  t.first.resize(out);
  t.second.resize(out);
  t.weight.assign(out, 0.f);
  const float scale = static_cast<float>(in) / static_cast<float>(out);
  auto clamp = [in](int64_t i) { return std::min(std::max<int64_t>(i, 0), in - 1); };
  for (int64_t o = 0; o < out; ++o) {
    if (method == ResizeMethod::kNearest) {
      const float src = (static_cast<float>(o) + 0.5f) * scale;
      t.first[o] = t.second[o] = clamp(static_cast<int64_t>(std::floor(src)));
    } else {
      const float src = (static_cast<float>(o) + 0.5f) * scale - 0.5f;
      const float below = std::floor(src);
      t.first[o] = clamp(static_cast<int64_t>(below));
      t.second[o] = clamp(static_cast<int64_t>(below) + 1);
      t.weight[o] = src - below;
    }
  }
  return t;
}

}  // namespace

CropWindow full_window(const Array& x) { return CropWindow{0, 0, x.shape.at(1), x.shape.at(2)}; }

CropWindow aspect_ratio_window(int64_t H, int64_t W, int64_t target_h, int64_t target_w) {
  CropWindow w;
  // float division then truncation, as Keras computes it
  w.height = std::max<int64_t>(std::min<int64_t>(H, static_cast<int64_t>(static_cast<double>(W) * target_h / target_w)), 1);
  w.width = std::max<int64_t>(std::min<int64_t>(W, static_cast<int64_t>(static_cast<double>(H) * target_w / target_h)), 1);
  w.top = static_cast<int64_t>(static_cast<double>(H - w.height) / 2);
  w.left = static_cast<int64_t>(static_cast<double>(W - w.width) / 2);
  return w;
}

Array crop_images(const Array& x, const CropWindow& w) {
  const int64_t B = x.shape[0], H = x.shape[1], W = x.shape[2], C = x.shape[3];
  Array out = make_array({B, w.height, w.width, C});
  float* dst = out.values.data();
  for (int64_t b = 0; b < B; ++b)
    for (int64_t y = 0; y < w.height; ++y) {
      const float* row = x.values.data() + ((b * H + w.top + y) * W + w.left) * C;
      dst = std::copy_n(row, w.width * C, dst);
    }
  return out;
}

Array resize_images(const Array& x, const CropWindow& window, int64_t out_h, int64_t out_w, ResizeMethod method,
                    const std::string& file, const std::string& where) {
  const int64_t B = x.shape.at(0), H = x.shape.at(1), W = x.shape.at(2), C = x.shape.at(3);
  // Checked by division so that the product itself cannot overflow.
  int64_t limit = kMaxResizeElements;
  for (int64_t d : {B, out_h, out_w, C}) {
    if (d > 0 && limit / d == 0)
      throw UnsupportedError(file, where,
                             "resizing to (" + std::to_string(B) + ", " + std::to_string(out_h) + ", " +
                                 std::to_string(out_w) + ", " + std::to_string(C) + ") exceeds kmodel's limit of " +
                                 std::to_string(kMaxResizeElements) + " values per layer output");
    if (d > 0) limit /= d;
  }
  Array out = make_array({B, out_h, out_w, C});
  if (window.height <= 0 || window.width <= 0 || numel(out.shape) == 0) return out;
  const AxisTaps ty = axis_taps(window.height, out_h, method), tx = axis_taps(window.width, out_w, method);
  float* dst = out.values.data();
  for (int64_t b = 0; b < B; ++b) {
    const float* img = x.values.data() + b * H * W * C;
    auto pixel = [&](int64_t y, int64_t xx) { return img + ((window.top + y) * W + window.left + xx) * C; };
    for (int64_t oy = 0; oy < out_h; ++oy) {
      const float wy = ty.weight[oy];
      for (int64_t ox = 0; ox < out_w; ++ox, dst += C) {
        const float* tl = pixel(ty.first[oy], tx.first[ox]);
        if (method == ResizeMethod::kNearest) {
          std::copy_n(tl, C, dst);
          continue;
        }
        const float wx = tx.weight[ox];
        const float* tr = pixel(ty.first[oy], tx.second[ox]);
        const float* bl = pixel(ty.second[oy], tx.first[ox]);
        const float* br = pixel(ty.second[oy], tx.second[ox]);
        for (int64_t c = 0; c < C; ++c) {
          const float top = tl[c] + (tr[c] - tl[c]) * wx;
          const float bottom = bl[c] + (br[c] - bl[c]) * wx;
          dst[c] = top + (bottom - top) * wy;
        }
      }
    }
  }
  return out;
}

}  // namespace kmodel::engine
