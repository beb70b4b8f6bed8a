// Writing Keras 3 `.keras` archives (FORMATS.md B.7): ZIP_STORED entries metadata.json, config.json,
// model.weights.h5 (then assets/), in that order; config.json in the Keras 3 dialect (translated by
// core/keras3_dialect when the model came from Keras 1/2); model.weights.h5 laid out as Keras 3's
// saving_lib does (layers/<snake_case(class)>[_N]/vars/<i>, RNN cells under cell/vars, nested models
// under layers/, the model's own /vars, optimizer/vars). With WriteOptions::weights_only the output is
// a standalone Keras 3 weights file (`model.save_weights("x.weights.h5")`), an HDF5 file, not a zip.
#include <algorithm>
#include <ctime>
#include <deque>
#include <memory>
#include <map>
#include <set>

#include <spdlog/spdlog.h>

#include "core/json_util.h"
#include "core/keras1_weights.h"
#include "core/keras3_dialect.h"
#include "core/nested_layout.h"
#include "formats/keras_v3/keras_v3_format.h"
#include "formats/keras_v3/keras_v3_layout.h"
#include "io/atomic_output.h"
#include "io/file_util.h"
#include "io/hdf5.h"
#include "io/zip.h"
#include "kmodel/architecture.h"
#include "kmodel/error.h"

namespace kmodel::formats::keras_v3 {
namespace hio = kmodel::io::h5;

namespace {

// The Keras version written to metadata.json when the model did not come from Keras 3: the dialect
// written (DTypePolicy objects, `name` attributes on vars groups) is that of Keras >= 3.6.
constexpr const char* kDefaultKerasVersion = "3.6.0";

struct Placement {
  std::string dataset;   // "layers/dense/vars/0"
  const Weight* weight;
};

struct Plan {
  std::vector<std::pair<std::string, std::string>> vars_groups;  // (group path, name attribute or "")
  std::vector<Placement> placements;
  std::shared_ptr<std::deque<Weight>> derived = std::make_shared<std::deque<Weight>>();  // merged weights
};

class Planner {
 public:
  Planner(const Model& model, const std::string& path, std::vector<std::string>& warnings)
      : model_(model), path_(path), warnings_(warnings) {}

  // Places the weights of `weights` (one IR layer's, or the subset belonging to a nested sublayer).
  void place_layer(const LayerSpec& spec, const std::string& group, const std::vector<const Weight*>& weights,
                   const LayerShapes* expected, const std::string& key_prefix,
                   const std::map<std::string, LayerShapes>& shapes, KerasDialect dialect) {
    plan_.vars_groups.emplace_back(group + "/vars", spec.name);
    if (spec.is_model()) {
      ArchitectureSpec sub = parse_nested_architecture(spec, dialect, path_);
      // Sublayer weights are named "<sublayer>/<var>" inside the nested model's IR layer, those of a
      // model nested deeper "<model>/<sublayer>/<var>" (or "<sublayer>/<var>", as tf.keras names them).
      nested::Owners owners(sub, path_);
      std::map<std::string, std::vector<const Weight*>> by_sub;
      size_t unclaimed = 0;
      for (const Weight* w : weights) {
        int owner = owners.find(w->name);
        if (owner < 0) ++unclaimed;
        else by_sub[sub.layers[static_cast<size_t>(owner)].name].push_back(w);
      }
      if (unclaimed)
        throw UnsupportedError(path_, "layer " + spec.name,
                               "cannot tell which sublayer of nested model '" + spec.name + "' owns " +
                                   std::to_string(unclaimed) + " of its weights");
      for (const auto& item : container_items(sub, group + "/layers")) {
        const LayerSpec& s = sub.layers[item.spec_index];
        auto it = shapes.find(key_prefix + spec.name + "/" + s.name);
        place_layer(s, item.group, by_sub[s.name], it == shapes.end() ? nullptr : &it->second,
                    key_prefix + spec.name + "/", shapes, dialect);
      }
      return;
    }
    if (weights.empty()) return;
    // Owner object of each weight: from kmodel's knowledge of the class when the count matches,
    // else from the weight's own attr ("cell/kernel"), else the layer itself.
    std::vector<std::string> attrs;
    if (expected && expected->known && (expected->weights.size() == 3 || expected->weights.size() == 6) &&
        (weights.size() == 12 || weights.size() == 9 || weights.size() == 24 || weights.size() == 18) &&
        weights.size() != expected->weights.size()) {
      // Keras 1 per-gate RNN weights (also both halves of a Bidirectional).
      size_t halves = expected->weights.size() / 3;
      size_t per = weights.size() / halves;
      std::vector<const Weight*> merged;
      bool ok = true;
      for (size_t h = 0; h < halves && ok; ++h) {
        std::vector<const Weight*> part(weights.begin() + static_cast<long>(h * per),
                                        weights.begin() + static_cast<long>((h + 1) * per));
        auto m = merge_keras1_rnn(part, spec.name);
        if (m.empty()) ok = false;
        for (auto& w : m) {
          plan_.derived->push_back(std::move(w));
          merged.push_back(&plan_.derived->back());
        }
      }
      if (ok) {
        warnings_.push_back("layer '" + spec.name + "': Keras 1 per-gate weights (" + std::to_string(weights.size()) +
                            " arrays) merged into Keras 2/3 kernel, recurrent_kernel, bias");
        place_layer(spec, group, merged, expected, key_prefix, shapes, dialect);
        plan_.vars_groups.pop_back();
        return;
      }
    }
    if (expected && expected->known && expected->weights.size() < weights.size()) {
      // The source has variables Keras 3 does not create (e.g. tf.keras Normalization's `count`):
      // keep the expected ones, matched by variable name, and name the rest as not written.
      auto leaf = [](const std::string& s) {
        std::string x = s;
        if (x.size() > 2 && x.compare(x.size() - 2, 2, ":0") == 0) x.resize(x.size() - 2);
        auto sl = x.rfind('/');
        return sl == std::string::npos ? x : x.substr(sl + 1);
      };
      std::vector<const Weight*> chosen;
      std::set<const Weight*> used;
      for (const auto& ew : expected->weights) {
        const Weight* hit = nullptr;
        for (const Weight* w : weights)
          if (!used.count(w) && leaf(w->attr.empty() ? w->name : w->attr) == leaf(ew.name)) {
            hit = w;
            break;
          }
        if (!hit) break;
        used.insert(hit);
        chosen.push_back(hit);
      }
      if (chosen.size() == expected->weights.size()) {
        for (const Weight* w : weights)
          if (!used.count(w))
            warnings_.push_back("layer '" + spec.name + "': weight '" + w->name + "' has no Keras 3 variable in " +
                                spec.class_name + "; not written");
        place_layer(spec, group, chosen, expected, key_prefix, shapes, dialect);
        plan_.vars_groups.pop_back();  // the recursive call registered the layer's vars group again
        return;
      }
    }
    if (expected && expected->known && expected->weights.size() == weights.size()) {
      for (const auto& ew : expected->weights) attrs.push_back(ew.attr.empty() ? ew.name : ew.attr);
    } else {
      bool rnn = is_rnn_class(spec.class_name);
      for (const Weight* w : weights) {
        std::string a = w->attr;
        if (rnn && owner_path(a).empty()) a = "cell/" + a;
        attrs.push_back(a);
      }
      if (expected && expected->known)
        warnings_.push_back("layer '" + spec.name + "' (" + spec.class_name + ") has " + std::to_string(weights.size()) +
                            " weights where kmodel expects " + std::to_string(expected->weights.size()) +
                            "; stored in the given order");
    }
    std::map<std::string, int> next;
    for (size_t i = 0; i < weights.size(); ++i) {
      std::string owner = owner_path(attrs[i]);
      std::string vars = group + (owner.empty() ? "" : "/" + owner) + "/vars";
      if (!owner.empty() && !next.count(owner)) plan_.vars_groups.emplace_back(vars, "");
      int n = next[owner]++;
      plan_.placements.push_back({vars + "/" + std::to_string(n), weights[i]});
    }
  }

  Plan plan(const std::optional<ArchitectureSpec>& arch) {
    std::set<const Layer*> placed;
    if (arch) {
      auto shapes = expected_layer_weights(*arch, path_);
      std::map<std::string, const Layer*> by_name;
      for (const auto& l : model_.layers) by_name[l.name] = &l;
      for (const auto& item : container_items(*arch, "layers")) {
        const LayerSpec& spec = arch->layers[item.spec_index];
        std::vector<const Weight*> ws;
        auto it = by_name.find(spec.name);
        if (it != by_name.end()) {
          placed.insert(it->second);
          for (const auto& w : it->second->weights) ws.push_back(&w);
        }
        auto sit = shapes.find(spec.name);
        place_layer(spec, item.group, ws, sit == shapes.end() ? nullptr : &sit->second, "", shapes, arch->dialect);
      }
    }
    // Layers the architecture does not list (weights-only models, subclassed models): their original
    // Keras 3 group when known (kept by the reader), else an auto name from their class.
    std::map<std::string, int> used;
    for (const auto& l : model_.layers) {
      if (placed.count(&l)) continue;
      if (l.weights.empty()) continue;
      if (arch)
        throw UnsupportedError(path_, "layer " + l.name,
                               "layer has weights but is not part of the architecture; cannot place them in model.weights.h5");
      std::string group = model_.extra(std::string(kGroupExtraPrefix) + l.name);
      if (group.empty()) {
        std::string base = to_snake_case(l.class_name.empty() ? "Layer" : l.class_name);
        int n = used.count(base) ? ++used[base] : (used[base] = 0);
        group = "layers/" + base + (n ? "_" + std::to_string(n) : "");
      }
      plan_.vars_groups.emplace_back(group + "/vars", l.name);
      std::map<std::string, int> next;
      for (const auto& w : l.weights) {
        std::string owner = owner_path(w.attr);
        std::string vars = group + (owner.empty() ? "" : "/" + owner) + "/vars";
        if (!owner.empty() && !next.count(owner)) plan_.vars_groups.emplace_back(vars, "");
        plan_.placements.push_back({vars + "/" + std::to_string(next[owner]++), &w});
      }
    }
    return std::move(plan_);
  }

 private:
  const Model& model_;
  std::string path_;
  std::vector<std::string>& warnings_;
  Plan plan_;
};

void write_weights_h5(const Model& model, const std::string& h5_path, const std::optional<ArchitectureSpec>& arch,
                      const std::string& model_name, const WriteOptions& options, const std::string& display,
                      std::vector<std::string>& warnings) {
  Planner planner(model, display, warnings);
  Plan plan = planner.plan(arch);
  hio::Handle file = hio::create_file(h5_path);
  hid_t f = file.get();
  hio::Handle layers = hio::ensure_group(f, "layers", display);
  for (const auto& [group, name] : plan.vars_groups) {
    hio::Handle g = hio::ensure_group(f, group, display);
    if (!name.empty() && !hio::has_attribute(g.get(), "name")) hio::write_string_attr(g.get(), "name", name, true, display);
  }
  auto write_one = [&](const std::string& dataset, const Weight& w) {
    Tensor t = w.tensor.load();
    auto slash = dataset.rfind('/');
    hio::Handle g = hio::ensure_group(f, dataset.substr(0, slash), display);
    std::string leaf = dataset.substr(slash + 1);
    hio::write_dataset(g.get(), leaf, t, display);
    if (t.dtype == DType::kBFloat16) {
      hio::Handle ds(H5Dopen2(g.get(), leaf.c_str(), H5P_DEFAULT));
      hio::write_string_attr(ds.get(), "dtype", "bfloat16", true, display);
    }
  };
  for (const auto& p : plan.placements) write_one(p.dataset, *p.weight);
  // The model's own variables.
  {
    hio::Handle g = hio::ensure_group(f, "vars", display);
    if (!model_name.empty()) hio::write_string_attr(g.get(), "name", model_name, true, display);
    for (size_t i = 0; i < model.top_level_weights.size(); ++i)
      write_one("vars/" + std::to_string(i), model.top_level_weights[i]);
  }
  if (options.include_optimizer && !model.optimizer.weights.empty()) {
    if (model.origin == Format::kKerasV3) {
      for (size_t i = 0; i < model.optimizer.weights.size(); ++i)
        write_one("optimizer/vars/" + std::to_string(i), model.optimizer.weights[i]);
    } else {
      warnings.push_back("optimizer state (" + std::to_string(model.optimizer.weights.size()) + " variables) of a " +
                         format_name(model.origin) +
                         " model is not written: Keras 3 orders optimizer variables differently; Keras 3 starts a "
                         "fresh optimizer");
    }
  }
}

std::string now_date_saved() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d@%H:%M:%S", &tm);
  return buf;
}

// Keras 3 config.json text for the model, and its parsed architecture when it has one.
std::string keras3_config(const Model& model, const WriteOptions& options, const std::string& path,
                          std::optional<ArchitectureSpec>& arch, std::string& model_name,
                          std::vector<std::string>& warnings) {
  if (!model.has_architecture()) {
    std::string sub = model.extra(kSubclassedConfigExtra);
    if (!sub.empty()) {
      auto doc = json::parse(sub, path);
      if (const json::Value* c = json::member(doc, "config"); c && c->IsObject())
        model_name = json::get_string(*c, "name").value_or("");
      return sub;
    }
    throw UnsupportedError(path, "",
                           "a .keras archive needs the model architecture and this model has none (weights only); "
                           "write a Keras 3 weights file with --weights-only, or an .h5, or pass the architecture");
  }
  // Decided by content, not by Model::dialect: Keras 3's legacy H5 writer stores Keras 2 style configs
  // with keras_version 3.x. to_keras3_model_config returns Keras 3 text unchanged.
  std::string text = to_keras3_model_config(model.model_config, &warnings);
  auto doc = json::parse(text, path);
  auto& a = doc.GetAllocator();
  bool changed = false;
  // Keras 2 model JSON carries keras_version/backend at the top; Keras 3 keeps them in metadata.json.
  for (const char* k : {"keras_version", "backend"})
    if (doc.HasMember(k)) {
      doc.EraseMember(k);
      changed = true;
    }
  bool has_compile = doc.HasMember("compile_config");
  if (!options.include_optimizer && has_compile) {
    doc.EraseMember("compile_config");
    changed = true;
  } else if (options.include_optimizer && !has_compile && !model.training_config.empty()) {
    std::string cc = is_keras3_compile_config(model.training_config)
                         ? model.training_config
                         : to_keras3_compile_config(model.training_config, &warnings);
    auto ccdoc = json::parse(cc, path + ":training_config");
    json::Value v(ccdoc, a);
    doc.AddMember("compile_config", v, a);
    changed = true;
  }
  if (changed) text = json::to_string(doc);
  arch = parse_architecture(text, path);
  arch->dialect = KerasDialect::kKeras3;
  model_name = arch->name;
  return text;
}

void write_weights_only(const Model& model, const std::string& path, const WriteOptions& options) {
  std::vector<std::string> warnings;
  std::optional<ArchitectureSpec> arch;
  std::string name;
  if (model.has_architecture()) {
    std::string dummy;
    WriteOptions o = options;
    (void)keras3_config(model, o, path, arch, name, warnings);
  }
  io::AtomicOutput out(path, io::AtomicOutput::Kind::kFile, options.force);
  write_weights_h5(model, out.temp_path(), arch, name, options, path, warnings);
  out.commit();
  for (const auto& w : warnings) spdlog::warn("{}: {}", path, w);
}

}  // namespace

void write(const Model& model, const std::string& path, const WriteOptions& options) {
  if (options.weights_only) return write_weights_only(model, path, options);
  std::vector<std::string> warnings;
  std::optional<ArchitectureSpec> arch;
  std::string model_name;
  std::string config = keras3_config(model, options, path, arch, model_name, warnings);

  std::string version = model.keras_version;
  if (version.empty() || version[0] != '3' || model.origin != Format::kKerasV3) version = kDefaultKerasVersion;
  std::string metadata = "{\"keras_version\": " + json::quote(version) +
                         ", \"date_saved\": " + json::quote(now_date_saved()) + "}";

  io::AtomicOutput out(path, io::AtomicOutput::Kind::kFile, options.force);
  std::string h5_temp = out.temp_path() + ".weights.h5";
  struct Cleanup {
    std::string p;
    ~Cleanup() { io::remove_all_quietly(p); }
  } cleanup{h5_temp};
  write_weights_h5(model, h5_temp, arch, model_name, options, path, warnings);

  io::ZipWriter zip(out.temp_path());
  zip.add(kMetadataEntry, metadata);
  zip.add(kConfigEntry, config);
  zip.add_file(kWeightsEntry, h5_temp);
  for (const auto& [key, value] : model.extras)
    if (key.rfind(kAssetExtraPrefix, 0) == 0) zip.add(key.substr(std::string(kAssetExtraPrefix).size()), value);
  zip.close();
  out.commit();
  for (const auto& w : warnings) spdlog::warn("{}: {}", path, w);
}

}  // namespace kmodel::formats::keras_v3
