// Shape hints for reports (see shape_hints.h), derived through core/layer_shapes.
#include "inspect/shape_hints.h"

#include <map>

#include "core/layer_shapes.h"
#include "kmodel/architecture.h"
#include "kmodel/error.h"

namespace kmodel::inspect {

namespace {
bool inferred(const Model& model, std::map<std::string, LayerShapes>& out) {
  if (!model.has_architecture()) return false;
  try {
    out = infer_layer_shapes(parse_architecture(model.model_config, model.path), model.path);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}
}  // namespace

ShapeHints shape_hints(const Model& model) {
  ShapeHints hints;
  std::map<std::string, LayerShapes> shapes;
  if (!inferred(model, shapes)) return hints;
  for (const auto& [name, ls] : shapes) {
    ShapeHint h;
    h.output_shape = output_shape_str(ls);
    int64_t params = ls.param_count();
    if (params >= 0) {
      h.params = params;
      for (const auto& w : ls.weights)
        if (w.trainable) h.trainable_params += num_elements(w.shape);
    }
    hints[name] = h;
  }
  return hints;
}

std::vector<std::string> weight_shape_problems(const Model& model) {
  std::vector<std::string> problems;
  std::map<std::string, LayerShapes> shapes;
  if (!inferred(model, shapes)) return problems;
  // Keras 1 files store other weight layouts (separate gate tensors); tf.keras converts them on load.
  if (model.dialect == KerasDialect::kKeras1) return problems;
  // An architecture-only artifact has no weights to check.
  if (!model.has_weights()) return problems;
  for (const auto& layer : model.layers) {
    auto it = shapes.find(layer.name);
    if (it == shapes.end() || !it->second.known) continue;
    const auto& expected = it->second.weights;
    if (expected.size() != layer.weights.size()) {
      if (!layer.weights.empty() || !expected.empty())
        problems.push_back("layer " + layer.name + " (" + it->second.class_name + ") has " +
                           std::to_string(layer.weights.size()) + " weights, its config implies " +
                           std::to_string(expected.size()));
      continue;
    }
    for (size_t i = 0; i < expected.size(); ++i) {
      const Shape& want = expected[i].shape;
      const Shape& got = layer.weights[i].tensor.shape();
      bool match = want.size() == got.size();
      for (size_t d = 0; match && d < want.size(); ++d) match = want[d] < 0 || want[d] == got[d];
      if (!match)
        problems.push_back("layer " + layer.name + " weight " + layer.weights[i].name + " has shape " +
                           shape_str(got) + ", its config implies " + shape_str(want));
    }
  }
  return problems;
}

}  // namespace kmodel::inspect
