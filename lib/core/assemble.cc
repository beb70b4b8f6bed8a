// Combining an architecture with weights from another artifact (see assemble.h).
#include "core/assemble.h"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "core/initializers.h"
#include "core/json_util.h"
#include "core/layer_shapes.h"
#include "kmodel/error.h"

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

namespace {

// A weight the architecture expects, with its place in the target model.
struct Slot {
  size_t layer = 0;            // index in target.layers
  std::string key;             // "<layer>/<canonical key>"
  ExpectedWeight expected;
  const FlatWeight* source = nullptr;
  bool fresh = false;
};

bool shape_compatible(const Shape& expected, const Shape& actual) {
  if (expected.size() != actual.size()) return false;
  for (size_t i = 0; i < expected.size(); ++i)
    if (expected[i] >= 0 && expected[i] != actual[i]) return false;
  return true;
}

std::string join(const std::vector<std::string>& v, size_t max = 8) {
  std::string out;
  for (size_t i = 0; i < v.size() && i < max; ++i) out += (i ? ", " : "") + v[i];
  if (v.size() > max) out += ", ... (" + std::to_string(v.size()) + " in all)";
  return out;
}

std::string weight_name_for(const Layer& layer_ir, const ExpectedWeight& w, KerasDialect dialect) {
  const std::string& layer = layer_ir.name;
  const std::string& cls = layer_ir.class_name;
  if (dialect == KerasDialect::kKeras1) {  // "dense_1_W"; Bidirectional halves are "forward_lstm_1_W_i"
    bool half = w.name.rfind("forward_", 0) == 0 || w.name.rfind("backward_", 0) == 0;
    return half || w.name.find('/') != std::string::npos ? w.name : layer + "_" + w.name;
  }
  // A nested model's weights are named by its sublayers ("dense_1/kernel:0"), as tf.keras writes them.
  if (cls == "Sequential" || cls == "Functional" || cls == "Model") return w.name + ":0";
  return layer + "/" + w.name + ":0";
}

// Explains a zero-weights result: source layers that are the sublayers of a nested model.
std::string nested_trap_hint(const ArchitectureSpec& arch, const Model& source, const std::string& file) {
  std::set<std::string> src;
  for (const auto& l : source.layers)
    if (!l.weights.empty()) src.insert(l.name);
  for (const auto& spec : arch.layers) {
    if (!spec.is_model()) continue;
    ArchitectureSpec sub = parse_nested_architecture(spec, arch.dialect, file);
    std::vector<std::string> common;
    for (const auto& s : sub.layers)
      if (src.count(s.name)) common.push_back(s.name);
    if (!common.empty())
      return "the source's layers (" + join(common) + ") are the layers of the nested model '" + spec.name +
             "' inside this architecture: the source holds that sub-model's weights, one level down. Load them "
             "into the sub-model's own architecture, or take the outer model's weights from an artifact of the "
             "outer model";
  }
  bool object_keys = false;
  for (const auto& l : source.layers)
    if (l.name.rfind("layer_with_weights-", 0) == 0 || l.name.rfind("layer-", 0) == 0) object_keys = true;
  if (object_keys)
    return "the source's weights are named by checkpoint object paths (layer_with_weights-N) that no layer "
           "name matches; give the checkpoint its architecture (--arch when reading it) or use --by order";
  return "";
}

}  // namespace

Model assemble_model(const Model& arch_model, const Model* source, const AssembleOptions& options,
                     AssembleReport& report) {
  report = AssembleReport{};
  if (!arch_model.has_architecture())
    throw UsageError("'" + arch_model.path + "' holds no architecture (model config) to assemble a model from");
  const std::string file = arch_model.path;
  ArchitectureSpec arch = parse_architecture(arch_model.model_config, file);
  // The artifact knows its Keras version better than the config text does (an H5 model_config has
  // no keras_version, and a Keras 2 Embedding's "output_dim" looks like Keras 1 to the text heuristic).
  if (arch_model.dialect != KerasDialect::kUnknown) arch.dialect = arch_model.dialect;
  else if (!arch_model.keras_version.empty()) arch.dialect = detect_dialect(arch_model.model_config, arch_model.keras_version);
  auto shapes = infer_layer_shapes(arch, file);

  Model target;
  target.origin = arch_model.origin;
  target.model_config = arch_model.model_config;
  target.dialect = arch.dialect;
  target.keras_version = arch_model.keras_version;
  target.backend = arch_model.backend;
  target.training_config = arch_model.training_config;
  if (source) {
    if (target.keras_version.empty()) target.keras_version = source->keras_version;
    if (target.backend.empty()) target.backend = source->backend;
  }
  target.layers = layers_from_architecture(arch);

  // The slots: every weight of every known layer, in the IR's order.
  std::vector<Slot> slots;
  std::vector<size_t> unknown_with_weights;
  std::map<std::string, int> seen;
  for (size_t li = 0; li < target.layers.size(); ++li) {
    const Layer& layer = target.layers[li];
    auto it = shapes.find(layer.name);
    if (it == shapes.end() || !it->second.known) {
      std::string how = !source ? "kmodel cannot create its weights, if it has any"
                        : options.by == MatchBy::kName ? "weights taken as they are from the source layer of that name"
                                                       : "weights unknown";
      report.unknown_layers.push_back(layer.name + " (" + layer.class_name + "): " + how);
      unknown_with_weights.push_back(li);
      continue;
    }
    for (const auto& ew : it->second.weights) {
      Slot s;
      s.layer = li;
      s.expected = ew;
      const std::string& basis = arch.dialect == KerasDialect::kKeras1 ? ew.name : ew.attr;
      s.key = layer.name + "/" + canonical_weight_key(layer.name, basis, ew.name);
      int n = ++seen[s.key];
      if (n > 1) s.key += "#" + std::to_string(n);
      slots.push_back(std::move(s));
    }
  }
  report.expected = slots.size();

  std::vector<FlatWeight> src;
  if (source) src = flatten_weights(*source);
  report.source_weights = src.size();
  std::vector<bool> used(src.size(), false);

  // Layers of unknown classes: by name, take the source layer's weights as they are.
  if (source && options.by == MatchBy::kName) {
    for (size_t li : unknown_with_weights) {
      Layer& layer = target.layers[li];
      for (size_t i = 0; i < src.size(); ++i)
        if (src[i].layer == layer.name) {
          layer.weights.push_back(*src[i].weight);
          used[i] = true;
          report.loaded.push_back(src[i].key + " <- " + src[i].weight->name + " (layer class unknown: taken as is)");
        }
    }
  }

  if (source) {
    if (options.by == MatchBy::kName) {
      std::map<std::string, size_t> by_key;
      for (size_t i = 0; i < src.size(); ++i) by_key[src[i].key] = i;
      for (auto& s : slots) {
        auto it = by_key.find(s.key);
        if (it != by_key.end() && !used[it->second]) {
          s.source = &src[it->second];
          used[it->second] = true;
        }
      }
    } else {
      bool unknown_weighted = false;
      std::vector<std::string> unknown_names;
      for (size_t li : unknown_with_weights) {
        const std::string& cls = target.layers[li].class_name;
        if (cls != "Lambda" && cls != "TFOpLambda" && cls != "SlicingOpLambda") {
          unknown_weighted = true;
          unknown_names.push_back(target.layers[li].name + " (" + cls + ")");
        }
      }
      if (unknown_weighted && !src.empty()) {
        report.error = "--by order needs the weight count of every layer, but kmodel does not know the layer class of " +
                       join(unknown_names) + "; use --by name";
      } else {
        size_t n = std::min(slots.size(), src.size());
        for (size_t i = 0; i < n; ++i) {
          slots[i].source = &src[i];
          used[i] = true;
        }
        if (slots.size() != src.size() && !src.empty())
          report.error = "--by order: the architecture expects " + std::to_string(slots.size()) +
                         " weights but the source holds " + std::to_string(src.size()) +
                         " (Keras set_weights requires equal counts; weightless layers such as Dropout do not count)";
      }
    }
  }

  // Shape checks.
  for (auto& s : slots) {
    if (!s.source) continue;
    const Shape& got = s.source->weight->tensor.shape();
    if (shape_compatible(s.expected.shape, got)) continue;
    std::string what = s.key + ": architecture expects " + keras_shape_str(s.expected.shape) + ", source " +
                       s.source->weight->name + " has " + keras_shape_str(got);
    if (options.skip_mismatch) report.skipped.push_back(what);
    else report.mismatched.push_back(what);
    s.source = nullptr;
  }

  size_t loaded = 0;
  for (const auto& s : slots)
    if (s.source) ++loaded;
  for (auto& s : slots) {
    if (s.source) report.loaded.push_back(s.key + " <- " + s.source->weight->name);
    else if (source && s.expected.name.size()) {
      bool was_skipped = false;
      for (const auto& k : report.skipped)
        if (k.rfind(s.key + ":", 0) == 0) was_skipped = true;
      bool was_mismatched = false;
      for (const auto& k : report.mismatched)
        if (k.rfind(s.key + ":", 0) == 0) was_mismatched = true;
      if (!was_skipped && !was_mismatched) report.missing.push_back(s.key);
    }
  }
  for (size_t i = 0; i < src.size(); ++i)
    if (!used[i]) report.unexpected.push_back(src[i].key);

  // Coverage verdict.
  size_t loaded_total = loaded;
  for (size_t li : unknown_with_weights) loaded_total += target.layers[li].weights.size();
  if (report.error.empty()) {
    if (!source && !options.init_seed) {
      report.error = "no weights: pass --weights SRC or --init SEED";
    } else if (source && loaded_total == 0 && (report.expected > 0 || !src.empty())) {
      report.error = "0 of " + std::to_string(report.expected) + " weights matched (" +
                     (options.by == MatchBy::kName ? "by name" : "by order") + "; the source offers " +
                     std::to_string(src.size()) + " weights)";
      report.hint = nested_trap_hint(arch, *source, file);
    } else if (!report.mismatched.empty()) {
      report.error = std::to_string(report.mismatched.size()) + " weight(s) have the wrong shape (use --skip-mismatch to skip them)";
    } else if (!report.missing.empty() && !options.allow_partial) {
      report.error = std::to_string(report.missing.size()) + " of " + std::to_string(report.expected) +
                     " weights missing from the source (use --allow-partial to give them fresh weights)";
    }
  }

  // Fill the target: loaded weights, then fresh ones where allowed.
  bool fill_fresh = report.error.empty();
  uint64_t seed = options.init_seed.value_or(0);
  for (auto& s : slots) {
    Layer& layer = target.layers[s.layer];
    Weight w;
    w.name = weight_name_for(layer, s.expected, arch.dialect);
    w.attr = s.expected.attr;
    w.trainable = s.expected.trainable;
    if (s.source) {
      w.tensor = s.source->weight->tensor;
    } else if (fill_fresh) {
      Tensor t = initialize_weight(s.expected.initializer_json, s.expected.shape, s.expected.dtype, seed,
                                   layer.name + "/" + s.expected.name, s.key);
      w.tensor = TensorRef::from_tensor(std::move(t));
      s.fresh = true;
      report.initialized.push_back(s.key);
    } else {
      continue;
    }
    layer.weights.push_back(std::move(w));
  }
  return target;
}

std::string AssembleReport::text() const {
  std::ostringstream s;
  s << "coverage: " << loaded.size() << " loaded, " << missing.size() << " missing, " << skipped.size()
    << " skipped (shape), " << mismatched.size() << " wrong shape, " << unexpected.size()
    << " unexpected in source, " << initialized.size() << " fresh from initializers; architecture expects "
    << expected << ", source offers " << source_weights << "\n";
  std::set<std::string> fresh(initialized.begin(), initialized.end()), told;
  const char* keeps = " (keeps fresh weights from its initializer)";
  for (const auto& x : loaded) s << "  loaded     " << x << "\n";
  for (const auto& x : missing) {
    s << "  missing    " << x << (fresh.count(x) ? keeps : "") << "\n";
    told.insert(x);
  }
  for (const auto& x : skipped) {
    std::string key = x.substr(0, x.find(':'));
    s << "  skipped    " << x << (fresh.count(key) ? keeps : "") << "\n";
    told.insert(key);
  }
  for (const auto& x : initialized)
    if (!told.count(x)) s << "  fresh      " << x << "\n";
  for (const auto& x : mismatched) s << "  wrong shape " << x << "\n";
  for (const auto& x : unexpected) s << "  unexpected " << x << "\n";
  for (const auto& x : unknown_layers) s << "  unknown layer " << x << "\n";
  if (!error.empty()) s << "error: " << error << "\n";
  if (!hint.empty()) s << "hint: " << hint << "\n";
  return s.str();
}

std::string AssembleReport::json() const {
  std::ostringstream s;
  auto list = [&](const char* key, const std::vector<std::string>& v) {
    s << ",\"" << key << "\":[";
    for (size_t i = 0; i < v.size(); ++i) s << (i ? "," : "") << json::quote(v[i]);
    s << "]";
  };
  s << "{\"expected\":" << expected << ",\"source_weights\":" << source_weights << ",\"ok\":" << (ok() ? "true" : "false");
  list("loaded", loaded);
  list("initialized", initialized);
  list("missing", missing);
  list("skipped", skipped);
  list("mismatched", mismatched);
  list("unexpected", unexpected);
  list("unknown_layers", unknown_layers);
  s << ",\"error\":" << json::quote(error) << ",\"hint\":" << json::quote(hint) << "}";
  return s.str();
}

}  // namespace kmodel
