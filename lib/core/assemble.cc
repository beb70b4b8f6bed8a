// Combining an architecture with weights from another artifact (see assemble.h).
#include "core/assemble.h"

#include <map>

namespace kmodel {

std::vector<Layer> layers_from_architecture(const ArchitectureSpec& arch) {
  std::vector<Layer> layers;
  for (const auto& spec : arch.layers) {
    if (arch.class_name == "Sequential" && spec.class_name == "InputLayer") continue;
    Layer layer;
    layer.name = spec.name;
    layer.class_name = spec.class_name;
    layers.push_back(std::move(layer));
  }
  return layers;
}

AttachReport attach_weights_by_name(Model& target, const Model& source) {
  AttachReport report;
  std::map<std::string, const Layer*> by_name;
  for (const auto& layer : source.layers) by_name[layer.name] = &layer;
  std::map<std::string, bool> used;
  for (auto& layer : target.layers) {
    auto it = by_name.find(layer.name);
    if (it == by_name.end()) {
      continue;
    }
    used[layer.name] = true;
    layer.weights = it->second->weights;
    if (!layer.weights.empty()) {
      ++report.layers_matched;
      report.weights_attached += layer.weights.size();
    }
  }
  for (const auto& layer : source.layers)
    if (!layer.weights.empty() && !used.count(layer.name)) report.unexpected.push_back(layer.name);
  if (target.top_level_weights.empty()) target.top_level_weights = source.top_level_weights;
  if (target.optimizer.weights.empty()) target.optimizer = source.optimizer;
  if (target.keras_version.empty()) target.keras_version = source.keras_version;
  if (target.backend.empty()) target.backend = source.backend;
  if (target.training_config.empty()) target.training_config = source.training_config;
  return report;
}

}  // namespace kmodel
