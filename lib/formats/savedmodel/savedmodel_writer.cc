// SavedModel writer: the shape tf.keras writes with `model.save(dir, save_traces=False)` (FORMATS.md
// C.9): saved_model.pb with one MetaGraphDef tagged "serve" whose SavedObjectGraph mirrors the Keras
// trackable graph (model node, layer-N / layer_with_weights-M children, layer nodes, variable nodes,
// optimizer and slot variables), keras_metadata.pb with the model and layer metadata JSON, variables/
// as a TF2 object-based checkpoint with the same node ids, fingerprint.pb and an empty assets/.
// No traced functions and no serving_default signature are written (a graph compiler's job, C.10).
#include <map>
#include <set>

#include "core/json_util.h"
#include "core/keras3_dialect.h"
#include "core/layer_shapes.h"
#include "core/object_graph.h"
#include "formats/savedmodel/savedmodel_format.h"
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

// The input shapes each layer was built with, derived from the architecture (C.9: Keras revives
// built-in layers from config + build_input_shape). Absent when they cannot be derived.
std::map<std::string, std::vector<Shape>> build_input_shapes(const ArchitectureSpec& arch, const std::string& file) {
  std::map<std::string, std::vector<Shape>> out;
  std::map<std::string, LayerShapes> shapes;
  try {
    shapes = infer_layer_shapes(arch, file);
  } catch (const Error&) {
    return out;
  }
  auto output_of = [&](const std::string& layer, int tensor) -> std::optional<Shape> {
    auto it = shapes.find(layer);
    if (it == shapes.end() || tensor < 0 || tensor >= static_cast<int>(it->second.output_shapes.size()))
      return std::nullopt;
    return it->second.output_shapes[static_cast<size_t>(tensor)];
  };
  if (arch.class_name == "Sequential") {
    std::optional<Shape> prev = shape_from_json(arch.batch_input_shape_json);
    for (const auto& l : arch.layers) {
      if (l.class_name == "InputLayer") {
        prev = output_of(l.name, 0);
        continue;
      }
      if (prev) out[l.name] = {*prev};
      prev = output_of(l.name, 0);
    }
    return out;
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
    if (ok && !in.empty()) out[l.name] = in;
  }
  return out;
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
  for (const auto& l : arch.layers)
    if (l.is_model())
      throw UnsupportedError(model.path, l.name,
                             "nested model '" + l.name + "': writing nested models as SavedModel is not supported yet");

  objgraph::BuiltGraph built = objgraph::build_keras(model, options.include_optimizer, path);
  const objgraph::Graph& g = built.graph;

  // Which built node is which layer / variable.
  std::map<int, size_t> layer_of_node;  // node id -> index in model.layers
  std::map<int, std::string> first_edge;
  for (const auto& [name, id] : g.nodes[0].children) {
    if (!first_edge.count(id)) first_edge[id] = name;
    if (name.rfind("layer-", 0) == 0) layer_of_node[id] = std::stoul(name.substr(6));
  }
  // Known layer classes say which of their variables are trainable (H5 does not record it).
  std::map<const Weight*, bool> expected_trainable;
  try {
    auto shapes = infer_layer_shapes(arch, model.path);
    for (const auto& layer : model.layers) {
      auto it = shapes.find(layer.name);
      if (it == shapes.end() || !it->second.known) continue;
      for (const auto& w : layer.weights) {
        std::string attr = objgraph::weight_attr(w, layer, path);
        for (const auto& e : it->second.weights)
          if (e.attr == attr) expected_trainable[&w] = e.trainable;
      }
    }
  } catch (const Error&) {
  }
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
  auto build_shapes = build_input_shapes(arch, model.path);
  std::string keras_version = model.keras_version.empty() ? "2.12.0" : model.keras_version;
  std::string backend = model.backend.empty() ? "tensorflow" : model.backend;

  keras::SavedMetadata metadata;
  auto add_meta = [&](int node, const std::string& node_path, const std::string& identifier, json::Document& d) {
    keras::SavedObject* o = metadata.add_nodes();
    o->set_node_id(node);
    o->set_node_path(node_path);
    o->set_identifier(identifier);
    o->set_metadata(json::to_string(d));
    o->mutable_version()->set_producer(2);
    o->mutable_version()->set_min_consumer(1);
  };
  std::map<int, std::string> identifier_of;
  {
    json::Document d;
    d.SetObject();
    auto& a = d.GetAllocator();
    std::string cls = json::get_string(cfg, "class_name").value_or(arch.class_name);
    d.AddMember("name", str(arch.name, a), a);
    d.AddMember("trainable", true, a);
    d.AddMember("expects_training_arg", true, a);
    d.AddMember("dtype", "float32", a);
    d.AddMember("batch_input_shape", json::Value(), a);
    d.AddMember("must_restore_from_config", false, a);
    d.AddMember("class_name", str(cls, a), a);
    json::Value config;
    if (const json::Value* c = json::member(cfg, "config")) config.CopyFrom(*c, a);
    d.AddMember("config", config, a);
    d.AddMember("is_graph_network", cls == "Sequential" || cls == "Functional" || cls == "Model", a);
    d.AddMember("keras_version", str(keras_version, a), a);
    d.AddMember("backend", str(backend, a), a);
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
    } else if (auto s = shape_from_json(arch.batch_input_shape_json)) {
      d.AddMember("build_input_shape", tensor_shape_json(*s, a), a);
    }
    identifier_of[0] = model_identifier(cls);
    add_meta(0, "root", identifier_of[0], d);
  }
  for (const auto& [node, index] : layer_of_node) {
    const Layer& layer = model.layers[index];
    json::Document d;
    d.SetObject();
    auto& a = d.GetAllocator();
    const json::Value* lc = layer_cfg.count(layer.name) ? layer_cfg[layer.name] : nullptr;
    const json::Value* c = lc ? json::member(*lc, "config") : nullptr;
    std::string cls = !layer.class_name.empty() ? layer.class_name
                                                : (lc ? json::get_string(*lc, "class_name").value_or("") : "");
    d.AddMember("name", str(layer.name, a), a);
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
    auto bs = build_shapes.find(layer.name);
    std::string kept = model.extra("savedmodel.build_input_shape." + layer.name);
    if (!kept.empty() && cls != "InputLayer") {
      json::Document b = json::parse(kept, model.path + ":build_input_shape");
      d.AddMember("build_input_shape", encode_build_shape(b, a), a);
    } else if (bs != build_shapes.end() && cls != "InputLayer") {
      if (bs->second.size() == 1) {
        d.AddMember("build_input_shape", tensor_shape_json(bs->second[0], a), a);
      } else {
        json::Value list(rapidjson::kArrayType);
        for (const auto& s : bs->second) list.PushBack(tensor_shape_json(s, a), a);
        d.AddMember("build_input_shape", list, a);
      }
    }
    std::string ident = cls == "InputLayer" ? "_tf_keras_input_layer"
                        : is_rnn_class(cls) ? "_tf_keras_rnn_layer"
                                            : "_tf_keras_layer";
    identifier_of[node] = ident;
    add_meta(node, "root." + first_edge[node], ident, d);
  }

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
      v->set_name(strip_index(w.name));
      if (optimizer_nodes.count(id) && n.attributes.size() == 1 &&
          n.attributes[0].checkpoint_key.find(".OPTIMIZER_SLOT") == std::string::npos)
        v->set_aggregation(tf::VARIABLE_AGGREGATION_ONLY_FIRST_REPLICA);
      continue;
    }
    tf::SavedUserObject* u = o->mutable_user_object();
    std::string ident;
    if (identifier_of.count(id)) ident = identifier_of[id];
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
