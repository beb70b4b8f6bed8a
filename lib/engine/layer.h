// The contract between the graph executor and the layer implementations in layers/: a Layer is
// built once from already-parsed parameters and weights, then apply() does only the math.
// Creators are registered by Keras class name in one table (registry.cc).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/array.h"
#include "engine/config.h"
#include "kmodel/architecture.h"
#include "kmodel/error.h"

namespace kmodel::engine {

class Layer {
 public:
  virtual ~Layer() = default;
  // Computes the outputs for one call. `mask` is the (batch, time) mask of the first input or null.
  virtual std::vector<Array> apply(const std::vector<Array>& inputs, const Mask& mask) const = 0;
  // apply() with the mask of every input (null where none): layers that read the masks of inputs
  // other than the first (Attention's value mask) override it. The graph calls this one.
  virtual std::vector<Array> apply_masked(const std::vector<Array>& inputs, const std::vector<Mask>& masks) const {
    return apply(inputs, masks.empty() ? nullptr : masks[0]);
  }
  // The mask of the outputs. Default: a sequence layer that keeps (batch, time) passes it on.
  virtual Mask output_mask(const std::vector<Array>& inputs, const Mask& mask,
                           const std::vector<Array>& outputs) const;
  // Layers that need call-time tensors passed as kwargs (MultiHeadAttention's value/key) list the
  // kwarg names they read, in the order they want them appended to the positional inputs.
  virtual std::vector<std::string> tensor_kwargs() const { return {}; }
  // Fusion, decided once when the graph is built: the layer may take over `next`, the only reader
  // of its output, and compute both in one pass (Conv + MaxPooling). True when it did; the graph
  // then no longer runs `next`.
  virtual bool fuse_next(const Layer& next) { return false; }
  // apply() for inputs the caller no longer needs: layers that work in place on their input's
  // storage (InPlaceLayer) take it over instead of copying it. The graph calls this only when no
  // mask is present, so such layers' output_mask() never looks at the (moved-from) inputs.
  virtual std::vector<Array> apply_owned(std::vector<Array>&& inputs, const Mask& mask) const {
    return apply(inputs, mask);
  }
};

// A layer's single output as a vector, moved in. (`return {out};` would copy the array: the
// elements of an initializer list are const.)
inline std::vector<Array> single(Array a) {
  std::vector<Array> v;
  v.push_back(std::move(a));
  return v;
}

// A layer of one input that transforms the input's storage in place or only relabels its shape
// (Flatten, Reshape, Activation, Dropout): run() gets a copy from apply(), the input itself from
// apply_owned().
class InPlaceLayer : public Layer {
 public:
  std::vector<Array> apply(const std::vector<Array>& in, const Mask& mask) const final { return single(run(in.at(0), mask)); }
  std::vector<Array> apply_owned(std::vector<Array>&& in, const Mask& mask) const final {
    return single(run(std::move(in.at(0)), mask));
  }

 protected:
  virtual Array run(Array x, const Mask& mask) const = 0;
};

// Everything a creator gets: the layer's identity, its config and its weights already as float32.
struct LayerParams {
  std::string name;
  std::string class_name;
  Config config;
  std::vector<Array> weights;        // Keras legacy order
  std::vector<std::string> weight_names;
  KerasDialect dialect = KerasDialect::kUnknown;
  std::string keras_version;  // the writing Keras's version ("2.15.0", "2.2.4-tf", "3.6.0"), "" if unknown
  std::string file;
  // The layer's calls in the model (inputs, kwargs, constant arguments): TF-op layers take their
  // arguments from here; other layers are configured by `config` alone.
  std::vector<LayerCall> calls;

  // Throws BadInputError unless there are exactly `n` weights (or between lo and hi).
  void expect_weights(size_t lo, size_t hi) const;
  // Throws BadInputError unless weights[i] has `shape`.
  void expect_shape(size_t i, const Shape& shape) const;
  [[noreturn]] void unsupported(const std::string& what) const;
  [[noreturn]] void bad(const std::string& what) const;
};

using Creator = std::function<std::unique_ptr<Layer>(const LayerParams&)>;

class Registry {
 public:
  static const Registry& instance();
  void add(const std::string& class_name, Creator creator);
  // nullptr when the class is unknown.
  const Creator* find(const std::string& class_name) const;
  std::vector<std::string> names() const;

 private:
  std::map<std::string, Creator> table_;
};

// Builds a layer from a (class_name, config JSON) pair with given weights: used by the graph and by
// wrappers (TimeDistributed, Bidirectional). Throws UnsupportedError for Lambda and unknown classes.
std::unique_ptr<Layer> create_layer(const LayerParams& params);

// One registration function per layer family file (layers/*.cc).
void register_core_layers(Registry& r);
void register_activation_layers(Registry& r);
void register_conv_layers(Registry& r);
void register_pooling_layers(Registry& r);
void register_reshaping_layers(Registry& r);
void register_normalization_layers(Registry& r);
void register_recurrent_layers(Registry& r);
void register_conv_recurrent_layers(Registry& r);
void register_merge_layers(Registry& r);
void register_wrapper_layers(Registry& r);
void register_attention_layers(Registry& r);
void register_tf_op_layers(Registry& r);
void register_preprocessing_layers(Registry& r);

}  // namespace kmodel::engine
