// The SavedModel section of the inspect report: what `saved_model_cli show --all` prints (tag sets,
// signatures with inputs/outputs and method names; FORMATS.md C.3), the object graph in short (kinds,
// Keras identifiers; every node with --tree), the fingerprint and the assets. Text and JSON.
#include <iomanip>
#include <map>

#include "inspect/sections.h"

namespace kmodel::inspect {

namespace {

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? sep : "") + v[i];
  return s;
}

void print_tensor_info(const TensorInfoEntry& e, const char* what, std::ostream& os) {
  os << "    " << what << "['" << e.key << "'] tensor_info:\n";
  os << "        dtype: " << e.dtype << "\n";
  os << "        shape: " << e.shape << "\n";
  os << "        name: " << e.name << "\n";
}

// Node kinds and user_object identifiers with counts, in first-seen order of kinds.
struct Counts {
  std::vector<std::pair<std::string, int>> kinds, identifiers;
};
void bump(std::vector<std::pair<std::string, int>>& v, const std::string& key) {
  for (auto& p : v)
    if (p.first == key) {
      ++p.second;
      return;
    }
  v.emplace_back(key, 1);
}
Counts count_nodes(const std::vector<ObjectNode>& nodes) {
  Counts c;
  for (const auto& n : nodes) {
    bump(c.kinds, n.kind);
    if (n.kind == "user_object") bump(c.identifiers, n.identifier);
  }
  return c;
}

rapidjson::Value str(const std::string& s, JsonAlloc& alloc) {
  return rapidjson::Value(s.c_str(), static_cast<rapidjson::SizeType>(s.size()), alloc);
}

}  // namespace

void savedmodel_text(const Model& model, const InspectOptions& options, std::ostream& os) {
  if (!model.saved_model) return;
  const SavedModelInfo& info = *model.saved_model;
  std::string md_source = model.extra("savedmodel.keras_metadata");
  os << "\nSavedModel: schema version " << info.schema_version << ", " << info.meta_graphs.size()
     << (info.meta_graphs.size() == 1 ? " MetaGraphDef" : " MetaGraphDefs") << ", Keras metadata: "
     << (info.has_keras_metadata ? (md_source.empty() ? "yes" : md_source) : "none") << "\n";
  for (const auto& mg : info.meta_graphs) {
    os << "\nMetaGraphDef with tag-set: '" << join(mg.tags, ", ") << "' contains the following SignatureDefs:\n";
    if (!mg.tensorflow_version.empty()) os << "(written by TensorFlow " << mg.tensorflow_version << ")\n";
    for (const auto& sig : mg.signatures) {
      os << "\nsignature_def['" << sig.key << "']:\n";
      os << "  The given SavedModel SignatureDef contains the following input(s):\n";
      for (const auto& e : sig.inputs) print_tensor_info(e, "inputs", os);
      os << "  The given SavedModel SignatureDef contains the following output(s):\n";
      for (const auto& e : sig.outputs) print_tensor_info(e, "outputs", os);
      os << "  Method name is: " << sig.method_name << "\n";
    }
  }
  if (!info.object_graph.empty()) {
    Counts c = count_nodes(info.object_graph);
    os << "\nObject graph: " << info.object_graph.size() << " nodes (";
    for (size_t i = 0; i < c.kinds.size(); ++i)
      os << (i ? ", " : "") << c.kinds[i].second << " " << c.kinds[i].first;
    os << ")\n";
    if (!c.identifiers.empty()) {
      os << "  user objects:";
      for (size_t i = 0; i < c.identifiers.size(); ++i)
        os << (i ? ", " : " ") << (c.identifiers[i].first.empty() ? "(none)" : c.identifiers[i].first) << " x"
           << c.identifiers[i].second;
      os << "\n";
    }
    if (options.tree) {
      for (const auto& n : info.object_graph) {
        os << "  [" << n.id << "] " << n.kind;
        if (!n.identifier.empty()) os << " " << n.identifier;
        for (const auto& [k, v] : n.attributes) os << "  " << k << "=" << v;
        os << "\n";
        for (const auto& [name, id] : n.children) os << "      " << name << " -> " << id << "\n";
        for (const auto& [slot, id] : n.slots) os << "      slot " << slot << " -> " << id << "\n";
      }
    } else {
      os << "  (use --tree to list every node)\n";
    }
  } else {
    os << "\nObject graph: none (TF1-style SavedModel)\n";
  }
  if (!info.fingerprint.empty()) {
    os << "\nFingerprint:\n";
    for (const auto& [k, v] : info.fingerprint) os << "  " << k << ": " << v << "\n";
  }
  if (!info.assets.empty()) os << "\nAssets: " << join(info.assets, ", ") << "\n";
}

void savedmodel_json(const Model& model, const InspectOptions& options, rapidjson::Value& out, JsonAlloc& alloc) {
  if (!model.saved_model) return;
  const SavedModelInfo& info = *model.saved_model;
  rapidjson::Value sm(rapidjson::kObjectType);
  sm.AddMember("schema_version", static_cast<int64_t>(info.schema_version), alloc);
  sm.AddMember("keras_metadata", info.has_keras_metadata, alloc);
  std::string md_source = model.extra("savedmodel.keras_metadata");
  sm.AddMember("keras_metadata_source", md_source.empty() ? rapidjson::Value() : str(md_source, alloc), alloc);
  rapidjson::Value mgs(rapidjson::kArrayType);
  for (const auto& mg : info.meta_graphs) {
    rapidjson::Value m(rapidjson::kObjectType);
    rapidjson::Value tags(rapidjson::kArrayType);
    for (const auto& t : mg.tags) tags.PushBack(str(t, alloc), alloc);
    m.AddMember("tags", tags, alloc);
    m.AddMember("tensorflow_version", str(mg.tensorflow_version, alloc), alloc);
    rapidjson::Value sigs(rapidjson::kArrayType);
    for (const auto& sig : mg.signatures) {
      rapidjson::Value s(rapidjson::kObjectType);
      s.AddMember("key", str(sig.key, alloc), alloc);
      s.AddMember("method_name", str(sig.method_name, alloc), alloc);
      for (const auto* part : {&sig.inputs, &sig.outputs}) {
        rapidjson::Value arr(rapidjson::kArrayType);
        for (const auto& e : *part) {
          rapidjson::Value je(rapidjson::kObjectType);
          je.AddMember("key", str(e.key, alloc), alloc);
          je.AddMember("dtype", str(e.dtype, alloc), alloc);
          je.AddMember("shape", str(e.shape, alloc), alloc);
          je.AddMember("name", str(e.name, alloc), alloc);
          arr.PushBack(je, alloc);
        }
        s.AddMember(rapidjson::StringRef(part == &sig.inputs ? "inputs" : "outputs"), arr, alloc);
      }
      sigs.PushBack(s, alloc);
    }
    m.AddMember("signatures", sigs, alloc);
    mgs.PushBack(m, alloc);
  }
  sm.AddMember("meta_graphs", mgs, alloc);

  rapidjson::Value og(rapidjson::kObjectType);
  og.AddMember("nodes", static_cast<uint64_t>(info.object_graph.size()), alloc);
  Counts c = count_nodes(info.object_graph);
  rapidjson::Value kinds(rapidjson::kObjectType), idents(rapidjson::kObjectType);
  for (const auto& [k, n] : c.kinds) kinds.AddMember(str(k, alloc), rapidjson::Value(n), alloc);
  for (const auto& [k, n] : c.identifiers) idents.AddMember(str(k, alloc), rapidjson::Value(n), alloc);
  og.AddMember("kinds", kinds, alloc);
  og.AddMember("user_objects", idents, alloc);
  if (options.tree) {
    rapidjson::Value tree(rapidjson::kArrayType);
    for (const auto& n : info.object_graph) {
      rapidjson::Value jn(rapidjson::kObjectType);
      jn.AddMember("id", n.id, alloc);
      jn.AddMember("kind", str(n.kind, alloc), alloc);
      jn.AddMember("identifier", str(n.identifier, alloc), alloc);
      rapidjson::Value attrs(rapidjson::kObjectType);
      for (const auto& [k, v] : n.attributes) attrs.AddMember(str(k, alloc), str(v, alloc), alloc);
      jn.AddMember("attributes", attrs, alloc);
      jn.AddMember("children", json_node_edges(n.children, "name", alloc), alloc);
      jn.AddMember("slots", json_node_edges(n.slots, "slot", alloc), alloc);
      tree.PushBack(jn, alloc);
    }
    og.AddMember("tree", tree, alloc);
  }
  sm.AddMember("object_graph", og, alloc);

  rapidjson::Value fp(rapidjson::kObjectType);
  for (const auto& [k, v] : info.fingerprint) fp.AddMember(str(k, alloc), str(v, alloc), alloc);
  sm.AddMember("fingerprint", fp, alloc);
  rapidjson::Value assets(rapidjson::kArrayType);
  for (const auto& a : info.assets) assets.PushBack(str(a, alloc), alloc);
  sm.AddMember("assets", assets, alloc);
  out.AddMember("saved_model", sm, alloc);
}

}  // namespace kmodel::inspect
