// Weight pairing by canonical name or by order (see weight_matching.h).
#include "core/weight_matching.h"

#include <algorithm>
#include <cctype>
#include <map>

namespace kmodel {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// "lstm_cell", "lstm_cell_41", "gru_cell_3", "simple_rnn_cell", "cell": scopes of RNN cells.
bool is_cell_scope(const std::string& c) {
  if (c == "cell") return true;
  std::string s = c;
  while (!s.empty() && std::isdigit(static_cast<unsigned char>(s.back()))) s.pop_back();
  if (!s.empty() && s.back() == '_') s.pop_back();
  return ends_with(s, "_cell");
}

std::string strip_suffix_index(std::string s) {
  auto colon = s.rfind(':');
  if (colon != std::string::npos && colon + 1 < s.size() &&
      s.find_first_not_of("0123456789", colon + 1) == std::string::npos)
    s.resize(colon);
  return s;
}

}  // namespace

std::vector<std::string> split_path(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find('/', start);
    out.push_back(s.substr(start, pos == std::string::npos ? std::string::npos : pos - start));
    if (pos == std::string::npos) break;
    start = pos + 1;
  }
  return out;
}

std::string canonical_weight_key(const std::string& layer, const std::string& attr, const std::string& name) {
  std::string s = strip_suffix_index(attr.empty() ? name : attr);
  // Checkpoint keys: ".../.ATTRIBUTES/VARIABLE_VALUE".
  auto attrs = s.find("/.ATTRIBUTES/");
  if (attrs != std::string::npos) s.resize(attrs);
  auto parts = split_path(s);
  if (parts.size() > 1 && !layer.empty() && parts[0] == layer) parts.erase(parts.begin());
  if (parts.size() == 1 && !layer.empty() && parts[0].rfind(layer + "_", 0) == 0 && parts[0].size() > layer.size() + 1)
    parts[0] = parts[0].substr(layer.size() + 1);  // Keras 1: "dense_1_W" -> "W"
  std::vector<std::string> out;
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& c = parts[i];
    if (c.empty()) continue;
    if (i + 1 < parts.size() && is_cell_scope(c)) continue;
    if (i + 1 < parts.size() && (c == "forward_layer" || c.rfind("forward_", 0) == 0)) {
      out.push_back("forward");
      continue;
    }
    if (i + 1 < parts.size() && (c == "backward_layer" || c.rfind("backward_", 0) == 0)) {
      out.push_back("backward");
      continue;
    }
    if (i + 1 < parts.size() && c == "layer") continue;  // TimeDistributed's inner layer
    // MultiHeadAttention's projections: tf.keras H5 "query", checkpoints "_query_dense",
    // Keras 3 "query_dense"; the output projection "attention_output" / "_output_dense".
    if (i + 1 < parts.size()) {
      std::string p = c;
      if (!p.empty() && p[0] == '_') p = p.substr(1);
      if (p == "query_dense" || p == "key_dense" || p == "value_dense") {
        out.push_back(p.substr(0, p.size() - 6));
        continue;
      }
      if (p == "output_dense") {
        out.push_back("attention_output");
        continue;
      }
    }
    out.push_back(c);
  }
  std::string key;
  for (const auto& c : out) key += (key.empty() ? "" : "/") + c;
  return key;
}

std::vector<FlatWeight> flatten_weights(const Model& model) {
  std::vector<FlatWeight> out;
  std::map<std::string, int> seen;
  auto add = [&](const std::string& layer, const Weight& w) {
    FlatWeight f;
    f.layer = layer;
    f.key = layer + "/" + canonical_weight_key(layer, w.attr, w.name);
    int n = ++seen[f.key];
    if (n > 1) f.key += "#" + std::to_string(n);
    f.weight = &w;
    f.index = out.size();
    out.push_back(std::move(f));
  };
  for (const auto& layer : model.layers)
    for (const auto& w : layer.weights) add(layer.name, w);
  for (const auto& w : model.top_level_weights) add("", w);
  return out;
}

std::vector<FlatWeight> flatten_optimizer(const Model& model) {
  std::vector<FlatWeight> out;
  std::map<std::string, int> seen;
  for (const auto& w : model.optimizer.weights) {
    FlatWeight f;
    f.layer = "optimizer";
    std::string n = strip_suffix_index(w.attr.empty() ? w.name : w.attr);
    f.key = "optimizer/" + n;
    int c = ++seen[f.key];
    if (c > 1) f.key += "#" + std::to_string(c);
    f.weight = &w;
    f.index = out.size();
    out.push_back(std::move(f));
  }
  return out;
}

std::vector<WeightPair> match_flat(const std::vector<FlatWeight>& a, const std::vector<FlatWeight>& b, MatchBy by) {
  std::vector<WeightPair> out;
  if (by == MatchBy::kOrder) {
    size_t n = std::max(a.size(), b.size());
    for (size_t i = 0; i < n; ++i) out.push_back({i < a.size() ? &a[i] : nullptr, i < b.size() ? &b[i] : nullptr});
    return out;
  }
  std::map<std::string, const FlatWeight*> by_key;
  for (const auto& f : b) by_key[f.key] = &f;
  std::map<std::string, bool> used;
  for (const auto& f : a) {
    auto it = by_key.find(f.key);
    if (it != by_key.end()) {
      out.push_back({&f, it->second});
      used[f.key] = true;
    } else {
      out.push_back({&f, nullptr});
    }
  }
  for (const auto& f : b)
    if (!used.count(f.key)) out.push_back({nullptr, &f});
  return out;
}

}  // namespace kmodel
