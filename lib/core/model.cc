// Small helpers of the IR's Model struct.
#include "kmodel/model.h"

namespace kmodel {

bool Model::has_weights() const {
  for (const auto& layer : layers)
    if (!layer.weights.empty()) return true;
  return !top_level_weights.empty();
}

std::string Model::extra(const std::string& key) const {
  for (const auto& [k, v] : extras)
    if (k == key) return v;
  return "";
}

void Model::set_extra(const std::string& key, const std::string& value) {
  for (auto& [k, v] : extras)
    if (k == key) {
      v = value;
      return;
    }
  extras.emplace_back(key, value);
}

std::vector<const Weight*> Model::all_weights() const {
  std::vector<const Weight*> out;
  for (const auto& layer : layers)
    for (const auto& w : layer.weights) out.push_back(&w);
  for (const auto& w : top_level_weights) out.push_back(&w);
  return out;
}

}  // namespace kmodel
