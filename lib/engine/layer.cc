// Layer defaults, LayerParams checks, the class-name registry and create_layer.
#include "engine/layer.h"

#include "kmodel/error.h"

namespace kmodel::engine {

Mask Layer::output_mask(const std::vector<Array>& inputs, const Mask& mask, const std::vector<Array>& outputs) const {
  if (!mask || inputs.empty() || outputs.empty()) return nullptr;
  const Shape& i = inputs[0].shape;
  const Shape& o = outputs[0].shape;
  if (i.size() >= 3 && o.size() >= 3 && i[0] == o[0] && i[1] == o[1]) return mask;
  return nullptr;
}

void LayerParams::expect_weights(size_t lo, size_t hi) const {
  if (weights.size() < lo || weights.size() > hi) {
    std::string want = lo == hi ? std::to_string(lo) : std::to_string(lo) + ".." + std::to_string(hi);
    bad("expected " + want + " weight tensors, found " + std::to_string(weights.size()));
  }
}

void LayerParams::expect_shape(size_t i, const Shape& shape) const {
  if (i >= weights.size() || weights[i].shape != shape)
    bad("weight " + std::to_string(i) + (i < weight_names.size() ? " (" + weight_names[i] + ")" : std::string()) +
        " has shape " + (i < weights.size() ? shape_str(weights[i].shape) : std::string("<missing>")) +
        ", expected " + shape_str(shape));
}

void LayerParams::unsupported(const std::string& what) const {
  throw UnsupportedError(file, "layer " + name + " (" + class_name + ")", what);
}

void LayerParams::bad(const std::string& what) const {
  throw BadInputError(file, "layer " + name + " (" + class_name + ")", what);
}

void Registry::add(const std::string& class_name, Creator creator) { table_[class_name] = std::move(creator); }

const Creator* Registry::find(const std::string& class_name) const {
  auto it = table_.find(class_name);
  return it == table_.end() ? nullptr : &it->second;
}

std::vector<std::string> Registry::names() const {
  std::vector<std::string> out;
  for (const auto& kv : table_) out.push_back(kv.first);
  return out;
}

const Registry& Registry::instance() {
  static const Registry registry = [] {
    Registry r;
    register_core_layers(r);
    register_activation_layers(r);
    register_conv_layers(r);
    register_pooling_layers(r);
    register_reshaping_layers(r);
    register_normalization_layers(r);
    register_recurrent_layers(r);
    register_conv_recurrent_layers(r);
    register_merge_layers(r);
    register_wrapper_layers(r);
    register_attention_layers(r);
    register_tf_op_layers(r);
    register_preprocessing_layers(r);
    return r;
  }();
  return registry;
}

std::unique_ptr<Layer> create_layer(const LayerParams& params) {
  const std::string& cls = params.class_name;
  if (cls == "Lambda")
    throw UnsupportedError(params.file, "layer " + params.name,
                           "Lambda layer \"" + params.name + "\" carries Python code that kmodel never runs");
  const Creator* c = Registry::instance().find(cls);
  if (!c)
    throw UnsupportedError(params.file, "layer " + params.name,
                           "layer \"" + params.name + "\" has class \"" + cls +
                               "\", which predict does not support (custom or not yet implemented)");
  return (*c)(params);
}

}  // namespace kmodel::engine
