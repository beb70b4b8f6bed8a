// Planning the object-graph layout of nested models (nested_layout.h).
#include "core/nested_layout.h"

#include <algorithm>
#include <set>

#include "core/object_graph.h"
#include "core/weight_matching.h"
#include "kmodel/error.h"

namespace kmodel::nested {

namespace {

struct PendingWeight {
  size_t index = 0;                // in the top-level IR layer's weights
  std::vector<std::string> comps;  // path below the current container, first = a layer name
};


std::string join_path(const std::vector<std::string>& comps, size_t from) {
  std::string out;
  for (size_t i = from; i < comps.size(); ++i) out += (i > from ? "/" : "") + comps[i];
  return out;
}

std::string strip_index(const std::string& name) {
  size_t colon = name.rfind(':');
  return colon == std::string::npos ? name : name.substr(0, colon);
}

void names_below(const ArchitectureSpec& arch, const std::string& file, int depth, std::set<std::string>& out) {
  if (depth > kMaxNesting) return;
  for (const auto& l : arch.layers) {
    out.insert(l.name);
    if (l.is_model()) names_below(parse_nested_architecture(l, arch.dialect, file), file, depth + 1, out);
  }
}

// Splits the weights of a nested model among its members: a weight whose path starts with a member's
// name belongs to it; one naming a layer deeper down belongs to the nested member that holds it.
std::vector<Member> plan_members(const ArchitectureSpec& arch, const std::string& key, std::vector<PendingWeight> weights,
                                 const Layer& top, const std::string& file, int depth) {
  if (depth > kMaxNesting)
    throw UnsupportedError(file, top.name, "models nested more than " + std::to_string(kMaxNesting) + " levels deep");
  std::vector<Member> members;
  for (const LayerSpec* l : tracked_layers(arch)) {
    Member m;
    m.spec = *l;
    m.key = key + "/" + l->name;
    members.push_back(std::move(m));
  }
  std::vector<std::set<std::string>> below(members.size());
  for (size_t i = 0; i < members.size(); ++i)
    if (members[i].spec.is_model())
      names_below(parse_nested_architecture(members[i].spec, arch.dialect, file), file, depth + 1, below[i]);
  std::vector<std::vector<PendingWeight>> pending(members.size());
  for (auto& pw : weights) {
    const Weight& w = top.weights[pw.index];
    if (pw.comps.size() < 2)
      throw UnsupportedError(file, top.name,
                             "weight '" + w.name + "' of nested model '" + top.name + "' names none of its layers");
    size_t target = members.size();
    for (size_t i = 0; i < members.size() && target == members.size(); ++i)
      if (members[i].spec.name == pw.comps[0]) target = i;
    if (target < members.size() && !members[target].spec.is_model()) {
      // Normalize the rest as a layer weight would be ("lstm_cell/kernel" -> "cell/kernel").
      Weight probe;
      probe.name = pw.comps[0] + "/" + join_path(pw.comps, 1) + ":0";
      Layer owner{pw.comps[0], members[target].spec.class_name, {}};
      members[target].weights.emplace_back(pw.index, objgraph::weight_attr(probe, owner, file));
      continue;
    }
    if (target < members.size()) {
      pending[target].push_back({pw.index, std::vector<std::string>(pw.comps.begin() + 1, pw.comps.end())});
      continue;
    }
    for (size_t i = 0; i < members.size() && target == members.size(); ++i)
      if (below[i].count(pw.comps[0])) target = i;
    if (target == members.size())
      throw UnsupportedError(file, top.name,
                             "cannot tell which layer of nested model '" + top.name + "' owns weight '" + w.name +
                                 "' ('" + pw.comps[0] + "' is none of its layers)");
    pending[target].push_back(std::move(pw));
  }
  for (size_t i = 0; i < members.size(); ++i) {
    Member& m = members[i];
    if (m.spec.is_model()) {
      ArchitectureSpec sub = parse_nested_architecture(m.spec, arch.dialect, file);
      m.members = plan_members(sub, m.key, std::move(pending[i]), top, file, depth + 1);
      for (const auto& s : m.members) m.has_weights = m.has_weights || s.has_weights;
    } else {
      m.has_weights = !m.weights.empty();
    }
  }
  return members;
}

// The object path of each weight below the nested model: layer_with_weights-M numbered over the
// members with weights, as Keras' checkpoint dependencies name them.
void member_paths(const std::vector<Member>& members, const std::string& base, std::vector<std::string>& attr_of) {
  int m = 0;
  for (const auto& mem : members) {
    if (!mem.has_weights) continue;
    std::string edge = base + "layer_with_weights-" + std::to_string(m++) + "/";
    for (const auto& [index, attr] : mem.weights) attr_of[index] = edge + attr;
    member_paths(mem.members, edge, attr_of);
  }
}
}  // namespace

Owners::Owners(const ArchitectureSpec& arch, const std::string& file) {
  for (size_t i = 0; i < arch.layers.size(); ++i) direct_.emplace(arch.layers[i].name, static_cast<int>(i));
  for (size_t i = 0; i < arch.layers.size(); ++i) {
    if (!arch.layers[i].is_model()) continue;
    std::set<std::string> names;
    names_below(parse_nested_architecture(arch.layers[i], arch.dialect, file), file, 1, names);
    for (const auto& n : names) below_.emplace(n, static_cast<int>(i));
  }
}

int Owners::find(const std::string& weight_name) const {
  std::vector<std::string> comps = split_path(strip_index(weight_name));
  for (size_t i = 0; i + 1 < comps.size(); ++i) {
    auto it = direct_.find(comps[i]);
    if (it != direct_.end()) return it->second;
  }
  for (size_t i = 0; i + 1 < comps.size(); ++i) {
    auto it = below_.find(comps[i]);
    if (it != below_.end()) return it->second;
  }
  return -1;
}

std::vector<const LayerSpec*> tracked_layers(const ArchitectureSpec& arch) {
  std::vector<const LayerSpec*> out;
  for (const auto& l : arch.layers)
    if (!(arch.class_name == "Sequential" && l.class_name == "InputLayer")) out.push_back(&l);  // not in Sequential.layers
  return out;
}

Layout plan(const Model& model, const ArchitectureSpec& arch, const std::string& file) {
  Layout out;
  std::map<std::string, const LayerSpec*> spec_of;
  for (const auto& l : arch.layers) spec_of[l.name] = &l;
  for (size_t n = 0; n < model.layers.size(); ++n) {
    const Layer& layer = model.layers[n];
    auto sit = spec_of.find(layer.name);
    if (sit == spec_of.end() || !sit->second->is_model()) continue;
    ArchitectureSpec sub = parse_nested_architecture(*sit->second, arch.dialect, model.path + ":model_config");
    // Readers give a nested weight's attr with its layer ("dense_a/kernel", H5) or without it
    // ("kernel", .keras); the name starts with the layer ("dense_a/kernel:0").
    std::set<std::string> names;
    names_below(sub, file, 1, names);
    std::vector<PendingWeight> pending;
    for (size_t i = 0; i < layer.weights.size(); ++i) {
      const Weight& w = layer.weights[i];
      std::vector<std::string> by_attr = split_path(w.attr), by_name = split_path(strip_index(w.name));
      bool name_ends_with_attr = !w.attr.empty() && by_name.size() > by_attr.size() &&
                                 std::equal(by_attr.rbegin(), by_attr.rend(), by_name.rbegin());
      if (!w.attr.empty() && names.count(by_attr[0])) pending.push_back({i, by_attr});
      else if (name_ends_with_attr && names.count(by_name[0])) pending.push_back({i, by_name});  // "deep/d1/kernel"
      else if (!w.attr.empty() && names.count(by_name[0]) && by_name.size() > 1) {
        by_attr.insert(by_attr.begin(), by_name[0]);
        pending.push_back({i, by_attr});
      } else pending.push_back({i, by_name});
    }
    std::vector<Member> members = plan_members(sub, layer.name, std::move(pending), layer, file, 1);
    std::vector<std::string> attr_of(layer.weights.size());
    member_paths(members, "", attr_of);
    out.paths[n] = std::move(attr_of);
    out.members[n] = std::move(members);
  }
  return out;
}

}  // namespace kmodel::nested
