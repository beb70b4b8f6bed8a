// See keras2_completion.h: Keras-2-only variables (tf.keras Normalization's count) for Keras 3 models.
#include "core/keras2_completion.h"

#include <map>

#include "core/initializers.h"
#include "core/keras3_dialect.h"
#include "core/layer_shapes.h"
#include "kmodel/architecture.h"

namespace kmodel {
namespace {

// "normalization/mean:0" -> "mean"; "cell/kernel" -> "kernel".
std::string leaf(std::string s) {
  if (s.size() > 2 && s.compare(s.size() - 2, 2, ":0") == 0) s.resize(s.size() - 2);
  auto slash = s.rfind('/');
  return slash == std::string::npos ? s : s.substr(slash + 1);
}

bool constant_initializer(const std::string& json) {
  for (const char* name : {"\"zeros\"", "\"ones\"", "\"Zeros\"", "\"Ones\""})
    if (json.find(name) != std::string::npos) return true;
  return false;
}

bool fully_known(const Shape& s) {
  for (auto d : s)
    if (d < 0) return false;
  return true;
}

}  // namespace

Model with_keras2_only_variables(const Model& model, std::vector<std::string>* warnings) {
  if (model.dialect != KerasDialect::kKeras3 || !model.has_architecture()) return model;
  std::map<std::string, LayerShapes> shapes;
  try {
    ArchitectureSpec arch = parse_architecture(to_keras2_model_config(model.model_config, nullptr), model.path);
    shapes = infer_layer_shapes(arch, model.path);
  } catch (const std::exception&) {
    return model;  // the writers report what they cannot follow themselves
  }
  Model out = model;
  for (auto& layer : out.layers) {
    auto it = shapes.find(layer.name);
    if (it == shapes.end() || !it->second.known || layer.weights.empty()) continue;
    const auto& expected = it->second.weights;
    size_t have = layer.weights.size();
    if (have >= expected.size()) continue;
    bool prefix_matches = true;
    for (size_t i = 0; i < have && prefix_matches; ++i)
      prefix_matches = leaf(layer.weights[i].attr.empty() ? layer.weights[i].name : layer.weights[i].attr) ==
                       leaf(expected[i].name);
    if (!prefix_matches) continue;
    bool addable = true;
    for (size_t i = have; i < expected.size() && addable; ++i)
      addable = !expected[i].trainable && fully_known(expected[i].shape) &&
                constant_initializer(expected[i].initializer_json);
    if (!addable) continue;
    for (size_t i = have; i < expected.size(); ++i) {
      const ExpectedWeight& e = expected[i];
      Weight w;
      w.name = layer.name + "/" + e.name + ":0";
      w.attr = e.attr.empty() ? e.name : e.attr;
      w.trainable = false;
      w.tensor = TensorRef::from_tensor(initialize_weight(e.initializer_json, e.shape, e.dtype, 0, w.name, layer.name));
      if (warnings)
        warnings->push_back("layer '" + layer.name + "' (" + layer.class_name + "): tf.keras variable '" + e.name +
                            "' has no Keras 3 counterpart; written with its initial value");
      layer.weights.push_back(std::move(w));
    }
  }
  return out;
}

}  // namespace kmodel
