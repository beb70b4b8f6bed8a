// The model.summary()-style table: one row per layer with class, output shape (when derivable) and
// parameter count, plus totals. Counts come from the weights present, else from the architecture.
#include <iomanip>
#include <map>
#include <sstream>

#include "inspect/shape_hints.h"
#include "kmodel/architecture.h"
#include "kmodel/report.h"

namespace kmodel {

namespace {
int64_t count_params(const Layer& layer, int64_t* trainable) {
  int64_t total = 0;
  for (const auto& w : layer.weights) {
    int64_t n = w.tensor.num_elements();
    total += n;
    if (w.trainable && trainable) *trainable += n;
  }
  return total;
}

std::string with_commas(int64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}
}  // namespace

Summary summarize(const Model& model) {
  Summary summary;
  std::map<std::string, const Layer*> by_name;
  for (const auto& layer : model.layers) by_name[layer.name] = &layer;
  inspect::ShapeHints hints = inspect::shape_hints(model);

  auto add_row = [&](const std::string& name, const std::string& cls, const Layer* layer) {
    SummaryRow row;
    row.name = name;
    row.class_name = cls.empty() ? "?" : cls;
    auto h = hints.find(name);
    row.output_shape = h != hints.end() ? h->second.output_shape : "?";
    int64_t trainable = 0;
    if (layer && !layer->weights.empty()) {
      row.params = count_params(*layer, &trainable);
    } else if (h != hints.end()) {
      row.params = h->second.params;
      trainable = h->second.trainable_params;
    }
    summary.total_params += row.params;
    summary.trainable_params += trainable;
    summary.rows.push_back(row);
  };

  if (model.has_architecture()) {
    ArchitectureSpec arch = parse_architecture(model.model_config, model.path);
    for (const auto& spec : arch.layers) {
      auto it = by_name.find(spec.name);
      add_row(spec.name, spec.class_name, it == by_name.end() ? nullptr : it->second);
    }
  } else {
    for (const auto& layer : model.layers) add_row(layer.name, layer.class_name, &layer);
  }
  int64_t top_trainable = 0;
  for (const auto& w : model.top_level_weights) {
    summary.total_params += w.tensor.num_elements();
    if (w.trainable) top_trainable += w.tensor.num_elements();
  }
  summary.trainable_params += top_trainable;
  summary.non_trainable_params = summary.total_params - summary.trainable_params;
  return summary;
}

std::string summary_text(const Model& model) {
  Summary s = summarize(model);
  size_t w_name = 20, w_shape = 14;
  for (const auto& r : s.rows) {
    w_name = std::max(w_name, r.name.size() + r.class_name.size() + 3);
    w_shape = std::max(w_shape, r.output_shape.size());
  }
  std::ostringstream os;
  std::string rule(w_name + w_shape + 16, '_');
  std::string thick(w_name + w_shape + 16, '=');
  os << rule << "\n";
  os << std::left << std::setw(static_cast<int>(w_name + 2)) << "Layer (type)" << std::setw(static_cast<int>(w_shape + 2))
     << "Output Shape" << "Param #\n";
  os << thick << "\n";
  for (size_t i = 0; i < s.rows.size(); ++i) {
    const auto& r = s.rows[i];
    os << std::left << std::setw(static_cast<int>(w_name + 2)) << (r.name + " (" + r.class_name + ")")
       << std::setw(static_cast<int>(w_shape + 2)) << r.output_shape << with_commas(r.params) << "\n";
  }
  os << thick << "\n";
  os << "Total params: " << with_commas(s.total_params) << "\n";
  os << "Trainable params: " << with_commas(s.trainable_params) << "\n";
  os << "Non-trainable params: " << with_commas(s.non_trainable_params) << "\n";
  os << rule << "\n";
  return os.str();
}

}  // namespace kmodel
