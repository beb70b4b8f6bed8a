// Trackable object graph parsing, key escaping and the graph <-> Keras layers mapping (object_graph.h).
#include "core/object_graph.h"

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "kmodel/error.h"
#include "trackable_object_graph.pb.h"

namespace kmodel::objgraph {

namespace {
constexpr const char* kVariableValue = "VARIABLE_VALUE";

bool parse_indexed_edge(const std::string& name, const std::string& prefix, int& out) {
  if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) return false;
  int v = 0;
  for (size_t i = prefix.size(); i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return false;
    if (v > 100000000) return false;
    v = v * 10 + (name[i] - '0');
  }
  out = v;
  return true;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    out.push_back(s.substr(start, pos - start));
    if (pos == std::string::npos) break;
    start = pos + 1;
  }
  return out;
}

std::string join(const std::vector<std::string>& parts, size_t from, size_t to, char sep = '/') {
  std::string out;
  for (size_t i = from; i < to && i < parts.size(); ++i) {
    if (!out.empty() || i > from) out += sep;
    out += parts[i];
  }
  return out;
}

const Attribute* variable_attribute(const Node& node) {
  for (const auto& a : node.attributes)
    if (a.name == kVariableValue) return &a;
  return nullptr;
}

bool non_trainable_attr(const std::string& attr) {
  std::string last = attr.substr(attr.rfind('/') == std::string::npos ? 0 : attr.rfind('/') + 1);
  return last == "moving_mean" || last == "moving_variance" || last.rfind("moving_", 0) == 0 ||
         last == "running_mean" || last == "running_std";
}
}  // namespace

// ---------------------------------------------------------------------------------------------------

Graph parse(const std::string& bytes, const std::string& file) {
  kmodel::tf::TrackableObjectGraph proto;
  if (!proto.ParseFromString(bytes))
    throw BadInputError(file, "_CHECKPOINTABLE_OBJECT_GRAPH", "cannot parse TrackableObjectGraph");
  Graph g;
  const int n = proto.nodes_size();
  auto check = [&](int id, int at, const char* what) {
    if (id < 0 || id >= n)
      throw BadInputError(file, "_CHECKPOINTABLE_OBJECT_GRAPH node " + std::to_string(at),
                          std::string(what) + " refers to node " + std::to_string(id) + " of " + std::to_string(n));
  };
  g.nodes.resize(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    const auto& pn = proto.nodes(i);
    Node& node = g.nodes[static_cast<size_t>(i)];
    for (const auto& c : pn.children()) {
      check(c.node_id(), i, "child");
      node.children.emplace_back(c.local_name(), c.node_id());
    }
    for (const auto& a : pn.attributes()) node.attributes.push_back({a.name(), a.full_name(), a.checkpoint_key()});
    for (const auto& s : pn.slot_variables()) {
      check(s.original_variable_node_id(), i, "slot original variable");
      check(s.slot_variable_node_id(), i, "slot variable");
      node.slots.push_back({s.original_variable_node_id(), s.slot_name(), s.slot_variable_node_id()});
    }
  }
  if (n == 0) throw BadInputError(file, "_CHECKPOINTABLE_OBJECT_GRAPH", "object graph has no nodes");
  return g;
}

std::string serialize(const Graph& graph) {
  kmodel::tf::TrackableObjectGraph proto;
  for (const auto& node : graph.nodes) {
    auto* pn = proto.add_nodes();
    for (const auto& [name, id] : node.children) {
      auto* c = pn->add_children();
      c->set_node_id(id);
      c->set_local_name(name);
    }
    for (const auto& a : node.attributes) {
      auto* pa = pn->add_attributes();
      pa->set_name(a.name);
      pa->set_full_name(a.full_name);
      pa->set_checkpoint_key(a.checkpoint_key);
    }
    for (const auto& s : node.slots) {
      auto* ps = pn->add_slot_variables();
      ps->set_original_variable_node_id(s.original_node);
      ps->set_slot_name(s.slot_name);
      ps->set_slot_variable_node_id(s.slot_node);
    }
  }
  std::string out;
  proto.SerializeToString(&out);
  return out;
}

std::vector<ObjectNode> to_object_nodes(const Graph& graph) {
  std::vector<ObjectNode> out;
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const Node& n = graph.nodes[i];
    ObjectNode o;
    o.id = static_cast<int>(i);
    o.children = n.children;
    for (const auto& a : n.attributes) o.attributes.emplace_back(a.name, a.checkpoint_key);
    if (const Attribute* v = variable_attribute(n)) {
      o.kind = "variable";
      o.identifier = v->full_name;
    }
    for (const auto& s : n.slots) o.slots.emplace_back(s.slot_name, s.slot_node);
    out.push_back(std::move(o));
  }
  return out;
}

std::string escape(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == '.') out += "..";
    else if (c == '/') out += ".S";
    else out += c;
  }
  return out;
}

std::string unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '.' && i + 1 < s.size()) {
      if (s[i + 1] == '.') { out += '.'; ++i; continue; }
      if (s[i + 1] == 'S') { out += '/'; ++i; continue; }
    }
    out += s[i];
  }
  return out;
}

std::vector<std::string> node_paths(const Graph& graph, std::vector<bool>* reachable) {
  std::vector<std::string> paths(graph.nodes.size());
  std::vector<bool> seen(graph.nodes.size(), false);
  if (graph.nodes.empty()) return paths;
  std::deque<int> queue{0};
  seen[0] = true;
  while (!queue.empty()) {
    int id = queue.front();
    queue.pop_front();
    for (const auto& [name, child] : graph.nodes[static_cast<size_t>(id)].children) {
      if (seen[static_cast<size_t>(child)]) continue;
      seen[static_cast<size_t>(child)] = true;
      const std::string& base = paths[static_cast<size_t>(id)];
      paths[static_cast<size_t>(child)] = base.empty() ? escape(name) : base + "/" + escape(name);
      queue.push_back(child);
    }
  }
  if (reachable) *reachable = seen;
  return paths;
}

std::string variable_key(const std::string& object_path) {
  return object_path.empty() ? std::string(".ATTRIBUTES/VARIABLE_VALUE") : object_path + "/.ATTRIBUTES/VARIABLE_VALUE";
}

// ---------------------------------------------------------------------------------------------------
// Graph -> Keras

namespace {
// Depth-first collection of VARIABLE_VALUE nodes below `start`; `visited` is shared across calls so a
// variable reachable by two edges is attributed once (first path wins).
void collect_vars(const Graph& g, int start, const std::string& base, std::vector<bool>& visited,
                  std::vector<VariableRef>& out) {
  for (const auto& [name, child] : g.nodes[static_cast<size_t>(start)].children) {
    if (visited[static_cast<size_t>(child)]) continue;
    visited[static_cast<size_t>(child)] = true;
    std::string path = base.empty() ? name : base + "/" + name;
    const Node& node = g.nodes[static_cast<size_t>(child)];
    if (const Attribute* a = variable_attribute(node)) out.push_back({child, path, a->checkpoint_key, a->full_name});
    collect_vars(g, child, path, visited, out);
  }
}

int child_named(const Graph& g, int node, const std::string& name) {
  for (const auto& [n, id] : g.nodes[static_cast<size_t>(node)].children)
    if (n == name) return id;
  return -1;
}
}  // namespace

KerasMapping map_keras(const Graph& g) {
  KerasMapping m;
  auto has_layer_edges = [&](int node) {
    int idx;
    for (const auto& [name, id] : g.nodes[static_cast<size_t>(node)].children)
      if (parse_indexed_edge(name, "layer-", idx) || parse_indexed_edge(name, "layer_with_weights-", idx)) return true;
    return false;
  };
  m.model_node = 0;
  if (!has_layer_edges(0)) {
    int model = child_named(g, 0, "model");
    if (model >= 0) m.model_node = model;
  }
  m.optimizer_node = child_named(g, m.model_node, "optimizer");
  if (m.optimizer_node < 0) m.optimizer_node = child_named(g, 0, "optimizer");

  std::vector<bool> visited(g.nodes.size(), false);
  visited[0] = true;
  visited[static_cast<size_t>(m.model_node)] = true;
  if (m.optimizer_node >= 0) visited[static_cast<size_t>(m.optimizer_node)] = true;

  // Layer nodes from the model's edges.
  std::map<int, size_t> by_node;
  bool indexed = has_layer_edges(m.model_node);
  for (const auto& [name, id] : g.nodes[static_cast<size_t>(m.model_node)].children) {
    if (id == m.optimizer_node || id == 0 || id == m.model_node) continue;
    int idx = -1;
    bool is_layer = parse_indexed_edge(name, "layer-", idx);
    int widx = -1;
    bool is_wlayer = parse_indexed_edge(name, "layer_with_weights-", widx);
    if (indexed && !is_layer && !is_wlayer) continue;
    if (!indexed && (name == "keras_api" || name == "save_counter" ||
                     variable_attribute(g.nodes[static_cast<size_t>(id)]) != nullptr))
      continue;
    auto it = by_node.find(id);
    if (it == by_node.end()) {
      LayerNode ln;
      ln.node = id;
      ln.edge = name;
      it = by_node.emplace(id, m.layers.size()).first;
      m.layers.push_back(ln);
    }
    LayerNode& ln = m.layers[it->second];
    if (is_layer && ln.layer_index < 0) ln.layer_index = idx;
    if (is_wlayer && ln.weights_index < 0) ln.weights_index = widx;
  }
  // Order: by layer-N, nodes without one keep their edge order at the end.
  std::stable_sort(m.layers.begin(), m.layers.end(), [](const LayerNode& a, const LayerNode& b) {
    if ((a.layer_index < 0) != (b.layer_index < 0)) return a.layer_index >= 0;
    return a.layer_index < b.layer_index;
  });
  for (const auto& ln : m.layers) visited[static_cast<size_t>(ln.node)] = true;
  for (auto& ln : m.layers) collect_vars(g, ln.node, "", visited, ln.vars);
  if (!indexed) {
    m.layers.erase(std::remove_if(m.layers.begin(), m.layers.end(), [](const LayerNode& l) { return l.vars.empty(); }),
                   m.layers.end());
  }

  // Optimizer variables and slots.
  std::vector<std::string> key_of(g.nodes.size());
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (const Attribute* a = variable_attribute(g.nodes[i])) key_of[i] = a->checkpoint_key;
  if (m.optimizer_node >= 0) {
    // Paths of optimizer sub-nodes (owners of slots) below the optimizer node.
    std::map<int, std::string> owner_path{{m.optimizer_node, ""}};
    std::deque<int> queue{m.optimizer_node};
    std::set<int> seen{m.optimizer_node};
    while (!queue.empty()) {
      int id = queue.front();
      queue.pop_front();
      for (const auto& [name, child] : g.nodes[static_cast<size_t>(id)].children) {
        if (!seen.insert(child).second) continue;
        owner_path[child] = owner_path[id].empty() ? name : owner_path[id] + "/" + name;
        queue.push_back(child);
      }
    }
    for (const auto& [owner, path] : owner_path) {
      for (const auto& s : g.nodes[static_cast<size_t>(owner)].slots) {
        const Attribute* a = variable_attribute(g.nodes[static_cast<size_t>(s.slot_node)]);
        if (!a) continue;
        SlotVariable sv;
        sv.original_key = key_of[static_cast<size_t>(s.original_node)];
        sv.original_node = s.original_node;
        sv.owner_path = path;
        sv.slot_name = s.slot_name;
        sv.var = {s.slot_node, "", a->checkpoint_key, a->full_name};
        visited[static_cast<size_t>(s.slot_node)] = true;
        m.slots.push_back(std::move(sv));
      }
    }
    collect_vars(g, m.optimizer_node, "", visited, m.optimizer_vars);
  }

  // Everything else with a value: path from the root.
  std::vector<bool> reachable;
  std::vector<std::string> paths = node_paths(g, &reachable);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    if (visited[i]) continue;
    const Attribute* a = variable_attribute(g.nodes[i]);
    if (!a) continue;
    std::vector<std::string> comps = split(paths[i], '/');
    std::string attr;
    for (const auto& c : comps) attr += (attr.empty() ? "" : "/") + unescape(c);
    m.others.push_back({static_cast<int>(i), attr, a->checkpoint_key, a->full_name});
  }
  return m;
}

namespace {
// Layer name from a variable's full_name ("sequential/lstm/lstm_cell/kernel" with attr "cell/kernel"
// -> "lstm"): drop as many trailing components as the attr has, take the last remaining one.
std::string layer_name_from_full_name(const std::string& full_name, const std::string& attr) {
  if (full_name.empty()) return "";
  auto comps = split(full_name, '/');
  size_t depth = split(attr, '/').size();
  if (comps.size() <= depth) return "";
  return comps[comps.size() - depth - 1];
}

std::string strip_colon_index(const std::string& name) {
  size_t colon = name.rfind(':');
  if (colon != std::string::npos && colon + 1 < name.size() &&
      std::all_of(name.begin() + static_cast<long>(colon) + 1, name.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return name.substr(0, colon);
  return name;
}
}  // namespace

namespace {
// Node id -> the IR name path (below the nested model) of each layer of a nested model, reached by its
// layer-N edges: "bn1", "deep", "deep/d1".
void name_members(const Graph& g, int node, const ArchitectureSpec& arch, const std::string& prefix,
                  const std::string& owner, const std::string& file, int depth, std::map<int, std::string>& out) {
  if (depth > nested::kMaxNesting)
    throw UnsupportedError(file, owner, "models nested more than " + std::to_string(nested::kMaxNesting) + " levels deep");
  std::vector<const LayerSpec*> members = nested::tracked_layers(arch);
  for (const auto& [edge, child] : g.nodes[static_cast<size_t>(node)].children) {
    int index = -1;
    if (!parse_indexed_edge(edge, "layer-", index)) continue;
    if (static_cast<size_t>(index) >= members.size())
      throw BadInputError(file, "object graph node " + std::to_string(node),
                          "nested model '" + owner + "' has " + std::to_string(members.size()) +
                              " layers in the architecture but the checkpoint has edge " + edge);
    const LayerSpec& m = *members[static_cast<size_t>(index)];
    if (out.count(child)) continue;
    out[child] = prefix + m.name;
    if (m.is_model())
      name_members(g, child, parse_nested_architecture(m, arch.dialect, file), prefix + m.name + "/", owner, file,
                   depth + 1, out);
  }
}
}  // namespace

void map_to_model(const Graph& graph, const KerasMapping& mapping, const TensorLookup& tensors,
                  const std::vector<Layer>& arch_layers, const std::string& file, Model& model,
                  const ArchitectureSpec* arch) {
  auto make_ref = [&](const std::string& key) {
    TensorRef ref = tensors.get(key);
    if (!ref.valid())
      throw BadInputError(file, key, "the object graph names this key but the bundle has no such entry");
    return ref;
  };
  std::map<std::string, std::string> weight_name_of_key;  // for slot naming

  std::map<std::string, const LayerSpec*> spec_of;
  if (arch)
    for (const auto& l : arch->layers) spec_of[l.name] = &l;
  auto fill_weights = [&](Layer& layer, const LayerNode& ln) {
    // A nested model: its variables are named by the layer that holds them.
    std::map<int, std::string> member_name;
    auto sit = spec_of.find(layer.name);
    bool is_nested = sit != spec_of.end() && sit->second->is_model();
    if (is_nested)
      name_members(graph, ln.node, parse_nested_architecture(*sit->second, arch->dialect, file), "", layer.name, file, 1,
                   member_name);
    std::vector<Weight> trainable, fixed;
    for (const auto& v : ln.vars) {
      Weight w;
      w.attr = v.attr;
      w.name = layer.name + "/" + v.attr + ":0";
      if (is_nested) {
        // Follow the path from the nested model's node; the last layer passed names the rest.
        auto comps = split(v.attr, '/');
        int cur = ln.node;
        size_t named_at = 0;
        std::string named;
        for (size_t i = 0; i < comps.size() && cur >= 0; ++i) {
          cur = child_named(graph, cur, comps[i]);
          auto it = cur >= 0 ? member_name.find(cur) : member_name.end();
          if (it != member_name.end()) {
            named = it->second;
            named_at = i + 1;
          }
        }
        if (named.empty() || named_at >= comps.size())
          throw BadInputError(file, v.key, "variable of nested model '" + layer.name + "' is held by none of its layers");
        w.attr = named + "/" + join(comps, named_at, comps.size());
        w.name = (v.full_name.empty() ? w.attr : v.full_name) + ":0";
      }
      w.trainable = !non_trainable_attr(v.attr);
      w.tensor = make_ref(v.key);
      weight_name_of_key[v.key] = w.name;
      (w.trainable ? trainable : fixed).push_back(std::move(w));
    }
    for (auto& w : fixed) trainable.push_back(std::move(w));
    layer.weights = std::move(trainable);
  };

  if (!arch_layers.empty()) {
    model.layers = arch_layers;
    for (auto& l : model.layers) l.weights.clear();
    int max_index = -1;
    for (const auto& ln : mapping.layers) max_index = std::max(max_index, ln.layer_index);
    if (max_index >= 0 && static_cast<size_t>(max_index) + 1 != arch_layers.size())
      throw BadInputError(file, "object graph",
                          "the checkpoint's model has " + std::to_string(max_index + 1) +
                              " layers (layer-N edges) but the architecture has " + std::to_string(arch_layers.size()));
    for (const auto& ln : mapping.layers) {
      if (ln.layer_index < 0) {
        if (ln.vars.empty()) continue;
        // Subclassed/attribute edges: match by layer name.
        auto it = std::find_if(model.layers.begin(), model.layers.end(), [&](const Layer& l) { return l.name == ln.edge; });
        if (it == model.layers.end())
          throw BadInputError(file, ln.edge, "object graph layer matches no layer of the architecture");
        fill_weights(*it, ln);
        continue;
      }
      fill_weights(model.layers[static_cast<size_t>(ln.layer_index)], ln);
    }
  } else {
    model.layers.clear();
    std::set<std::string> used;
    for (const auto& ln : mapping.layers) {
      if (ln.vars.empty()) continue;
      Layer layer;
      for (const auto& v : ln.vars) {
        layer.name = layer_name_from_full_name(v.full_name, v.attr);
        if (!layer.name.empty()) break;
      }
      if (layer.name.empty()) layer.name = ln.edge;
      if (used.count(layer.name)) layer.name += "_" + std::to_string(ln.weights_index >= 0 ? ln.weights_index : ln.node);
      used.insert(layer.name);
      fill_weights(layer, ln);
      model.layers.push_back(std::move(layer));
    }
  }

  // Optimizer.
  std::string opt_prefix;
  for (const auto& v : mapping.optimizer_vars) {
    size_t slash = v.full_name.find('/');
    if (slash != std::string::npos && slash > 0) {
      opt_prefix = v.full_name.substr(0, slash);
      break;
    }
  }
  if (opt_prefix.empty())
    for (const auto& s : mapping.slots) {
      size_t slash = s.var.full_name.find('/');
      if (slash != std::string::npos && slash > 0) {
        opt_prefix = s.var.full_name.substr(0, slash);
        break;
      }
    }
  if (!mapping.optimizer_vars.empty() || !mapping.slots.empty()) {
    if (model.optimizer.class_name.empty()) model.optimizer.class_name = opt_prefix;
    for (const auto& v : mapping.optimizer_vars) {
      Weight w;
      w.attr = v.attr;
      w.name = (v.full_name.empty() ? "optimizer/" + v.attr : v.full_name) + ":0";
      w.trainable = false;
      w.tensor = make_ref(v.key);
      model.optimizer.weights.push_back(std::move(w));
    }
    for (const auto& s : mapping.slots) {
      Weight w;
      w.attr = ".OPTIMIZER_SLOT/" + (s.owner_path.empty() ? "" : s.owner_path + "/") + s.slot_name;
      std::string original;
      auto it = weight_name_of_key.find(s.original_key);
      if (it != weight_name_of_key.end()) original = strip_colon_index(it->second);
      else original = graph.nodes[static_cast<size_t>(s.original_node)].attributes.empty()
                          ? "node" + std::to_string(s.original_node)
                          : graph.nodes[static_cast<size_t>(s.original_node)].attributes[0].full_name;
      w.name = (opt_prefix.empty() ? "optimizer" : opt_prefix) + "/" + original + "/" + s.slot_name + ":0";
      w.trainable = false;
      w.tensor = make_ref(s.var.key);
      model.optimizer.weights.push_back(std::move(w));
    }
  }
  for (const auto& v : mapping.others) {
    Weight w;
    w.attr = v.attr;
    w.name = (v.full_name.empty() ? v.attr : v.full_name) + ":0";
    w.trainable = false;
    w.tensor = make_ref(v.key);
    model.top_level_weights.push_back(std::move(w));
  }
}

// ---------------------------------------------------------------------------------------------------
// Keras -> graph

std::string weight_attr(const Weight& weight, const Layer& layer, const std::string& file) {
  if (!weight.attr.empty()) return weight.attr;
  std::string name = strip_colon_index(weight.name);
  if (name.empty()) throw UnsupportedError(file, layer.name, "a weight of layer " + layer.name + " has no name");
  auto comps = split(name, '/');
  if (comps.size() == 1) {
    // Keras 1 "<layer>_W" / "<layer>_b" (and a few other unambiguous suffixes), or a bare attribute.
    const std::string prefix = layer.name + "_";
    if (!layer.name.empty() && name.size() > prefix.size() && name.compare(0, prefix.size(), prefix) == 0) {
      std::string suffix = name.substr(prefix.size());
      static const std::map<std::string, std::string> kKeras1 = {
          {"W", "kernel"}, {"b", "bias"}, {"gamma", "gamma"}, {"beta", "beta"},
          {"running_mean", "moving_mean"}, {"running_std", "moving_variance"}};
      auto it = kKeras1.find(suffix);
      if (it != kKeras1.end()) return it->second;
      throw UnsupportedError(file, layer.name, "cannot derive a checkpoint attribute for Keras 1 weight " + weight.name +
                                                   " (only _W, _b, _gamma, _beta, _running_mean, _running_std are known)");
    }
    return name;
  }
  std::vector<std::string> rest(comps.begin() + 1, comps.end());
  std::vector<std::string> out;
  for (size_t i = 0; i < rest.size(); ++i) {
    const std::string& c = rest[i];
    bool last = i + 1 == rest.size();
    if (!last && c.size() > 5 && c.compare(c.size() - 5, 5, "_cell") == 0) out.push_back("cell");
    else if (!last && (c.rfind("forward_", 0) == 0)) out.push_back("forward_layer");
    else if (!last && (c.rfind("backward_", 0) == 0)) out.push_back("backward_layer");
    else out.push_back(c);
  }
  if (layer.class_name == "TimeDistributed" && out.size() == 1) out.insert(out.begin(), "layer");
  return join(out, 0, out.size());
}

namespace {
struct TNode {
  std::vector<std::pair<std::string, TNode*>> children;
  std::vector<Attribute> attributes;
  struct PendingSlot {
    TNode* original;
    std::string slot_name;
    TNode* slot;
  };
  std::vector<PendingSlot> slots;
  int id = -1;
  std::string path;  // escaped path (first BFS path)
};

struct Arena {
  std::vector<std::unique_ptr<TNode>> nodes;
  TNode* make() {
    nodes.push_back(std::make_unique<TNode>());
    return nodes.back().get();
  }
};

TNode* child_of(Arena& arena, TNode* parent, const std::string& name) {
  for (auto& [n, c] : parent->children)
    if (n == name) return c;
  TNode* c = arena.make();
  parent->children.emplace_back(name, c);
  return c;
}
}  // namespace

namespace {
// Gives a nested model's node the children Keras tracks: per member `layer_with_weights-M` (when it
// has weights) then `layer-N`, the same node under both names; weightless members get new nodes.
// The graph built from the weights' object paths already holds the layer_with_weights-M nodes.
void attach_members(Graph& g, int node, std::vector<nested::Member>& members, const std::string& file) {
  std::map<std::string, int> built;
  for (const auto& [name, id] : g.nodes[static_cast<size_t>(node)].children) built[name] = id;
  std::vector<std::pair<std::string, int>> children;
  int m = 0;
  size_t used = 0;
  for (size_t i = 0; i < members.size(); ++i) {
    nested::Member& mem = members[i];
    int id;
    if (mem.has_weights) {
      std::string edge = "layer_with_weights-" + std::to_string(m++);
      auto it = built.find(edge);
      if (it == built.end()) throw UnsupportedError(file, mem.key, "internal: no object graph node for " + edge);
      id = it->second;
      ++used;
      children.emplace_back(edge, id);
    } else {
      id = static_cast<int>(g.nodes.size());
      g.nodes.emplace_back();
    }
    children.emplace_back("layer-" + std::to_string(i), id);
    mem.node = id;
    if (mem.spec.is_model()) attach_members(g, id, mem.members, file);
  }
  if (used != built.size()) throw UnsupportedError(file, "", "internal: unexpected children below a nested model");
  g.nodes[static_cast<size_t>(node)].children = std::move(children);
}

// Renumbers the nodes breadth-first from the root, as TF numbers them (slot variables, which no edge
// reaches, after the others). Returns old id -> new id.
std::vector<int> renumber(Graph& g) {
  const size_t n = g.nodes.size();
  std::vector<int> new_id(n, -1), order = {0};
  new_id[0] = 0;
  auto visit = [&](int id) {
    if (new_id[static_cast<size_t>(id)] >= 0) return;
    new_id[static_cast<size_t>(id)] = static_cast<int>(order.size());
    order.push_back(id);
  };
  for (size_t i = 0; i < order.size(); ++i)
    for (const auto& [name, c] : g.nodes[static_cast<size_t>(order[i])].children) visit(c);
  for (size_t i = 0; i < order.size(); ++i)
    for (const auto& s : g.nodes[static_cast<size_t>(order[i])].slots) visit(s.slot_node);
  for (size_t i = 0; i < n; ++i) visit(static_cast<int>(i));
  Graph out;
  out.nodes.resize(n);
  for (size_t old = 0; old < n; ++old) {
    Node node = std::move(g.nodes[old]);
    for (auto& c : node.children) c.second = new_id[static_cast<size_t>(c.second)];
    for (auto& s : node.slots) {
      s.original_node = new_id[static_cast<size_t>(s.original_node)];
      s.slot_node = new_id[static_cast<size_t>(s.slot_node)];
    }
    out.nodes[static_cast<size_t>(new_id[old])] = std::move(node);
  }
  g = std::move(out);
  return new_id;
}

void renumber_members(std::vector<nested::Member>& members, const std::vector<int>& new_id) {
  for (auto& m : members) {
    m.node = new_id[static_cast<size_t>(m.node)];
    renumber_members(m.members, new_id);
  }
}
}  // namespace

BuiltGraph build_keras(const Model& model, bool include_optimizer, const std::string& file) {
  std::optional<ArchitectureSpec> arch;
  if (model.has_architecture()) {
    try {
      arch = parse_architecture(model.model_config, model.path + ":model_config");
    } catch (const BadInputError&) {
      // Written flat, as before nested models were known (the layer list is what it is).
    }
  }
  return build_keras(model, arch ? &*arch : nullptr, include_optimizer, file);
}

BuiltGraph build_keras(const Model& model, const ArchitectureSpec* arch, bool include_optimizer, const std::string& file) {
  nested::Layout layout;
  if (arch) layout = nested::plan(model, *arch, file);
  std::map<size_t, TNode*> layer_node;  // index in model.layers -> node
  Arena arena;
  TNode* root = arena.make();
  struct PendingVar {
    TNode* node;
    const Weight* weight;
    std::string full_name;
  };
  std::vector<PendingVar> pending;
  std::map<std::string, TNode*> var_node_by_name;  // weight name without ":0" -> node

  int m_index = 0;
  for (size_t n = 0; n < model.layers.size(); ++n) {
    const Layer& layer = model.layers[n];
    TNode* ln = arena.make();
    layer_node[n] = ln;
    if (!layer.weights.empty()) root->children.emplace_back("layer_with_weights-" + std::to_string(m_index++), ln);
    root->children.emplace_back("layer-" + std::to_string(n), ln);
    std::set<std::string> attrs;
    auto nested_paths = layout.paths.find(n);
    for (size_t i = 0; i < layer.weights.size(); ++i) {
      const Weight& w = layer.weights[i];
      std::string attr = nested_paths != layout.paths.end() ? nested_paths->second[i] : weight_attr(w, layer, file);
      if (!attrs.insert(attr).second)
        throw UnsupportedError(file, layer.name, "two weights of layer " + layer.name + " map to the same checkpoint attribute '" +
                                                     attr + "' (set Weight::attr or use distinct names)");
      TNode* cur = ln;
      for (const auto& comp : split(attr, '/')) {
        if (comp.empty()) throw UnsupportedError(file, layer.name, "empty component in attribute path '" + attr + "'");
        cur = child_of(arena, cur, comp);
      }
      pending.push_back({cur, &w, strip_colon_index(w.name)});
      var_node_by_name[strip_colon_index(w.name)] = cur;
    }
  }
  for (const auto& w : model.top_level_weights) {
    std::string attr = !w.attr.empty() ? w.attr : strip_colon_index(w.name);
    TNode* cur = root;
    for (const auto& comp : split(attr, '/')) cur = child_of(arena, cur, comp);
    if (!cur->attributes.empty() || cur == root)
      throw UnsupportedError(file, w.name, "model-level weight path collides with another variable");
    pending.push_back({cur, &w, strip_colon_index(w.name)});
  }

  std::vector<PendingVar> slot_vars;  // slot nodes are not children of anything
  if (include_optimizer && !model.optimizer.weights.empty()) {
    TNode* opt = child_of(arena, root, "optimizer");
    std::set<std::string> used_local;
    for (const auto& w : model.optimizer.weights) {
      std::string base = strip_colon_index(w.name);
      std::string owner_path, slot_name;
      TNode* original = nullptr;
      std::vector<std::string> plain;  // local names below the optimizer node
      auto comps = split(base, '/');
      auto find_original = [&]() -> TNode* {
        if (comps.size() < 3) return nullptr;
        auto it = var_node_by_name.find(join(comps, 1, comps.size() - 1));
        return it == var_node_by_name.end() ? nullptr : it->second;
      };
      if (w.attr.rfind(".OPTIMIZER_SLOT/", 0) == 0) {
        std::string rest = w.attr.substr(16);
        size_t slash = rest.rfind('/');
        owner_path = slash == std::string::npos ? "" : rest.substr(0, slash);
        slot_name = slash == std::string::npos ? rest : rest.substr(slash + 1);
        original = find_original();
      } else if (w.attr.empty() || w.attr == w.name || w.attr.find(':') != std::string::npos) {
        original = find_original();
        if (original) slot_name = comps.back();
      }
      if (original) {
        TNode* owner = opt;
        if (!owner_path.empty())
          for (const auto& comp : split(owner_path, '/')) owner = child_of(arena, owner, comp);
        bool dup = false;
        for (const auto& s : owner->slots) dup |= (s.original == original && s.slot_name == slot_name);
        if (!dup) {
          TNode* slot = arena.make();
          owner->slots.push_back({original, slot_name, slot});
          slot_vars.push_back({slot, &w, base});
          continue;
        }
      }
      // An attr is an object path below the optimizer unless it is a slot spec or just repeats the
      // weight's name (H5 readers store "Adam/dense/kernel/m:0" there).
      bool attr_is_path = !w.attr.empty() && w.attr.rfind(".OPTIMIZER_SLOT/", 0) != 0 && w.attr != w.name &&
                          w.attr.find(':') == std::string::npos;
      if (attr_is_path) plain = split(w.attr, '/');
      else if (comps.size() == 2) plain = {comps[1]};  // "Adam/iter" -> iter
      else plain = {base};                             // unattributable: one escaped local name
      std::string plain_key = join(plain, 0, plain.size());
      TNode* cur = opt;
      for (const auto& comp : plain) cur = child_of(arena, cur, comp);
      if (!used_local.insert(plain_key).second)
        throw UnsupportedError(file, w.name, "two optimizer weights map to the same checkpoint path optimizer/" + plain_key);
      pending.push_back({cur, &w, base});
    }
  }

  // Assign ids breadth-first (as TF does) and compute first paths.
  std::vector<TNode*> order{root};
  root->id = 0;
  for (size_t i = 0; i < order.size(); ++i) {
    TNode* n = order[i];
    for (auto& [name, c] : n->children) {
      if (c->id >= 0) continue;
      c->id = static_cast<int>(order.size());
      c->path = n->path.empty() ? escape(name) : n->path + "/" + escape(name);
      order.push_back(c);
    }
  }
  BuiltGraph out;
  std::set<std::string> keys;
  auto add_var = [&](TNode* node, const Weight* w, const std::string& full_name) {
    std::string key = variable_key(node->path);
    if (!keys.insert(key).second) throw UnsupportedError(file, w->name, "duplicate checkpoint key " + key);
    node->attributes.push_back({kVariableValue, full_name, key});
    out.variables.push_back({key, w});
  };
  for (const auto& p : pending) add_var(p.node, p.weight, p.full_name);
  // Slot nodes come after the reachable ones.
  for (size_t i = 0; i < order.size(); ++i) {
    for (auto& s : order[i]->slots) {
      if (s.slot->id >= 0) continue;
      s.slot->id = static_cast<int>(order.size());
      std::string owner_path = order[i]->path;  // "optimizer" or "optimizer/base_optimizer"
      s.slot->path = s.original->path + "/.OPTIMIZER_SLOT/" + owner_path + "/" + escape(s.slot_name);
      order.push_back(s.slot);
    }
  }
  for (const auto& p : slot_vars) add_var(p.node, p.weight, p.full_name);

  out.graph.nodes.resize(order.size());
  for (TNode* n : order) {
    Node& g = out.graph.nodes[static_cast<size_t>(n->id)];
    for (auto& [name, c] : n->children) g.children.emplace_back(name, c->id);
    g.attributes = n->attributes;
    for (auto& s : n->slots) g.slots.push_back({s.original->id, s.slot_name, s.slot->id});
  }
  if (!layout.empty()) {
    for (auto& [index, members] : layout.members) attach_members(out.graph, layer_node.at(index)->id, members, file);
    std::vector<int> new_id = renumber(out.graph);
    for (auto& [index, members] : layout.members) renumber_members(members, new_id);
    // The checkpoint keys were made from the first paths before renumbering: they must still hold.
    std::vector<std::string> paths = node_paths(out.graph);
    for (size_t i = 0; i < out.graph.nodes.size(); ++i)
      for (const auto& a : out.graph.nodes[i].attributes)
        if (a.checkpoint_key.find(".OPTIMIZER_SLOT") == std::string::npos && a.checkpoint_key != variable_key(paths[i]))
          throw UnsupportedError(file, a.checkpoint_key, "internal: nested model key differs from its object path");
    out.nested = std::move(layout.members);
  }
  return out;
}

}  // namespace kmodel::objgraph
