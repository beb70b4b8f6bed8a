// Reading TF checkpoints (TensorBundle V2): locating the prefix (directory with a `checkpoint` state
// file, prefix, or .index path), listing variables like tf.train.list_variables, parsing the TF2
// object graph and mapping it onto Keras layers (core/object_graph.h). TF1 name-based checkpoints keep
// their variable names. The legacy V1 single-file format is detected and refused.
#include <algorithm>
#include <map>
#include <memory>
#include <optional>

#include "core/assemble.h"
#include "core/object_graph.h"
#include "formats/checkpoint/checkpoint_format.h"
#include "formats/checkpoint/checkpoint_internal.h"
#include "io/file_util.h"
#include "io/tensor_bundle.h"
#include "kmodel/architecture.h"
#include "kmodel/error.h"

namespace kmodel::formats::checkpoint {

namespace {

constexpr const char* kGraphKey = "_CHECKPOINTABLE_OBJECT_GRAPH";

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string strip_trailing_slashes(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

struct V1Found {
  std::string file;
};
[[noreturn]] void throw_v1(const std::string& file) { throw V1Found{file}; }

// A regular table file that is not some prefix's .index: the legacy V1 format.
bool looks_v1(const std::string& path) {
  return io::is_regular_file(path) && !ends_with(path, ".index") && !io::path_exists(path + ".index") &&
         io::is_table_file(path);
}

class BundleLookup : public objgraph::TensorLookup {
 public:
  explicit BundleLookup(const io::BundleReader& reader) : reader_(reader) {}
  TensorRef get(const std::string& key) const override {
    const io::BundleEntry* e = reader_.find(key);
    return e ? reader_.ref(*e) : TensorRef();
  }

 private:
  const io::BundleReader& reader_;
};

// TF1 name-based optimizer variables (tf.train optimizers and Keras-in-graph "training/...").
bool tf1_optimizer_key(const std::vector<std::string>& comps) {
  static const char* kSlotSuffixes[] = {"Adam", "Adam_1", "Momentum", "RMSProp", "RMSProp_1", "Adagrad",
                                        "Adadelta", "Adadelta_1", "Ftrl", "Ftrl_1"};
  if (comps.empty()) return false;
  if (comps[0] == "training" || comps[0] == "global_step" || comps[0] == "beta1_power" || comps[0] == "beta2_power")
    return true;
  for (const char* s : kSlotSuffixes)
    if (comps.size() >= 2 && comps.back() == s) return true;
  return false;
}

std::vector<std::string> split_key(const std::string& key) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t pos = key.find('/', start);
    out.push_back(key.substr(start, pos - start));
    if (pos == std::string::npos) break;
    start = pos + 1;
  }
  return out;
}

void map_name_based(const std::vector<BundleVariable>& vars, const std::vector<Layer>& arch_layers, Model& model) {
  std::map<std::string, size_t> layer_index;
  if (!arch_layers.empty()) {
    model.layers = arch_layers;
    for (size_t i = 0; i < model.layers.size(); ++i) layer_index[model.layers[i].name] = i;
  }
  for (const auto& e : vars) {
    auto comps = split_key(e.key);
    Weight w;
    w.name = e.key + ":0";
    w.tensor = e.tensor;
    if (tf1_optimizer_key(comps)) {
      w.trainable = false;
      model.optimizer.weights.push_back(std::move(w));
      continue;
    }
    if (comps.size() >= 2) {
      w.attr = e.key.substr(comps[0].size() + 1);
      w.trainable = comps.back().rfind("moving_", 0) != 0;
      auto it = layer_index.find(comps[0]);
      if (it == layer_index.end() && arch_layers.empty()) {
        Layer layer;
        layer.name = comps[0];
        it = layer_index.emplace(comps[0], model.layers.size()).first;
        model.layers.push_back(std::move(layer));
      }
      if (it != layer_index.end()) {
        model.layers[it->second].weights.push_back(std::move(w));
        continue;
      }
    }
    w.attr = "";
    model.top_level_weights.push_back(std::move(w));
  }
  for (auto& layer : model.layers)
    std::stable_partition(layer.weights.begin(), layer.weights.end(), [](const Weight& w) { return w.trainable; });
}

std::vector<Layer> load_architecture(const ReadOptions& options, Model& model, std::optional<ArchitectureSpec>& parsed) {
  if (options.arch_path.empty()) return {};
  Model arch = kmodel::read(options.arch_path);
  if (!arch.has_architecture()) throw UsageError("--arch " + options.arch_path + " holds no model architecture");
  ArchitectureSpec& spec = parsed.emplace(parse_architecture(arch.model_config, options.arch_path));
  model.model_config = arch.model_config;
  model.dialect = arch.dialect;
  model.keras_version = arch.keras_version;
  model.backend = arch.backend;
  model.training_config = arch.training_config;
  model.optimizer.class_name = arch.optimizer.class_name;
  return layers_from_architecture(spec);
}

}  // namespace

std::string parse_state_file(const std::string& text, const std::string& file) {
  // Text-format CheckpointState: `model_checkpoint_path: "..."` (C-style escapes), other fields ignored.
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    std::string line = text.substr(pos, eol == std::string::npos ? std::string::npos : eol - pos);
    pos = eol == std::string::npos ? text.size() : eol + 1;
    size_t start = line.find_first_not_of(" \t\r");
    if (start == std::string::npos) continue;
    line = line.substr(start);
    const std::string field = "model_checkpoint_path";
    if (line.compare(0, field.size(), field) != 0) continue;
    size_t colon = line.find(':', field.size());
    size_t q1 = line.find_first_of("\"'", colon == std::string::npos ? field.size() : colon);
    if (colon == std::string::npos || q1 == std::string::npos)
      throw BadInputError(file, "model_checkpoint_path", "expected a quoted string");
    char quote = line[q1];
    std::string value;
    size_t i = q1 + 1;
    for (; i < line.size() && line[i] != quote; ++i) {
      char c = line[i];
      if (c == '\\' && i + 1 < line.size()) {
        char n = line[++i];
        if (n >= '0' && n <= '7') {
          int v = 0, k = 0;
          while (k < 3 && i < line.size() && line[i] >= '0' && line[i] <= '7') v = v * 8 + (line[i++] - '0'), ++k;
          --i;
          value += static_cast<char>(v);
        } else if (n == 'n') value += '\n';
        else if (n == 't') value += '\t';
        else value += n;
      } else {
        value += c;
      }
    }
    if (i >= line.size()) throw BadInputError(file, "model_checkpoint_path", "unterminated string");
    if (value.empty()) throw BadInputError(file, "model_checkpoint_path", "empty path");
    return value;
  }
  throw BadInputError(file, "", "checkpoint state file has no model_checkpoint_path");
}

namespace {
std::string resolve_impl(const std::string& input);
}  // namespace

Location locate(const std::string& input) {
  try {
    return Location{resolve_impl(input), false};
  } catch (const V1Found& v1) {
    return Location{v1.file, true};
  }
}

std::string resolve_prefix(const std::string& input) {
  Location loc = locate(input);
  if (loc.v1) throw UnsupportedError(loc.path, "", "legacy V1 checkpoint: it has no prefix (list it with inspect)");
  return loc.path;
}

namespace {
std::string resolve_impl(const std::string& input) {
  std::string path = strip_trailing_slashes(input);
  if (io::is_directory(path)) {
    std::string state = io::join_path(path, "checkpoint");
    if (io::is_regular_file(state)) {
      std::string target = parse_state_file(io::read_file(state, 1 << 20), state);
      bool absolute = !target.empty() && target[0] == '/';
      std::string candidate = absolute ? target : io::join_path(path, target);
      if (io::is_regular_file(candidate + ".index")) return candidate;
      std::string local = io::join_path(path, io::basename(target));
      if (absolute && io::is_regular_file(local + ".index")) return local;
      if (looks_v1(candidate)) throw_v1(candidate);
      if (absolute && looks_v1(local)) throw_v1(local);
      throw BadInputError(state, "model_checkpoint_path",
                          "names \"" + target + "\" but neither " + candidate + ".index" +
                              (absolute ? " nor " + local + ".index" : std::string()) + " exists");
    }
    // A bare bundle directory (e.g. a SavedModel's variables/): exactly one .index table.
    std::string only;
    int count = 0;
    for (const std::string& name : {std::string("variables"), std::string("ckpt")})
      if (io::is_regular_file(io::join_path(path, name + ".index"))) only = io::join_path(path, name), ++count;
    if (count == 1) return only;
    throw BadInputError(path, "", "directory holds no `checkpoint` state file");
  }
  if (ends_with(path, ".index") && io::is_regular_file(path)) {
    if (!io::is_table_file(path)) throw BadInputError(path, "footer", "bad magic number (not a TensorBundle .index / LevelDB table)");
    return path.substr(0, path.size() - 6);
  }
  if (io::path_exists(path + ".index")) return path;
  if (looks_v1(path)) throw_v1(path);
  if (!io::path_exists(path)) throw IoError(path, "no such file, and no " + path + ".index either");
  throw BadInputError(path, "", "not a checkpoint: no " + path + ".index");
}
}  // namespace

bool sniff(const std::string& input) {
  std::string path = strip_trailing_slashes(input);
  if (io::is_directory(path)) {
    std::string state = io::join_path(path, "checkpoint");
    if (io::is_regular_file(state)) {
      std::string head = io::read_head(state, 4096);
      return head.find("model_checkpoint_path") != std::string::npos;
    }
    return io::is_table_file(io::join_path(path, "variables.index"));
  }
  if (io::is_regular_file(path)) return io::is_table_file(path);  // .index, or a V1 table (refused on read)
  return io::is_table_file(path + ".index");
}

Model read(const std::string& path, const ReadOptions& options) {
  Location loc = locate(path);
  Model model;
  model.origin = Format::kCheckpoint;
  model.path = path;
  std::optional<ArchitectureSpec> arch;  // nested models' layers name their variables
  std::vector<Layer> arch_layers = load_architecture(options, model, arch);

  CheckpointInfo info;
  if (loc.v1) {
    info.prefix = loc.path;
    info.variables = read_v1_variables(loc.path);
    map_name_based(info.variables, arch_layers, model);
    model.set_extra("checkpoint.format", "V1");
    model.checkpoint = std::move(info);
    return model;
  }
  const std::string prefix = loc.path;
  auto reader = std::make_shared<io::BundleReader>(prefix);
  info.prefix = prefix;
  info.num_shards = reader->num_shards();
  for (const auto& e : reader->entries()) {
    BundleVariable v;
    v.key = e.key;
    v.dtype = e.dtype;
    v.shape = e.shape;
    v.bytes = e.size;
    v.shard = e.shard_id;
    v.tensor = reader->ref(e);
    info.variables.push_back(std::move(v));
  }
  std::sort(info.variables.begin(), info.variables.end(),
            [](const BundleVariable& a, const BundleVariable& b) { return a.key < b.key; });

  const io::BundleEntry* graph_entry = reader->find(kGraphKey);
  if (graph_entry) {
    if (graph_entry->dtype != DType::kString || !graph_entry->shape.empty())
      throw BadInputError(prefix + ".index", kGraphKey, "expected a scalar DT_STRING entry");
    Tensor t = reader->read(*graph_entry);
    objgraph::Graph graph = objgraph::parse(t.strings.at(0), prefix + ".index");
    info.object_based = true;
    info.object_graph = objgraph::to_object_nodes(graph);
    objgraph::KerasMapping mapping = objgraph::map_keras(graph);
    BundleLookup lookup(*reader);
    objgraph::map_to_model(graph, mapping, lookup, arch_layers, prefix + ".index", model, arch ? &*arch : nullptr);
  } else {
    std::vector<BundleVariable> plain;
    for (const auto& v : info.variables)
      if (!reader->find(v.key)->sliced) plain.push_back(v);
    map_name_based(plain, arch_layers, model);
  }
  model.checkpoint = std::move(info);
  return model;
}

}  // namespace kmodel::formats::checkpoint
