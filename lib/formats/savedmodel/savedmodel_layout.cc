// See savedmodel_layout.h. Facts from the real SavedModels in testdata/savedmodel (TF 2.2, 2.10, 2.11,
// 2.12) and tf-keras saving/legacy/saved_model (layer/model/metric serialization), engine/base_layer.py,
// optimizers/optimizer.py, mixed_precision/loss_scale_optimizer.py.
#include "formats/savedmodel/savedmodel_layout.h"

#include <algorithm>
#include <cstdlib>
#include <set>

#include "core/json_util.h"
#include "kmodel/error.h"

namespace kmodel::formats::savedmodel {

namespace {

constexpr const char* kList = "trackable_list_wrapper";
constexpr const char* kDict = "trackable_dict_wrapper";
constexpr const char* kGeneric = "_generic_user_object";

std::string strip_index(const std::string& name) {
  size_t colon = name.rfind(':');
  return colon == std::string::npos ? name : name.substr(0, colon);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t p = s.find(sep, start);
    out.push_back(s.substr(start, p == std::string::npos ? std::string::npos : p - start));
    if (p == std::string::npos) break;
    start = p + 1;
  }
  return out;
}

// tf.keras before the Keras repository split (TF <= 2.5, "2.3.0-tf", "2.4.0") lists a layer's own
// attributes first and its serialization children after them, in another order (verified on the
// TF 2.2 sample; TF 2.10-2.12 on the others).
bool old_style(const std::string& keras_version) {
  if (keras_version.empty()) return false;
  char* end = nullptr;
  long major = std::strtol(keras_version.c_str(), &end, 10);
  long minor = (end && *end == '.') ? std::strtol(end + 1, nullptr, 10) : 0;
  return major < 2 || (major == 2 && minor < 6);
}

bool version_at_least(const std::string& keras_version, long want_minor) {
  if (keras_version.empty()) return true;
  char* end = nullptr;
  long major = std::strtol(keras_version.c_str(), &end, 10);
  long minor = (end && *end == '.') ? std::strtol(end + 1, nullptr, 10) : 0;
  return major > 2 || (major == 2 && minor >= want_minor);
}

bool is_rnn_class(const std::string& c) {
  static const std::set<std::string> k = {"LSTM", "GRU", "SimpleRNN", "RNN", "ConvLSTM1D", "ConvLSTM2D",
                                          "ConvLSTM3D", "CuDNNLSTM", "CuDNNGRU", "PeepholeLSTM"};
  return k.count(c) > 0;
}

struct Builder {
  objgraph::Graph& g;
  SavedModelLayout& out;
  int add(const std::string& ident, std::vector<std::pair<std::string, int>> children = {}) {
    objgraph::Node n;
    n.children = std::move(children);
    g.nodes.push_back(std::move(n));
    int id = static_cast<int>(g.nodes.size()) - 1;
    out.identifiers[id] = ident;
    return id;
  }
  int list(const std::vector<int>& items) {
    std::vector<std::pair<std::string, int>> c;
    for (size_t i = 0; i < items.size(); ++i) c.emplace_back(std::to_string(i), items[i]);
    return add(kList, std::move(c));
  }
};

bool is_variable(const objgraph::Graph& g, int id) {
  for (const auto& a : g.nodes[static_cast<size_t>(id)].attributes)
    if (a.name == "VARIABLE_VALUE") return true;
  return false;
}

// Variable nodes below `node` in child order (depth first, each once).
void collect_vars(const objgraph::Graph& g, int node, std::vector<int>& vars, std::set<int>& seen) {
  for (const auto& [name, c] : g.nodes[static_cast<size_t>(node)].children) {
    if (!seen.insert(c).second) continue;
    if (is_variable(g, c)) vars.push_back(c);
    else collect_vars(g, c, vars, seen);
  }
}

// One compiled metric of the training_config: a Keras metric object with `total` and `count`.
struct MetricPlan {
  std::string class_name, name, config_json;
  bool fn_kwargs = false;
};

bool total_count_class(const std::string& cls) {
  static const std::set<std::string> k = {"Mean", "MeanMetricWrapper", "Accuracy", "BinaryAccuracy",
                                          "CategoricalAccuracy", "SparseCategoricalAccuracy",
                                          "TopKCategoricalAccuracy", "SparseTopKCategoricalAccuracy",
                                          "MeanSquaredError", "MeanAbsoluteError", "MeanAbsolutePercentageError",
                                          "MeanSquaredLogarithmicError", "BinaryCrossentropy",
                                          "CategoricalCrossentropy", "SparseCategoricalCrossentropy", "Hinge",
                                          "SquaredHinge", "CategoricalHinge", "KLDivergence", "Poisson",
                                          "LogCoshError", "CosineSimilarity"};
  return k.count(cls) > 0;
}

void flatten_metrics(const json::Value& v, std::vector<const json::Value*>& out) {
  if (v.IsArray()) {
    for (const auto& e : v.GetArray()) flatten_metrics(e, out);
  } else if (v.IsObject() && !json::member(v, "class_name")) {
    for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) flatten_metrics(it->value, out);
  } else if (!v.IsNull()) {
    out.push_back(&v);
  }
}

std::vector<MetricPlan> plan_metrics(const std::string& training_config, const ArchitectureSpec& arch,
                                     std::vector<std::string>& warnings) {
  std::vector<MetricPlan> plans;
  if (training_config.empty()) return plans;
  json::Document tc = json::parse(training_config, "training_config");
  if (!tc.IsObject()) return plans;
  plans.push_back({"Mean", "loss", "{\"name\": \"loss\", \"dtype\": \"float32\"}", false});
  // A multi-output model tracks one loss Mean per output.
  if (arch.outputs.size() > 1)
    for (const auto& o : arch.outputs)
      plans.push_back({"Mean", o.layer + "_loss", "{\"name\": \"" + o.layer + "_loss\", \"dtype\": \"float32\"}", false});
  std::vector<const json::Value*> entries;
  for (const char* key : {"metrics", "weighted_metrics"})
    if (const json::Value* m = json::member(tc, key)) flatten_metrics(*m, entries);
  for (const json::Value* e : entries) {
    MetricPlan p;
    if (e->IsString()) {
      p.class_name = "MeanMetricWrapper";
      p.name = e->GetString();
      if (p.name == "acc") p.name = "accuracy";
      p.config_json = "{\"name\": " + json::quote(p.name) + ", \"dtype\": \"float32\"}";
      p.fn_kwargs = true;
    } else if (e->IsObject()) {
      p.class_name = json::get_string(*e, "class_name").value_or("");
      const json::Value* c = json::member(*e, "config");
      p.name = c ? json::get_string(*c, "name").value_or(p.class_name) : p.class_name;
      p.config_json = c ? json::to_string(*c) : "{}";
      p.fn_kwargs = p.class_name != "Mean";
    } else {
      continue;
    }
    if (!total_count_class(p.class_name)) {
      warnings.push_back("metric " + p.name + " (" + p.class_name +
                         ") keeps variables other than total/count; its state is not written (Keras recreates it)");
      continue;
    }
    plans.push_back(std::move(p));
  }
  return plans;
}

// Breadth-first renumbering from the root (slot variables after the others), unreachable nodes
// dropped; then every VARIABLE_VALUE key recomputed from the first paths. Returns old id -> new id
// (-1 = dropped) and fills key_map (old key -> new key).
std::vector<int> renumber(objgraph::Graph& g, std::map<std::string, std::string>& key_map) {
  const size_t n = g.nodes.size();
  std::vector<int> new_id(n, -1), order = {0};
  std::vector<std::string> path(n);
  new_id[0] = 0;
  for (size_t i = 0; i < order.size(); ++i)
    for (const auto& [name, c] : g.nodes[static_cast<size_t>(order[i])].children) {
      if (new_id[static_cast<size_t>(c)] >= 0) continue;
      new_id[static_cast<size_t>(c)] = static_cast<int>(order.size());
      const std::string& pp = path[static_cast<size_t>(order[i])];
      path[static_cast<size_t>(c)] = pp.empty() ? objgraph::escape(name) : pp + "/" + objgraph::escape(name);
      order.push_back(c);
    }
  const size_t reachable = order.size();
  for (size_t i = 0; i < reachable; ++i)
    for (const auto& s : g.nodes[static_cast<size_t>(order[i])].slots) {
      if (new_id[static_cast<size_t>(s.slot_node)] >= 0) continue;
      new_id[static_cast<size_t>(s.slot_node)] = static_cast<int>(order.size());
      path[static_cast<size_t>(s.slot_node)] = path[static_cast<size_t>(s.original_node)] + "/.OPTIMIZER_SLOT/" +
                                               path[static_cast<size_t>(order[i])] + "/" + objgraph::escape(s.slot_name);
      order.push_back(s.slot_node);
    }
  objgraph::Graph out;
  out.nodes.resize(order.size());
  for (size_t k = 0; k < order.size(); ++k) {
    objgraph::Node node = std::move(g.nodes[static_cast<size_t>(order[k])]);
    for (auto& c : node.children) c.second = new_id[static_cast<size_t>(c.second)];
    for (auto& s : node.slots) {
      s.original_node = new_id[static_cast<size_t>(s.original_node)];
      s.slot_node = new_id[static_cast<size_t>(s.slot_node)];
    }
    for (auto& a : node.attributes) {
      if (a.name != "VARIABLE_VALUE") continue;
      std::string key = objgraph::variable_key(path[static_cast<size_t>(order[k])]);
      key_map[a.checkpoint_key] = key;
      a.checkpoint_key = key;
    }
    out.nodes[k] = std::move(node);
  }
  g = std::move(out);
  return new_id;
}

// The optimizer node laid out as its class tracks it. Legacy OptimizerV2: `iter` then the
// hyper-parameters sorted by name (`_create_hypers` iterates the sorted `_hyper` dict), slot variables
// on the node. LossScaleOptimizer (legacy): children `base_optimizer` (that layout) and `loss_scale`
// (`current_loss_scale`, `good_steps`). Keras >= 2.11 optimizer_experimental: `_variables` (iterations,
// then per trainable variable the slots add_variable_from_reference created, in build order), then
// `_iterations`, `_learning_rate`, and once built `_index_dict` and the per-slot lists (Adam:
// `_momentums`, `_velocities`).
void restyle_optimizer(Builder& b, objgraph::Graph& g, int opt, const Model& model, const std::string& training_config,
                       const std::vector<int>& model_tvars, const std::map<int, const Weight*>& weight_of,
                       SavedModelLayout& out) {
  std::string cls = model.optimizer.class_name;
  bool legacy = true;
  if (!training_config.empty()) {
    json::Document tc = json::parse(training_config, "training_config");
    if (const json::Value* oc = tc.IsObject() ? json::member(tc, "optimizer_config") : nullptr) {
      if (auto c = json::get_string(*oc, "class_name")) cls = *c;
      if (const json::Value* c = json::member(*oc, "config"))
        if (auto l = json::get_bool(*c, "is_legacy_optimizer")) legacy = *l;
    }
  }
  if (cls.rfind("Custom>", 0) == 0) cls = cls.substr(7);
  // Variables below the optimizer (leaf local name) and its slot variables.
  std::vector<std::pair<std::string, int>> vars;
  std::vector<objgraph::SlotRef> slots;
  {
    std::set<int> seen = {opt};
    std::vector<int> stack = {opt};
    std::vector<int> order;
    for (size_t i = 0; i < stack.size(); ++i) {
      int n = stack[i];
      for (const auto& s : g.nodes[static_cast<size_t>(n)].slots) slots.push_back(s);
      g.nodes[static_cast<size_t>(n)].slots.clear();
      for (const auto& [name, c] : g.nodes[static_cast<size_t>(n)].children) {
        if (!seen.insert(c).second) continue;
        if (is_variable(g, c)) vars.emplace_back(name, c);
        else stack.push_back(c);
      }
    }
  }
  auto wname = [&](int node) {
    auto it = weight_of.find(node);
    return it == weight_of.end() ? std::string() : strip_index(it->second->name);
  };
  for (const auto& [name, c] : vars)
    if (name == "iteration" || name == "_iterations" || wname(c) == "iteration") legacy = false;
  objgraph::Node& on = g.nodes[static_cast<size_t>(opt)];
  if (legacy) {
    std::vector<std::pair<std::string, int>> hyper, scale;
    for (const auto& v : vars)
      (v.first == "current_loss_scale" || v.first == "good_steps" ? scale : hyper).push_back(v);
    // Keras < 2.2 optimizers (H5 names such as "training/Adam/Variable_3") keep their order.
    bool named = true;
    for (const auto& v : hyper) named = named && v.first.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string::npos;
    if (named)
      std::stable_sort(hyper.begin(), hyper.end(), [](const auto& x, const auto& y) {
      if ((x.first == "iter") != (y.first == "iter")) return x.first == "iter";
      return x.first < y.first;
    });
    out.identifiers[opt] = "optimizer";
    if (cls == "LossScaleOptimizer") {
      int base = b.add("optimizer", hyper);
      g.nodes[static_cast<size_t>(base)].slots = slots;
      for (const auto& v : scale) out.aggregation[v.second] = 0;
      int ls = b.add(kGeneric, scale);
      g.nodes[static_cast<size_t>(opt)].children = {{"base_optimizer", base}, {"loss_scale", ls}};
    } else {
      on.children = hyper;
      on.children.insert(on.children.end(), scale.begin(), scale.end());
      on.slots = slots;
    }
    return;
  }
  // optimizer_experimental
  out.identifiers[opt] = "experimentalOptimizer";
  std::map<std::string, int> tvar_by_name;
  std::map<int, size_t> tvar_rank;
  for (size_t i = 0; i < model_tvars.size(); ++i) {
    tvar_by_name[wname(model_tvars[i])] = model_tvars[i];
    tvar_rank[model_tvars[i]] = i;
  }
  int iterations = -1, lr = -1;
  struct Slot {
    size_t var_rank;
    int slot_rank;
    std::string slot;
    int node;
  };
  std::vector<Slot> slot_vars;
  std::vector<std::pair<std::string, int>> others;
  static const std::vector<std::string> kSlotOrder = {"m", "v", "vhat"};
  for (const auto& [name, c] : vars) {
    std::string wn = wname(c);
    if (name == "iteration" || name == "_iterations" || wn == "iteration") {
      iterations = c;
      continue;
    }
    if (name == "learning_rate" || name == "_learning_rate" || wn == "learning_rate") {
      lr = c;
      continue;
    }
    auto comps = split(wn, '/');
    bool placed = false;
    if (comps.size() >= 3) {
      std::string original;
      for (size_t i = 2; i < comps.size(); ++i) original += (i > 2 ? "/" : "") + comps[i];
      auto it = tvar_by_name.find(original);
      if (it != tvar_by_name.end()) {
        auto r = std::find(kSlotOrder.begin(), kSlotOrder.end(), comps[1]);
        slot_vars.push_back({tvar_rank[it->second], static_cast<int>(r - kSlotOrder.begin()), comps[1], c});
        placed = true;
      }
    }
    if (!placed) others.emplace_back(name, c);
  }
  std::stable_sort(slot_vars.begin(), slot_vars.end(), [](const Slot& x, const Slot& y) {
    return x.var_rank != y.var_rank ? x.var_rank < y.var_rank : x.slot_rank < y.slot_rank;
  });
  std::vector<int> list;
  if (iterations >= 0) list.push_back(iterations);
  for (const auto& s : slot_vars) list.push_back(s.node);
  std::vector<std::pair<std::string, int>> ch = {{"_variables", b.list(list)}};
  if (iterations >= 0) ch.emplace_back("_iterations", iterations);
  if (lr >= 0) ch.emplace_back("_learning_rate", lr);
  for (const auto& [name, c] : vars) {
    out.aggregation[c] = 0;
    out.trainable[c] = false;
  }
  if (!slot_vars.empty()) {
    ch.emplace_back("_index_dict", b.add(kDict));
    std::map<std::string, std::string> lists;
    if (cls == "Adam" || cls == "AdamW") lists = {{"m", "_momentums"}, {"v", "_velocities"}, {"vhat", "_velocity_hats"}};
    else if (cls == "SGD") lists = {{"m", "momentums"}};
    for (const std::string& slot : kSlotOrder) {
      auto it = lists.find(slot);
      if (it == lists.end()) continue;
      std::vector<int> items;
      for (const auto& s : slot_vars)
        if (s.slot == slot) items.push_back(s.node);
      if (!items.empty()) ch.emplace_back(it->second, b.list(items));
    }
    if (lists.empty())
      out.warnings.push_back("optimizer " + cls + ": its per-slot lists are not known to kmodel; only `_variables` is written");
  }
  ch.insert(ch.end(), others.begin(), others.end());
  g.nodes[static_cast<size_t>(opt)].children = std::move(ch);
}

}  // namespace

SavedModelLayout add_keras_serialization(objgraph::BuiltGraph& built, const Model& model, const ArchitectureSpec& arch,
                                         const std::string& training_config,
                                         const std::function<bool(const Weight*)>& trainable) {
  SavedModelLayout out;
  objgraph::Graph& g = built.graph;
  Builder b{g, out};
  const bool old = old_style(model.keras_version);
  const bool random_gen = version_at_least(model.keras_version, 10);

  std::map<int, const Weight*> weight_of;
  {
    std::map<std::string, const Weight*> by_key;
    for (const auto& v : built.variables) by_key[v.key] = v.weight;
    for (size_t i = 0; i < g.nodes.size(); ++i)
      for (const auto& a : g.nodes[i].attributes)
        if (a.name == "VARIABLE_VALUE" && by_key.count(a.checkpoint_key)) weight_of[static_cast<int>(i)] = by_key[a.checkpoint_key];
  }
  auto is_trainable = [&](int node) {
    auto it = weight_of.find(node);
    return it != weight_of.end() && trainable(it->second);
  };

  // ---- layers and models ----------------------------------------------------------------------
  std::map<int, std::vector<int>> layer_vars;  // layer/model node -> its variables (Keras `variables` order)
  // `kind`: 0 layer, 1 model (nested or root), 2 RNN cell.
  std::function<void(int, const std::string&, int, const std::vector<int>&)> layer_object =
      [&](int node, const std::string& cls, int kind, const std::vector<int>& sublayers) {
        if (kind == 2) out.identifiers[node] = "_tf_keras_layer";  // an RNN cell (no metadata node written)
        std::vector<int> vars;
        std::set<int> seen;
        collect_vars(g, node, vars, seen);
        layer_vars[node] = vars;
        std::vector<int> tvars, ntvars;
        for (int v : vars) (is_trainable(v) ? tvars : ntvars).push_back(v);
        std::vector<std::pair<std::string, int>> own = g.nodes[static_cast<size_t>(node)].children;
        // Sub-layers tracked through attributes: RNN cells and wrapped layers.
        std::vector<int> tracked_sub = sublayers;
        for (const auto& [name, c] : own) {
          if (name == "cell") {
            layer_object(c, cls + "Cell", 2, {});
            tracked_sub.push_back(c);
          } else if (name == "forward_layer" || name == "backward_layer" || name == "layer") {
            layer_object(c, "", 0, {});
          }
        }
        if (!old && cls == "Normalization") {
          std::vector<std::pair<std::string, int>> ch = {{"keras_api", b.add(kGeneric)}};
          for (const char* l : {"_keep_axis", "_reduce_axis", "_reduce_axis_mask", "_broadcast_shape"})
            ch.emplace_back(l, b.list({}));
          for (const auto& [name, c] : own) {
            ch.emplace_back(name, c);
            if (name == "mean" || name == "variance") ch.emplace_back("adapt_" + name, c);
          }
          g.nodes[static_cast<size_t>(node)].children = std::move(ch);
          return;
        }
        const bool rnn = kind == 0 && is_rnn_class(cls);
        int vl = b.list(vars), tl = b.list(tvars), rl = b.list({});
        std::vector<std::pair<std::string, int>> ka;
        if (rnn && !old) ka.emplace_back("states", b.list({}));
        ka.emplace_back("non_trainable_variables", b.list(ntvars));
        std::vector<std::pair<std::string, int>> shared =
            old ? (kind == 1 ? std::vector<std::pair<std::string, int>>{{"variables", vl}, {"regularization_losses", rl}, {"trainable_variables", tl}}
                             : std::vector<std::pair<std::string, int>>{{"regularization_losses", rl}, {"variables", vl}, {"trainable_variables", tl}})
                : std::vector<std::pair<std::string, int>>{{"variables", vl}, {"trainable_variables", tl}, {"regularization_losses", rl}};
        if (old) ka.insert(ka.end(), shared.begin(), shared.end());
        int lrl = b.list({}), layers = b.list(tracked_sub);
        int metrics = b.list({}), lm = b.add(kDict);
        if (old) {
          ka.insert(ka.end(), {{"layer_regularization_losses", lrl}, {"layers", layers}, {"metrics", metrics}, {"layer_metrics", lm}});
        } else {
          ka.insert(ka.end(), {{"layers", layers}, {"metrics", metrics}, {"layer_regularization_losses", lrl}, {"layer_metrics", lm}});
          ka.insert(ka.end(), shared.begin(), shared.end());
        }
        int api = b.add(kGeneric, ka);
        shared.emplace_back("keras_api", api);
        std::vector<std::pair<std::string, int>> ch;
        if (kind == 1 || old) {
          ch = own;
          ch.insert(ch.end(), shared.begin(), shared.end());
        } else {
          ch = shared;
          bool gen = random_gen && (cls == "LSTM" || cls == "GRU" || cls == "LSTMCell" || cls == "GRUCell" ||
                                    cls == "SimpleRNNCell");
          if (gen) ch.emplace_back("_random_generator", b.add(kGeneric));
          if (kind == 2 && cls == "LSTMCell") ch.emplace_back("state_size", b.list({}));
          ch.insert(ch.end(), own.begin(), own.end());
          if (rnn) ch.emplace_back("state_spec", b.list({}));
        }
        g.nodes[static_cast<size_t>(node)].children = std::move(ch);
      };

  // Nested models: their members, recursively.
  std::function<void(int, const nested::Member&)> member_object = [&](int node, const nested::Member& m) {
    if (!m.spec.is_model()) {
      layer_object(node, m.spec.class_name, 0, {});
      return;
    }
    std::vector<int> subs;
    for (const auto& sm : m.members) {
      member_object(sm.node, sm);
      subs.push_back(sm.node);
    }
    layer_object(node, m.spec.class_name, 1, subs);
  };
  std::vector<std::pair<int, size_t>> root_layers;  // (node, index in model.layers), layer-N order
  for (const auto& [name, id] : g.nodes[0].children)
    if (name.rfind("layer-", 0) == 0) root_layers.emplace_back(id, std::stoul(name.substr(6)));
  for (const auto& [node, index] : root_layers) {
    auto nit = built.nested.find(index);
    if (nit != built.nested.end()) {
      std::vector<int> subs;
      for (const auto& m : nit->second) {
        member_object(m.node, m);
        subs.push_back(m.node);
      }
      layer_object(node, model.layers[index].class_name, 1, subs);
    } else {
      layer_object(node, model.layers[index].class_name, 0, {});
    }
  }

  // ---- the root -------------------------------------------------------------------------------
  std::vector<int> root_vars, root_tvars, root_ntvars, root_layer_nodes;
  {
    std::set<int> seen;
    for (const auto& [node, index] : root_layers) {
      root_layer_nodes.push_back(node);
      for (int v : layer_vars[node])
        if (seen.insert(v).second) root_vars.push_back(v);
    }
    for (const auto& [name, c] : g.nodes[0].children)
      if (name.rfind("layer", 0) != 0 && name != "optimizer" && is_variable(g, c) && seen.insert(c).second)
        root_vars.push_back(c);
    for (int v : root_vars) (is_trainable(v) ? root_tvars : root_ntvars).push_back(v);
  }
  // Compiled metrics: keras_api/metrics/N.
  std::vector<int> metric_nodes;
  for (const auto& p : plan_metrics(training_config, arch, out.warnings)) {
    std::vector<int> vars;
    for (const char* vname : {"total", "count"}) {
      Weight w;
      w.name = std::string(vname) + ":0";
      w.attr = vname;
      w.trainable = false;
      Tensor t;
      t.dtype = DType::kFloat32;
      t.data.assign(4, 0);
      w.tensor = TensorRef::from_tensor(std::move(t));
      out.extra_weights.push_back(std::move(w));
      objgraph::Node n;
      g.nodes.push_back(std::move(n));
      int id = static_cast<int>(g.nodes.size()) - 1;
      std::string key = "keras_api/metrics/" + std::to_string(metric_nodes.size()) + "/" + vname + "/.ATTRIBUTES/VARIABLE_VALUE";
      g.nodes.back().attributes.push_back({"VARIABLE_VALUE", vname, key});
      built.variables.push_back({key, &out.extra_weights.back()});
      out.synchronization[id] = 3;  // ON_READ
      out.aggregation[id] = 1;      // SUM
      out.trainable[id] = false;
      vars.push_back(id);
    }
    int vl = b.list(vars);
    int api = b.add(kGeneric, {{"variables", vl}});
    std::vector<std::pair<std::string, int>> ch;
    if (old) ch = {{"total", vars[0]}, {"count", vars[1]}, {"variables", vl}, {"keras_api", api}};
    else ch = {{"variables", vl}, {"keras_api", api}, {"total", vars[0]}, {"count", vars[1]}};
    if (p.fn_kwargs && !old) ch.emplace_back("_fn_kwargs", b.add(kDict));
    int m = b.add("_tf_keras_metric", ch);
    json::Document d;
    d.SetObject();
    auto& a = d.GetAllocator();
    d.AddMember("class_name", json::Value(p.class_name.c_str(), a), a);
    d.AddMember("name", json::Value(p.name.c_str(), a), a);
    d.AddMember("dtype", "float32", a);
    json::Document c = json::parse(p.config_json, "training_config");
    json::Value cv;
    cv.CopyFrom(c, a);
    d.AddMember("config", cv, a);
    out.metric_metadata.emplace_back(m, json::to_string(d));
    metric_nodes.push_back(m);
  }
  {
    std::vector<std::pair<std::string, int>> own = g.nodes[0].children, layers_part, rest;
    int optimizer = -1;
    for (const auto& c : own) {
      if (c.first == "optimizer") optimizer = c.second;
      else if (c.first.rfind("layer", 0) == 0) layers_part.push_back(c);
      else rest.push_back(c);
    }
    int vl = b.list(root_vars), tl = b.list(root_tvars), rl = b.list({});
    int ntl = b.list(root_ntvars), ll = b.list(root_layer_nodes), ml = b.list(metric_nodes);
    int lrl = b.list({}), lm = b.add(kDict);
    std::vector<std::pair<std::string, int>> ka, ch = layers_part;
    ch.insert(ch.end(), rest.begin(), rest.end());
    if (old) {
      ka = {{"non_trainable_variables", ntl}, {"variables", vl}, {"regularization_losses", rl}, {"trainable_variables", tl},
            {"layer_regularization_losses", lrl}, {"layers", ll}, {"metrics", ml}, {"layer_metrics", lm}};
      if (optimizer >= 0) ch.emplace_back("optimizer", optimizer);
      ch.insert(ch.end(), {{"variables", vl}, {"regularization_losses", rl}, {"trainable_variables", tl}});
      ch.emplace_back("keras_api", b.add(kGeneric, ka));
    } else {
      ka = {{"non_trainable_variables", ntl}, {"layers", ll}, {"metrics", ml}, {"layer_regularization_losses", lrl},
            {"layer_metrics", lm}, {"variables", vl}, {"trainable_variables", tl}, {"regularization_losses", rl}};
      ch.insert(ch.end(), {{"variables", vl}, {"trainable_variables", tl}, {"regularization_losses", rl}});
      ch.emplace_back("keras_api", b.add(kGeneric, ka));
      if (optimizer >= 0) ch.emplace_back("optimizer", optimizer);
    }
    ch.emplace_back("signatures", b.add("signature_map"));
    g.nodes[0].children = std::move(ch);
    if (optimizer >= 0) restyle_optimizer(b, g, optimizer, model, training_config, root_tvars, weight_of, out);
  }

  std::map<std::string, std::string> key_map;
  std::vector<int> new_id = renumber(g, key_map);
  for (auto& v : built.variables) {
    auto it = key_map.find(v.key);
    if (it != key_map.end()) v.key = it->second;
  }
  auto remap = [&](auto& m) {
    std::decay_t<decltype(m)> r;
    for (auto& e : m)
      if (new_id[static_cast<size_t>(e.first)] >= 0) r[new_id[static_cast<size_t>(e.first)]] = e.second;
    m = std::move(r);
  };
  remap(out.identifiers);
  remap(out.synchronization);
  remap(out.aggregation);
  remap(out.trainable);
  for (auto& e : out.metric_metadata) e.first = new_id[static_cast<size_t>(e.first)];
  std::function<void(std::vector<nested::Member>&)> fix = [&](std::vector<nested::Member>& ms) {
    for (auto& m : ms) {
      m.node = new_id[static_cast<size_t>(m.node)];
      fix(m.members);
    }
  };
  for (auto& e : built.nested) fix(e.second);
  return out;
}

}  // namespace kmodel::formats::savedmodel
