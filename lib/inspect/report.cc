// `kmodel inspect`: the text and JSON reports over the IR. Reads no tensor data (except --stats,
// handled by the format sections). Sections: header, summary, weights, training config, optimizer,
// custom and code-carrying layers, then the checkpoint and SavedModel sections.
#include <map>
#include <sstream>

#include <rapidjson/document.h>

#include "core/json_util.h"
#include "core/keras_classes.h"
#include "inspect/sections.h"
#include "kmodel/architecture.h"
#include "kmodel/formats.h"
#include "kmodel/report.h"

namespace kmodel {

namespace {

std::string kind_of(const Model& m) {
  if (m.origin == Format::kCheckpoint) return "checkpoint";
  if (m.origin == Format::kSavedModel) return "savedmodel";
  if (m.has_architecture() && m.has_weights()) return "full model";
  if (m.has_architecture()) return "architecture only";
  if (m.has_weights()) return "weights only";
  return "empty";
}

std::string dialect_name(KerasDialect d) {
  switch (d) {
    case KerasDialect::kKeras1: return "Keras 1";
    case KerasDialect::kKeras2: return "Keras 2";
    case KerasDialect::kKeras3: return "Keras 3";
    default: return "unknown";
  }
}

struct LayerFlags {
  std::vector<std::pair<std::string, std::string>> custom;  // (layer, class)
  std::vector<std::string> lambdas;
};

void collect_flags(const ArchitectureSpec& arch, const std::string& prefix, LayerFlags& flags,
                   const std::string& file) {
  for (const auto& spec : arch.layers) {
    std::string path = prefix.empty() ? spec.name : prefix + "/" + spec.name;
    if (is_code_layer_class(spec.class_name)) flags.lambdas.push_back(path);
    else if (!is_builtin_layer_class(spec.class_name)) flags.custom.emplace_back(path, spec.class_name);
    if (spec.is_model()) {
      try {
        collect_flags(parse_nested_architecture(spec, arch.dialect, file), path, flags, file);
      } catch (const std::exception&) {
      }
    }
    for (const char* wrapper : {"Bidirectional", "TimeDistributed"}) {
      if (spec.class_name != wrapper) continue;
      auto cfg = json::parse(spec.config_json, file);
      if (const json::Value* inner = json::member(cfg, "layer")) {
        auto cls = json::get_string(*inner, "class_name").value_or("");
        if (is_code_layer_class(cls)) flags.lambdas.push_back(path + "/" + cls);
        else if (!cls.empty() && !is_builtin_layer_class(cls)) flags.custom.emplace_back(path, cls);
      }
    }
  }
}

LayerFlags layer_flags(const Model& m) {
  LayerFlags flags;
  if (!m.has_architecture()) return flags;
  try {
    collect_flags(parse_architecture(m.model_config, m.path), "", flags, m.path);
  } catch (const std::exception&) {
  }
  return flags;
}

uint64_t tensor_bytes(const TensorRef& t) { return t.byte_size(); }

std::string weight_label(const Layer& layer, const Weight& w) {
  return layer.name + "/" + (w.attr.empty() ? w.name : w.attr);
}

// Optimizer and loss description from training_config.
struct TrainingInfo {
  std::string optimizer, optimizer_config, loss, metrics;
};
TrainingInfo training_info(const Model& m) {
  TrainingInfo info;
  if (m.training_config.empty()) return info;
  try {
    auto doc = json::parse(m.training_config, m.path);
    // Keras 2 training_config: optimizer_config; Keras 3 compile_config: optimizer (object or name).
    const json::Value* oc = json::member(doc, "optimizer_config");
    if (!oc) oc = json::member(doc, "optimizer");
    if (oc && oc->IsString()) {
      info.optimizer = oc->GetString();
    } else if (oc && oc->IsObject()) {
      info.optimizer = json::get_string(*oc, "class_name").value_or("?");
      if (const json::Value* c = json::member(*oc, "config")) info.optimizer_config = json::to_string(*c);
    }
    if (const json::Value* l = json::member(doc, "loss")) info.loss = json::to_string(*l);
    if (const json::Value* mt = json::member(doc, "metrics")) info.metrics = json::to_string(*mt);
  } catch (const std::exception&) {
    info.optimizer = "(training_config is not valid JSON)";
  }
  return info;
}

}  // namespace

std::string inspect_text(const Model& m, const InspectOptions& options) {
  std::ostringstream os;
  os << m.path << ": " << format_name(m.origin) << " (" << kind_of(m) << ")\n";
  if (!m.keras_version.empty() || !m.backend.empty())
    os << "keras_version: " << (m.keras_version.empty() ? "-" : m.keras_version)
       << "   backend: " << (m.backend.empty() ? "-" : m.backend) << "\n";
  if (m.has_architecture()) {
    try {
      ArchitectureSpec arch = parse_architecture(m.model_config, m.path);
      os << "model: " << (arch.name.empty() ? "(unnamed)" : arch.name) << " (" << arch.class_name << ", "
         << dialect_name(m.dialect) << " config, " << arch.layers.size() << " layers)\n";
    } catch (const std::exception& e) {
      os << "model: architecture does not parse: " << e.what() << "\n";
    }
  }
  if (m.has_architecture() || !m.layers.empty()) os << "\n" << summary_text(m);

  auto all = m.all_weights();
  if (!all.empty()) {
    uint64_t bytes = 0;
    for (const Weight* w : all) bytes += tensor_bytes(w->tensor);
    os << "\nWeights (" << all.size() << " tensors, " << bytes << " bytes):\n";
    for (const auto& layer : m.layers)
      for (const auto& w : layer.weights)
        os << "  " << weight_label(layer, w) << "  " << dtype_name(w.tensor.dtype()) << "  "
           << shape_str(w.tensor.shape()) << "  " << tensor_bytes(w.tensor) << " bytes"
           << (w.trainable ? "" : "  (non-trainable)") << "\n";
    for (const auto& w : m.top_level_weights)
      os << "  (model)/" << w.name << "  " << dtype_name(w.tensor.dtype()) << "  " << shape_str(w.tensor.shape())
         << "\n";
  }

  TrainingInfo ti = training_info(m);
  if (!m.training_config.empty()) {
    os << "\nTraining config:\n";
    os << "  optimizer: " << ti.optimizer << (ti.optimizer_config.empty() ? "" : " " + ti.optimizer_config) << "\n";
    if (!ti.loss.empty()) os << "  loss: " << ti.loss << "\n";
    if (!ti.metrics.empty()) os << "  metrics: " << ti.metrics << "\n";
  }
  if (!m.optimizer.weights.empty()) {
    uint64_t bytes = 0;
    for (const auto& w : m.optimizer.weights) bytes += tensor_bytes(w.tensor);
    os << "\nOptimizer state: " << m.optimizer.weights.size() << " tensors, " << bytes << " bytes"
       << (m.optimizer.class_name.empty() ? "" : " (" + m.optimizer.class_name + ")") << "\n";
  }

  LayerFlags flags = layer_flags(m);
  if (!flags.custom.empty()) {
    os << "\nCustom layer classes (not built into Keras; kept untouched by conversions, not runnable by predict):\n";
    for (const auto& [layer, cls] : flags.custom) os << "  " << layer << ": " << cls << "\n";
  }
  if (!flags.lambdas.empty()) {
    os << "\nLambda layers (carry Python code; kmodel never runs it):\n";
    for (const auto& l : flags.lambdas) os << "  " << l << "\n";
  }
  inspect::checkpoint_text(m, options, os);
  inspect::savedmodel_text(m, options, os);
  return os.str();
}

std::string inspect_json(const Model& m, const InspectOptions& options) {
  json::Document doc;
  doc.SetObject();
  auto& a = doc.GetAllocator();
  auto str = [&](const std::string& s) { return json::Value(s.c_str(), static_cast<rapidjson::SizeType>(s.size()), a); };
  doc.AddMember("path", str(m.path), a);
  doc.AddMember("format", str(format_name(m.origin)), a);
  doc.AddMember("kind", str(kind_of(m)), a);
  doc.AddMember("keras_version", m.keras_version.empty() ? json::Value() : str(m.keras_version), a);
  doc.AddMember("backend", m.backend.empty() ? json::Value() : str(m.backend), a);

  json::Value model(rapidjson::kNullType);
  if (m.has_architecture()) {
    model.SetObject();
    try {
      ArchitectureSpec arch = parse_architecture(m.model_config, m.path);
      model.AddMember("class_name", str(arch.class_name), a);
      model.AddMember("name", str(arch.name), a);
      model.AddMember("dialect", str(dialect_name(m.dialect)), a);
    } catch (const std::exception& e) {
      model.AddMember("error", str(e.what()), a);
    }
  }
  doc.AddMember("model", model, a);

  Summary s = summarize(m);
  std::map<std::string, const Layer*> by_name;
  for (const auto& layer : m.layers) by_name[layer.name] = &layer;
  json::Value layers(rapidjson::kArrayType);
  uint64_t total_bytes = 0;
  size_t total_weights = 0;
  for (const auto& row : s.rows) {
    json::Value l(rapidjson::kObjectType);
    l.AddMember("name", str(row.name), a);
    l.AddMember("class_name", str(row.class_name), a);
    l.AddMember("output_shape", str(row.output_shape), a);
    l.AddMember("params", row.params, a);
    json::Value ws(rapidjson::kArrayType);
    auto it = by_name.find(row.name);
    if (it != by_name.end()) {
      for (const auto& w : it->second->weights) {
        json::Value jw(rapidjson::kObjectType);
        jw.AddMember("name", str(w.name), a);
        jw.AddMember("attr", str(w.attr), a);
        jw.AddMember("dtype", str(dtype_name(w.tensor.dtype())), a);
        json::Value shape(rapidjson::kArrayType);
        for (int64_t d : w.tensor.shape()) shape.PushBack(d, a);
        jw.AddMember("shape", shape, a);
        jw.AddMember("bytes", tensor_bytes(w.tensor), a);
        jw.AddMember("trainable", w.trainable, a);
        ws.PushBack(jw, a);
        total_bytes += tensor_bytes(w.tensor);
        ++total_weights;
      }
    }
    l.AddMember("weights", ws, a);
    layers.PushBack(l, a);
  }
  doc.AddMember("layers", layers, a);
  json::Value totals(rapidjson::kObjectType);
  totals.AddMember("params", s.total_params, a);
  totals.AddMember("trainable_params", s.trainable_params, a);
  totals.AddMember("non_trainable_params", s.non_trainable_params, a);
  totals.AddMember("weights", static_cast<uint64_t>(total_weights), a);
  totals.AddMember("bytes", total_bytes, a);
  doc.AddMember("totals", totals, a);

  if (!m.training_config.empty()) {
    try {
      auto tc = json::parse(m.training_config, m.path);
      doc.AddMember("training_config", json::Value(tc, a), a);
    } catch (const std::exception&) {
      doc.AddMember("training_config", str(m.training_config), a);
    }
  } else {
    doc.AddMember("training_config", json::Value(), a);
  }
  json::Value opt(rapidjson::kObjectType);
  uint64_t opt_bytes = 0;
  for (const auto& w : m.optimizer.weights) opt_bytes += tensor_bytes(w.tensor);
  opt.AddMember("class_name", m.optimizer.class_name.empty() ? json::Value() : str(m.optimizer.class_name), a);
  opt.AddMember("weights", static_cast<uint64_t>(m.optimizer.weights.size()), a);
  opt.AddMember("bytes", opt_bytes, a);
  doc.AddMember("optimizer", opt, a);

  LayerFlags flags = layer_flags(m);
  json::Value custom(rapidjson::kArrayType);
  for (const auto& [layer, cls] : flags.custom) {
    json::Value c(rapidjson::kObjectType);
    c.AddMember("layer", str(layer), a);
    c.AddMember("class_name", str(cls), a);
    custom.PushBack(c, a);
  }
  doc.AddMember("custom_layers", custom, a);
  json::Value lambdas(rapidjson::kArrayType);
  for (const auto& l : flags.lambdas) lambdas.PushBack(str(l), a);
  doc.AddMember("lambda_layers", lambdas, a);

  inspect::checkpoint_json(m, options, doc, a);
  inspect::savedmodel_json(m, options, doc, a);
  return json::to_pretty_string(doc);
}

}  // namespace kmodel
