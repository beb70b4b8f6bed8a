// Layer config parsing (see config.h).
#include "engine/config.h"

#include <cctype>
#include <functional>

#include "core/json_util.h"
#include "kmodel/error.h"

namespace kmodel::engine {

struct Config::Doc {
  json::Document doc;
};

Config::Config() : doc_(std::make_shared<Doc>()) { doc_->doc.SetObject(); }

Config::Config(const std::string& json_text, const std::string& file, const std::string& layer)
    : doc_(std::make_shared<Doc>()), file_(file), layer_(layer) {
  doc_->doc = json::parse(json_text.empty() ? "{}" : json_text, file);
  if (!doc_->doc.IsObject()) throw BadInputError(file, "layer " + layer, "layer config is not a JSON object");
}

namespace {
const json::Value* find(const json::Document& d, std::initializer_list<const char*> keys) {
  for (const char* k : keys) {
    const json::Value* v = json::member(d, k);
    if (v && !v->IsNull()) return v;
  }
  return nullptr;
}
}  // namespace

bool Config::has(const char* key) const {
  const json::Value* v = json::member(doc_->doc, key);
  return v && !v->IsNull();
}

std::optional<std::string> Config::str(std::initializer_list<const char*> keys) const {
  const json::Value* v = find(doc_->doc, keys);
  if (!v) return std::nullopt;
  if (v->IsString()) return std::string(v->GetString());
  if (v->IsObject()) {  // serialized object: {"class_name": "relu", ...}
    if (auto cls = json::get_string(*v, "class_name")) {
      if (*cls == "function" || *cls == "__lambda__") {
        if (const json::Value* c = json::member(*v, "config"))
          if (c->IsString()) return std::string(c->GetString());
      }
      return *cls;
    }
  }
  throw BadInputError(file_, "layer " + layer_, std::string("config key \"") + *keys.begin() + "\" is not a string");
}

std::string Config::str_or(std::initializer_list<const char*> keys, const std::string& fallback) const {
  return str(keys).value_or(fallback);
}

std::optional<double> Config::num(std::initializer_list<const char*> keys) const {
  const json::Value* v = find(doc_->doc, keys);
  if (!v) return std::nullopt;
  if (v->IsNumber()) return v->GetDouble();
  if (v->IsBool()) return v->GetBool() ? 1.0 : 0.0;
  throw BadInputError(file_, "layer " + layer_, std::string("config key \"") + *keys.begin() + "\" is not a number");
}

double Config::num_or(std::initializer_list<const char*> keys, double fallback) const {
  return num(keys).value_or(fallback);
}

int64_t Config::int_or(std::initializer_list<const char*> keys, int64_t fallback) const {
  auto v = num(keys);
  return v ? static_cast<int64_t>(*v) : fallback;
}

bool Config::bool_or(std::initializer_list<const char*> keys, bool fallback) const {
  const json::Value* v = find(doc_->doc, keys);
  if (!v) return fallback;
  if (v->IsBool()) return v->GetBool();
  if (v->IsNumber()) return v->GetDouble() != 0;
  throw BadInputError(file_, "layer " + layer_, std::string("config key \"") + *keys.begin() + "\" is not a boolean");
}

std::vector<int64_t> Config::ints(std::initializer_list<const char*> keys, size_t n, int64_t fallback) const {
  const json::Value* v = find(doc_->doc, keys);
  if (!v) return std::vector<int64_t>(n, fallback);
  if (v->IsNumber()) return std::vector<int64_t>(n, json::to_int64(v->GetDouble()));
  if (v->IsArray()) {
    std::vector<int64_t> out;
    for (const auto& e : v->GetArray()) {
      if (!e.IsNumber())
        throw BadInputError(file_, "layer " + layer_, std::string("config key \"") + *keys.begin() + "\" has a non-integer");
      out.push_back(json::to_int64(e.GetDouble()));
    }
    if (out.size() == 1 && n > 1) out.assign(n, out[0]);
    if (out.size() != n)
      throw BadInputError(file_, "layer " + layer_, std::string("config key \"") + *keys.begin() + "\" has " +
                                                        std::to_string(out.size()) + " values, expected " + std::to_string(n));
    return out;
  }
  throw BadInputError(file_, "layer " + layer_, std::string("config key \"") + *keys.begin() + "\" is not an integer or list");
}

std::optional<std::vector<int64_t>> Config::int_list(const char* key) const {
  const json::Value* v = json::member(doc_->doc, key);
  if (!v || v->IsNull()) return std::nullopt;
  std::vector<int64_t> out;
  if (v->IsNumber()) return std::vector<int64_t>{json::to_int64(v->GetDouble())};
  if (!v->IsArray()) throw BadInputError(file_, "layer " + layer_, std::string("config key \"") + key + "\" is not a list");
  for (const auto& e : v->GetArray()) {
    if (!e.IsNumber()) throw BadInputError(file_, "layer " + layer_, std::string("config key \"") + key + "\" has a non-integer");
    out.push_back(json::to_int64(e.GetDouble()));
  }
  return out;
}

std::optional<std::vector<int64_t>> Config::shape_list(std::initializer_list<const char*> keys) const {
  const json::Value* v = find(doc_->doc, keys);
  if (!v || !v->IsArray()) return std::nullopt;
  std::vector<int64_t> out;
  for (const auto& e : v->GetArray()) out.push_back(e.IsNumber() ? json::to_int64(e.GetDouble()) : -1);
  return out;
}

std::vector<std::pair<int64_t, int64_t>> Config::pairs(const char* key, size_t n, int64_t fallback) const {
  const json::Value* v = json::member(doc_->doc, key);
  std::vector<std::pair<int64_t, int64_t>> out(n, {fallback, fallback});
  if (!v || v->IsNull()) return out;
  auto bad = [&] { return BadInputError(file_, "layer " + layer_, std::string("config key \"") + key + "\" is malformed"); };
  if (v->IsNumber()) {
    int64_t x = json::to_int64(v->GetDouble());
    out.assign(n, {x, x});
    return out;
  }
  if (!v->IsArray()) throw bad();
  if (n == 1 && v->Size() == 2 && (*v)[0].IsNumber() && (*v)[1].IsNumber()) {  // 1D: (before, after)
    out[0] = {json::to_int64((*v)[0].GetDouble()), json::to_int64((*v)[1].GetDouble())};
    return out;
  }
  if (v->Size() != n) throw bad();
  for (rapidjson::SizeType i = 0; i < n; ++i) {
    const auto& e = (*v)[i];
    if (e.IsNumber()) {
      int64_t x = json::to_int64(e.GetDouble());
      out[i] = {x, x};
    } else if (e.IsArray() && e.Size() == 2 && e[0].IsNumber() && e[1].IsNumber()) {
      out[i] = {json::to_int64(e[0].GetDouble()), json::to_int64(e[1].GetDouble())};
    } else {
      throw bad();
    }
  }
  return out;
}

std::string Config::json_of(const char* key) const {
  const json::Value* v = json::member(doc_->doc, key);
  return v ? json::to_string(*v) : "";
}

std::pair<std::string, std::string> Config::nested_layer(const char* key) const {
  const json::Value* v = json::member(doc_->doc, key);
  if (!v || !v->IsObject()) throw BadInputError(file_, "layer " + layer_, std::string("wrapper has no \"") + key + "\" layer");
  auto cls = json::get_string(*v, "class_name");
  const json::Value* cfg = json::member(*v, "config");
  if (!cls || !cfg) throw BadInputError(file_, "layer " + layer_, std::string("wrapped \"") + key + "\" has no class_name/config");
  return {*cls, json::to_string(*cfg)};
}

Activation Config::activation(std::initializer_list<const char*> keys, KerasDialect dialect) const {
  return parse_activation(str_or(keys, "linear"), dialect, layer_);
}

bool Config::channels_first() const {
  if (auto f = str({"data_format"})) return *f == "channels_first";
  if (auto o = str({"dim_ordering"})) return *o == "th";
  return false;
}

std::optional<std::vector<double>> Config::numbers(const char* key) const {
  const json::Value* v = json::member(doc_->doc, key);
  if (!v || v->IsNull()) return std::nullopt;
  std::vector<double> out;
  std::function<bool(const json::Value&)> walk = [&](const json::Value& e) {
    if (e.IsNumber()) {
      out.push_back(e.GetDouble());
      return true;
    }
    if (e.IsArray()) {
      for (const auto& x : e.GetArray())
        if (!walk(x)) return false;
      return true;
    }
    return false;
  };
  if (!walk(*v)) return std::nullopt;
  return out;
}

Activation parse_activation(const std::string& raw, KerasDialect dialect, const std::string& layer) {
  using K = Activation::Kind;
  std::string name = raw;
  // Keras 3 object names and CamelCase class names map to the same functions.
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  Activation a;
  if (name == "linear" || name.empty()) a.kind = K::kLinear;
  else if (name == "relu") a.kind = K::kRelu;
  else if (name == "sigmoid") a.kind = K::kSigmoid;
  else if (name == "hard_sigmoid" || name == "hardsigmoid")
    a.kind = dialect == KerasDialect::kKeras3 ? K::kHardSigmoidK3 : K::kHardSigmoid;
  else if (name == "tanh") a.kind = K::kTanh;
  else if (name == "softmax") a.kind = K::kSoftmax;
  else if (name == "log_softmax") a.kind = K::kLogSoftmax;
  else if (name == "softplus") a.kind = K::kSoftplus;
  else if (name == "softsign") a.kind = K::kSoftsign;
  else if (name == "selu") a.kind = K::kSelu;
  else if (name == "elu") { a.kind = K::kElu; a.alpha = 1.f; }
  else if (name == "exponential") a.kind = K::kExponential;
  else if (name == "swish" || name == "silu") a.kind = K::kSwish;
  else if (name == "gelu") a.kind = K::kGelu;
  else if (name == "relu6") a.kind = K::kRelu6;
  else if (name == "leaky_relu") { a.kind = K::kLeakyRelu; a.alpha = 0.2f; }
  else if (name == "mish") a.kind = K::kMish;
  else if (name == "hard_silu" || name == "hard_swish") a.kind = K::kHardSilu;
  else throw UnsupportedError("", "layer " + layer, "activation \"" + raw + "\" is not supported by predict");
  return a;
}

}  // namespace kmodel::engine
