// SavedModel reader: saved_model.pb (+ .pbtxt), keras_metadata.pb or the TF <= 2.4 metadata kept in
// the object graph, fingerprint.pb, assets/, and variables/ through the TensorBundle reader.
// A Keras SavedModel becomes a full IR (model config, layers with weights in Keras order, training
// config, optimizer state); a plain TF SavedModel only fills Model::saved_model / Model::checkpoint.
// See FORMATS.md section C.
#include <algorithm>
#include <dirent.h>
#include <functional>
#include <map>
#include <memory>
#include <set>

#include "core/assemble.h"
#include "core/json_util.h"
#include "core/object_graph.h"
#include "formats/savedmodel/savedmodel_format.h"
#include "formats/savedmodel/savedmodel_proto.h"
#include "io/file_util.h"
#include "io/tensor_bundle.h"
#include "kmodel/architecture.h"
#include "kmodel/error.h"
#include "trackable_object_graph.pb.h"

namespace kmodel::formats::savedmodel {

namespace {

bool starts_with(const std::string& s, const std::string& p) { return s.compare(0, p.size(), p) == 0; }

// Edges that SavedModel serialization adds to Keras objects (list wrappers, the keras_api holder,
// traced functions): never the path by which a weight belongs to its layer.
bool is_serialization_edge(const std::string& name) {
  static const std::set<std::string> kEdges = {
      "variables", "trainable_variables", "non_trainable_variables", "trainable_weights",
      "non_trainable_weights", "weights", "regularization_losses", "layer_regularization_losses",
      "keras_api", "layers", "metrics", "layer_metrics", "signatures", "_default_save_signature",
      "__call__", "call_and_return_all_conditional_losses", "call_and_return_conditional_losses",
      "activity_regularizer_fn", "optimizer", "_self_saveable_object_factories", "inner_layers"};
  return kEdges.count(name) > 0;
}

std::string kind_name(const tf::SavedObject& obj) {
  switch (obj.kind_case()) {
    case tf::SavedObject::kUserObject: return "user_object";
    case tf::SavedObject::kAsset: return "asset";
    case tf::SavedObject::kFunction: return "function";
    case tf::SavedObject::kVariable: return "variable";
    case tf::SavedObject::kBareConcreteFunction: return "bare_concrete_function";
    case tf::SavedObject::kConstant: return "constant";
    case tf::SavedObject::kResource: return "resource";
    case tf::SavedObject::kCapturedTensor: return "captured_tensor";
    case tf::SavedObject::KIND_NOT_SET: break;
  }
  return "unknown";
}

Shape shape_of(const tf::TensorShapeProto& s) {
  Shape shape;
  for (const auto& d : s.dim()) shape.push_back(d.size());
  return shape;
}

struct KerasNode {
  std::string identifier, node_path;
  json::Document metadata;  // parsed JSON (object), Null when empty
};

// Collects Keras metadata: keras_metadata.pb (TF >= 2.5) or SavedUserObject.metadata (TF <= 2.4).
std::map<int, KerasNode> keras_nodes(const std::string& dir, const tf::SavedObjectGraph& graph, bool* found_pb) {
  std::map<int, KerasNode> out;
  auto md = load_keras_metadata(dir);
  *found_pb = md.has_value();
  std::string md_file = io::join_path(dir, kKerasMetadataPb);
  auto add = [&](int id, const std::string& ident, const std::string& path, const std::string& text,
                 const std::string& file, const std::string& where) {
    KerasNode n;
    n.identifier = ident;
    n.node_path = path;
    if (!text.empty()) {
      n.metadata = json::parse(text, file + ":" + where);
      if (!n.metadata.IsObject()) throw BadInputError(file, where, "Keras metadata is not a JSON object");
    }
    out[id] = std::move(n);
  };
  if (md) {
    for (int i = 0; i < md->nodes_size(); ++i) {
      const auto& n = md->nodes(i);
      std::string where = "nodes[" + std::to_string(i) + "]";
      if (n.node_id() < 0 || n.node_id() >= graph.nodes_size())
        throw BadInputError(md_file, where + ".node_id",
                            "names object-graph node " + std::to_string(n.node_id()) + " but saved_model.pb has " +
                                std::to_string(graph.nodes_size()) + " nodes");
      add(n.node_id(), n.identifier(), n.node_path(), n.metadata(), md_file, where);
    }
  } else {
    for (int i = 0; i < graph.nodes_size(); ++i) {
      const auto& obj = graph.nodes(i);
      if (!obj.has_user_object() || obj.user_object().metadata().empty()) continue;
      add(i, obj.user_object().identifier(), "", obj.user_object().metadata(), io::join_path(dir, kSavedModelPb),
          "object_graph_def.nodes[" + std::to_string(i) + "].user_object.metadata");
    }
  }
  return out;
}

std::string meta_string(const KerasNode* n, const char* key) {
  if (!n || !n->metadata.IsObject()) return "";
  return json::get_string(n->metadata, key).value_or("");
}

// JSON text of a metadata member after json_utils decoding; "" when absent or null.
std::string meta_json(const KerasNode& n, const char* key) {
  const json::Value* v = json::member(n.metadata, key);
  if (!v || v->IsNull()) return "";
  json::Document copy;
  copy.CopyFrom(*v, copy.GetAllocator());
  normalize_keras_json(copy, copy.GetAllocator());
  return json::to_string(copy);
}

std::vector<std::string> list_assets(const std::string& dir) {
  std::vector<std::string> out;
  std::function<void(const std::string&, const std::string&)> walk = [&](const std::string& abs,
                                                                         const std::string& rel) {
    DIR* d = opendir(abs.c_str());
    if (!d) return;
    while (dirent* e = readdir(d)) {
      std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      std::string a = io::join_path(abs, name), r = rel.empty() ? name : rel + "/" + name;
      if (io::is_directory(a)) walk(a, r);
      else out.push_back(r);
    }
    closedir(d);
  };
  walk(io::join_path(dir, "assets"), "");
  std::sort(out.begin(), out.end());
  return out;
}

// The state of one read.
class Reader {
 public:
  explicit Reader(std::string dir) : dir_(std::move(dir)) {}
  Model read();

 private:
  void fill_info();
  void open_variables();
  std::string checkpoint_key(int node) const;
  std::string metadata_source() const;
  TensorRef tensor_for(int node) const;
  void collect_weights(int node, bool trainable_layer, std::vector<Weight>& trainable,
                       std::vector<Weight>& non_trainable, const std::string& prefix, const std::string& layer_name,
                       std::set<int>& seen);
  Weight make_weight(int node, const std::string& attr, const std::string& layer_name) const;
  void read_keras(Model& model);
  void read_optimizer(Model& model, int opt_node);

  std::string dir_, pb_file_;
  tf::SavedModel sm_;
  const tf::MetaGraphDef* mg_ = nullptr;  // the meta graph with the object graph (else the first)
  const tf::SavedObjectGraph* graph_ = nullptr;
  std::map<int, KerasNode> keras_;
  bool keras_pb_ = false;
  std::string model_name_;
  SavedModelInfo info_;
  std::unique_ptr<io::BundleReader> bundle_;
  tf::TrackableObjectGraph ckpt_graph_;
  bool has_ckpt_graph_ = false;
  // First breadth-first path of each node: (parent id, local name); parent -1 when unreachable.
  std::vector<std::pair<int, std::string>> bfs_parent_;
  std::optional<CheckpointInfo> checkpoint_;
  std::map<int, std::string> weight_names_;  // variable node -> layer weight name without ":0"
  // build_input_shape of the layers of nested models: ("<nested>/<layer>", JSON).
  std::vector<std::pair<std::string, std::string>> nested_build_shapes_;
};

void Reader::fill_info() {
  info_.schema_version = sm_.saved_model_schema_version();
  for (const auto& mg : sm_.meta_graphs()) {
    MetaGraphInfo m;
    m.tags.assign(mg.meta_info_def().tags().begin(), mg.meta_info_def().tags().end());
    m.tensorflow_version = mg.meta_info_def().tensorflow_version();
    std::vector<std::string> keys;
    for (const auto& kv : mg.signature_def()) keys.push_back(kv.first);
    std::sort(keys.begin(), keys.end());
    for (const auto& key : keys) {
      const tf::SignatureDef& sd = mg.signature_def().at(key);
      SignatureInfo s;
      s.key = key;
      s.method_name = sd.method_name();
      auto entries = [](const google::protobuf::Map<std::string, tf::TensorInfo>& map) {
        std::vector<TensorInfoEntry> v;
        for (const auto& kv : map) {
          TensorInfoEntry e;
          e.key = kv.first;
          e.dtype = dt_name(kv.second.dtype());
          e.shape = cli_shape(kv.second.tensor_shape());
          switch (kv.second.encoding_case()) {
            case tf::TensorInfo::kName: e.name = kv.second.name(); break;
            case tf::TensorInfo::kCooSparse:
              e.name = "coo_sparse(values=" + kv.second.coo_sparse().values_tensor_name() +
                       ", indices=" + kv.second.coo_sparse().indices_tensor_name() +
                       ", dense_shape=" + kv.second.coo_sparse().dense_shape_tensor_name() + ")";
              break;
            case tf::TensorInfo::kCompositeTensor: {
              e.name = "composite_tensor(";
              const auto& comps = kv.second.composite_tensor().components();
              for (int i = 0; i < comps.size(); ++i) e.name += (i ? ", " : "") + comps[i].name();
              e.name += ")";
              break;
            }
            case tf::TensorInfo::ENCODING_NOT_SET: break;
          }
          v.push_back(std::move(e));
        }
        std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
        return v;
      };
      s.inputs = entries(sd.inputs());
      s.outputs = entries(sd.outputs());
      m.signatures.push_back(std::move(s));
    }
    info_.meta_graphs.push_back(std::move(m));
  }
  if (graph_) {
    for (int i = 0; i < graph_->nodes_size(); ++i) {
      const tf::SavedObject& obj = graph_->nodes(i);
      ObjectNode n;
      n.id = i;
      n.kind = kind_name(obj);
      switch (obj.kind_case()) {
        case tf::SavedObject::kUserObject: n.identifier = obj.user_object().identifier(); break;
        case tf::SavedObject::kVariable: {
          const auto& v = obj.variable();
          n.identifier = v.name();
          n.attributes.emplace_back("dtype", dt_name(v.dtype()));
          n.attributes.emplace_back("shape", cli_shape(v.shape()));
          n.attributes.emplace_back("trainable", v.trainable() ? "true" : "false");
          if (bundle_) n.attributes.emplace_back("key", checkpoint_key(i));
          break;
        }
        case tf::SavedObject::kFunction:
          if (obj.function().concrete_functions_size()) n.identifier = obj.function().concrete_functions(0);
          break;
        case tf::SavedObject::kBareConcreteFunction:
          n.identifier = obj.bare_concrete_function().concrete_function_name();
          break;
        case tf::SavedObject::kConstant: n.identifier = obj.constant().operation(); break;
        case tf::SavedObject::kAsset: {
          int idx = obj.asset().asset_file_def_index();
          if (mg_ && idx >= 0 && idx < mg_->asset_file_def_size()) n.identifier = mg_->asset_file_def(idx).filename();
          break;
        }
        case tf::SavedObject::kResource: n.identifier = obj.resource().device(); break;
        case tf::SavedObject::kCapturedTensor: n.identifier = obj.captured_tensor().name(); break;
        default: break;
      }
      if (obj.registered_name().size()) n.attributes.emplace_back("registered_name", obj.registered_name());
      for (const auto& c : obj.children()) n.children.emplace_back(c.local_name(), c.node_id());
      for (const auto& s : obj.slot_variables())
        n.slots.emplace_back(s.slot_name() + "(" + std::to_string(s.original_variable_node_id()) + ")",
                             s.slot_variable_node_id());
      info_.object_graph.push_back(std::move(n));
    }
  }
  if (auto fp = load_fingerprint(dir_)) {
    auto& f = info_.fingerprint;
    f.emplace_back("saved_model_checksum", std::to_string(fp->saved_model_checksum()));
    f.emplace_back("graph_def_program_hash", std::to_string(fp->graph_def_program_hash()));
    f.emplace_back("signature_def_hash", std::to_string(fp->signature_def_hash()));
    f.emplace_back("saved_object_graph_hash", std::to_string(fp->saved_object_graph_hash()));
    f.emplace_back("checkpoint_hash", std::to_string(fp->checkpoint_hash()));
    if (fp->has_version()) f.emplace_back("version.producer", std::to_string(fp->version().producer()));
    if (!fp->uuid().empty()) f.emplace_back("uuid", fp->uuid());
  }
  info_.assets = list_assets(dir_);
  info_.has_keras_metadata = !keras_.empty();
}

std::string Reader::metadata_source() const {
  if (keras_.empty()) return "";
  return keras_pb_ ? kKerasMetadataPb : "object graph user_object.metadata (TF <= 2.4)";
}

void Reader::open_variables() {
  std::string prefix = io::join_path(dir_, kVariablesPrefix);
  bool needed = false;
  if (graph_)
    for (const auto& n : graph_->nodes()) needed = needed || n.has_variable();
  if (!io::path_exists(prefix + ".index")) {
    if (needed)
      throw BadInputError(dir_, "variables/variables.index",
                          "missing: the object graph has variables but variables/ holds no checkpoint index");
    return;
  }
  bundle_ = std::make_unique<io::BundleReader>(prefix);
  if (const io::BundleEntry* e = bundle_->find("_CHECKPOINTABLE_OBJECT_GRAPH")) {
    Tensor t = bundle_->read(*e);
    if (t.dtype != DType::kString || t.strings.size() != 1 || !ckpt_graph_.ParseFromString(t.strings[0]))
      throw BadInputError(prefix + ".index", "_CHECKPOINTABLE_OBJECT_GRAPH",
                          "not a serialized TrackableObjectGraph");
    has_ckpt_graph_ = true;
  }
  CheckpointInfo ck;
  ck.prefix = prefix;
  ck.num_shards = bundle_->num_shards();
  ck.object_based = has_ckpt_graph_;
  for (const auto& e : bundle_->entries()) {
    BundleVariable v;
    v.key = e.key;
    v.dtype = e.dtype;
    v.shape = e.shape;
    v.bytes = e.size;
    v.shard = e.shard_id;
    v.tensor = bundle_->ref(e);
    ck.variables.push_back(std::move(v));
  }
  // The trackable graph is the SavedObjectGraph's trackable part (C.6); inspect shows that one,
  // with each variable's checkpoint key, so ck.object_graph stays empty.
  checkpoint_ = std::move(ck);
}

std::string Reader::checkpoint_key(int node) const {
  // C.6: the checkpoint's TrackableObjectGraph node i is SavedObjectGraph node i.
  if (has_ckpt_graph_ && node < ckpt_graph_.nodes_size()) {
    for (const auto& a : ckpt_graph_.nodes(node).attributes())
      if (a.name() == "VARIABLE_VALUE") return a.checkpoint_key();
  }
  // Fallback: the key built from the first breadth-first path of child names (E.2).
  if (node >= static_cast<int>(bfs_parent_.size()) || (node != 0 && bfs_parent_[node].first < 0)) return "";
  std::vector<std::string> parts;
  for (int n = node; n != 0; n = bfs_parent_[n].first) {
    if (parts.size() > 1000) return "";  // absurdly deep: no key
    parts.push_back(objgraph::escape(bfs_parent_[n].second));
  }
  std::string key;
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) key += *it + "/";
  return key + ".ATTRIBUTES/VARIABLE_VALUE";
}

TensorRef Reader::tensor_for(int node) const {
  const tf::SavedVariable& var = graph_->nodes(node).variable();
  std::string where = "object_graph_def.nodes[" + std::to_string(node) + "] (variable '" + var.name() + "')";
  if (!bundle_) throw BadInputError(dir_, "variables/variables.index", "missing, needed by " + where);
  std::string key = checkpoint_key(node);
  const io::BundleEntry* e = key.empty() ? nullptr : bundle_->find(key);
  if (!e)
    throw BadInputError(bundle_->prefix() + ".index", key.empty() ? where : key,
                        "no checkpoint value for " + where);
  Shape declared = shape_of(var.shape());
  bool shape_known = !var.shape().unknown_rank() &&
                     std::none_of(declared.begin(), declared.end(), [](int64_t d) { return d < 0; });
  if (var.dtype() != 0 && io::dtype_from_tf(var.dtype()) != e->dtype)
    throw BadInputError(bundle_->prefix() + ".index", key,
                        "dtype " + dtype_name(e->dtype) + " differs from the object graph's " + dt_name(var.dtype()) +
                            " for " + where);
  if (shape_known && declared != e->shape)
    throw BadInputError(bundle_->prefix() + ".index", key,
                        "shape " + shape_str(e->shape) + " differs from the object graph's " + shape_str(declared) +
                            " for " + where);
  return bundle_->ref(*e);
}

Weight Reader::make_weight(int node, const std::string& attr, const std::string& layer_name) const {
  const tf::SavedVariable& var = graph_->nodes(node).variable();
  Weight w;
  w.attr = attr;
  w.trainable = var.trainable();
  std::string name = var.name();
  // A variable created while the model was being traced carries the model's name scope
  // ("sequential/dense/kernel"); H5 weight_names hold the layer-relative name ("dense/kernel:0").
  if (!model_name_.empty() && starts_with(name, model_name_ + "/") && !layer_name.empty() &&
      starts_with(name.substr(model_name_.size() + 1), layer_name + "/"))
    name = name.substr(model_name_.size() + 1);
  if (name.empty()) name = (layer_name.empty() ? std::string("variable") : layer_name) + "/" + attr;
  if (name.find(':') == std::string::npos) name += ":0";
  w.name = name;
  w.tensor = tensor_for(node);
  return w;
}

// Keras `layer.weights` order: own trainable variables, then each sub-layer's trainable ones, then
// own non-trainable, then each sub-layer's non-trainable (a frozen layer lists everything as
// non-trainable, in that order).
void Reader::collect_weights(int node, bool trainable_layer, std::vector<Weight>& trainable,
                             std::vector<Weight>& non_trainable, const std::string& prefix,
                             const std::string& layer_name, std::set<int>& seen) {
  // Hostile graphs: a chain of nested objects must not exhaust the stack.
  if (prefix.size() > 4096 || std::count(prefix.begin(), prefix.end(), '/') > 64)
    throw BadInputError(pb_file_, "object_graph_def.nodes[" + std::to_string(node) + "]",
                        "objects nested more than 64 levels below a layer");
  const tf::SavedObject& obj = graph_->nodes(node);
  std::vector<Weight> own_t, own_nt;
  std::vector<std::pair<int, std::string>> subs;
  // Nested models: their layers in layer-N order first.
  std::vector<std::pair<int, int>> layer_edges;
  for (const auto& c : obj.children()) {
    const std::string& n = c.local_name();
    if (starts_with(n, "layer-")) {
      try {
        layer_edges.emplace_back(std::stoi(n.substr(6)), c.node_id());
      } catch (...) {
      }
    }
  }
  std::sort(layer_edges.begin(), layer_edges.end());
  for (const auto& le : layer_edges) {
    if (le.second < 0 || le.second >= graph_->nodes_size() || seen.count(le.second)) continue;
    seen.insert(le.second);
    // The IR names a nested model's weights by its layers ("dense_a/kernel"): the layer's metadata
    // name, else the edge.
    auto it = keras_.find(le.second);
    std::string sub_name = meta_string(it == keras_.end() ? nullptr : &it->second, "name");
    if (sub_name.empty() || sub_name.find('/') != std::string::npos) sub_name = "layer-" + std::to_string(le.first);
    if (it != keras_.end() && it->second.metadata.IsObject()) {
      // Kept (as for top-level layers) so that writing a SavedModel again gives the same shapes.
      std::string bis = meta_json(it->second, "build_input_shape");
      if (!bis.empty()) nested_build_shapes_.emplace_back(layer_name + "/" + prefix + sub_name, bis);
    }
    subs.emplace_back(le.second, prefix + sub_name + "/");
  }
  for (const auto& c : obj.children()) {
    int id = c.node_id();
    const std::string& n = c.local_name();
    if (id < 0 || id >= graph_->nodes_size())
      throw BadInputError(pb_file_, "object_graph_def.nodes[" + std::to_string(node) + "].children",
                          "child '" + n + "' names node " + std::to_string(id) + " which does not exist");
    if (is_serialization_edge(n) || seen.count(id)) continue;
    const tf::SavedObject& child = graph_->nodes(id);
    if (child.has_variable()) {
      seen.insert(id);
      Weight w = make_weight(id, prefix + n, layer_name);
      weight_names_[id] = w.name.substr(0, w.name.rfind(':'));
      (w.trainable ? own_t : own_nt).push_back(std::move(w));
    } else if (child.has_user_object()) {
      seen.insert(id);
      subs.emplace_back(id, prefix + n + "/");
    }
  }
  std::vector<Weight> sub_t, sub_nt;
  for (const auto& s : subs) {
    bool sub_trainable = trainable_layer;
    auto it = keras_.find(s.first);
    if (it != keras_.end() && it->second.metadata.IsObject())
      sub_trainable = sub_trainable && json::get_bool(it->second.metadata, "trainable").value_or(true);
    collect_weights(s.first, sub_trainable, sub_t, sub_nt, s.second, layer_name, seen);
  }
  if (trainable_layer) {
    for (auto& w : own_t) trainable.push_back(std::move(w));
    for (auto& w : sub_t) trainable.push_back(std::move(w));
    for (auto& w : own_nt) non_trainable.push_back(std::move(w));
    for (auto& w : sub_nt) non_trainable.push_back(std::move(w));
  } else {
    for (auto* v : {&own_t, &own_nt, &sub_t, &sub_nt})
      for (auto& w : *v) non_trainable.push_back(std::move(w));
  }
}

void Reader::read_optimizer(Model& model, int opt_node) {
  std::set<int> seen = {opt_node};
  // Variables below the optimizer (hyper-parameters, iterations, new-style `_variables` lists),
  // depth-first in child order, then the slot variables referenced by optimizer nodes.
  std::vector<std::pair<int, std::string>> slot_owners;
  // Breadth-first, as TF names checkpoint keys (an object reached both as `_iterations` and as
  // `_variables/0` gets the shorter path).
  std::vector<std::pair<int, std::string>> queue = {{opt_node, ""}};
  for (size_t qi = 0; qi < queue.size(); ++qi) {
    auto [node, prefix] = queue[qi];
    if (std::count(prefix.begin(), prefix.end(), '/') > 64)
      throw BadInputError(pb_file_, "object_graph_def.nodes[" + std::to_string(node) + "]",
                          "objects nested more than 64 levels below the optimizer");
    const tf::SavedObject& obj = graph_->nodes(node);
    if (obj.slot_variables_size()) slot_owners.emplace_back(node, prefix);
    for (const auto& c : obj.children()) {
      int id = c.node_id();
      if (id < 0 || id >= graph_->nodes_size() || seen.count(id)) continue;
      const tf::SavedObject& child = graph_->nodes(id);
      if (child.has_variable()) {
        seen.insert(id);
        model.optimizer.weights.push_back(make_weight(id, prefix + c.local_name(), ""));
      } else if (child.has_user_object()) {
        seen.insert(id);
        queue.emplace_back(id, prefix + c.local_name() + "/");
      }
    }
  }
  for (const auto& so : slot_owners) {
    for (const auto& s : graph_->nodes(so.first).slot_variables()) {
      int id = s.slot_variable_node_id();
      if (id < 0 || id >= graph_->nodes_size() || !graph_->nodes(id).has_variable())
        throw BadInputError(pb_file_, "object_graph_def.nodes[" + std::to_string(so.first) + "].slot_variables",
                            "slot '" + s.slot_name() + "' names node " + std::to_string(id) +
                                " which is not a variable");
      if (seen.count(id)) continue;
      seen.insert(id);
      Weight w = make_weight(id, ".OPTIMIZER_SLOT/" + so.second + s.slot_name(), "");
      // The tf.keras H5 convention (and what the checkpoint writer maps back to a slot):
      // "<optimizer prefix>/<original weight name>/<slot>:0", e.g. "SGD/dense/kernel/momentum:0".
      auto orig = weight_names_.find(s.original_variable_node_id());
      const std::string& full = graph_->nodes(id).variable().name();
      size_t slash = full.find('/');
      std::string prefix = slash != std::string::npos && slash > 0 ? full.substr(0, slash) : "optimizer";
      if (orig != weight_names_.end()) w.name = prefix + "/" + orig->second + "/" + s.slot_name() + ":0";
      model.optimizer.weights.push_back(std::move(w));
    }
  }
}

void Reader::read_keras(Model& model) {
  auto root_it = keras_.find(0);
  if (root_it == keras_.end()) return;  // Keras objects below a non-Keras root: treat as plain TF
  const KerasNode& root = root_it->second;
  model_name_ = meta_string(&root, "name");
  model.keras_version = meta_string(&root, "keras_version");
  model.backend = meta_string(&root, "backend");
  model.model_config = meta_json(root, "model_config");
  model.training_config = meta_json(root, "training_config");
  if (!model.keras_version.empty() || !model.model_config.empty()) model.dialect = KerasDialect::kKeras2;
  model.set_extra("savedmodel.root_identifier", root.identifier);
  std::string root_bis = meta_json(root, "build_input_shape");
  if (!root_bis.empty()) model.set_extra("savedmodel.build_input_shape", root_bis);
  if (!model.training_config.empty()) {
    json::Document tc = json::parse(model.training_config, dir_ + ":root metadata training_config");
    if (const json::Value* oc = json::member(tc, "optimizer_config"))
      model.optimizer.class_name = json::get_string(*oc, "class_name").value_or("");
  }

  // The layers: the root's layer-N children, in N order.
  const tf::SavedObject& root_obj = graph_->nodes(0);
  std::map<int, int> layer_nodes;
  for (const auto& c : root_obj.children()) {
    const std::string& n = c.local_name();
    if (!starts_with(n, "layer-")) continue;
    int idx = -1;
    try {
      idx = std::stoi(n.substr(6));
    } catch (...) {
    }
    if (idx < 0 || std::to_string(idx) != n.substr(6)) continue;
    if (c.node_id() < 0 || c.node_id() >= graph_->nodes_size())
      throw BadInputError(pb_file_, "object_graph_def.nodes[0].children",
                          "child '" + n + "' names node " + std::to_string(c.node_id()) + " which does not exist");
    layer_nodes[idx] = c.node_id();
  }
  for (int i = 0; i < static_cast<int>(layer_nodes.size()); ++i)
    if (!layer_nodes.count(i))
      throw BadInputError(pb_file_, "object_graph_def.nodes[0].children",
                          "layer-" + std::to_string(i) + " is missing (layer edges must be consecutive)");

  std::vector<Layer> arch_layers;
  if (!model.model_config.empty()) {
    ArchitectureSpec arch = parse_architecture(model.model_config, dir_ + ":root metadata model_config");
    arch_layers = layers_from_architecture(arch);
    if (arch_layers.size() != layer_nodes.size())
      throw BadInputError(pb_file_, "object_graph_def.nodes[0]",
                          "model_config lists " + std::to_string(arch_layers.size()) +
                              " layers but the object graph has " + std::to_string(layer_nodes.size()) +
                              " layer-N children");
  }
  std::set<int> seen = {0};
  for (const auto& [idx, node] : layer_nodes) {
    Layer layer;
    auto it = keras_.find(node);
    const KerasNode* kn = it == keras_.end() ? nullptr : &it->second;
    if (!arch_layers.empty()) {
      layer = arch_layers[idx];
      std::string md_name = meta_string(kn, "name");
      if (!md_name.empty() && md_name != layer.name)
        throw BadInputError(pb_file_, "object_graph_def.nodes[0].children",
                            "layer-" + std::to_string(idx) + " is '" + md_name + "' in the metadata but '" +
                                layer.name + "' in model_config");
    } else {
      layer.name = meta_string(kn, "name");
      layer.class_name = meta_string(kn, "class_name");
      if (layer.name.empty()) layer.name = "layer-" + std::to_string(idx);
    }
    bool trainable = true;
    if (kn && kn->metadata.IsObject()) {
      trainable = json::get_bool(kn->metadata, "trainable").value_or(true);
      // Kept so that writing a SavedModel again can give Keras the shape the layer was built with.
      std::string bis = meta_json(*kn, "build_input_shape");
      if (!bis.empty()) model.set_extra("savedmodel.build_input_shape." + layer.name, bis);
    }
    std::vector<Weight> t, nt;
    if (!seen.count(node)) {
      seen.insert(node);
      collect_weights(node, trainable, t, nt, "", layer.name, seen);
    }
    layer.weights = std::move(t);
    for (auto& w : nt) layer.weights.push_back(std::move(w));
    model.layers.push_back(std::move(layer));
  }
  for (const auto& [key, bis] : nested_build_shapes_) model.extras.emplace_back("savedmodel.build_input_shape." + key, bis);

  for (const auto& c : root_obj.children())
    if (c.local_name() == "optimizer" && c.node_id() >= 0 && c.node_id() < graph_->nodes_size() &&
        graph_->nodes(c.node_id()).has_user_object()) {
      read_optimizer(model, c.node_id());
      break;
    }
}

Model Reader::read() {
  if (!io::is_directory(dir_)) throw BadInputError(dir_, "", "a SavedModel is a directory, this is a file");
  pb_file_ = saved_model_file(dir_);
  if (pb_file_.empty()) {
    std::string found;
    for (const char* f : {kKerasMetadataPb, kFingerprintPb, "variables"})
      if (io::path_exists(io::join_path(dir_, f))) found += std::string(found.empty() ? "" : ", ") + f;
    throw BadInputError(dir_, "saved_model.pb",
                        "missing: incomplete SavedModel directory" + (found.empty() ? "" : " (has " + found + ")"));
  }
  sm_ = load_saved_model(pb_file_);
  for (const auto& mg : sm_.meta_graphs())
    if (mg.has_object_graph_def() && mg.object_graph_def().nodes_size() > 0) {
      mg_ = &mg;
      break;
    }
  if (!mg_) mg_ = &sm_.meta_graphs(0);
  if (mg_->has_object_graph_def() && mg_->object_graph_def().nodes_size() > 0) graph_ = &mg_->object_graph_def();

  tf::SavedObjectGraph empty;
  keras_ = keras_nodes(dir_, graph_ ? *graph_ : empty, &keras_pb_);

  // Breadth-first first paths (checkpoint-key fallback) and a check of every edge.
  if (graph_) {
    bfs_parent_.assign(graph_->nodes_size(), {-1, ""});
    std::vector<bool> visited(graph_->nodes_size(), false);
    std::vector<int> queue = {0};
    visited[0] = true;
    for (size_t qi = 0; qi < queue.size(); ++qi) {
      int n = queue[qi];
      for (const auto& c : graph_->nodes(n).children()) {
        int id = c.node_id();
        if (id < 0 || id >= graph_->nodes_size())
          throw BadInputError(pb_file_, "object_graph_def.nodes[" + std::to_string(n) + "].children",
                              "child '" + c.local_name() + "' names node " + std::to_string(id) +
                                  " which does not exist");
        if (visited[id]) continue;
        visited[id] = true;
        bfs_parent_[id] = {n, c.local_name()};
        queue.push_back(id);
      }
    }
  }

  open_variables();
  fill_info();

  Model model;
  model.origin = Format::kSavedModel;
  model.path = dir_;
  if (graph_) read_keras(model);
  if (!keras_.empty()) model.set_extra("savedmodel.keras_metadata", metadata_source());
  if (!info_.meta_graphs.empty()) model.set_extra("savedmodel.tensorflow_version", info_.meta_graphs[0].tensorflow_version);
  model.saved_model = std::move(info_);
  model.checkpoint = std::move(checkpoint_);
  return model;
}

}  // namespace

bool sniff(const std::string& path) {
  if (!io::is_directory(path)) return false;
  if (!saved_model_file(path).empty()) return true;
  // An incomplete SavedModel (saved_model.pb missing) is still recognised, so that reading it
  // reports what is missing instead of "not a model".
  return io::is_regular_file(io::join_path(path, kKerasMetadataPb)) ||
         io::is_regular_file(io::join_path(path, kFingerprintPb)) ||
         io::is_regular_file(io::join_path(path, std::string(kVariablesPrefix) + ".index"));
}

Model read(const std::string& path, const ReadOptions&) {
  Reader reader(path);
  return reader.read();
}

}  // namespace kmodel::formats::savedmodel
