// SavedModel writer: the shape tf.keras writes with `model.save(dir, save_traces=False)` (FORMATS.md
// C.9): saved_model.pb with one MetaGraphDef tagged "serve" whose SavedObjectGraph mirrors the Keras
// trackable graph (model node, layer-N / layer_with_weights-M children, layer nodes, variable nodes,
// optimizer and slot variables), keras_metadata.pb with the model and layer metadata JSON, variables/
// as a TF2 object-based checkpoint with the same node ids, fingerprint.pb and an empty assets/.
// Nested models (a Sequential/Functional used as a layer) become objects of their own with their
// layers as children, like tf.keras tracks them. No traced functions and no serving_default signature
// are written (a graph compiler's job, C.10).
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include "core/json_util.h"
#include "core/keras3_dialect.h"
#include "core/layer_shapes.h"
#include "core/object_graph.h"
#include "formats/savedmodel/savedmodel_format.h"
#include "formats/savedmodel/savedmodel_layout.h"
#include "formats/savedmodel/savedmodel_proto.h"
#include "io/atomic_output.h"
#include "io/file_util.h"
#include "io/tensor_bundle.h"
#include "kmodel/architecture.h"
#include "kmodel/error.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

namespace kmodel::formats::savedmodel {

namespace {

constexpr const char* kDefaultTfVersion = "2.12.0";
constexpr int kGraphProducer = 1395;  // a TF 2.12-era GraphDef producer version

bool is_rnn_class(const std::string& c) {
  static const std::set<std::string> k = {"LSTM", "GRU", "SimpleRNN", "RNN", "ConvLSTM1D", "ConvLSTM2D",
                                          "ConvLSTM3D", "CuDNNLSTM", "CuDNNGRU", "PeepholeLSTM"};
  return k.count(c) > 0;
}

std::string model_identifier(const std::string& cls) {
  if (cls == "Sequential") return "_tf_keras_sequential";
  if (cls == "Functional" || cls == "Model") return "_tf_keras_network";
  return "_tf_keras_model";
}

std::string strip_index(const std::string& name) {
  size_t colon = name.rfind(':');
  return colon == std::string::npos ? name : name.substr(0, colon);
}

json::Value str(const std::string& s, json::Document::AllocatorType& a) {
  return json::Value(s.c_str(), static_cast<rapidjson::SizeType>(s.size()), a);
}

// {"class_name": "TensorShape", "items": [null, 2]} as json_utils encodes a TensorShape.
json::Value tensor_shape_json(const Shape& shape, json::Document::AllocatorType& a) {
  json::Value v(rapidjson::kObjectType), items(rapidjson::kArrayType);
  for (int64_t d : shape) {
    if (d < 0) items.PushBack(json::Value(), a);
    else items.PushBack(json::Value(static_cast<int64_t>(d)), a);
  }
  v.AddMember("class_name", "TensorShape", a);
  v.AddMember("items", items, a);
  return v;
}

// A build_input_shape kept by the reader (json_utils-decoded: [null, 2] or [[null, 2], [null, 3]])
// encoded back as TensorShapes.
json::Value encode_build_shape(const json::Value& v, json::Document::AllocatorType& a) {
  if (v.IsArray() && !v.Empty() && v[0].IsArray()) {
    json::Value list(rapidjson::kArrayType);
    for (const auto& e : v.GetArray()) list.PushBack(encode_build_shape(e, a), a);
    return list;
  }
  Shape s;
  if (v.IsArray())
    for (const auto& d : v.GetArray()) s.push_back(d.IsInt64() ? d.GetInt64() : -1);
  return tensor_shape_json(s, a);
}

std::optional<Shape> shape_from_json(const std::string& text) {
  if (text.empty()) return std::nullopt;
  json::Document d = json::parse(text, "batch_input_shape");
  if (!d.IsArray()) return std::nullopt;
  Shape s;
  for (const auto& v : d.GetArray()) s.push_back(v.IsInt64() ? v.GetInt64() : -1);
  return s;
}

// A Sequential's input shape: its own, else that of a nested model it starts with.
std::optional<Shape> sequential_input(const ArchitectureSpec& arch, const std::string& file, int depth = 0) {
  if (auto s = shape_from_json(arch.batch_input_shape_json)) return s;
  if (depth > 32 || arch.layers.empty() || !arch.layers[0].is_model()) return std::nullopt;
  ArchitectureSpec sub = parse_nested_architecture(arch.layers[0], arch.dialect, file);
  if (sub.class_name == "Sequential") return sequential_input(sub, file, depth + 1);
  if (sub.inputs.size() != 1) return std::nullopt;
  for (const auto& l : sub.layers)
    if (l.name == sub.inputs[0].layer && l.class_name == "InputLayer") {
      json::Document c = json::parse(l.config_json, file);
      for (const char* k : {"batch_input_shape", "batch_shape"})
        if (const json::Value* v = json::member(c, k)) return shape_from_json(json::to_string(*v));
    }
  return std::nullopt;
}

// The input shapes each layer was built with, derived from the architecture (C.9: Keras revives
// built-in layers from config + build_input_shape), keyed like infer_layer_shapes: "dense", and for
// the layers of a nested model "<nested>/<layer>". `seq_input` is a nested Sequential's input.
void collect_build_shapes(const ArchitectureSpec& arch, const std::map<std::string, LayerShapes>& shapes,
                          const std::string& prefix, std::optional<Shape> seq_input, KerasDialect dialect,
                          const std::string& file, int depth, std::map<std::string, std::vector<Shape>>& out) {
  if (depth > nested::kMaxNesting) return;
  auto output_of = [&](const std::string& layer, int tensor) -> std::optional<Shape> {
    auto it = shapes.find(prefix + layer);
    if (it == shapes.end() || tensor < 0 || tensor >= static_cast<int>(it->second.output_shapes.size()))
      return std::nullopt;
    return it->second.output_shapes[static_cast<size_t>(tensor)];
  };
  auto nested = [&](const LayerSpec& l, const std::vector<Shape>& in) {
    if (!l.is_model()) return;
    ArchitectureSpec sub = parse_nested_architecture(l, dialect, file);
    std::optional<Shape> first;
    if (!in.empty()) first = in[0];
    collect_build_shapes(sub, shapes, prefix + l.name + "/", first, dialect, file, depth + 1, out);
  };
  if (arch.class_name == "Sequential") {
    std::optional<Shape> prev = seq_input ? seq_input : sequential_input(arch, file);
    for (const auto& l : arch.layers) {
      if (l.class_name == "InputLayer") {
        prev = output_of(l.name, 0);
        continue;
      }
      if (prev) out[prefix + l.name] = {*prev};
      nested(l, prev ? std::vector<Shape>{*prev} : std::vector<Shape>{});
      prev = output_of(l.name, 0);
    }
    return;
  }
  for (const auto& l : arch.layers) {
    if (l.inbound_nodes.empty()) continue;
    std::vector<Shape> in;
    bool ok = true;
    for (const auto& link : l.inbound_nodes[0].inputs) {
      auto s = output_of(link.layer, link.tensor_index);
      if (!s) ok = false;
      else in.push_back(*s);
    }
    if (ok && !in.empty()) {
      out[prefix + l.name] = in;
      nested(l, in);
    }
  }
}

// ---- nested models: laid out by objgraph::build_keras (core/nested_layout.h) ----------------------
using nested::Member;

// keras_metadata node_path of every node: "root" + the local names of the first breadth-first path
// joined with "." (unescaped, as Keras joins them).
std::vector<std::string> dotted_paths(const objgraph::Graph& g) {
  std::vector<std::string> paths(g.nodes.size());
  std::vector<bool> seen(g.nodes.size(), false);
  std::vector<int> queue = {0};
  seen[0] = true;
  paths[0] = "root";
  for (size_t i = 0; i < queue.size(); ++i)
    for (const auto& [name, c] : g.nodes[static_cast<size_t>(queue[i])].children) {
      if (seen[static_cast<size_t>(c)]) continue;
      seen[static_cast<size_t>(c)] = true;
      paths[static_cast<size_t>(c)] = paths[static_cast<size_t>(queue[i])] + "." + name;
      queue.push_back(c);
    }
  return paths;
}

// A 64-bit FNV-1a hash: fingerprint.pb values are informational (nothing validates them on load, C.8).
uint64_t fnv1a(const std::string& bytes) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

void write_file(const std::string& path, const std::string& bytes) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) throw IoError(path, "cannot create file");
  bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) throw IoError(path, "cannot write file (disk full?)");
}

std::string deterministic(const google::protobuf::Message& msg) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream raw(&out);
    google::protobuf::io::CodedOutputStream coded(&raw);
    coded.SetSerializationDeterministic(true);
    msg.SerializeToCodedStream(&coded);
  }
  return out;
}

}  // namespace

void write(const Model& model, const std::string& path, const WriteOptions& options) {
  if (!model.has_architecture())
    throw UnsupportedError(model.path, "",
                           "has no Keras architecture, so it cannot be written as a Keras SavedModel "
                           "(give one with --arch)");
  if (options.weights_only)
    throw UnsupportedError(path, "", "a SavedModel always holds the architecture; --weights-only does not apply");
  // tf.keras reads the Keras 2 dialect: a Keras 3 config (from a .keras archive) is translated.
  std::vector<std::string> warnings;
  const std::string model_config = to_keras2_model_config(model.model_config, &warnings);
  std::string training_config = model.training_config;
  if (!training_config.empty() && is_keras3_compile_config(training_config))
    training_config = to_keras2_training_config(training_config, &warnings);
  for (const auto& w : warnings) spdlog::warn("{}: {}", path, w);
  ArchitectureSpec arch = parse_architecture(model_config, model.path + ":model_config");
  std::map<std::string, const LayerSpec*> spec_of;
  for (const auto& l : arch.layers) spec_of[l.name] = &l;

  std::map<std::string, LayerShapes> shapes;
  try {
    shapes = infer_layer_shapes(arch, model.path);
  } catch (const Error&) {
  }

  // Nested models get their own layer-N / layer_with_weights-M children (objgraph::build_keras, with
  // the Keras 2 architecture so that their members' configs go into keras_metadata as written).
  objgraph::BuiltGraph built = objgraph::build_keras(model, &arch, options.include_optimizer, path);
  objgraph::Graph& g = built.graph;
  const std::map<size_t, std::vector<Member>>& nested = built.nested;
  // Weights of nested models: (layer_shapes key of the owning layer, attr below it), for trainable.
  std::map<const Weight*, std::pair<std::string, std::string>> nested_weight;
  for (const auto& entry : nested) {
    const size_t n = entry.first;  // a named copy: C++17 lambdas cannot capture structured bindings
    const std::vector<Member>& members = entry.second;
    std::function<void(const std::vector<Member>&)> note = [&](const std::vector<Member>& ms) {
      for (const auto& m : ms) {
        for (const auto& [index, attr] : m.weights) nested_weight[&model.layers[n].weights[index]] = {m.key, attr};
        note(m.members);
      }
    };
    note(members);
  }

  // Known layer classes say which of their variables are trainable (H5 does not record it).
  std::map<const Weight*, bool> expected_trainable;
  for (const auto& layer : model.layers) {
    for (const auto& w : layer.weights) {
      std::string key = layer.name, attr;
      auto nw = nested_weight.find(&w);
      if (nw != nested_weight.end()) {
        std::tie(key, attr) = nw->second;
      } else {
        try {
          attr = objgraph::weight_attr(w, layer, path);
        } catch (const Error&) {
          continue;
        }
      }
      auto it = shapes.find(key);
      if (it == shapes.end() || !it->second.known) continue;
      for (const auto& e : it->second.weights)
        if (e.attr == attr) expected_trainable[&w] = e.trainable;
    }
  }
  // What SavedModel serialization tracks beyond save_weights(): list wrappers, keras_api, metrics,
  // signatures, the optimizer as its class lays itself out (savedmodel_layout.h). Renumbers the nodes.
  SavedModelLayout layout = add_keras_serialization(built, model, arch, training_config, [&](const Weight* w) {
    auto et = expected_trainable.find(w);
    return et != expected_trainable.end() ? et->second : w->trainable;
  });
  for (const auto& w : layout.warnings) spdlog::warn("{}: {}", path, w);

  // Which built node is which layer.
  std::map<int, size_t> layer_of_node;  // node id -> index in model.layers
  for (const auto& [name, id] : g.nodes[0].children)
    if (name.rfind("layer-", 0) == 0) layer_of_node[id] = std::stoul(name.substr(6));
  const std::vector<std::string> node_path = dotted_paths(g);

  std::map<int, const Weight*> weight_of_node;
  std::set<int> optimizer_nodes;
  {
    std::map<std::string, const Weight*> by_key;
    for (const auto& v : built.variables) by_key[v.key] = v.weight;
    for (size_t i = 0; i < g.nodes.size(); ++i)
      for (const auto& a : g.nodes[i].attributes)
        if (a.name == "VARIABLE_VALUE" && by_key.count(a.checkpoint_key))
          weight_of_node[static_cast<int>(i)] = by_key[a.checkpoint_key];
    for (const auto& w : model.optimizer.weights)
      for (const auto& [id, wp] : weight_of_node)
        if (wp == &w) optimizer_nodes.insert(id);
  }
  int optimizer_node = -1;
  for (const auto& [name, id] : g.nodes[0].children)
    if (name == "optimizer") optimizer_node = id;
  std::set<int> below_optimizer;
  if (optimizer_node >= 0) {
    std::vector<int> stack = {optimizer_node};
    while (!stack.empty()) {
      int n = stack.back();
      stack.pop_back();
      if (!below_optimizer.insert(n).second) continue;
      for (const auto& [name, c] : g.nodes[static_cast<size_t>(n)].children) stack.push_back(c);
    }
  }

  // ---- keras_metadata.pb ------------------------------------------------------------------------
  json::Document cfg = json::parse(model_config, model.path + ":model_config");
  std::map<std::string, const json::Value*> layer_cfg;  // layer name -> {"class_name", "config", ...}
  if (const json::Value* c = json::member(cfg, "config")) {
    const json::Value* layers = c->IsArray() ? c : json::member(*c, "layers");
    if (layers && layers->IsArray())
      for (const auto& l : layers->GetArray())
        if (const json::Value* lc = json::member(l, "config"))
          if (auto n = json::get_string(*lc, "name")) layer_cfg[*n] = &l;
  }
  std::map<std::string, std::vector<Shape>> build_shapes;
  try {
    collect_build_shapes(arch, shapes, "", std::nullopt, arch.dialect, model.path + ":model_config", 0, build_shapes);
  } catch (const Error&) {
    build_shapes.clear();
  }
  std::string keras_version = model.keras_version.empty() ? "2.12.0" : model.keras_version;
  std::string backend = model.backend.empty() ? "tensorflow" : model.backend;

  std::map<int, keras::SavedObject> meta_nodes;  // written in node id order, as Keras does
  std::map<int, std::string> identifier_of;
  auto add_meta = [&](int node, const std::string& identifier, json::Document& d) {
    keras::SavedObject& o = meta_nodes[node];
    o.set_node_id(node);
    o.set_node_path(node_path[static_cast<size_t>(node)]);
    o.set_identifier(identifier);
    o.set_metadata(json::to_string(d));
    o.mutable_version()->set_producer(2);
    o.mutable_version()->set_min_consumer(1);
    identifier_of[node] = identifier;
  };
  // build_input_shape of a layer (key: layer_shapes key, "dense" or "<nested>/<layer>"): kept from a
  // SavedModel source, else derived from the architecture.
  auto add_build_shape = [&](json::Document& d, const std::string& key) {
    auto& a = d.GetAllocator();
    std::string kept = model.extra("savedmodel.build_input_shape." + key);
    if (!kept.empty()) {
      json::Document b = json::parse(kept, model.path + ":build_input_shape");
      d.AddMember("build_input_shape", encode_build_shape(b, a), a);
      return;
    }
    auto bs = build_shapes.find(key);
    if (bs == build_shapes.end()) return;
    if (bs->second.size() == 1) {
      d.AddMember("build_input_shape", tensor_shape_json(bs->second[0], a), a);
    } else {
      json::Value list(rapidjson::kArrayType);
      for (const auto& s : bs->second) list.PushBack(tensor_shape_json(s, a), a);
      d.AddMember("build_input_shape", list, a);
    }
  };
  // Model metadata (ModelSavedModelSaver: the layer properties without `stateful`, plus
  // is_graph_network and model_metadata's keras_version, backend, model_config).
  auto model_meta = [&](json::Document& d, const std::string& name, const std::string& cls, const json::Value* config,
                        bool trainable) {
    auto& a = d.GetAllocator();
    d.AddMember("name", str(name, a), a);
    d.AddMember("trainable", trainable, a);
    d.AddMember("expects_training_arg", true, a);
    d.AddMember("dtype", "float32", a);
    d.AddMember("batch_input_shape", json::Value(), a);
    d.AddMember("must_restore_from_config", false, a);
    d.AddMember("class_name", str(cls, a), a);
    json::Value c;
    if (config) c.CopyFrom(*config, a);
    d.AddMember("config", c, a);
    d.AddMember("is_graph_network", cls == "Sequential" || cls == "Functional" || cls == "Model", a);
    d.AddMember("keras_version", str(keras_version, a), a);
    d.AddMember("backend", str(backend, a), a);
  };
  // Layer metadata (LayerSavedModelSaver): `c` is the layer's config object.
  auto layer_meta = [&](int node, const std::string& name, const std::string& cls, const json::Value* c,
                        const std::string& key) {
    json::Document d;
    d.SetObject();
    auto& a = d.GetAllocator();
    d.AddMember("name", str(name, a), a);
    d.AddMember("trainable", c ? json::get_bool(*c, "trainable").value_or(true) : true, a);
    d.AddMember("expects_training_arg", false, a);
    d.AddMember("dtype", str(c ? json::get_string(*c, "dtype").value_or("float32") : "float32", a), a);
    json::Value bis;
    if (c)
      if (const json::Value* b = json::member(*c, "batch_input_shape")) bis.CopyFrom(*b, a);
    d.AddMember("batch_input_shape", bis, a);
    d.AddMember("stateful", c ? json::get_bool(*c, "stateful").value_or(false) : false, a);
    d.AddMember("must_restore_from_config", false, a);
    d.AddMember("class_name", str(cls, a), a);
    json::Value config;
    if (c) config.CopyFrom(*c, a);
    d.AddMember("config", config, a);
    if (cls != "InputLayer") add_build_shape(d, key);
    add_meta(node,
             cls == "InputLayer"   ? "_tf_keras_input_layer"
             : is_rnn_class(cls)   ? "_tf_keras_rnn_layer"
                                   : "_tf_keras_layer",
             d);
  };
  // A nested model and, recursively, its layers.
  std::function<void(int, const LayerSpec&, const std::string&, const std::vector<Member>&)> nested_meta =
      [&](int node, const LayerSpec& spec, const std::string& key, const std::vector<Member>& members) {
        json::Document c = json::parse(spec.config_json, model.path + ":model_config");
        json::Document d;
        d.SetObject();
        auto& a = d.GetAllocator();
        model_meta(d, spec.name, spec.class_name, &c, json::get_bool(c, "trainable").value_or(true));
        json::Value mc(rapidjson::kObjectType), mcc;
        mcc.CopyFrom(c, a);
        mc.AddMember("class_name", str(spec.class_name, a), a);
        mc.AddMember("config", mcc, a);
        d.AddMember("model_config", mc, a);
        add_build_shape(d, key);
        add_meta(node, model_identifier(spec.class_name), d);
        for (const auto& m : members) {
          if (m.spec.is_model()) {
            nested_meta(m.node, m.spec, m.key, m.members);
          } else {
            json::Document lc = json::parse(m.spec.config_json, model.path + ":model_config");
            layer_meta(m.node, m.spec.name, m.spec.class_name, lc.IsObject() ? &lc : nullptr, m.key);
          }
        }
      };
  {
    json::Document d;
    d.SetObject();
    auto& a = d.GetAllocator();
    std::string cls = json::get_string(cfg, "class_name").value_or(arch.class_name);
    model_meta(d, arch.name, cls, json::member(cfg, "config"), true);
    json::Value mc;
    mc.CopyFrom(cfg, a);
    d.AddMember("model_config", mc, a);
    if (!training_config.empty()) {
      json::Document tc = json::parse(training_config, model.path + ":training_config");
      json::Value t;
      t.CopyFrom(tc, a);
      d.AddMember("training_config", t, a);
    }
    std::string root_bis = model.extra("savedmodel.build_input_shape");
    if (!root_bis.empty()) {
      json::Document b = json::parse(root_bis, model.path + ":build_input_shape");
      d.AddMember("build_input_shape", encode_build_shape(b, a), a);
    } else if (auto s = arch.class_name == "Sequential" ? sequential_input(arch, model.path + ":model_config")
                                                         : shape_from_json(arch.batch_input_shape_json)) {
      d.AddMember("build_input_shape", tensor_shape_json(*s, a), a);
    }
    add_meta(0, model_identifier(cls), d);
  }
  for (const auto& [node, index] : layer_of_node) {
    const Layer& layer = model.layers[index];
    auto nit = nested.find(index);
    if (nit != nested.end()) {
      nested_meta(node, *spec_of.at(layer.name), layer.name, nit->second);
      continue;
    }
    const json::Value* lc = layer_cfg.count(layer.name) ? layer_cfg[layer.name] : nullptr;
    const json::Value* c = lc ? json::member(*lc, "config") : nullptr;
    std::string cls = !layer.class_name.empty() ? layer.class_name
                                                : (lc ? json::get_string(*lc, "class_name").value_or("") : "");
    layer_meta(node, layer.name, cls, c, layer.name);
  }
  for (const auto& [node, meta] : layout.metric_metadata) {
    json::Document d = json::parse(meta, "metric metadata");
    add_meta(node, "_tf_keras_metric", d);
  }
  keras::SavedMetadata metadata;
  for (auto& [node, o] : meta_nodes) *metadata.add_nodes() = std::move(o);

  // ---- saved_model.pb ---------------------------------------------------------------------------
  tf::SavedModel sm;
  sm.set_saved_model_schema_version(1);
  tf::MetaGraphDef* mg = sm.add_meta_graphs();
  auto* info = mg->mutable_meta_info_def();
  info->add_tags("serve");
  std::string tf_version = model.extra("savedmodel.tensorflow_version");
  info->set_tensorflow_version(tf_version.empty() ? kDefaultTfVersion : tf_version);
  info->set_tensorflow_git_version("kmodel");
  mg->mutable_graph_def()->mutable_versions()->set_producer(kGraphProducer);
  auto* saver = mg->mutable_saver_def();
  saver->set_filename_tensor_name("saver_filename:0");
  saver->set_save_tensor_name("StatefulPartitionedCall_1:0");
  saver->set_restore_op_name("StatefulPartitionedCall_2");
  saver->set_version(tf::SaverDef::V2);
  tf::SavedObjectGraph* og = mg->mutable_object_graph_def();
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    int id = static_cast<int>(i);
    const objgraph::Node& n = g.nodes[i];
    tf::SavedObject* o = og->add_nodes();
    for (const auto& [name, c] : n.children) {
      auto* ref = o->add_children();
      ref->set_node_id(c);
      ref->set_local_name(name);
    }
    for (const auto& s : n.slots) {
      auto* ref = o->add_slot_variables();
      ref->set_original_variable_node_id(s.original_node);
      ref->set_slot_name(s.slot_name);
      ref->set_slot_variable_node_id(s.slot_node);
    }
    auto wit = weight_of_node.find(id);
    if (wit != weight_of_node.end()) {
      const Weight& w = *wit->second;
      tf::SavedVariable* v = o->mutable_variable();
      v->set_dtype(static_cast<tf::DataType>(io::tf_from_dtype(w.tensor.dtype())));
      for (int64_t d : w.tensor.shape()) v->mutable_shape()->add_dim()->set_size(d);
      auto et = expected_trainable.find(&w);
      bool trainable = et != expected_trainable.end() ? et->second : w.trainable;
      v->set_trainable(trainable && !optimizer_nodes.count(id));
      if (layout.trainable.count(id)) v->set_trainable(layout.trainable[id]);
      v->set_name(strip_index(w.name));
      if (optimizer_nodes.count(id) && n.attributes.size() == 1 &&
          n.attributes[0].checkpoint_key.find(".OPTIMIZER_SLOT") == std::string::npos)
        v->set_aggregation(tf::VARIABLE_AGGREGATION_ONLY_FIRST_REPLICA);
      if (layout.aggregation.count(id)) v->set_aggregation(static_cast<tf::VariableAggregation>(layout.aggregation[id]));
      if (layout.synchronization.count(id))
        v->set_synchronization(static_cast<tf::VariableSynchronization>(layout.synchronization[id]));
      continue;
    }
    tf::SavedUserObject* u = o->mutable_user_object();
    std::string ident;
    if (identifier_of.count(id)) ident = identifier_of[id];
    else if (layout.identifiers.count(id)) ident = layout.identifiers[id];
    else if (id == optimizer_node || (below_optimizer.count(id) && !n.slots.empty())) ident = "optimizer";
    else {
      bool all_digits = !n.children.empty();
      for (const auto& [name, c] : n.children)
        all_digits = all_digits && !name.empty() && name.find_first_not_of("0123456789") == std::string::npos;
      ident = all_digits ? "trackable_list_wrapper" : "_generic_user_object";
    }
    u->set_identifier(ident);
    u->mutable_version()->set_producer(1);
    u->mutable_version()->set_min_consumer(1);
  }

  // ---- the directory ----------------------------------------------------------------------------
  io::AtomicOutput out(path, io::AtomicOutput::Kind::kDirectory, options.force);
  const std::string& dir = out.temp_path();
  for (const char* sub : {"variables", "assets"})
    if (::mkdir(io::join_path(dir, sub).c_str(), 0755) != 0) throw IoError(io::join_path(dir, sub), "cannot create directory");
  {
    io::BundleWriter bundle(io::join_path(dir, kVariablesPrefix));
    Tensor graph_tensor;
    graph_tensor.dtype = DType::kString;
    graph_tensor.strings.push_back(objgraph::serialize(g));
    bundle.add("_CHECKPOINTABLE_OBJECT_GRAPH", graph_tensor);
    for (const auto& v : built.variables) bundle.add(v.key, v.weight->tensor.load());
    bundle.finish();
  }
  std::string sm_bytes = deterministic(sm);
  write_file(io::join_path(dir, kSavedModelPb), sm_bytes);
  write_file(io::join_path(dir, kKerasMetadataPb), deterministic(metadata));
  tf::FingerprintDef fp;
  fp.set_saved_model_checksum(fnv1a(sm_bytes));
  fp.set_graph_def_program_hash(fnv1a(deterministic(mg->graph_def())));
  fp.set_signature_def_hash(fnv1a(""));
  fp.set_saved_object_graph_hash(fnv1a(deterministic(*og)));
  fp.set_checkpoint_hash(fnv1a(io::read_file(io::join_path(dir, std::string(kVariablesPrefix) + ".index"))));
  fp.mutable_version()->set_producer(1);
  write_file(io::join_path(dir, kFingerprintPb), deterministic(fp));
  out.commit();
}

}  // namespace kmodel::formats::savedmodel
