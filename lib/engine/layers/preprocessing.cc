// Keras image preprocessing and augmentation layers as they behave at inference: the Random*
// augmentations (and Keras 3's Identity) return their input; Resizing, CenterCrop and bilinear
// UpSampling2D resize like TensorFlow 2's tf.image.resize (image_resize.h); RandomCrop only where
// every Keras version agrees (input already of the target size).
#include <cctype>
#include <cmath>
#include <sstream>

#include "engine/layer.h"
#include "engine/layers/identity.h"
#include "engine/layers/image_resize.h"
#include "engine/layers/spatial.h"

namespace kmodel::engine {
namespace {

std::string number_text(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

// A required positive integer image size (height, width) of a layer config.
int64_t image_side(const LayerParams& p, const char* key) {
  auto v = p.config.num({key});
  if (!v) p.bad(std::string("config has no \"") + key + "\"");
  if (!(*v >= 1) || *v != std::floor(*v)) p.bad(std::string(key) + " must be a positive integer, found " + number_text(*v));
  if (*v > static_cast<double>(kMaxImageSide))
    p.unsupported(std::string(key) + " " + number_text(*v) + " exceeds kmodel's limit of " + std::to_string(kMaxImageSide));
  return static_cast<int64_t>(*v);
}

// Where errors found while running point to.
struct Origin {
  std::string file, where;
  explicit Origin(const LayerParams& p) : file(p.file), where("layer " + p.name + " (" + p.class_name + ")") {}
};

// Runs `body` on the channels_last view of a rank-4 image batch and returns the result in the
// layer's data_format.
template <typename Body>
Array on_images(const Array& in, bool channels_first, const std::string& what, Body body) {
  expect_rank(in, 2, what);
  return from_channels_last(body(to_channels_last(in, channels_first)), channels_first);
}

class Resizing : public Layer {
 public:
  Resizing(const LayerParams& p, int64_t h, int64_t w, ResizeMethod m, bool crop, bool cf)
      : origin_(p), h_(h), w_(w), method_(m), crop_(crop), cf_(cf) {}
  std::vector<Array> apply(const std::vector<Array>& in, const Mask&) const override {
    return single(on_images(in.at(0), cf_, "Resizing", [&](const Array& x) {
      const CropWindow window = crop_ ? aspect_ratio_window(x.shape[1], x.shape[2], h_, w_) : full_window(x);
      return resize_images(x, window, h_, w_, method_, origin_.file, origin_.where);
    }));
  }

 private:
  Origin origin_;
  int64_t h_, w_;
  ResizeMethod method_;
  bool crop_, cf_;
};

// Crops the center when the image is at least the target size on both sides; otherwise Keras
// "upsizes": the centered window of the target's aspect ratio, resized bilinearly.
class CenterCrop : public Layer {
 public:
  CenterCrop(const LayerParams& p, int64_t h, int64_t w, bool cf) : origin_(p), h_(h), w_(w), cf_(cf) {}
  std::vector<Array> apply(const std::vector<Array>& in, const Mask&) const override {
    return single(on_images(in.at(0), cf_, "CenterCrop", [&](const Array& x) {
      const int64_t H = x.shape[1], W = x.shape[2];
      if (H >= h_ && W >= w_) return crop_images(x, CropWindow{(H - h_) / 2, (W - w_) / 2, h_, w_});
      return resize_images(x, aspect_ratio_window(H, W, h_, w_), h_, w_, ResizeMethod::kBilinear, origin_.file,
                           origin_.where);
    }));
  }

 private:
  Origin origin_;
  int64_t h_, w_;
  bool cf_;
};

// At inference Keras versions differ on what an input of another size becomes (resized and
// center-cropped, or only cropped), so only an input of the target size (returned unchanged) has
// one answer.
class RandomCrop : public Layer {
 public:
  RandomCrop(const LayerParams& p, int64_t h, int64_t w, bool cf) : origin_(p), h_(h), w_(w), cf_(cf) {}
  std::vector<Array> apply(const std::vector<Array>& in, const Mask&) const override {
    const Array& x = in.at(0);
    expect_rank(x, 2, "RandomCrop");
    const int64_t H = x.shape[cf_ ? 2 : 1], W = x.shape[cf_ ? 3 : 2];
    if (H != h_ || W != w_)
      throw UnsupportedError(origin_.file, origin_.where,
                             "RandomCrop of a " + std::to_string(H) + "x" + std::to_string(W) + " input to " +
                                 std::to_string(h_) + "x" + std::to_string(w_) +
                                 ": Keras versions differ on what it does at inference (resize then crop, or crop), "
                                 "so predict supports it only when the input already has the target size");
    return single(x);
  }

 private:
  Origin origin_;
  int64_t h_, w_;
  bool cf_;
};

class BilinearUpSampling2D : public Layer {
 public:
  BilinearUpSampling2D(const LayerParams& p, int64_t sh, int64_t sw, bool cf) : origin_(p), sh_(sh), sw_(sw), cf_(cf) {}
  std::vector<Array> apply(const std::vector<Array>& in, const Mask&) const override {
    return single(on_images(in.at(0), cf_, "UpSampling2D", [&](const Array& x) {
      const int64_t H = x.shape[1], W = x.shape[2];
      if ((H > 0 && sh_ > kMaxResizeElements / H) || (W > 0 && sw_ > kMaxResizeElements / W))
        throw UnsupportedError(origin_.file, origin_.where, "upsampled size exceeds kmodel's limit");
      return resize_images(x, full_window(x), H * sh_, W * sw_, ResizeMethod::kBilinear, origin_.file, origin_.where);
    }));
  }

 private:
  Origin origin_;
  int64_t sh_, sw_;
  bool cf_;
};

// "2.15.0" -> (2, 15); false when the text does not start with "<digits>.<digits>".
bool major_minor(const std::string& version, int* major, int* minor) {
  size_t i = 0;
  auto number = [&](int* out) {
    size_t start = i;
    long v = 0;
    while (i < version.size() && std::isdigit(static_cast<unsigned char>(version[i])) && i - start < 6)
      v = v * 10 + (version[i++] - '0');
    *out = static_cast<int>(v);
    return i > start;
  };
  if (!number(major)) return false;
  if (i >= version.size() || version[i] != '.') return false;
  ++i;
  return number(minor);
}

// Whether bilinear UpSampling2D certainly is tf.image.resize with half-pixel centers: Keras 3, and
// tf.keras from "2.3.0-tf" (TF 2.2) and "2.4.0" on. Standalone Keras up to 2.2.x and tf.keras
// "2.2.4-tf" (TF 1.x and TF 2.0/2.1) could use TF 1's resize_bilinear without half-pixel centers,
// standalone multi-backend Keras 2.3.x resizes as its backend does, and a file without a version
// says nothing: those are refused rather than guessed.
bool half_pixel_upsampling(const LayerParams& p) {
  if (p.dialect == KerasDialect::kKeras3) return true;
  int major = 0, minor = 0;
  if (!major_minor(p.keras_version, &major, &minor)) return false;
  if (major >= 3) return true;
  if (major != 2) return false;
  return minor >= 4 || (minor == 3 && p.keras_version.find("-tf") != std::string::npos);
}

ResizeMethod resize_method(const LayerParams& p) {
  const std::string m = p.config.str_or({"interpolation"}, "bilinear");
  if (m == "bilinear") return ResizeMethod::kBilinear;
  if (m == "nearest") return ResizeMethod::kNearest;
  p.unsupported("Resizing interpolation \"" + m + "\" (supported: bilinear, nearest)");
}

std::unique_ptr<Layer> make_resizing(const LayerParams& p) {
  const int64_t h = image_side(p, "height"), w = image_side(p, "width");
  const ResizeMethod method = resize_method(p);
  if (p.config.bool_or({"pad_to_aspect_ratio"}, false)) p.unsupported("Resizing with pad_to_aspect_ratio=True");
  if (p.config.bool_or({"antialias"}, false)) p.unsupported("Resizing with antialias=True");
  return std::make_unique<Resizing>(p, h, w, method, p.config.bool_or({"crop_to_aspect_ratio"}, false),
                                    p.config.channels_first());
}

}  // namespace

std::unique_ptr<Layer> make_bilinear_upsampling2d(const LayerParams& p) {
  if (!half_pixel_upsampling(p))
    p.unsupported("UpSampling2D interpolation \"bilinear\" from Keras " +
                  (p.keras_version.empty() ? std::string("of unknown version") : "\"" + p.keras_version + "\"") +
                  ": only Keras 3 and tf.keras >= 2.3 certainly resize with half-pixel centers (older Keras could use "
                  "TF 1's resize_bilinear without them), so the result the model was trained with is uncertain");
  const std::vector<int64_t> size = p.config.ints({"size"}, 2, 2);
  for (int64_t s : size)
    if (s < 1 || s > kMaxImageSide) p.bad("UpSampling2D size " + std::to_string(s) + " is not in 1.." + std::to_string(kMaxImageSide));
  return std::make_unique<BilinearUpSampling2D>(p, size[0], size[1], p.config.channels_first());
}

void register_preprocessing_layers(Registry& r) {
  // Identity at inference (training=False) in Keras 2 and 3.
  auto identity = [](const LayerParams&) -> std::unique_ptr<Layer> { return std::make_unique<IdentityLayer>(); };
  for (const char* n : {"RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation", "RandomContrast",
                        "RandomBrightness", "RandomHeight", "RandomWidth", "Identity"})
    r.add(n, identity);
  r.add("Resizing", make_resizing);
  r.add("CenterCrop", [](const LayerParams& p) -> std::unique_ptr<Layer> {
    const int64_t h = image_side(p, "height"), w = image_side(p, "width");
    return std::make_unique<CenterCrop>(p, h, w, p.config.channels_first());
  });
  r.add("RandomCrop", [](const LayerParams& p) -> std::unique_ptr<Layer> {
    const int64_t h = image_side(p, "height"), w = image_side(p, "width");
    return std::make_unique<RandomCrop>(p, h, w, p.config.channels_first());
  });
}

}  // namespace kmodel::engine
