// Image resizing as TensorFlow 2's tf.image.resize does it (half-pixel centers, no antialias), for
// Resizing, CenterCrop and bilinear UpSampling2D; plus Keras's smart_resize crop window. All on
// channels_last (B, H, W, C) arrays.
#pragma once

#include <memory>
#include <string>

#include "engine/array.h"
#include "engine/layer.h"

namespace kmodel::engine {

enum class ResizeMethod { kBilinear, kNearest };

// A rectangle of the input image: rows [top, top + height), columns [left, left + width).
struct CropWindow {
  int64_t top = 0, left = 0, height = 0, width = 0;
};

// Largest output kmodel builds for one resize (floats), so that a config cannot ask for gigabytes.
inline constexpr int64_t kMaxResizeElements = int64_t{1} << 30;
// Largest height / width a preprocessing config may name.
inline constexpr int64_t kMaxImageSide = int64_t{1} << 16;

// Resizes `window` of every image of x (B, H, W, C) to (B, out_h, out_w, C). Throws UnsupportedError
// naming `file` and `where` when the output would exceed kMaxResizeElements.
Array resize_images(const Array& x, const CropWindow& window, int64_t out_h, int64_t out_w, ResizeMethod method,
                    const std::string& file, const std::string& where);
// The whole image as a window.
CropWindow full_window(const Array& x);
// Keras smart_resize: the centered window of an H x W image with the aspect ratio of target_h x
// target_w (each side at least 1).
CropWindow aspect_ratio_window(int64_t H, int64_t W, int64_t target_h, int64_t target_w);
// Copies `window` of every image (no interpolation).
Array crop_images(const Array& x, const CropWindow& window);

// UpSampling2D(interpolation="bilinear"), created by the UpSampling creator of reshaping.cc.
std::unique_ptr<Layer> make_bilinear_upsampling2d(const LayerParams& p);

}  // namespace kmodel::engine
