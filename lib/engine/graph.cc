// Graph building and execution (see graph.h).
#include "engine/graph.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "core/json_util.h"
#include "core/nested_layout.h"
#include "kmodel/error.h"

namespace kmodel::engine {

struct Graph::Node {
  LayerSpec spec;
  bool is_input = false;
  int input_index = -1;                 // for InputLayer nodes
  std::unique_ptr<Layer> layer;         // null for InputLayer
  std::unique_ptr<Graph> submodel;      // nested model
  bool fused_away = false;  // Sequential: computed by the layer before it (Layer::fuse_next)
  // Per inbound node: the input tensors, then the tensors passed as kwargs the layer reads; node
  // indices already mapped to positions in the producing layer's inbound_nodes (see nested_numbering()).
  std::vector<std::vector<TensorLink>> calls;
};

namespace {

// Nested model layer: runs its own Graph.
class ModelLayer : public Layer {
 public:
  explicit ModelLayer(const Graph* g) : g_(g) {}
  std::vector<Array> apply(const std::vector<Array>& in, const Mask&) const override { return g_->run(in); }

 private:
  const Graph* g_;
};

std::vector<int64_t> shape_from_json(const std::string& text, const std::string& file) {
  std::vector<int64_t> out;
  if (text.empty()) return out;
  auto doc = json::parse(text, file);
  if (!doc.IsArray()) return out;
  for (const auto& e : doc.GetArray()) out.push_back(e.IsNumber() ? json::to_int64(e.GetDouble()) : -1);
  return out;
}

// Tensor links held in a kwargs JSON under `key`: Keras 2 [name, node, index] triples (or lists of
// them) and Keras 3 __keras_tensor__ objects.
void collect_links(const json::Value& v, std::vector<TensorLink>& out) {
  if (v.IsArray() && v.Size() >= 3 && v[0].IsString() && v[1].IsNumber() && v[2].IsNumber()) {
    out.push_back({v[0].GetString(), v[1].GetInt(), v[2].GetInt()});
  } else if (v.IsArray()) {
    for (const auto& e : v.GetArray()) collect_links(e, out);
  } else if (v.IsObject()) {
    auto cls = json::get_string(v, "class_name");
    if (cls && *cls == "__keras_tensor__") {
      const json::Value* cfg = json::member(v, "config");
      const json::Value* h = cfg ? json::member(*cfg, "keras_history") : nullptr;
      if (h) collect_links(*h, out);
    }
  }
}

// Every tensor link anywhere in a call's kwargs JSON (inside lists and dicts at any depth).
void collect_all_links(const json::Value& v, std::vector<TensorLink>& out) {
  bool triple = v.IsArray() && v.Size() >= 3 && v[0].IsString() && v[1].IsNumber() && v[2].IsNumber();
  if (triple || (v.IsObject() && json::get_string(v, "class_name") == std::optional<std::string>("__keras_tensor__"))) {
    collect_links(v, out);
  } else if (v.IsObject()) {
    for (const auto& m : v.GetObject()) collect_all_links(m.value, out);
  } else if (v.IsArray()) {
    for (const auto& e : v.GetArray()) collect_all_links(e, out);
  }
}

std::vector<TensorLink> kwarg_links(const std::string& kwargs_json, const std::vector<std::string>& keys,
                                    const std::string& file) {
  std::vector<TensorLink> out;
  if (keys.empty() || kwargs_json.empty() || kwargs_json == "{}") return out;
  auto doc = json::parse(kwargs_json, file);
  if (!doc.IsObject()) return out;
  for (const auto& k : keys)
    if (const json::Value* v = json::member(doc, k.c_str())) collect_links(*v, out);
  return out;
}

// How references to the calls of one layer are numbered: a reference's node index minus `call` (in
// call arguments, i.e. inbound nodes) or minus `io` (in input_layers / output_layers) is the position
// in the layer's serialized inbound_nodes.
struct Numbering {
  int call = 0;
  int io = 0;
};

// References count only the calls of a layer made within this model, from 0, except for nested models:
// - Keras 1/2 (tf.keras functional.py _should_skip_first_node, reconstruct_from_config): a nested
//   Functional, or a Sequential that has an input layer, owns a node 0 made when it was built, which is
//   not serialized: all references to it count from 1.
// - Keras 3 (keras/src/models/functional.py serialize_node, get_config, functional_from_config; a
//   model owns no creation node there): call arguments' keras_history count from 0 for every layer;
//   only input_layers / output_layers count a Functional's calls from 1 (get_config's kept_nodes,
//   which get_tensor takes off again). A Keras 3 Sequential counts from 0 everywhere.
// Files mix the two: Keras 3 writes its numbering into legacy H5 model_configs too (read as Keras 2
// here), and converters may carry one dialect's numbers into the other's form. So a nested model
// takes its dialect's numbering unless that leaves a reference out of range, or one of its calls
// unreferenced (Keras serializes only calls that lead to an output), while another numbering seen in
// practice -- (0, 0), (1, 1) or (0, 1) -- does not.
Numbering nested_numbering(const LayerSpec& spec, const ArchitectureSpec& sub, KerasDialect dialect,
                           const std::vector<int>& call_refs, const std::vector<int>& io_refs) {
  bool has_input = sub.class_name != "Sequential" || !sub.batch_input_shape_json.empty() ||
                   (!sub.layers.empty() && sub.layers[0].class_name == "InputLayer");
  Numbering primary = dialect == KerasDialect::kKeras3 ? Numbering{0, spec.class_name == "Sequential" ? 0 : 1}
                                                       : (has_input ? Numbering{1, 1} : Numbering{0, 0});
  const int calls = static_cast<int>(spec.inbound_nodes.size());
  auto fits = [&](Numbering n, bool every_call) {
    std::vector<char> used(static_cast<size_t>(calls), 0);
    for (int r : call_refs) {
      if (r - n.call < 0 || r - n.call >= calls) return false;
      used[static_cast<size_t>(r - n.call)] = 1;
    }
    for (int r : io_refs) {
      if (r - n.io < 0 || r - n.io >= calls) return false;
      used[static_cast<size_t>(r - n.io)] = 1;
    }
    for (char u : used)
      if (every_call && !u) return false;
    return true;
  };
  const Numbering candidates[] = {primary, {0, 0}, {1, 1}, {0, 1}};
  for (bool every_call : {true, false})
    for (const Numbering& n : candidates)
      if (fits(n, every_call)) return n;
  return primary;  // nothing fits: run time names the reference that is out of range
}

// Splits a nested model's weights among its own layers by name (core/nested_layout's Owners: the
// first component naming one of its layers, "dense_1/kernel:0" -> dense_1; a model nested deeper,
// "inner/dense_1/kernel:0" or "dense_1/kernel:0", goes to `inner`, which splits them again; Keras 1
// "dense_1_W" -> longest layer-name prefix).
WeightProvider nested_provider(const std::vector<const Weight*>& all, const ArchitectureSpec& arch,
                               const WeightProvider& parent, const std::string& file) {
  std::vector<std::string> names;
  std::function<void(const ArchitectureSpec&)> walk = [&](const ArchitectureSpec& a) {
    for (const auto& l : a.layers) {
      names.push_back(l.name);
      if (l.is_model()) walk(parse_nested_architecture(l, a.dialect, file));
    }
  };
  walk(arch);
  nested::Owners owners(arch, file);
  auto owner = [&](const std::string& wname) -> std::string {
    int o = owners.find(wname);
    if (o >= 0) return arch.layers[static_cast<size_t>(o)].name;
    std::string best;
    for (const auto& n : names)
      if (wname.size() > n.size() && wname.compare(0, n.size(), n) == 0 && wname[n.size()] == '_' && n.size() > best.size())
        best = n;
    return best;
  };
  auto table = std::make_shared<std::map<std::string, std::vector<const Weight*>>>();
  bool any = false;
  for (const Weight* w : all) {
    std::string o = owner(w->name);
    if (!o.empty()) any = true;
    (*table)[o].push_back(w);
  }
  // Weight names that say nothing (empty or unmatched): fall back to the parent's per-layer lists.
  if (!any) return parent;
  return [table](const std::string& layer) {
    auto it = table->find(layer);
    return it == table->end() ? std::vector<const Weight*>{} : it->second;
  };
}

}  // namespace

Graph::~Graph() = default;

Graph::Graph(const ArchitectureSpec& arch, const WeightProvider& weights, const std::string& file) : file_(file) {
  sequential_ = arch.class_name == "Sequential";
  std::map<size_t, ArchitectureSpec> subs;  // nested models by layer position
  for (size_t i = 0; i < arch.layers.size(); ++i) {
    const LayerSpec& spec = arch.layers[i];
    auto node = std::make_unique<Node>();
    node->spec = spec;
    if (spec.class_name == "InputLayer") {
      node->is_input = true;
    } else if (spec.is_model()) {
      subs.emplace(i, parse_nested_architecture(spec, arch.dialect, file));
      ArchitectureSpec& sub = subs.at(i);
      sub.keras_version = arch.keras_version;
      node->submodel = std::make_unique<Graph>(sub, nested_provider(weights(spec.name), sub, weights, file), file);
      node->layer = std::make_unique<ModelLayer>(node->submodel.get());
      for (const auto& call : spec.inbound_nodes) node->calls.push_back(call.inputs);
    } else {
      LayerParams p;
      p.name = spec.name;
      p.class_name = spec.class_name;
      p.dialect = arch.dialect;
      p.keras_version = arch.keras_version;
      p.file = file;
      // Keras 3 records keras.ops calls on symbolic tensors (`x + 1.0`) as operations named like
      // layers ("Add" from keras.src.ops.numpy, whose constant arguments are positional): running
      // them as the layers of the same name would compute something else.
      if (spec.module.rfind("keras.src.ops", 0) == 0 || spec.module.rfind("keras.ops", 0) == 0)
        throw UnsupportedError(file, "layer " + spec.name,
                               "Keras 3 operation " + spec.class_name + " (" + spec.module + ") is not supported by predict");
      if (spec.class_name != "Lambda") p.config = Config(spec.config_json, file, spec.name);
      p.calls = spec.inbound_nodes;
      for (const Weight* w : weights(spec.name)) {
        p.weights.push_back(to_float_array(w->tensor.load(), w->tensor.describe()));
        p.weight_names.push_back(w->name);
      }
      node->layer = create_layer(p);
      for (const auto& call : spec.inbound_nodes) {
        node->calls.push_back(call.inputs);
        auto kw = kwarg_links(call.kwargs_json, node->layer->tensor_kwargs(), file);
        node->calls.back().insert(node->calls.back().end(), kw.begin(), kw.end());
      }
    }
    nodes_.push_back(std::move(node));
  }
  for (size_t i = 0; i < nodes_.size(); ++i) index_[nodes_[i]->spec.name] = i;
  const auto& index = index_;

  auto input_shape_of = [&](const LayerSpec& s) {
    Config c(s.config_json, file, s.name);
    auto shape = c.shape_list({"batch_input_shape", "batch_shape"});
    if (!shape) {
      if (auto is = c.shape_list({"input_shape"})) {
        shape = std::vector<int64_t>{-1};
        shape->insert(shape->end(), is->begin(), is->end());
      }
    }
    return shape.value_or(std::vector<int64_t>{});
  };

  if (sequential_) {
    if (nodes_.empty()) throw BadInputError(file, "config.layers", "Sequential model has no layers");
    // In a Sequential model each layer's output is read by the next layer only: fuse pairs.
    for (size_t i = 0; i + 1 < nodes_.size(); ++i) {
      Node& a = *nodes_[i];
      Node& b = *nodes_[i + 1];
      if (a.layer && !a.submodel && !a.fused_away && b.layer && !b.submodel && a.layer->fuse_next(*b.layer))
        b.fused_away = true;
    }
    const LayerSpec& first = nodes_[0]->spec;
    PredictIO in;
    if (nodes_[0]->is_input) {
      in.name = first.name;
      in.shape = input_shape_of(first);
    } else {
      in.name = first.name + "_input";
      in.shape = shape_from_json(arch.batch_input_shape_json, file);
      if (in.shape.empty() && nodes_[0]->submodel && !nodes_[0]->submodel->inputs().empty())
        in.shape = nodes_[0]->submodel->inputs()[0].shape;
    }
    inputs_.push_back(in);
    const LayerSpec& last = nodes_.back()->spec;
    PredictIO out;
    out.name = last.name;
    outputs_.push_back(out);
    return;
  }
  for (const TensorLink& l : arch.inputs) {
    auto it = index.find(l.layer);
    if (it == index.end()) throw BadInputError(file, "config.input_layers", "unknown input layer \"" + l.layer + "\"");
    Node& n = *nodes_[it->second];
    if (!n.is_input) throw UnsupportedError(file, "config.input_layers", "input \"" + l.layer + "\" is not an InputLayer");
    n.input_index = static_cast<int>(inputs_.size());
    inputs_.push_back({l.layer, input_shape_of(n.spec)});
    input_links_.push_back(l);
  }
  std::map<std::string, int> seen;
  for (const TensorLink& l : arch.outputs) {
    if (!index.count(l.layer)) throw BadInputError(file, "config.output_layers", "unknown output layer \"" + l.layer + "\"");
    output_links_.push_back(l);
    int k = seen[l.layer]++;
    outputs_.push_back({k == 0 ? l.layer : l.layer + ":" + std::to_string(k), {}});
  }
  // Rename earlier duplicates consistently ("lstm", "lstm:1", ...) and validate every inbound link.
  for (const auto& n : nodes_)
    for (const auto& call : n->calls)
      for (const auto& l : call)
        if (!index.count(l.layer))
          throw BadInputError(file, "layer " + n->spec.name, "inbound link to unknown layer \"" + l.layer + "\"");

  // Nested models: which numbering their references use (nested_numbering), from every reference to
  // them -- call inputs, all tensors in call kwargs, output_layers -- then references mapped to positions.
  if (!subs.empty()) {
    std::map<std::string, std::vector<int>> call_refs, io_refs;
    for (const auto& n : nodes_)
      for (const auto& call : n->spec.inbound_nodes) {
        std::vector<TensorLink> refs = call.inputs;
        if (!call.kwargs_json.empty() && call.kwargs_json != "{}") {
          auto doc = json::parse(call.kwargs_json, file);
          collect_all_links(doc, refs);
        }
        for (const auto& l : refs) call_refs[l.layer].push_back(l.node_index);
      }
    for (const TensorLink& l : output_links_) io_refs[l.layer].push_back(l.node_index);
    std::map<std::string, Numbering> numbering;
    for (const auto& entry : subs) {
      const LayerSpec& spec = nodes_[entry.first]->spec;
      numbering[spec.name] = nested_numbering(spec, entry.second, arch.dialect, call_refs[spec.name], io_refs[spec.name]);
    }
    for (auto& n : nodes_)
      for (auto& call : n->calls)
        for (auto& l : call)
          if (auto it = numbering.find(l.layer); it != numbering.end()) l.node_index -= it->second.call;
    for (auto& l : output_links_)
      if (auto it = numbering.find(l.layer); it != numbering.end()) l.node_index -= it->second.io;
  }

  // A call that depends on itself would recurse without end at run time.
  std::vector<std::vector<char>> state(nodes_.size());  // per call: 0 new, 1 on the current path, 2 done
  for (size_t i = 0; i < nodes_.size(); ++i) state[i].assign(nodes_[i]->calls.size(), 0);
  std::function<void(size_t, int)> visit = [&](size_t li, int k) {
    if (nodes_[li]->is_input || k < 0 || k >= static_cast<int>(state[li].size()) || state[li][k] == 2) return;
    if (state[li][k] == 1)
      throw BadInputError(file, "layer " + nodes_[li]->spec.name,
                          "call " + std::to_string(k) + " takes its own output as input (a cycle)");
    state[li][k] = 1;
    for (const auto& l : nodes_[li]->calls[static_cast<size_t>(k)]) visit(index.at(l.layer), l.node_index);
    state[li][k] = 2;
  };
  for (const auto& l : output_links_) visit(index.at(l.layer), l.node_index);
}

const std::vector<Graph::Value>& Graph::eval_node(size_t li, int node,
                                                  std::vector<std::vector<std::vector<Value>>*>& memo,
                                                  const std::vector<Array>& inputs) const {
  const Node& n = *nodes_[li];
  auto& cache = *memo[li];
  if (n.is_input) {
    if (n.input_index < 0)
      throw UnsupportedError(file_, "layer " + n.spec.name, "InputLayer is not one of the model's inputs");
    if (cache.empty()) cache.push_back({Value{inputs[n.input_index], nullptr}});
    return cache[0];
  }
  if (node < 0 || node >= static_cast<int>(n.calls.size()))
    throw BadInputError(file_, "layer " + n.spec.name, "reference to call " + std::to_string(node) + " of " +
                                                           std::to_string(n.calls.size()) + " (counted from 0)");
  if (cache.size() <= static_cast<size_t>(node)) cache.resize(node + 1);
  if (!cache[node].empty()) return cache[node];
  std::vector<Array> args;
  std::vector<Mask> masks;
  const std::vector<TensorLink>& links = n.calls[static_cast<size_t>(node)];
  const auto& index = index_;
  for (size_t i = 0; i < links.size(); ++i) {
    const TensorLink& l = links[i];
    // Used at once: the reference is into the memo, which later evaluations may grow.
    const std::vector<Value>& vals = eval_node(index.at(l.layer), l.node_index, memo, inputs);
    if (l.tensor_index < 0 || l.tensor_index >= static_cast<int>(vals.size()))
      throw BadInputError(file_, "layer " + n.spec.name, "reference to output " + std::to_string(l.tensor_index) + " of \"" +
                                                             l.layer + "\", which has " + std::to_string(vals.size()));
    masks.push_back(vals[l.tensor_index].mask);
    args.push_back(vals[l.tensor_index].array);
  }
  std::vector<Array> outs = n.layer->apply_masked(args, masks);
  Mask om = n.layer->output_mask(args, masks.empty() ? nullptr : masks[0], outs);
  std::vector<Value> result;
  for (auto& o : outs) result.push_back(Value{std::move(o), om});
  cache[node] = std::move(result);
  return cache[node];
}

std::vector<Array> Graph::run(const std::vector<Array>& inputs) const {
  if (inputs.size() != inputs_.size())
    throw UsageError("model takes " + std::to_string(inputs_.size()) + " input(s), got " + std::to_string(inputs.size()));
  if (sequential_) {
    // The first layer reads the caller's input in place; later ones take the previous output.
    const std::vector<Array>* args = &inputs;
    std::vector<Array> prev;
    Mask mask;
    static const bool profile = std::getenv("KMODEL_PROFILE") != nullptr;  // per-layer times on stderr
    size_t last = nodes_.size() - 1;
    while (last > 0 && nodes_[last]->fused_away) --last;
    for (size_t i = 0; i <= last; ++i) {
      const Node& n = *nodes_[i];
      if (n.is_input || n.fused_away) continue;
      auto t0 = std::chrono::steady_clock::now();
      // A previous layer's output is no longer needed: in-place layers may take it over.
      std::vector<Array> outs = args == &prev && !mask ? n.layer->apply_owned(std::move(prev), mask)
                                                       : n.layer->apply(*args, mask);
      if (profile)
        std::fprintf(stderr, "profile: %-24s %10.3f ms\n", n.spec.name.c_str(),
                     std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      mask = n.layer->output_mask(*args, mask, outs);
      if (i == last) return outs;
      prev.clear();
      prev.push_back(std::move(outs.at(0)));
      args = &prev;
    }
    return *args;
  }
  std::vector<std::vector<std::vector<Value>>> store(nodes_.size());
  std::vector<std::vector<std::vector<Value>>*> memo(nodes_.size());
  for (size_t i = 0; i < store.size(); ++i) memo[i] = &store[i];
  const auto& index = index_;
  std::vector<Array> outs;
  for (const TensorLink& l : output_links_) {
    const std::vector<Value>& vals = eval_node(index.at(l.layer), l.node_index, memo, inputs);
    if (l.tensor_index < 0 || l.tensor_index >= static_cast<int>(vals.size()))
      throw BadInputError(file_, "config.output_layers", "output index out of range for \"" + l.layer + "\"");
    outs.push_back(vals[l.tensor_index].array);
  }
  return outs;
}

}  // namespace kmodel::engine
