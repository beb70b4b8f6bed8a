// The checkpoint section of the inspect report: the variable map as tf.train.list_variables gives it
// (sorted by name, with dtype and shape), totals, optimizer slots grouped under their variables, the
// object graph (--tree) and per-tensor statistics (--stats, the only case that reads tensor data).
#include <cmath>
#include <cstring>
#include <iomanip>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include "inspect/sections.h"
#include "kmodel/error.h"

namespace kmodel::inspect {

namespace {

constexpr const char* kSlotMarker = "/.OPTIMIZER_SLOT/";
constexpr const char* kAttrSuffix = "/.ATTRIBUTES/VARIABLE_VALUE";

struct Stats {
  bool ok = false;
  std::string note;  // why there are no stats
  double min = 0, max = 0, mean = 0, std = 0;
  int64_t count = 0;
};

float half_to_float(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal
      int e = -1;
      do {
        ++e;
        mant <<= 1;
      } while (!(mant & 0x400));
      bits = sign | uint32_t(127 - 15 - e) << 23 | (mant & 0x3ff) << 13;
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | mant << 13;
  } else {
    bits = sign | (exp + 112) << 23 | mant << 13;
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

float bf16_to_float(uint16_t h) {
  uint32_t bits = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

template <class T>
double elem(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return static_cast<double>(v);
}

Stats compute_stats(const TensorRef& ref) {
  Stats s;
  if (ref.dtype() == DType::kString) {
    s.note = "string";
    return s;
  }
  if (ref.dtype() == DType::kComplex64 || ref.dtype() == DType::kComplex128 || ref.dtype() == DType::kInvalid) {
    s.note = "n/a";
    return s;
  }
  Tensor t = ref.load();
  size_t es = dtype_size(t.dtype);
  int64_t n = t.num_elements();
  if (n == 0) {
    s.note = "empty";
    return s;
  }

  s.min = std::numeric_limits<double>::infinity();
  s.max = -std::numeric_limits<double>::infinity();
  // Welford for numerical stability.
  double mean = 0, m2 = 0;
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t* p = t.data.data() + static_cast<size_t>(i) * es;
    double v = 0;
    switch (t.dtype) {
      case DType::kFloat16: { uint16_t h; std::memcpy(&h, p, 2); v = half_to_float(h); break; }
      case DType::kBFloat16: { uint16_t h; std::memcpy(&h, p, 2); v = bf16_to_float(h); break; }
      case DType::kFloat32: v = elem<float>(p); break;
      case DType::kFloat64: v = elem<double>(p); break;
      case DType::kInt8: v = elem<int8_t>(p); break;
      case DType::kInt16: v = elem<int16_t>(p); break;
      case DType::kInt32: v = elem<int32_t>(p); break;
      case DType::kInt64: v = elem<int64_t>(p); break;
      case DType::kUInt8: v = elem<uint8_t>(p); break;
      case DType::kUInt16: v = elem<uint16_t>(p); break;
      case DType::kUInt32: v = elem<uint32_t>(p); break;
      case DType::kUInt64: v = elem<uint64_t>(p); break;
      case DType::kBool: v = *p ? 1.0 : 0.0; break;
      default: break;
    }
    s.min = std::min(s.min, v);
    s.max = std::max(s.max, v);
    ++s.count;
    double delta = v - mean;
    mean += delta / static_cast<double>(s.count);
    m2 += delta * (v - mean);


  }
  s.mean = mean;
  s.std = std::sqrt(m2 / static_cast<double>(s.count));
  s.ok = true;
  return s;
}

std::string fmt(double v) {
  std::ostringstream os;
  os << std::setprecision(6) << v;
  return os.str();
}

// Optimizer slot keys grouped under the key of their variable (derived from the key grammar, E.2).
std::map<std::string, std::vector<const BundleVariable*>> slots_by_variable(const CheckpointInfo& info) {
  std::map<std::string, std::vector<const BundleVariable*>> out;
  for (const auto& v : info.variables) {
    size_t pos = v.key.find(kSlotMarker);
    if (pos == std::string::npos) continue;
    out[v.key.substr(0, pos) + kAttrSuffix].push_back(&v);
  }
  return out;
}

std::string slot_label(const std::string& key) {
  size_t pos = key.find(kSlotMarker);
  std::string rest = key.substr(pos + std::strlen(kSlotMarker));
  size_t end = rest.rfind(kAttrSuffix);
  if (end != std::string::npos) rest = rest.substr(0, end);
  return rest;  // "optimizer/m", "optimizer/base_optimizer/momentum"
}

uint64_t total_bytes(const CheckpointInfo& info) {
  uint64_t total = 0;
  for (const auto& v : info.variables) total += v.bytes;
  return total;
}

const BundleVariable* variable_by_key(const CheckpointInfo& info, const std::string& key) {
  for (const auto& v : info.variables)
    if (v.key == key) return &v;
  return nullptr;
}

void print_tree(const CheckpointInfo& info, std::ostream& os) {
  const auto& nodes = info.object_graph;
  if (nodes.empty()) return;
  std::vector<bool> printed(nodes.size(), false);
  os << "Object graph (" << nodes.size() << " nodes):\n";
  struct Frame {
    int id;
    std::string label;
    int depth;
  };
  std::vector<Frame> stack{{0, "(root)", 0}};
  while (!stack.empty()) {
    Frame f = stack.back();
    stack.pop_back();
    os << std::string(2 + 2 * static_cast<size_t>(f.depth), ' ') << f.label << " [" << f.id << "]";
    if (f.id < 0 || static_cast<size_t>(f.id) >= nodes.size()) {
      os << " (bad node id)\n";
      continue;
    }
    const ObjectNode& n = nodes[static_cast<size_t>(f.id)];
    if (printed[static_cast<size_t>(f.id)]) {
      os << " (see above)\n";
      continue;
    }
    printed[static_cast<size_t>(f.id)] = true;
    for (const auto& [name, key] : n.attributes) {
      const BundleVariable* v = variable_by_key(info, key);
      os << "  " << name;
      if (v) os << " " << dtype_name(v->dtype) << " " << shape_str(v->shape);
      os << " <- " << key;
    }
    os << "\n";
    for (const auto& [slot, id] : n.slots)
      os << std::string(4 + 2 * static_cast<size_t>(f.depth), ' ') << "slot " << slot << " -> [" << id << "]\n";
    for (auto it = n.children.rbegin(); it != n.children.rend(); ++it) stack.push_back({it->second, it->first, f.depth + 1});
  }
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (printed[i]) continue;
    os << "  [" << i << "]";
    for (const auto& [name, key] : nodes[i].attributes) os << "  " << name << " <- " << key;
    os << " (not a child of any node: slot variable)\n";
  }
}

rapidjson::Value str(const std::string& s, JsonAlloc& alloc) { return rapidjson::Value(s.c_str(), static_cast<rapidjson::SizeType>(s.size()), alloc); }

}  // namespace

void checkpoint_text(const Model& model, const InspectOptions& options, std::ostream& os) {
  if (!model.checkpoint) return;
  const CheckpointInfo& info = *model.checkpoint;
  os << "\nCheckpoint: " << info.prefix << " (" << info.num_shards << (info.num_shards == 1 ? " shard" : " shards")
     << ", "
     << (model.extra("checkpoint.format") == "V1" ? "legacy V1 format"
                                                   : info.object_based ? "TF2 object-based" : "TF1 name-based")
     << ")\n";
  size_t width = 4;
  for (const auto& v : info.variables) width = std::max(width, v.key.size());
  os << "Variables:\n";
  os << "  " << std::left << std::setw(static_cast<int>(width)) << "name" << "  " << std::setw(10) << "dtype"
     << std::setw(18) << "shape";
  if (options.stats) os << "  min / max / mean / std";
  os << "\n";
  for (const auto& v : info.variables) {
    os << "  " << std::left << std::setw(static_cast<int>(width)) << v.key << "  " << std::setw(10)
       << dtype_name(v.dtype) << std::setw(18) << shape_str(v.shape);
    if (options.stats) {
      Stats s = compute_stats(v.tensor);
      if (s.ok) os << "  " << fmt(s.min) << " / " << fmt(s.max) << " / " << fmt(s.mean) << " / " << fmt(s.std);
      else os << "  (" << s.note << ")";
    }
    os << "\n";
  }
  os << "Total: " << info.variables.size() << " variables, " << total_bytes(info) << " bytes\n";
  auto slots = slots_by_variable(info);
  if (!slots.empty()) {
    os << "Optimizer slots:\n";
    for (const auto& [var, list] : slots) {
      os << "  " << var << "\n";
      for (const auto* s : list)
        os << "    " << std::left << std::setw(40) << slot_label(s->key) << " " << dtype_name(s->dtype) << " "
           << shape_str(s->shape) << "\n";
    }
  }
  if (options.tree) print_tree(info, os);
}

void checkpoint_json(const Model& model, const InspectOptions& options, rapidjson::Value& out, JsonAlloc& alloc) {
  if (!model.checkpoint) return;
  const CheckpointInfo& info = *model.checkpoint;
  rapidjson::Value ck(rapidjson::kObjectType);
  ck.AddMember("prefix", str(info.prefix, alloc), alloc);
  ck.AddMember("num_shards", info.num_shards, alloc);
  ck.AddMember("object_based", info.object_based, alloc);
  ck.AddMember("format", str(model.extra("checkpoint.format") == "V1" ? "v1" : "v2", alloc), alloc);
  rapidjson::Value vars(rapidjson::kArrayType);
  for (const auto& v : info.variables) {
    rapidjson::Value jv(rapidjson::kObjectType);
    jv.AddMember("name", str(v.key, alloc), alloc);
    jv.AddMember("dtype", str(dtype_name(v.dtype), alloc), alloc);
    rapidjson::Value shape(rapidjson::kArrayType);
    for (int64_t d : v.shape) shape.PushBack(static_cast<int64_t>(d), alloc);
    jv.AddMember("shape", shape, alloc);
    jv.AddMember("bytes", static_cast<uint64_t>(v.bytes), alloc);
    jv.AddMember("shard", v.shard, alloc);
    if (options.stats) {
      Stats s = compute_stats(v.tensor);
      if (s.ok) {
        rapidjson::Value js(rapidjson::kObjectType);
        auto num = [&](double d) {
          rapidjson::Value x;
          if (std::isfinite(d)) x.SetDouble(d);
          else x.SetNull();
          return x;
        };
        js.AddMember("min", num(s.min), alloc);
        js.AddMember("max", num(s.max), alloc);
        js.AddMember("mean", num(s.mean), alloc);
        js.AddMember("std", num(s.std), alloc);
        jv.AddMember("stats", js, alloc);
      }
    }
    vars.PushBack(jv, alloc);
  }
  ck.AddMember("variables", vars, alloc);
  rapidjson::Value totals(rapidjson::kObjectType);
  totals.AddMember("count", static_cast<uint64_t>(info.variables.size()), alloc);
  totals.AddMember("bytes", static_cast<uint64_t>(total_bytes(info)), alloc);
  ck.AddMember("totals", totals, alloc);
  rapidjson::Value jslots(rapidjson::kArrayType);
  for (const auto& [var, list] : slots_by_variable(info)) {
    rapidjson::Value e(rapidjson::kObjectType);
    e.AddMember("variable", str(var, alloc), alloc);
    rapidjson::Value arr(rapidjson::kArrayType);
    for (const auto* s : list) {
      rapidjson::Value js(rapidjson::kObjectType);
      js.AddMember("slot", str(slot_label(s->key), alloc), alloc);
      js.AddMember("name", str(s->key, alloc), alloc);
      arr.PushBack(js, alloc);
    }
    e.AddMember("slots", arr, alloc);
    jslots.PushBack(e, alloc);
  }
  ck.AddMember("optimizer_slots", jslots, alloc);
  if (options.tree) {
    rapidjson::Value graph(rapidjson::kArrayType);
    for (const auto& n : info.object_graph) {
      rapidjson::Value jn(rapidjson::kObjectType);
      jn.AddMember("id", n.id, alloc);
      jn.AddMember("children", json_node_edges(n.children, "name", alloc), alloc);
      rapidjson::Value at(rapidjson::kArrayType);
      for (const auto& [name, key] : n.attributes) {
        rapidjson::Value a(rapidjson::kObjectType);
        a.AddMember("name", str(name, alloc), alloc);
        a.AddMember("checkpoint_key", str(key, alloc), alloc);
        at.PushBack(a, alloc);
      }
      jn.AddMember("attributes", at, alloc);
      jn.AddMember("slots", json_node_edges(n.slots, "slot_name", alloc), alloc);
      graph.PushBack(jn, alloc);
    }
    ck.AddMember("object_graph", graph, alloc);
  }
  out.AddMember("checkpoint", ck, alloc);
}

}  // namespace kmodel::inspect
