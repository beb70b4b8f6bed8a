// Keras 1/2 <-> Keras 3 JSON dialect translation (see keras3_dialect.h).
#include "core/keras3_dialect.h"

#include <functional>
#include <map>
#include <set>

#include "core/json_util.h"
#include "core/keras_classes.h"
#include "core/layer_shapes.h"
#include "kmodel/architecture.h"
#include "kmodel/error.h"

namespace kmodel {
namespace {

using json::Value;
using Alloc = rapidjson::Document::AllocatorType;

const char* kWhere = "model config";

void warn(std::vector<std::string>* w, const std::string& msg) {
  if (w) w->push_back(msg);
}

Value str(const std::string& s, Alloc& a) { return Value(s.c_str(), static_cast<rapidjson::SizeType>(s.size()), a); }

bool is_model_class(const std::string& c) { return c == "Sequential" || c == "Functional" || c == "Model"; }

// A serialized object in legacy or new form: {"class_name": str, "config": ...}.
bool is_object_form(const Value& v) {
  return v.IsObject() && v.HasMember("class_name") && v["class_name"].IsString() && v.HasMember("config");
}

std::string class_of(const Value& v) { return v.IsObject() ? json::get_string(v, "class_name").value_or("") : ""; }

bool ends_with(const std::string& s, const std::string& suf) {
  return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

bool is_default_like(const Value& v) {
  return v.IsNull() || (v.IsBool() && !v.GetBool()) || (v.IsNumber() && v.GetDouble() == 0.0);
}

// Removes a key; reports it when its value is not a default-like one (false/0/null).
void drop(Value& cfg, const char* key, const std::string& layer, std::vector<std::string>* w, const char* why) {
  if (!cfg.IsObject() || !cfg.HasMember(key)) return;
  if (!is_default_like(cfg[key]))
    warn(w, "layer '" + layer + "': argument '" + key + "'=" + json::to_string(cfg[key]) + " dropped (" + why + ")");
  cfg.EraseMember(key);
}

void rename_key(Value& cfg, const char* from, const char* to, Alloc& a) {
  if (!cfg.IsObject() || !cfg.HasMember(from) || cfg.HasMember(to)) return;
  Value v(cfg[from], a);
  cfg.EraseMember(from);
  cfg.AddMember(str(to, a), v, a);
}

// --------------------------------------------------------------------------------- Keras 2 -> Keras 3

const std::map<std::string, std::string>& k1_class_renames() {
  static const std::map<std::string, std::string> m = {
      {"Convolution1D", "Conv1D"}, {"Convolution2D", "Conv2D"}, {"Convolution3D", "Conv3D"},
      {"AtrousConvolution1D", "Conv1D"}, {"AtrousConvolution2D", "Conv2D"}, {"Deconvolution2D", "Conv2DTranspose"},
      {"Deconvolution3D", "Conv3DTranspose"}, {"SeparableConvolution2D", "SeparableConv2D"},
      {"Model", "Functional"}};
  return m;
}

std::string k3_initializer_class(const std::string& c) {
  if (c == "Orthogonal") return "OrthogonalInitializer";
  if (c == "Identity") return "IdentityInitializer";
  return c;
}
std::string k2_initializer_class(const std::string& c) {
  if (c == "OrthogonalInitializer") return "Orthogonal";
  if (c == "IdentityInitializer") return "Identity";
  return c;
}

// Module of a nested object by the config key holding it.
const char* module_for_key(const std::string& key) {
  if (ends_with(key, "_initializer") || key == "initializer") return "keras.initializers";
  if (ends_with(key, "_regularizer") || key == "regularizer") return "keras.regularizers";
  if (ends_with(key, "_constraint") || key == "constraint") return "keras.constraints";
  return nullptr;
}

Value dtype_policy(const std::string& name, Alloc& a) {
  Value p(rapidjson::kObjectType);
  p.AddMember("module", "keras", a);
  p.AddMember("class_name", "DTypePolicy", a);
  Value c(rapidjson::kObjectType);
  c.AddMember("name", str(name, a), a);
  p.AddMember("config", c, a);
  p.AddMember("registered_name", Value(rapidjson::kNullType), a);
  return p;
}

// Legacy {"class_name","config"} nested object -> new form with module/registered_name.
Value new_form_object(const Value& obj, const char* module, Alloc& a, const std::string& key) {
  Value out(rapidjson::kObjectType);
  std::string cls = class_of(obj);
  bool builtin = module != nullptr;
  if (std::string(module ? module : "") == "keras.initializers") {
    cls = k3_initializer_class(cls);
  }
  out.AddMember("module", builtin ? str(module, a) : Value(rapidjson::kNullType), a);
  out.AddMember("class_name", str(cls, a), a);
  Value cfg(obj["config"], a);
  if (std::string(module ? module : "") == "keras.losses" && cfg.IsObject()) {
    // Keras 2's "auto" reduction means sum over batch size; Keras 3 rejects "auto".
    if (auto r = json::get_string(cfg, "reduction"); r && *r == "auto") cfg["reduction"] = "sum_over_batch_size";
  }
  if (std::string(module ? module : "") == "keras.initializers" && cls == "VarianceScaling" && cfg.IsObject()) {
    // Keras 2.0 called the truncated normal "normal".
    if (auto d = json::get_string(cfg, "distribution"); d && *d == "normal") cfg["distribution"] = "truncated_normal";
  }
  out.AddMember("config", cfg, a);
  out.AddMember("registered_name", Value(rapidjson::kNullType), a);
  (void)key;
  return out;
}

// Converts nested objects inside a layer config: initializers/regularizers/constraints, dtype.
void convert_nested_to_k3(Value& cfg, const std::string& layer, bool input_layer, Alloc& a, std::vector<std::string>* w) {
  if (!cfg.IsObject()) return;
  for (auto& m : cfg.GetObject()) {
    std::string key = m.name.GetString();
    Value& v = m.value;
    if (key == "dtype") {
      if (input_layer) {
        if (is_object_form(v)) {
          std::string n = v["config"].IsObject() ? json::get_string(v["config"], "name").value_or("float32") : "float32";
          v = str(n, a);
        }
        continue;
      }
      if (v.IsString()) {
        v = dtype_policy(v.GetString(), a);
      } else if (is_object_form(v)) {
        std::string n = v["config"].IsObject() ? json::get_string(v["config"], "name").value_or("float32") : "float32";
        v = dtype_policy(n, a);
      }
      continue;
    }
    const char* module = module_for_key(key);
    if (module && is_object_form(v) && !v.HasMember("module")) {
      std::string cls = class_of(v);
      Value nv = new_form_object(v, module, a, key);
      v = nv;
    } else if (module && v.IsString()) {
      std::string s = v.GetString();
      if (s == "zero") v = "zeros";
      else if (s == "one") v = "ones";
    }
  }
}

struct K3Context {
  Alloc* a;
  std::vector<std::string>* w;
  std::map<std::string, LayerShapes> shapes;  // keyed "<prefix><layer>"
};

Value shape_value(const Shape& s, Alloc& a) {
  Value arr(rapidjson::kArrayType);
  for (int64_t d : s) arr.PushBack(d < 0 ? Value(rapidjson::kNullType) : Value(static_cast<int64_t>(d)), a);
  return arr;
}

const Shape* output_shape(const K3Context& ctx, const std::string& key, int tensor) {
  auto it = ctx.shapes.find(key);
  if (it == ctx.shapes.end() || tensor < 0 || static_cast<size_t>(tensor) >= it->second.output_shapes.size())
    return nullptr;
  return &it->second.output_shapes[static_cast<size_t>(tensor)];
}

// Keras 1 argument names -> Keras 2/3 names (where a mapping exists).
void keras1_args(Value& cfg, std::string& cls, const std::string& layer, Alloc& a, std::vector<std::string>* w) {
  static const std::vector<std::pair<const char*, const char*>> common = {
      {"output_dim", "units"}, {"init", "kernel_initializer"}, {"W_regularizer", "kernel_regularizer"},
      {"b_regularizer", "bias_regularizer"}, {"W_constraint", "kernel_constraint"},
      {"b_constraint", "bias_constraint"}, {"bias", "use_bias"}, {"inner_init", "recurrent_initializer"},
      {"inner_activation", "recurrent_activation"}, {"U_regularizer", "recurrent_regularizer"},
      {"U_constraint", "recurrent_constraint"}, {"dropout_W", "dropout"}, {"dropout_U", "recurrent_dropout"},
      {"nb_filter", "filters"}, {"border_mode", "padding"}, {"subsample", "strides"}, {"dim_ordering", "data_format"},
      {"pool_length", "pool_size"}, {"stride", "strides"}, {"p", "rate"}, {"beta_init", "beta_initializer"},
      {"gamma_init", "gamma_initializer"}, {"atrous_rate", "dilation_rate"}};
  if (cls == "Embedding") {
    rename_key(cfg, "W_regularizer", "embeddings_regularizer", a);
    rename_key(cfg, "W_constraint", "embeddings_constraint", a);
    rename_key(cfg, "init", "embeddings_initializer", a);
    rename_key(cfg, "output_dim", "output_dim", a);
  }
  if (cls == "Dense" || cls.find("Conv") != std::string::npos || cls == "LSTM" || cls == "GRU" || cls == "SimpleRNN" ||
      cls == "Dropout" || cls == "BatchNormalization" || cls == "Embedding" || cls.find("Pooling") != std::string::npos) {
    for (const auto& [from, to] : common) {
      if (cls == "Embedding" && std::string(from) == "output_dim") continue;
      rename_key(cfg, from, to, a);
    }
  }
  if (cfg.HasMember("nb_row") && cfg.HasMember("nb_col")) {
    Value ks(rapidjson::kArrayType);
    ks.PushBack(Value(cfg["nb_row"], a), a);
    ks.PushBack(Value(cfg["nb_col"], a), a);
    cfg.EraseMember("nb_row");
    cfg.EraseMember("nb_col");
    if (!cfg.HasMember("kernel_size")) cfg.AddMember("kernel_size", ks, a);
  }
  if (cfg.HasMember("filter_length")) rename_key(cfg, "filter_length", "kernel_size", a);
  if (auto df = json::get_string(cfg, "data_format")) {
    if (*df == "tf") cfg["data_format"] = "channels_last";
    else if (*df == "th") {
      cfg["data_format"] = "channels_first";
      warn(w, "layer '" + layer + "': Theano dim_ordering 'th' mapped to channels_first (kernel layout not converted)");
    }
  }
  if (cfg.HasMember("forget_bias_init")) {
    std::string f = json::get_string(cfg, "forget_bias_init").value_or("");
    cfg.EraseMember("forget_bias_init");
    cfg.AddMember("unit_forget_bias", Value(f == "one"), a);
  }
  if (cls == "BatchNormalization" && cfg.HasMember("mode")) {
    if (json::get_int(cfg, "mode").value_or(0) != 0)
      warn(w, "layer '" + layer + "': Keras 1 BatchNormalization mode != 0 has no Keras 3 equivalent");
    cfg.EraseMember("mode");
  }
  // Keras 1 input_dtype is the model input's dtype (the InputLayer built by the caller takes it).
  if (cfg.HasMember("input_dtype")) cfg.EraseMember("input_dtype");
  for (const char* k : {"input_dim", "input_length", "W_learning_rate_multiplier", "b_learning_rate_multiplier",
                        "consume_less", "cache_enabled"}) {
    if (std::string(k) == "input_dim" && cls != "Embedding") drop(cfg, k, layer, w, "Keras 1 argument; the input shape is kept by the InputLayer");
    else if (std::string(k) != "input_dim" && std::string(k) != "input_length") drop(cfg, k, layer, w, "Keras 1 argument without Keras 3 equivalent");
  }
}

// Per-class argument changes Keras 2 -> Keras 3.
void layer_args_to_k3(Value& cfg, const std::string& cls, const std::string& layer, Alloc& a,
                      std::vector<std::string>* w) {
  if (cls == "LSTM" || cls == "GRU" || cls == "SimpleRNN" || cls == "ConvLSTM2D" || cls == "ConvLSTM1D" ||
      cls == "ConvLSTM3D") {
    if (cfg.HasMember("implementation")) cfg.EraseMember("implementation");  // a speed hint, same maths
    drop(cfg, "time_major", layer, w, "Keras 3 RNNs are always batch-major");
  }
  // Keras 1/2 GRUs without the key computed the reset gate before the matmul (reset_after=False);
  // Keras 3 defaults to True, which would change the maths and the bias shape.
  if (cls == "GRU" && !cfg.HasMember("reset_after")) cfg.AddMember("reset_after", false, a);
  if (cls == "Embedding") drop(cfg, "input_length", layer, w, "Keras 3 Embedding has no input_length");
  if (cls == "BatchNormalization") {
    if (cfg.HasMember("axis") && cfg["axis"].IsArray()) {
      if (cfg["axis"].Size() == 1) {
        Value ax(cfg["axis"][0], a);
        cfg["axis"] = ax;
      } else {
        warn(w, "layer '" + layer + "': BatchNormalization over several axes " + json::to_string(cfg["axis"]) +
                    " is not supported by Keras 3");
      }
    }
    drop(cfg, "fused", layer, w, "Keras 3 has no fused option");
    for (const char* k : {"renorm", "renorm_clipping", "renorm_momentum"})
      if (cfg.HasMember(k) && is_default_like(cfg[k])) cfg.EraseMember(k);
    if (cfg.HasMember("renorm_momentum") && !cfg.HasMember("renorm")) cfg.EraseMember("renorm_momentum");
    drop(cfg, "virtual_batch_size", layer, w, "Keras 3 has no virtual batches");
    drop(cfg, "adjustment", layer, w, "Keras 3 has no adjustment function");
  }
  if (cls == "Lambda")
    warn(w, "layer '" + layer + "': Lambda layer's Python function cannot be translated (kept as is; Keras 3 "
                                "refuses it in safe mode)");
  if (cls == "TFOpLambda" || cls == "SlicingOpLambda")
    warn(w, "layer '" + layer + "': " + cls + " (a tf.keras TF-op layer) does not exist in Keras 3 (kept as is)");
}

Value keras_tensor(const std::string& layer, int node, int tensor, const Shape* shape, Alloc& a) {
  Value t(rapidjson::kObjectType);
  t.AddMember("class_name", "__keras_tensor__", a);
  Value c(rapidjson::kObjectType);
  c.AddMember("shape", shape ? shape_value(*shape, a) : Value(rapidjson::kNullType), a);
  c.AddMember("dtype", "float32", a);
  Value h(rapidjson::kArrayType);
  h.PushBack(str(layer, a), a);
  h.PushBack(Value(node), a);
  h.PushBack(Value(tensor), a);
  c.AddMember("keras_history", h, a);
  t.AddMember("config", c, a);
  return t;
}

bool is_link(const Value& v) {
  return v.IsArray() && v.Size() >= 3 && v[0].IsString() && v[1].IsNumber() && v[2].IsNumber();
}

// ------------------------------------------------------------------ node numbering of nested models
//
// References to the calls of a nested model (a Functional or Sequential used as a layer) are numbered
// differently by the two dialects; those of other layers (shared layers included) are not:
// - tf.keras (engine/functional.py: _should_skip_first_node, get_network_config's node_conversion_map,
//   which Node.serialize applies to call inputs and to tensors in call kwargs, and get_network_config to
//   input_layers/output_layers): a nested Functional, or a Sequential that starts with an input layer,
//   owns a node 0 made when it was built (never serialized), so every reference counts its calls from 1.
// - Keras 3 (models/functional.py: serialize_node writes keras_history as the call's position among
//   the calls kept in this model; ops/node.py makes nodes on calls only, ops/function.py none when a
//   model is built): call arguments count every layer's calls from 0. Only get_config's
//   node_reindexing_map starts a Functional at 1, for input_layers/output_layers, and
//   functional_from_config's get_tensor takes that 1 off again (keras PR #19509, issue #19559). A
//   Keras 3 Sequential is no Functional subclass (models/sequential.py): 0 there too.
//
// So per nested model, (tf.keras number) - (Keras 3 number) is `creation` in call arguments, and
// `creation` minus (1 for a Functional, else 0) in input_layers/output_layers.

struct NestedCalls {
  bool functional = false;  // Functional / Model; else Sequential
  bool creation = false;    // tf.keras gives it a node 0 of its own
  int calls = 0;            // its inbound nodes in this model
  std::vector<int> call_refs, io_refs;
};

bool starts_with_input(const Value& model_entry) {
  const Value* cfg = json::member(model_entry, "config");
  const Value* layers = cfg && cfg->IsObject() ? json::member(*cfg, "layers") : cfg;
  if (!layers || !layers->IsArray() || layers->Empty()) return false;
  const Value& first = (*layers)[0];
  if (class_of(first) == "InputLayer") return true;
  const Value* fc = json::member(first, "config");
  return fc && fc->IsObject() && (fc->HasMember("batch_input_shape") || fc->HasMember("batch_shape"));
}

// Calls f(layer name, node index) for every tensor reference in v: Keras 3 __keras_tensor__ histories
// and Keras 1/2 [layer, node, tensor(, kwargs)] lists (with the references inside their kwargs).
void for_each_ref(Value& v, const std::function<void(const std::string&, Value&)>& f) {
  if (v.IsObject()) {
    if (class_of(v) == "__keras_tensor__") {
      auto c = v.FindMember("config");
      if (c == v.MemberEnd() || !c->value.IsObject()) return;
      auto h = c->value.FindMember("keras_history");
      if (h != c->value.MemberEnd() && is_link(h->value)) f(h->value[0].GetString(), h->value[1]);
      return;
    }
    for (auto& m : v.GetObject()) for_each_ref(m.value, f);
  } else if (v.IsArray()) {
    if (is_link(v)) {
      f(v[0].GetString(), v[1]);
      for (rapidjson::SizeType i = 3; i < v.Size(); ++i) for_each_ref(v[i], f);
      return;
    }
    for (auto& e : v.GetArray()) for_each_ref(e, f);
  }
}

// True when some layer of a model config has an inbound node in Keras 3 form (object) or, with
// `object_form` false, in Keras 1/2 form (list).
bool has_node_form(const Value* layers, bool object_form) {
  if (!layers || !layers->IsArray()) return false;
  for (const auto& e : layers->GetArray()) {
    const Value* nodes = json::member(e, "inbound_nodes");
    if (!nodes || !nodes->IsArray()) continue;
    for (const auto& n : nodes->GetArray())
      if (object_form ? n.IsObject() : n.IsArray()) return true;
  }
  return false;
}

// Renumbers, in a translated Functional config (`cfg`, target dialect form), the references to its
// nested models from the source dialect's numbering to the target's (see above). A nested model whose
// references do not fit the source numbering (each within its calls, every call referenced) but fit the
// target's is left as it is, and so is one that fits neither; both are reported.
void renumber_nested_calls(Value& cfg, bool to_k3, std::vector<std::string>* w) {
  auto lit = cfg.FindMember("layers");
  if (lit == cfg.MemberEnd() || !lit->value.IsArray()) return;
  std::map<std::string, NestedCalls> nested;
  for (const auto& e : lit->value.GetArray()) {
    std::string cls = class_of(e);
    if (!is_model_class(cls)) continue;
    std::string name = json::get_string(e, "name").value_or("");
    const Value* c = json::member(e, "config");
    if (name.empty() && c && c->IsObject()) name = json::get_string(*c, "name").value_or("");
    NestedCalls n;
    n.functional = cls != "Sequential";
    n.creation = n.functional || starts_with_input(e);
    const Value* nodes = json::member(e, "inbound_nodes");
    n.calls = nodes && nodes->IsArray() ? static_cast<int>(nodes->Size()) : 0;
    nested[name] = n;
  }
  if (nested.empty()) return;

  bool io = false;
  std::function<void(const std::string&, Value&)> collect = [&](const std::string& layer, Value& index) {
    auto it = nested.find(layer);
    if (it == nested.end() || !index.IsInt()) return;
    (io ? it->second.io_refs : it->second.call_refs).push_back(index.GetInt());
  };
  for (auto& e : lit->value.GetArray())
    if (e.IsObject() && e.HasMember("inbound_nodes")) for_each_ref(e["inbound_nodes"], collect);
  io = true;
  for (const char* k : {"input_layers", "output_layers"})
    if (cfg.HasMember(k)) for_each_ref(cfg[k], collect);

  // Whether every reference names one of the model's calls when `call_off` / `io_off` is what the
  // numbering adds to a call's position (and, with `all_used`, every call is referenced).
  auto fits = [](const NestedCalls& n, int call_off, int io_off, bool all_used) {
    std::vector<char> used(static_cast<size_t>(n.calls), 0);
    for (int pass = 0; pass < 2; ++pass) {
      const std::vector<int>& refs = pass == 0 ? n.call_refs : n.io_refs;
      int off = pass == 0 ? call_off : io_off;
      for (int r : refs) {
        if (r - off < 0 || r - off >= n.calls) return false;
        used[static_cast<size_t>(r - off)] = 1;
      }
    }
    for (char u : used)
      if (all_used && !u) return false;
    return true;
  };
  std::map<std::string, std::pair<int, int>> shift;  // per nested model: (call, io) added
  for (const auto& entry : nested) {
    const NestedCalls& n = entry.second;
    int k2_call = n.creation ? 1 : 0, k2_io = n.creation ? 1 : 0;
    int k3_call = 0, k3_io = n.functional ? 1 : 0;
    int src_call = to_k3 ? k2_call : k3_call, src_io = to_k3 ? k2_io : k3_io;
    int dst_call = to_k3 ? k3_call : k2_call, dst_io = to_k3 ? k3_io : k2_io;
    if (src_call == dst_call && src_io == dst_io) continue;
    bool src_fits = fits(n, src_call, src_io, true);
    bool dst_fits = fits(n, dst_call, dst_io, true);
    if (src_fits || (!dst_fits && fits(n, src_call, src_io, false))) {
      shift[entry.first] = {dst_call - src_call, dst_io - src_io};
      continue;
    }
    const char* src = to_k3 ? "tf.keras" : "Keras 3";
    const char* dst = to_k3 ? "Keras 3" : "tf.keras";
    warn(w, "nested model '" + entry.first + "': node indices of the references to it kept as found (they " +
                (dst_fits ? std::string("already follow ") + dst + " numbering"
                          : std::string("follow neither ") + src + " nor " + dst + " numbering") +
                ")");
  }
  if (shift.empty()) return;
  std::function<void(const std::string&, Value&)> apply = [&](const std::string& layer, Value& index) {
    auto it = shift.find(layer);
    if (it == shift.end() || !index.IsInt()) return;
    index.SetInt(index.GetInt() + (io ? it->second.second : it->second.first));
  };
  io = false;
  for (auto& e : lit->value.GetArray())
    if (e.IsObject() && e.HasMember("inbound_nodes")) for_each_ref(e["inbound_nodes"], apply);
  io = true;
  for (const char* k : {"input_layers", "output_layers"})
    if (cfg.HasMember(k)) for_each_ref(cfg[k], apply);
}

Value convert_model_to_k3(const std::string& cls_in, const Value& config, K3Context& ctx, const std::string& prefix,
                          const Shape* input_shape, bool top);

// One layer entry -> Keras 3 form. `in_shapes` are the input shapes of its first call (for build_config).
Value convert_layer_to_k3(const Value& entry, K3Context& ctx, const std::string& prefix, bool functional,
                          const std::vector<const Shape*>& in_shapes) {
  Alloc& a = *ctx.a;
  std::string cls = class_of(entry);
  const Value* cfg_in = json::member(entry, "config");
  std::string name = json::get_string(entry, "name").value_or("");
  if (name.empty() && cfg_in && cfg_in->IsObject()) name = json::get_string(*cfg_in, "name").value_or("");
  Value out(rapidjson::kObjectType);
  if (is_model_class(cls)) {
    Value empty(rapidjson::kObjectType);
    out = convert_model_to_k3(cls, cfg_in ? *cfg_in : empty, ctx, prefix + name + "/",
                              in_shapes.empty() ? nullptr : in_shapes[0], false);
  } else {
    auto rn = k1_class_renames().find(cls);
    Value cfg(rapidjson::kObjectType);
    if (cfg_in) cfg.CopyFrom(*cfg_in, a);
    if (rn != k1_class_renames().end()) cls = rn->second;
    keras1_args(cfg, cls, name, a, ctx.w);
    layer_args_to_k3(cfg, cls, name, a, ctx.w);
    bool input = cls == "InputLayer";
    if (input) {
      rename_key(cfg, "batch_input_shape", "batch_shape", a);
      drop(cfg, "ragged", name, ctx.w, "ragged inputs are not supported by Keras 3 before 3.6");
    } else if (cfg.HasMember("batch_input_shape")) {
      cfg.EraseMember("batch_input_shape");  // moved to an InputLayer by the caller
    }
    convert_nested_to_k3(cfg, name, input, a, ctx.w);
    // Wrappers (Bidirectional, TimeDistributed) hold their inner layers as serialized layers.
    for (const char* k : {"layer", "forward_layer", "backward_layer"}) {
      if (cfg.HasMember(k) && is_object_form(cfg[k]) && !cfg[k].HasMember("module")) {
        Value inner = convert_layer_to_k3(cfg[k], ctx, prefix, false, {});
        cfg[k] = inner;
      }
    }
    bool builtin = is_builtin_layer_class(cls);
    if (!builtin)
      warn(ctx.w, "layer '" + name + "': custom class '" + cls +
                      "' written with module null; Keras 3 needs it registered or passed in custom_objects");
    out.AddMember("module", builtin ? Value("keras.layers") : Value(rapidjson::kNullType), a);
    out.AddMember("class_name", str(cls, a), a);
    out.AddMember("config", cfg, a);
    out.AddMember("registered_name", builtin ? Value(rapidjson::kNullType) : str(cls, a), a);
    if (!input && !in_shapes.empty() && in_shapes[0]) {
      Value bc(rapidjson::kObjectType);
      if (in_shapes.size() == 1) {
        bc.AddMember("input_shape", shape_value(*in_shapes[0], a), a);
      } else {
        Value list(rapidjson::kArrayType);
        bool all = true;
        for (const Shape* s : in_shapes) {
          if (!s) all = false;
          else list.PushBack(shape_value(*s, a), a);
        }
        bc.AddMember("input_shape", list, a);
        if (!all) bc.SetObject();
      }
      if (bc.MemberCount() > 0) out.AddMember("build_config", bc, a);
    }
  }
  if (functional) {
    out.AddMember("name", str(name, a), a);
    Value nodes(rapidjson::kArrayType);
    if (const Value* in_nodes = json::member(entry, "inbound_nodes"); in_nodes && in_nodes->IsArray()) {
      for (const auto& node : in_nodes->GetArray()) {
        if (node.IsObject()) {  // already Keras 3 form
          nodes.PushBack(Value(node, a), a);
          continue;
        }
        Value args(rapidjson::kArrayType);
        Value kwargs(rapidjson::kObjectType);
        Value tensors(rapidjson::kArrayType);
        // tf.keras TF-op layers write a single-tensor call as the entry itself, not as a list of one.
        std::vector<const Value*> entries;
        if (node.IsArray() && node.Size() >= 3 && node[0].IsString()) entries.push_back(&node);
        else if (node.IsArray())
          for (const auto& t : node.GetArray()) entries.push_back(&t);
        for (const Value* entry : entries) {
          const Value& t = *entry;
          const bool constant = t.IsArray() && t.Size() >= 3 && t[0].IsString() && std::string(t[0].GetString()) == "_CONSTANT_VALUE";
          if (!constant && !is_link(t)) {
            warn(ctx.w, "layer '" + name + "': inbound entry " + json::to_string(t) + " is not a tensor reference; kept");
            tensors.PushBack(Value(t, a), a);
            continue;
          }
          std::string src = t[0].GetString();
          int n = t[1].IsInt() ? t[1].GetInt() : 0;
          int ti = t[2].IsInt() ? t[2].GetInt() : 0;
          if (constant) tensors.PushBack(Value(t[2], a), a);  // a constant argument stays a value
          else tensors.PushBack(keras_tensor(src, n, ti, output_shape(ctx, prefix + src, ti), a), a);
          if (t.Size() >= 4 && t[3].IsObject()) {
            for (const auto& kw : t[3].GetObject()) {
              if (kwargs.HasMember(kw.name)) continue;  // every entry of a list call repeats the kwargs
              if (is_link(kw.value)) {
                const Value& l = kw.value;
                int kn = l[1].IsInt() ? l[1].GetInt() : 0, kt = l[2].IsInt() ? l[2].GetInt() : 0;
                std::string kl = l[0].GetString();
                kwargs.AddMember(Value(kw.name, a), keras_tensor(kl, kn, kt, output_shape(ctx, prefix + kl, kt), a), a);
              } else {
                kwargs.AddMember(Value(kw.name, a), Value(kw.value, a), a);
              }
            }
          }
        }
        if (tensors.Size() == 1) {
          args.PushBack(Value(tensors[0], a), a);
        } else {
          args.PushBack(tensors, a);
        }
        Value n(rapidjson::kObjectType);
        n.AddMember("args", args, a);
        n.AddMember("kwargs", kwargs, a);
        nodes.PushBack(n, a);
      }
    }
    out.AddMember("inbound_nodes", nodes, a);
  }
  return out;
}

Value input_layer_entry(const Value& batch_shape, const std::string& name, const std::string& dtype, Alloc& a) {
  Value e(rapidjson::kObjectType);
  e.AddMember("module", "keras.layers", a);
  e.AddMember("class_name", "InputLayer", a);
  Value c(rapidjson::kObjectType);
  c.AddMember("batch_shape", Value(batch_shape, a), a);
  c.AddMember("dtype", str(dtype, a), a);
  c.AddMember("sparse", false, a);
  c.AddMember("name", str(name, a), a);
  e.AddMember("config", c, a);
  e.AddMember("registered_name", Value(rapidjson::kNullType), a);
  return e;
}

Value convert_model_to_k3(const std::string& cls_in, const Value& config, K3Context& ctx, const std::string& prefix,
                          const Shape* input_shape, bool top) {
  Alloc& a = *ctx.a;
  std::string cls = cls_in == "Model" ? "Functional" : cls_in;
  Value out(rapidjson::kObjectType);
  Value cfg(rapidjson::kObjectType);
  const Value* layers = nullptr;
  std::string name = cls == "Sequential" ? "sequential" : "functional";
  if (config.IsArray()) {
    layers = &config;
  } else if (config.IsObject()) {
    layers = json::member(config, "layers");
    name = json::get_string(config, "name").value_or(name);
  }
  cfg.AddMember("name", str(name, a), a);
  bool trainable = config.IsObject() ? json::get_bool(config, "trainable").value_or(true) : true;
  cfg.AddMember("trainable", trainable, a);
  Value out_layers(rapidjson::kArrayType);
  Value build_shape(rapidjson::kNullType);
  if (cls == "Sequential") {
    cfg.AddMember("dtype", dtype_policy("float32", a), a);
    const Shape* cur = input_shape;
    bool first = true;
    if (layers && layers->IsArray()) {
      for (const auto& entry : layers->GetArray()) {
        std::string lcls = class_of(entry);
        const Value* lcfg = json::member(entry, "config");
        std::string lname = lcfg && lcfg->IsObject() ? json::get_string(*lcfg, "name").value_or("") : "";
        if (first && lcls != "InputLayer" && lcfg && lcfg->IsObject()) {
          // Keras 2 kept the input shape on the first layer: Keras 3 writes an InputLayer for it.
          Value bis(rapidjson::kNullType);
          if (const Value* b = json::member(*lcfg, "batch_input_shape")) bis.CopyFrom(*b, a);
          else if (lcls == "Embedding" && json::member(*lcfg, "input_length")) {
            bis.SetArray();
            bis.PushBack(Value(rapidjson::kNullType), a);
            bis.PushBack(Value((*lcfg)["input_length"], a), a);
          } else if (const Value* d = json::member(*lcfg, "input_dim"); d && lcls != "Embedding") {
            bis.SetArray();
            bis.PushBack(Value(rapidjson::kNullType), a);
            bis.PushBack(Value(*d, a), a);
          }
          if (!bis.IsNull()) {
            std::string dt = "float32";
            if (auto s = json::get_string(*lcfg, "input_dtype")) dt = *s;
            else if (auto s2 = json::get_string(*lcfg, "dtype")) dt = *s2;
            out_layers.PushBack(input_layer_entry(bis, lname + "_input", dt, a), a);
            build_shape.CopyFrom(bis, a);
          }
        }
        if (first && lcls == "InputLayer" && lcfg) {
          if (const Value* b = json::member(*lcfg, "batch_input_shape")) build_shape.CopyFrom(*b, a);
          else if (const Value* b2 = json::member(*lcfg, "batch_shape")) build_shape.CopyFrom(*b2, a);
        }
        first = false;
        std::vector<const Shape*> ins;
        if (lcls != "InputLayer") ins.push_back(cur);
        out_layers.PushBack(convert_layer_to_k3(entry, ctx, prefix, false, ins), a);
        auto it = ctx.shapes.find(prefix + lname);
        cur = it != ctx.shapes.end() && !it->second.output_shapes.empty() ? &it->second.output_shapes[0] : nullptr;
        if (lcls == "InputLayer") {
          auto it2 = ctx.shapes.find(prefix + lname);
          cur = it2 != ctx.shapes.end() && !it2->second.output_shapes.empty() ? &it2->second.output_shapes[0] : nullptr;
        }
      }
    }
    cfg.AddMember("layers", out_layers, a);
    if (config.IsObject())
      if (const Value* b = json::member(config, "build_input_shape"); b && !b->IsNull()) build_shape.CopyFrom(*b, a);
    if (!build_shape.IsNull()) cfg.AddMember("build_input_shape", Value(build_shape, a), a);
  } else {
    // Functional: inbound shapes from the producing layers' first-call outputs.
    if (layers && layers->IsArray()) {
      for (const auto& entry : layers->GetArray()) {
        std::vector<const Shape*> ins;
        if (const Value* nodes = json::member(entry, "inbound_nodes"); nodes && nodes->IsArray() && nodes->Size() > 0) {
          const Value& n0 = (*nodes)[0];
          if (n0.IsArray())
            for (const auto& t : n0.GetArray())
              if (is_link(t)) ins.push_back(output_shape(ctx, prefix + t[0].GetString(), t[2].IsInt() ? t[2].GetInt() : 0));
        }
        out_layers.PushBack(convert_layer_to_k3(entry, ctx, prefix, true, ins), a);
      }
    }
    cfg.AddMember("layers", out_layers, a);
    for (const char* k : {"input_layers", "output_layers"}) {
      if (config.IsObject() && config.HasMember(k)) cfg.AddMember(str(k, a), Value(config[k], a), a);
    }
    // Nodes already in Keras 3 form (Keras 3's legacy H5 configs) carry Keras 3 numbers.
    if (!has_node_form(layers, true)) renumber_nested_calls(cfg, true, ctx.w);
  }
  if (config.IsObject()) {
    static const std::set<std::string> known = {"name", "trainable", "layers", "input_layers", "output_layers",
                                                "build_input_shape", "dtype"};
    for (const auto& m : config.GetObject())
      if (!known.count(m.name.GetString()))
        warn(ctx.w, "model '" + name + "': config key '" + std::string(m.name.GetString()) + "' kept as is");
    for (const auto& m : config.GetObject())
      if (!known.count(m.name.GetString())) cfg.AddMember(Value(m.name, a), Value(m.value, a), a);
  }
  out.AddMember("module", str(cls == "Sequential" ? "keras" : "keras.src.models.functional", a), a);
  out.AddMember("class_name", str(cls, a), a);
  out.AddMember("config", cfg, a);
  out.AddMember("registered_name", cls == "Sequential" ? Value(rapidjson::kNullType) : Value("Functional"), a);
  if (cls == "Sequential" && !build_shape.IsNull()) {
    Value bc(rapidjson::kObjectType);
    bc.AddMember("input_shape", build_shape, a);
    out.AddMember("build_config", bc, a);
  }
  (void)top;
  return out;
}

// --------------------------------------------------------------------------------- Keras 3 -> Keras 2

// Strips module/registered_name/build_config/shared_object_id recursively from serialized objects and
// turns DTypePolicy objects into Keras 2 dtype values.
void strip_new_form(Value& v, Alloc& a, std::vector<std::string>* w, const std::string& ctx) {
  if (v.IsObject()) {
    if (is_object_form(v)) {
      std::string cls = class_of(v);
      if (cls == "DTypePolicy" || cls == "FloatDTypePolicy") {
        std::string n = v["config"].IsObject() ? json::get_string(v["config"], "name").value_or("float32") : "float32";
        if (n.rfind("mixed_", 0) == 0) {
          Value p(rapidjson::kObjectType);
          p.AddMember("class_name", "Policy", a);
          Value c(rapidjson::kObjectType);
          c.AddMember("name", str(n, a), a);
          p.AddMember("config", c, a);
          v = p;
        } else {
          v = str(n, a);
        }
        return;
      }
      if (cls == "QuantizedDTypePolicy" || cls == "QuantizedFloat8DTypePolicy") {
        warn(w, ctx + ": quantized dtype policy has no Keras 2 equivalent; using its source dtype");
        std::string n = v["config"].IsObject() ? json::get_string(v["config"], "source_name").value_or("float32") : "float32";
        v = str(n, a);
        return;
      }
      if (cls == "__keras_tensor__" || cls == "__tensor__" || cls == "__numpy__" || cls == "__lambda__") return;
      auto mod = json::get_string(v, "module");
      if (mod && *mod == "keras.initializers") v["class_name"] = str(k2_initializer_class(cls), a);
      for (const char* k : {"module", "registered_name", "build_config", "compile_config", "shared_object_id"})
        if (v.HasMember(k)) v.EraseMember(k);
    }
    for (auto& m : v.GetObject()) strip_new_form(m.value, a, w, ctx);
  } else if (v.IsArray()) {
    for (auto& e : v.GetArray()) strip_new_form(e, a, w, ctx);
  }
}

void collect_tensors(const Value& v, std::vector<const Value*>& out) {
  if (v.IsObject()) {
    if (class_of(v) == "__keras_tensor__") {
      out.push_back(&v);
      return;
    }
    for (const auto& m : v.GetObject()) collect_tensors(m.value, out);
  } else if (v.IsArray()) {
    for (const auto& e : v.GetArray()) collect_tensors(e, out);
  }
}

Value link_of(const Value& kt, Alloc& a) {
  Value l(rapidjson::kArrayType);
  const Value* c = json::member(kt, "config");
  const Value* h = c ? json::member(*c, "keras_history") : nullptr;
  if (h && h->IsArray()) {
    for (const auto& e : h->GetArray()) l.PushBack(Value(e, a), a);
  }
  return l;
}

void layer_args_to_k2(Value& cfg, const std::string& cls, const std::string& layer, Alloc& a,
                      std::vector<std::string>* w) {
  for (const char* k : {"lora_rank", "lora_alpha", "lora_enabled"})
    drop(cfg, k, layer, w, "LoRA does not exist in Keras 2");
  drop(cfg, "quantization_config", layer, w, "quantization does not exist in Keras 2");
  if (cls == "InputLayer") {
    rename_key(cfg, "batch_shape", "batch_input_shape", a);
    drop(cfg, "optional", layer, w, "optional inputs do not exist in Keras 2");
    if (!cfg.HasMember("ragged")) cfg.AddMember("ragged", false, a);
  }
  if (cls == "LSTM" || cls == "GRU" || cls == "SimpleRNN") drop(cfg, "seed", layer, w, "Keras 2 RNNs take no seed");
  if (cls == "BatchNormalization") drop(cfg, "synchronized", layer, w, "use tf.keras SyncBatchNormalization");
  if (cls == "Lambda")
    warn(w, "layer '" + layer + "': Lambda layer's function cannot be translated to Keras 2 (kept as is)");
}

Value convert_model_to_k2(const std::string& cls_in, const Value& config, Alloc& a, std::vector<std::string>* w);

Value convert_layer_to_k2(const Value& entry, bool functional, Alloc& a, std::vector<std::string>* w) {
  std::string cls = class_of(entry);
  const Value* cfg_in = json::member(entry, "config");
  std::string name = json::get_string(entry, "name").value_or("");
  if (name.empty() && cfg_in && cfg_in->IsObject()) name = json::get_string(*cfg_in, "name").value_or("");
  Value out(rapidjson::kObjectType);
  if (is_model_class(cls)) {
    Value empty(rapidjson::kObjectType);
    out = convert_model_to_k2(cls, cfg_in ? *cfg_in : empty, a, w);
  } else {
    Value cfg(rapidjson::kObjectType);
    if (cfg_in) cfg.CopyFrom(*cfg_in, a);
    layer_args_to_k2(cfg, cls, name, a, w);
    strip_new_form(cfg, a, w, "layer '" + name + "'");
    auto reg = json::get_string(entry, "registered_name");
    if (reg && *reg != cls && reg->find('>') != std::string::npos)
      warn(w, "layer '" + name + "': registered name '" + *reg + "' becomes class name '" + cls + "' in Keras 2");
    out.AddMember("class_name", str(cls, a), a);
    out.AddMember("config", cfg, a);
  }
  if (functional) {
    out.AddMember("name", str(name, a), a);
    Value nodes(rapidjson::kArrayType);
    if (const Value* in_nodes = json::member(entry, "inbound_nodes"); in_nodes && in_nodes->IsArray()) {
      for (const auto& node : in_nodes->GetArray()) {
        if (node.IsArray()) {  // already Keras 2 form
          nodes.PushBack(Value(node, a), a);
          continue;
        }
        std::vector<const Value*> arg_tensors;
        if (const Value* args = json::member(node, "args")) collect_tensors(*args, arg_tensors);
        Value kwargs(rapidjson::kObjectType);
        if (const Value* kw = json::member(node, "kwargs"); kw && kw->IsObject()) {
          for (const auto& m : kw->GetObject()) {
            if (class_of(m.value) == "__keras_tensor__") kwargs.AddMember(Value(m.name, a), link_of(m.value, a), a);
            else {
              Value v(m.value, a);
              strip_new_form(v, a, w, "layer '" + name + "'");
              kwargs.AddMember(Value(m.name, a), v, a);
            }
          }
        }
        if (const Value* args = json::member(node, "args"); args && args->IsArray() && args->Size() > 1) {
          for (rapidjson::SizeType i = 1; i < args->Size(); ++i) {
            std::vector<const Value*> t;
            collect_tensors((*args)[i], t);
            if (t.empty())
              warn(w, "layer '" + name + "': positional call argument " + json::to_string((*args)[i]) +
                          " has no Keras 2 node form; dropped");
          }
        }
        // tf.keras TF-op layers keep their first argument's structure: one tensor (or a constant,
        // as ["_CONSTANT_VALUE", -1, value, kwargs]) is the node itself, not a list of one.
        const Value* args = json::member(node, "args");
        const Value* first = args && args->IsArray() && args->Size() > 0 ? &(*args)[0] : nullptr;
        if (cls == "TFOpLambda" || cls == "SlicingOpLambda") {
          if (first && class_of(*first) == "__keras_tensor__") {
            Value l = link_of(*first, a);
            l.PushBack(Value(kwargs, a), a);
            nodes.PushBack(l, a);
            continue;
          }
          if (first && arg_tensors.empty()) {
            Value l(rapidjson::kArrayType);
            l.PushBack("_CONSTANT_VALUE", a);
            l.PushBack(-1, a);
            l.PushBack(Value(*first, a), a);
            l.PushBack(Value(kwargs, a), a);
            nodes.PushBack(l, a);
            continue;
          }
        }
        // Keras 2 repeats the call kwargs on every tensor of the first argument (Node.serialize).
        Value n(rapidjson::kArrayType);
        for (size_t i = 0; i < arg_tensors.size(); ++i) {
          Value l = link_of(*arg_tensors[i], a);
          l.PushBack(Value(kwargs, a), a);
          n.PushBack(l, a);
        }
        nodes.PushBack(n, a);
      }
    }
    out.AddMember("inbound_nodes", nodes, a);
  }
  return out;
}

Value links_k2(const Value& v, Alloc& a) {
  // Keras 3 may write a single tensor as a flat triple; Keras 2 wants a list of triples.
  if (is_link(v)) {
    Value l(rapidjson::kArrayType);
    l.PushBack(Value(v, a), a);
    return l;
  }
  return Value(v, a);
}

Value convert_model_to_k2(const std::string& cls, const Value& config, Alloc& a, std::vector<std::string>* w) {
  Value out(rapidjson::kObjectType);
  Value cfg(rapidjson::kObjectType);
  std::string name = config.IsObject() ? json::get_string(config, "name").value_or("") : "";
  cfg.AddMember("name", str(name, a), a);
  Value layers(rapidjson::kArrayType);
  const Value* in_layers = config.IsObject() ? json::member(config, "layers") : (config.IsArray() ? &config : nullptr);
  bool functional = cls != "Sequential";
  if (in_layers && in_layers->IsArray())
    for (const auto& e : in_layers->GetArray()) layers.PushBack(convert_layer_to_k2(e, functional, a, w), a);
  cfg.AddMember("layers", layers, a);
  if (config.IsObject()) {
    if (functional) {
      for (const char* k : {"input_layers", "output_layers"})
        if (const Value* v = json::member(config, k)) cfg.AddMember(str(k, a), links_k2(*v, a), a);
      // Nodes already in Keras 1/2 form carry tf.keras numbers.
      if (!has_node_form(in_layers, false)) renumber_nested_calls(cfg, false, w);
    } else if (const Value* b = json::member(config, "build_input_shape"); b && !b->IsNull()) {
      cfg.AddMember("build_input_shape", Value(*b, a), a);
    }
    static const std::set<std::string> known = {"name", "trainable", "layers", "input_layers", "output_layers",
                                                "build_input_shape", "dtype"};
    for (const auto& m : config.GetObject()) {
      if (known.count(m.name.GetString())) continue;
      warn(w, "model '" + name + "': config key '" + std::string(m.name.GetString()) + "' kept as is");
      Value v(m.value, a);
      strip_new_form(v, a, w, "model '" + name + "'");
      cfg.AddMember(Value(m.name, a), v, a);
    }
  }
  out.AddMember("class_name", str(cls, a), a);
  out.AddMember("config", cfg, a);
  return out;
}

// ------------------------------------------------------------------------------- compile configs

const std::set<std::string>& keras3_only_optimizer_keys() {
  static const std::set<std::string> s = {"loss_scale_factor", "gradient_accumulation_steps"};
  return s;
}

Value optimizer_to_k3(const Value& opt, Alloc& a, std::vector<std::string>* w) {
  Value out(rapidjson::kObjectType);
  std::string cls = class_of(opt);
  if (cls.rfind("Custom>", 0) == 0) cls = cls.substr(7);
  static const std::set<std::string> builtin = {"SGD", "RMSprop", "Adam", "AdamW", "Adadelta", "Adagrad", "Adamax",
                                                "Adafactor", "Nadam", "Ftrl", "Lion", "LossScaleOptimizer"};
  Value cfg(rapidjson::kObjectType);
  if (const Value* c = json::member(opt, "config")) cfg.CopyFrom(*c, a);
  if (cfg.IsObject()) {
    rename_key(cfg, "lr", "learning_rate", a);
    for (const char* k : {"is_legacy_optimizer", "jit_compile"})
      if (cfg.HasMember(k)) cfg.EraseMember(k);
    drop(cfg, "decay", "optimizer " + cls, w, "Keras 3 optimizers have no decay; use a learning-rate schedule");
    if (cfg.HasMember("learning_rate") && is_object_form(cfg["learning_rate"]) && !cfg["learning_rate"].HasMember("module")) {
      Value s = new_form_object(cfg["learning_rate"], "keras.optimizers.schedules", a, "learning_rate");
      cfg["learning_rate"] = s;
    }
    if (auto n = json::get_string(cfg, "name")) {
      std::string lower = *n;
      for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      if (lower == [&] { std::string c = cls; for (auto& ch : c) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch))); return c; }())
        cfg["name"] = str(lower, a);
    }
  }
  if (!builtin.count(cls)) warn(w, "optimizer '" + cls + "' is not a Keras 3 built-in; kept with module null");
  out.AddMember("module", builtin.count(cls) ? Value("keras.optimizers") : Value(rapidjson::kNullType), a);
  out.AddMember("class_name", str(cls, a), a);
  out.AddMember("config", cfg, a);
  out.AddMember("registered_name", builtin.count(cls) ? Value(rapidjson::kNullType) : str(cls, a), a);
  return out;
}

// Keras 2 metric entries: strings stay; serialized MeanMetricWrapper objects become their fn name.
Value metrics_to_k3(const Value& v, Alloc& a, std::vector<std::string>* w) {
  if (v.IsArray()) {
    Value out(rapidjson::kArrayType);
    for (const auto& e : v.GetArray()) out.PushBack(metrics_to_k3(e, a, w), a);
    return out;
  }
  if (is_object_form(v)) {
    const Value& c = v["config"];
    if (c.IsObject()) {
      if (auto fn = json::get_string(c, "fn")) return str(*fn, a);
      if (auto n = json::get_string(c, "name")) {
        warn(w, "metric object '" + class_of(v) + "' kept by name '" + *n + "'");
        return str(*n, a);
      }
    }
  }
  return Value(v, a);
}

}  // namespace

bool is_keras3_compile_config(const std::string& text) {
  if (text.empty()) return false;
  try {
    auto doc = json::parse(text, "compile config");
    return doc.IsObject() && doc.HasMember("optimizer") && !doc.HasMember("optimizer_config");
  } catch (const Error&) {
    return false;
  }
}

std::string to_keras3_model_config(const std::string& text, std::vector<std::string>* warnings) {
  auto doc = json::parse(text, kWhere);
  if (!doc.IsObject() || !json::get_string(doc, "class_name") || !doc.HasMember("config"))
    throw BadInputError(kWhere, "", "not a Keras model JSON: expected {\"class_name\", \"config\"}");
  if (doc.HasMember("module") || doc.HasMember("registered_name")) return text;  // already Keras 3
  K3Context ctx;
  json::Document out;
  ctx.a = &out.GetAllocator();
  ctx.w = warnings;
  try {
    ctx.shapes = infer_layer_shapes(parse_architecture(text, kWhere), kWhere);
  } catch (const std::exception&) {
    // Shapes only feed build_config and tensor shapes; translation works without them.
  }
  std::string cls = doc["class_name"].GetString();
  if (!is_model_class(cls)) throw UnsupportedError(kWhere, "class_name", "\"" + cls + "\" is not a model class");
  Value v = convert_model_to_k3(cls, doc["config"], ctx, "", nullptr, true);
  out.CopyFrom(v, out.GetAllocator());
  for (const char* k : {"keras_version", "backend"})
    if (doc.HasMember(k)) {}  // Keras 3 keeps these in metadata.json, not in the config
  return json::to_string(out);
}

std::string to_keras2_model_config(const std::string& text, std::vector<std::string>* warnings) {
  auto doc = json::parse(text, kWhere);
  if (!doc.IsObject() || !json::get_string(doc, "class_name") || !doc.HasMember("config"))
    throw BadInputError(kWhere, "", "not a Keras model JSON: expected {\"class_name\", \"config\"}");
  if (!doc.HasMember("module") && !doc.HasMember("registered_name")) return text;  // already Keras 1/2
  std::string cls = doc["class_name"].GetString();
  if (!is_model_class(cls))
    throw UnsupportedError(kWhere, "class_name",
                           "\"" + cls + "\" is a subclassed model: Keras 2 formats cannot hold its architecture");
  json::Document out;
  Value v = convert_model_to_k2(cls, doc["config"], out.GetAllocator(), warnings);
  out.CopyFrom(v, out.GetAllocator());
  // compile_config is not part of a Keras 2 model config: callers translate it with
  // to_keras2_training_config (the H5 writer does).
  return json::to_string(out);
}

std::string to_keras3_compile_config(const std::string& text, std::vector<std::string>* warnings) {
  auto doc = json::parse(text, "training_config");
  if (!doc.IsObject()) throw BadInputError("training_config", "", "not a JSON object");
  if (is_keras3_compile_config(text)) return text;
  json::Document out;
  out.SetObject();
  auto& a = out.GetAllocator();
  if (const Value* opt = json::member(doc, "optimizer_config"); opt && is_object_form(*opt))
    out.AddMember("optimizer", optimizer_to_k3(*opt, a, warnings), a);
  else
    out.AddMember("optimizer", Value(rapidjson::kNullType), a);
  auto copy = [&](const char* k, Value def) {
    if (const Value* v = json::member(doc, k)) {
      Value c(*v, a);
      if (is_object_form(c) && !c.HasMember("module")) {
        c = new_form_object(c, "keras.losses", a, k);
      }
      out.AddMember(str(k, a), c, a);
    } else {
      out.AddMember(str(k, a), def, a);
    }
  };
  copy("loss", Value(rapidjson::kNullType));
  copy("loss_weights", Value(rapidjson::kNullType));
  for (const char* k : {"metrics", "weighted_metrics"}) {
    const Value* v = json::member(doc, k);
    out.AddMember(str(k, a), v ? metrics_to_k3(*v, a, warnings) : Value(rapidjson::kNullType), a);
  }
  out.AddMember("run_eagerly", false, a);
  out.AddMember("steps_per_execution", 1, a);
  out.AddMember("jit_compile", false, a);
  static const std::set<std::string> known = {"optimizer_config", "loss", "loss_weights", "metrics", "weighted_metrics"};
  for (const auto& m : doc.GetObject()) {
    std::string k = m.name.GetString();
    if (known.count(k)) continue;
    if (k == "sample_weight_mode" && m.value.IsNull()) continue;  // Keras 2's default
    warn(warnings, "training_config key '" + k + "'=" + json::to_string(m.value) + " has no Keras 3 compile_config equivalent; dropped");
  }
  return json::to_string(out);
}

std::string to_keras2_training_config(const std::string& text, std::vector<std::string>* warnings) {
  auto doc = json::parse(text, "compile_config");
  if (!doc.IsObject()) throw BadInputError("compile_config", "", "not a JSON object");
  if (!is_keras3_compile_config(text)) return text;
  json::Document out;
  out.SetObject();
  auto& a = out.GetAllocator();
  for (const char* k : {"loss", "metrics", "weighted_metrics", "loss_weights"}) {
    Value v(rapidjson::kNullType);
    if (const Value* s = json::member(doc, k)) {
      v.CopyFrom(*s, a);
      strip_new_form(v, a, warnings, std::string("compile_config.") + k);
    }
    out.AddMember(str(k, a), v, a);
  }
  if (const Value* opt = json::member(doc, "optimizer"); opt && !opt->IsNull()) {
    Value o(rapidjson::kObjectType);
    if (opt->IsString()) {
      o.AddMember("class_name", Value(*opt, a), a);
      o.AddMember("config", Value(rapidjson::kObjectType), a);
    } else {
      std::string cls = class_of(*opt);
      Value cfg(rapidjson::kObjectType);
      if (const Value* c = json::member(*opt, "config")) cfg.CopyFrom(*c, a);
      for (const auto& k : keras3_only_optimizer_keys())
        drop(cfg, k.c_str(), "optimizer " + cls, warnings, "not a tf.keras optimizer argument");
      strip_new_form(cfg, a, warnings, "optimizer");
      o.AddMember("class_name", str(cls, a), a);
      o.AddMember("config", cfg, a);
    }
    out.AddMember("optimizer_config", o, a);
  }
  for (const char* k : {"run_eagerly", "jit_compile"})
    if (const Value* v = json::member(doc, k); v && v->IsBool() && v->GetBool())
      warn(warnings, std::string("compile_config.") + k + "=true is not kept by Keras 2 H5 training_config");
  if (const Value* v = json::member(doc, "steps_per_execution"); v && v->IsInt() && v->GetInt() != 1)
    warn(warnings, "compile_config.steps_per_execution=" + std::to_string(v->GetInt()) + " is not kept by Keras 2 H5 training_config");
  return json::to_string(out);
}

}  // namespace kmodel
