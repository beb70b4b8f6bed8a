// `kmodel load` validation: every tensor is read (checksums verified by its source), the config
// parses, every layer with weights exists in the architecture, and weight shapes match what the
// layer config implies for the layer classes kmodel knows.
#include <map>
#include <set>

#include "core/json_util.h"
#include "core/keras_classes.h"
#include "inspect/shape_hints.h"
#include "kmodel/architecture.h"
#include "kmodel/error.h"
#include "kmodel/report.h"

namespace kmodel {

namespace {
void check_tensor(const std::string& label, const TensorRef& ref, Validation& v) {
  try {
    Tensor t = ref.load();
    v.bytes_read += t.data.size();
    for (const auto& s : t.strings) v.bytes_read += s.size();
    ++v.weights_checked;
  } catch (const Error& e) {
    v.problems.push_back(label + ": " + e.what());
  }
}
}  // namespace

Validation validate(const Model& model) {
  Validation v;
  std::set<std::string> arch_layers;
  if (model.has_architecture()) {
    try {
      ArchitectureSpec arch = parse_architecture(model.model_config, model.path);
      for (const auto& spec : arch.layers) {
        arch_layers.insert(spec.name);
        json::parse(spec.config_json, model.path);
        if (is_code_layer_class(spec.class_name))
          v.notes.push_back("layer " + spec.name + " is a Lambda layer: its Python code is never run by kmodel");
        else if (!is_builtin_layer_class(spec.class_name))
          v.notes.push_back("layer " + spec.name + " has custom class " + spec.class_name +
                            " (weights kept, shapes not checked)");
      }
    } catch (const Error& e) {
      v.problems.push_back(std::string("architecture: ") + e.what());
    }
  }
  if (!model.training_config.empty()) {
    try {
      json::parse(model.training_config, model.path);
    } catch (const Error& e) {
      v.problems.push_back(std::string("training_config: ") + e.what());
    }
  }
  for (const auto& layer : model.layers) {
    if (model.has_architecture() && !arch_layers.empty() && !arch_layers.count(layer.name) && !layer.weights.empty())
      v.problems.push_back("layer " + layer.name + " has weights but is not in the architecture");
    for (const auto& w : layer.weights) check_tensor(layer.name + "/" + w.name, w.tensor, v);
  }
  for (const auto& w : model.top_level_weights) check_tensor("(model)/" + w.name, w.tensor, v);
  for (const auto& w : model.optimizer.weights) check_tensor("optimizer/" + w.name, w.tensor, v);
  if (model.checkpoint) {
    std::set<std::string> seen;
    for (const auto& var : model.checkpoint->variables) {
      if (!var.tensor.valid()) continue;
      // Variables not mapped onto layers are still verified.
      check_tensor(var.key, var.tensor, v);
    }
  }
  for (const auto& problem : inspect::weight_shape_problems(model)) v.problems.push_back(problem);
  return v;
}

}  // namespace kmodel
