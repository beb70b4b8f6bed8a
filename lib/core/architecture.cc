// Parses Keras model JSON of every dialect into ArchitectureSpec (see kmodel/architecture.h).
// Handles Keras 1 bare-list Sequential configs, 3- and 4-element Keras 1/2 inbound node entries (and
// tf.keras TF-op layers' unwrapped nodes and constant arguments),
// Keras 3 args/kwargs nodes with __keras_tensor__ histories, and flat/nested/dict input_layers.
#include "kmodel/architecture.h"

#include "core/json_util.h"
#include "kmodel/error.h"

namespace kmodel {
namespace {

bool is_model_class(const std::string& cls) {
  return cls == "Sequential" || cls == "Functional" || cls == "Model";
}

constexpr const char* kConstantArg = "_CONSTANT_VALUE";

// A Keras 1/2 tensor reference: [name, node, tensor(, kwargs)].
bool is_link_array(const json::Value& v) {
  return v.IsArray() && v.Size() >= 3 && v[0].IsString() && v[1].IsNumber() && v[2].IsNumber();
}

TensorLink link_from_array(const json::Value& v) {
  TensorLink link;
  link.layer = v[0].GetString();
  link.node_index = v[1].IsInt() ? v[1].GetInt() : json::to_int(v[1].GetDouble());
  link.tensor_index = v[2].IsInt() ? v[2].GetInt() : json::to_int(v[2].GetDouble());
  return link;
}

// Collects tensor links from input_layers/output_layers in any nesting (list, flat triple, dict).
void collect_links(const json::Value& v, std::vector<TensorLink>& out) {
  if (is_link_array(v)) {
    out.push_back(link_from_array(v));
  } else if (v.IsArray()) {
    for (const auto& e : v.GetArray()) collect_links(e, out);
  } else if (v.IsObject()) {
    for (const auto& m : v.GetObject()) collect_links(m.value, out);
  }
}

// Collects __keras_tensor__ histories inside Keras 3 call args, in order.
void collect_keras_tensors(const json::Value& v, std::vector<TensorLink>& out) {
  if (v.IsObject()) {
    auto cls = json::get_string(v, "class_name");
    if (cls && *cls == "__keras_tensor__") {
      const json::Value* cfg = json::member(v, "config");
      const json::Value* hist = cfg ? json::member(*cfg, "keras_history") : nullptr;
      if (hist && is_link_array(*hist)) out.push_back(link_from_array(*hist));
      return;
    }
    for (const auto& m : v.GetObject()) collect_keras_tensors(m.value, out);
  } else if (v.IsArray()) {
    for (const auto& e : v.GetArray()) collect_keras_tensors(e, out);
  }
}

LayerCall parse_node(const json::Value& node, const std::string& file, const std::string& layer) {
  LayerCall call;
  if (node.IsObject()) {  // Keras 3: {"args": [...], "kwargs": {...}}
    if (const json::Value* args = json::member(node, "args")) {
      collect_keras_tensors(*args, call.inputs);
      // A constant first argument (a TF-op layer's `1.0 - x` carried over from tf.keras).
      if (args->IsArray() && args->Size() > 0 && ((*args)[0].IsNumber() || (*args)[0].IsBool())) {
        call.constant_args_json.push_back(json::to_string((*args)[0]));
      }
    }
    if (const json::Value* kwargs = json::member(node, "kwargs")) {
      std::vector<TensorLink> kw_links;
      collect_keras_tensors(*kwargs, kw_links);
      call.kwargs_json = json::to_string(*kwargs);
    }
    return call;
  }
  if (!node.IsArray())
    throw BadInputError(file, "layer " + layer, "inbound node is neither a list nor an object");
  // One entry: [layer, node, tensor, kwargs], or a constant first argument
  // ["_CONSTANT_VALUE", -1, value, kwargs] (tf.keras writes the value where the node index would be).
  auto add_entry = [&](const json::Value& t) {
    const bool constant = t.IsArray() && t.Size() >= 3 && t[0].IsString() && std::string(t[0].GetString()) == kConstantArg;
    if (!constant && !is_link_array(t))
      throw BadInputError(file, "layer " + layer, "inbound tensor is not [layer, node, tensor]");
    if (constant) call.constant_args_json.push_back(json::to_string(t[2]));
    else call.inputs.push_back(link_from_array(t));
    if (t.Size() >= 4 && t[3].IsObject() && t[3].MemberCount() > 0) call.kwargs_json = json::to_string(t[3]);
  };
  // tf.keras TF-op layers (TFOpLambda, SlicingOpLambda) keep their first argument's structure: a
  // single tensor is written as the node itself, not as a one-entry list.
  if (node.Size() >= 3 && node[0].IsString()) {
    add_entry(node);
    return call;
  }
  for (const auto& t : node.GetArray()) add_entry(t);
  return call;
}

LayerSpec parse_layer(const json::Value& entry, const std::string& file, size_t index) {
  if (!entry.IsObject())
    throw BadInputError(file, "layers[" + std::to_string(index) + "]", "layer entry is not an object");
  LayerSpec spec;
  auto cls = json::get_string(entry, "class_name");
  if (!cls) throw BadInputError(file, "layers[" + std::to_string(index) + "]", "layer has no class_name");
  spec.class_name = *cls;
  const json::Value* cfg = json::member(entry, "config");
  if (cfg) spec.config_json = json::to_string(*cfg);
  else spec.config_json = "{}";
  spec.module = json::get_string(entry, "module").value_or("");
  if (auto name = json::get_string(entry, "name")) spec.name = *name;
  else if (cfg && cfg->IsObject()) spec.name = json::get_string(*cfg, "name").value_or("");
  if (spec.name.empty()) spec.name = "layer_" + std::to_string(index);
  if (const json::Value* nodes = json::member(entry, "inbound_nodes")) {
    if (!nodes->IsArray()) throw BadInputError(file, "layer " + spec.name, "inbound_nodes is not a list");
    for (const auto& n : nodes->GetArray()) spec.inbound_nodes.push_back(parse_node(n, file, spec.name));
  }
  return spec;
}

std::string shape_json_of(const json::Value& cfg) {
  for (const char* key : {"batch_input_shape", "batch_shape"})
    if (const json::Value* v = json::member(cfg, key)) return json::to_string(*v);
  return "";
}

ArchitectureSpec parse_model(const std::string& class_name, const json::Value& config, KerasDialect dialect,
                             const std::string& file) {
  ArchitectureSpec arch;
  arch.class_name = class_name;
  arch.dialect = dialect;
  const json::Value* layers = nullptr;
  if (config.IsArray()) {  // Keras <= 2.1 Sequential: a bare list of layers
    layers = &config;
  } else if (config.IsObject()) {
    arch.name = json::get_string(config, "name").value_or("");
    layers = json::member(config, "layers");
    if (!layers || !layers->IsArray())
      throw BadInputError(file, "config.layers", "model config has no list of layers");
    if (const json::Value* in = json::member(config, "input_layers")) collect_links(*in, arch.inputs);
    if (const json::Value* out = json::member(config, "output_layers")) collect_links(*out, arch.outputs);
    if (const json::Value* bis = json::member(config, "build_input_shape")) {
      if (!bis->IsNull()) arch.batch_input_shape_json = json::to_string(*bis);
    }
  } else {
    throw BadInputError(file, "config", "model config is neither an object nor a list");
  }
  for (rapidjson::SizeType i = 0; i < layers->Size(); ++i) arch.layers.push_back(parse_layer((*layers)[i], file, i));
  if (class_name == "Sequential" && !arch.layers.empty()) {
    auto first = json::parse(arch.layers.front().config_json, file);
    std::string s = shape_json_of(first);
    if (!s.empty()) arch.batch_input_shape_json = s;
  }
  return arch;
}

}  // namespace

bool LayerSpec::is_model() const { return is_model_class(class_name); }

KerasDialect detect_dialect(std::string_view model_json, const std::string& keras_version) {
  auto has = [&](const char* key) { return model_json.find(key) != std::string_view::npos; };
  bool keras3_envelope = has("\"module\"") && has("\"registered_name\"");
  // A known Keras 1/2 version decides (tf.keras >= 2.13 to_json uses the new envelope with Keras 2
  // keys); Keras 3 also writes legacy H5 model_configs in the Keras 2 dialect, told apart by content.
  if (!keras_version.empty() && keras_version[0] == '1') return KerasDialect::kKeras1;
  if (!keras_version.empty() && keras_version[0] == '2') return KerasDialect::kKeras2;
  if (!keras_version.empty() && keras_version[0] == '3')
    return keras3_envelope ? KerasDialect::kKeras3 : KerasDialect::kKeras2;
  // No version (H5 model_configs never carry one): content decides.
  if (keras3_envelope && !has("\"batch_input_shape\"")) return KerasDialect::kKeras3;
  if (has("\"batch_shape\"") && !has("\"batch_input_shape\"")) return KerasDialect::kKeras3;
  // Keras 1 argument names that Keras 2 renamed (output_dim alone is not one: Embedding keeps it).
  for (const char* k1 : {"\"init\"", "\"input_dtype\"", "\"W_regularizer\"", "\"border_mode\"",
                         "\"nb_filter\"", "\"subsample\"", "\"dim_ordering\""})
    if (has(k1)) return KerasDialect::kKeras1;
  return KerasDialect::kKeras2;
}

ArchitectureSpec parse_architecture(std::string_view model_json, const std::string& file) {
  auto doc = json::parse(model_json, file);
  if (!doc.IsObject()) throw BadInputError(file, "", "not a Keras model: top level is not a JSON object");
  auto cls = json::get_string(doc, "class_name");
  if (!cls) throw BadInputError(file, "", "not a Keras model: no \"class_name\"");
  const json::Value* config = json::member(doc, "config");
  if (!config) throw BadInputError(file, "", "not a Keras model: no \"config\"");
  if (!is_model_class(*cls) && !(config->IsObject() && json::member(*config, "layers")))
    throw UnsupportedError(file, "class_name", "\"" + *cls + "\" is not a model class kmodel can read");
  std::string version = json::get_string(doc, "keras_version").value_or("");
  ArchitectureSpec arch = parse_model(*cls, *config, detect_dialect(model_json, version), file);
  arch.keras_version = version;
  return arch;
}

ArchitectureSpec parse_nested_architecture(const LayerSpec& layer, KerasDialect dialect, const std::string& file) {
  auto doc = json::parse(layer.config_json, file);
  return parse_model(layer.class_name, doc, dialect, file);
}

}  // namespace kmodel
