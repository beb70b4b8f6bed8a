// tf.keras TF-op layers (TFOpLambda, SlicingOpLambda; tf.keras >= 2.4): calls of TensorFlow
// functions made on Keras tensors in a functional model, recorded in its config by the function's
// name ("math.truediv", "nn.relu", "__operators__.getitem") and the call's arguments. The first
// positional argument is the call's input (a tensor, a list of tensors, or a constant); the others
// are kwargs holding constants or links to tensors. No Python is involved: a table maps the
// supported TensorFlow functions to kernels (NumPy/TF semantics, engine/tensor_ops.h); any other
// function, or an argument the kernel does not know, is refused by name (exit 3).
#include <cmath>
#include <map>

#include <Eigen/Core>

#include "core/json_util.h"
#include "core/tf_op_shapes.h"
#include "engine/activations.h"
#include "engine/layer.h"
#include "engine/tensor_ops.h"

namespace kmodel::engine {
namespace {

bool holds_link(const json::Value& v) {
  if (is_tensor_link(v)) return true;
  if (v.IsArray())
    for (const auto& e : v.GetArray())
      if (holds_link(e)) return true;
  if (v.IsObject())
    for (const auto& m : v.GetObject())
      if (holds_link(m.value)) return true;
  return false;
}

// One argument of the recorded call: tensor inputs (positions in apply()'s inputs) or a JSON value,
// parsed once into an array when it is numeric.
struct Arg {
  std::vector<int> inputs;
  std::string json;              // the constant's JSON text when inputs is empty
  std::optional<Array> numeric;  // the constant as an array (numbers, booleans, nested lists of them)
  bool tensor() const { return !inputs.empty(); }
};

// A constant as an array: a number (shape ()), a boolean, or nested lists of them.
Array constant_array(const json::Value& v, const std::string& what) {
  Array a;
  std::function<void(const json::Value&, size_t)> walk = [&](const json::Value& e, size_t depth) {
    if (e.IsNumber() || e.IsBool()) {
      if (depth != a.shape.size()) throw BadInputError("", what, "ragged constant");
      a.values.push_back(e.IsBool() ? (e.GetBool() ? 1.f : 0.f) : static_cast<float>(e.GetDouble()));
      return;
    }
    if (!e.IsArray()) throw UnsupportedError("", what, "argument " + json::to_string(e) + " is not a numeric constant");
    if (depth == a.shape.size()) a.shape.push_back(static_cast<int64_t>(e.Size()));
    else if (depth > a.shape.size() || a.shape[depth] != static_cast<int64_t>(e.Size()))
      throw BadInputError("", what, "ragged constant");
    if (a.values.size() > (size_t{1} << 24)) throw BadInputError("", what, "constant is too large");
    for (const auto& x : e.GetArray()) walk(x, depth + 1);
  };
  walk(v, 0);
  if (static_cast<int64_t>(a.values.size()) != numel(a.shape)) throw BadInputError("", what, "ragged constant");
  return a;
}

// The constant JSON text as an array when it is numeric (strings, slice specs: nullopt). Ragged
// or oversized lists are bad input.
std::optional<Array> numeric_constant(const std::string& text, const std::string& what) {
  auto doc = json::parse(text, "");
  try {
    return constant_array(doc, what);
  } catch (const UnsupportedError&) {
    return std::nullopt;
  }
}

class Ctx;
using Kernel = std::function<Array(Ctx&)>;

struct OpDef {
  std::vector<std::string> kwargs;  // the kwargs the kernel reads ("name" is always accepted)
  Kernel run;
};

// The arguments of one call, resolved against apply()'s inputs.
class Ctx {
 public:
  Ctx(const std::string& layer, const Arg& first, const std::map<std::string, Arg>& kwargs, const std::vector<Array>& in)
      : layer_(layer), first_(first), kwargs_(kwargs), in_(in) {}

  const std::string& layer() const { return layer_; }
  // The first argument as one array (a tensor or a numeric constant).
  const Array& x() {
    if (first_.inputs.size() > 1) throw UnsupportedError("", "layer " + layer_, "expects one tensor, got a list");
    return resolve(first_, "the first argument");
  }
  // The first argument as a list of tensors (concat, stack).
  std::vector<const Array*> xs() {
    if (!first_.tensor()) throw UnsupportedError("", "layer " + layer_, "a list of constants is not supported");
    std::vector<const Array*> out;
    for (int i : first_.inputs) out.push_back(&in_.at(static_cast<size_t>(i)));
    return out;
  }
  bool has(const std::string& k) const {
    auto it = kwargs_.find(k);
    return it != kwargs_.end() && (it->second.tensor() || it->second.json != "null");
  }
  const Array& array(const std::string& k) {
    auto it = kwargs_.find(k);
    if (it == kwargs_.end() || !has(k)) throw BadInputError("", "layer " + layer_, "argument '" + k + "' is missing");
    return resolve(it->second, "argument '" + k + "'");
  }
  double number(const std::string& k, double fallback) {
    if (!has(k)) return fallback;
    const Array& a = array(k);
    if (a.values.size() != 1) throw UnsupportedError("", "layer " + layer_, "argument '" + k + "' must be a scalar");
    return a.values[0];
  }
  int64_t integer(const std::string& k, int64_t fallback) { return static_cast<int64_t>(number(k, static_cast<double>(fallback))); }
  bool boolean(const std::string& k, bool fallback) { return number(k, fallback ? 1 : 0) != 0; }
  std::optional<std::vector<int64_t>> ints(const std::string& k) {
    if (!has(k)) return std::nullopt;
    const Array& a = array(k);
    if (a.shape.size() > 1) throw UnsupportedError("", "layer " + layer_, "argument '" + k + "' must be an int or a list of ints");
    std::vector<int64_t> out;
    for (float v : a.values) out.push_back(static_cast<int64_t>(v));
    return out;
  }
  std::string text(const std::string& k, const std::string& fallback) {
    if (!has(k)) return fallback;
    const Arg& a = kwargs_.at(k);
    if (a.tensor()) throw UnsupportedError("", "layer " + layer_, "argument '" + k + "' as a tensor is not supported");
    auto doc = json::parse(a.json, "");
    if (!doc.IsString()) throw UnsupportedError("", "layer " + layer_, "argument '" + k + "' is not a string");
    return doc.GetString();
  }
  const std::string& json_of(const std::string& k) const { return kwargs_.at(k).json; }
  // Normalized axes (an int or a list) against `rank`; nullopt when absent.
  std::optional<std::vector<int>> axes(const std::string& k, size_t rank) {
    auto v = ints(k);
    if (!v) return std::nullopt;
    std::vector<int> out;
    for (int64_t a : *v) out.push_back(norm_axis(static_cast<int>(a), rank, layer_));
    return out;
  }
  int axis(const std::string& k, int fallback, size_t rank) {
    return norm_axis(static_cast<int>(integer(k, fallback)), rank, layer_);
  }

 private:
  const Array& resolve(const Arg& a, const std::string& what) {
    if (a.tensor()) return in_.at(static_cast<size_t>(a.inputs[0]));
    if (!a.numeric) throw UnsupportedError("", "layer " + layer_, what + " " + a.json + " is not a numeric constant");
    return *a.numeric;
  }
  std::string layer_;
  const Arg& first_;
  const std::map<std::string, Arg>& kwargs_;
  const std::vector<Array>& in_;
};

Array map_unary(const Array& a, const std::function<float(float)>& f) {
  Array out = a;
  for (float& v : out.values) v = f(v);
  return out;
}

Kernel unary(std::function<float(float)> f) {
  return [f](Ctx& c) { return map_unary(c.x(), f); };
}
Kernel activation(Activation::Kind kind, float alpha = 0.f) {
  return [kind, alpha](Ctx& c) {
    Array out = c.x();
    Activation act;
    act.kind = kind;
    act.alpha = alpha;
    apply_activation(act, out);
    return out;
  };
}
Kernel binary(std::function<float(float, float)> f) {
  return [f](Ctx& c) { return ops::broadcast_binary(c.x(), c.array("y"), f, "layer " + c.layer()); };
}
Kernel reduction(ops::Reduce kind) {
  return [kind](Ctx& c) {
    const Array& x = c.x();
    std::vector<int> axes = c.axes("axis", x.shape.size()).value_or(std::vector<int>{});
    if (c.has("axis") && axes.empty()) return Array(x);  // axis=[]: nothing reduced
    return ops::reduce(x, axes, kind, c.boolean("keepdims", false));
  };
}

// A value cast to `dtype` and back to float32 (the engine's only type), as TensorFlow rounds it.
float cast_value(float v, const std::string& dtype) {
  if (dtype == "float32" || dtype == "float64" || dtype == "double" || dtype == "float") return v;
  if (dtype == "float16" || dtype == "half") return static_cast<float>(Eigen::half(v));
  if (dtype == "bfloat16") return static_cast<float>(Eigen::bfloat16(v));
  if (dtype == "bool") return v != 0.f ? 1.f : 0.f;
  double t = std::isfinite(v) ? std::trunc(static_cast<double>(v)) : 0.0;
  if (dtype == "uint8") return static_cast<float>(static_cast<uint8_t>(static_cast<int64_t>(std::fmod(t, 256.0) + 256) % 256));
  if (dtype == "int8") return static_cast<float>(static_cast<int8_t>(static_cast<int64_t>(std::fmod(t, 256.0) + 256) % 256));
  return static_cast<float>(t);  // int16/32/64, uint16/32/64
}

std::vector<ops::IndexItem> parse_slice_spec(const json::Value& v, const std::string& layer) {
  using K = ops::IndexItem::Kind;
  auto bound = [&](const json::Value* b) -> std::optional<int64_t> {
    if (!b || b->IsNull()) return std::nullopt;
    if (!b->IsNumber()) throw UnsupportedError("", "layer " + layer, "slice bound " + json::to_string(*b) + " is not an integer");
    return json::to_int64(b->GetDouble());
  };
  auto item = [&](const json::Value& e) {
    ops::IndexItem it;
    if (e.IsNull()) {
      it.kind = K::kNewAxis;
    } else if (e.IsNumber()) {
      it.kind = K::kInt;
      it.index = json::to_int64(e.GetDouble());
    } else if (e.IsObject() && json::get_string(e, "class_name") == std::optional<std::string>("__ellipsis__")) {
      it.kind = K::kEllipsis;
    } else if (e.IsObject() && (e.HasMember("start") || e.HasMember("stop") || e.HasMember("step"))) {
      it.kind = K::kSlice;
      it.start = bound(json::member(e, "start"));
      it.stop = bound(json::member(e, "stop"));
      it.step = bound(json::member(e, "step"));
    } else {
      throw UnsupportedError("", "layer " + layer, "index " + json::to_string(e) + " is not supported (only ints, slices, None and ...)");
    }
    return it;
  };
  const json::Value* list = &v;
  if (v.IsObject() && json::get_string(v, "class_name") == std::optional<std::string>("__tuple__"))
    list = json::member(v, "items");
  std::vector<ops::IndexItem> items;
  if (list && list->IsArray()) {
    for (const auto& e : list->GetArray()) items.push_back(item(e));
  } else {
    items.push_back(item(v));
  }
  return items;
}

const std::map<std::string, OpDef>& op_table() {
  using R = ops::Reduce;
  using AK = Activation::Kind;
  static const std::map<std::string, OpDef> table = [] {
    std::map<std::string, OpDef> t;
    auto add = [&](std::initializer_list<const char*> names, std::vector<std::string> kwargs, Kernel k) {
      for (const char* n : names) t[n] = OpDef{kwargs, k};
    };
    // Element-wise with broadcasting.
    add({"math.add", "__operators__.add"}, {"y"}, binary([](float a, float b) { return a + b; }));
    add({"math.subtract"}, {"y"}, binary([](float a, float b) { return a - b; }));
    add({"math.multiply"}, {"y"}, binary([](float a, float b) { return a * b; }));
    add({"math.truediv", "math.divide"}, {"y"}, binary([](float a, float b) { return a / b; }));
    add({"math.divide_no_nan"}, {"y"}, binary([](float a, float b) { return b == 0.f ? 0.f : a / b; }));
    add({"math.floordiv"}, {"y"}, binary([](float a, float b) { return std::floor(a / b); }));
    add({"math.floormod"}, {"y"}, binary([](float a, float b) { return a - std::floor(a / b) * b; }));
    add({"math.maximum"}, {"y"}, binary([](float a, float b) { return std::isnan(a) || std::isnan(b) ? NAN : std::max(a, b); }));
    add({"math.minimum"}, {"y"}, binary([](float a, float b) { return std::isnan(a) || std::isnan(b) ? NAN : std::min(a, b); }));
    add({"math.pow"}, {"y"}, binary([](float a, float b) { return std::pow(a, b); }));
    add({"math.squared_difference"}, {"y"}, binary([](float a, float b) { return (a - b) * (a - b); }));
    // Element-wise, one argument.
    add({"identity", "convert_to_tensor", "stop_gradient"}, {"dtype", "dtype_hint"}, [](Ctx& c) { return Array(c.x()); });
    add({"math.abs"}, {}, unary([](float v) { return std::fabs(v); }));
    add({"math.negative"}, {}, unary([](float v) { return -v; }));
    add({"math.exp"}, {}, unary([](float v) { return std::exp(v); }));
    add({"math.log"}, {}, unary([](float v) { return std::log(v); }));
    add({"math.log1p"}, {}, unary([](float v) { return std::log1p(v); }));
    add({"math.expm1"}, {}, unary([](float v) { return std::expm1(v); }));
    add({"math.sqrt"}, {}, unary([](float v) { return std::sqrt(v); }));
    add({"math.rsqrt"}, {}, unary([](float v) { return 1.f / std::sqrt(v); }));
    add({"math.square"}, {}, unary([](float v) { return v * v; }));
    add({"math.reciprocal"}, {}, unary([](float v) { return 1.f / v; }));
    add({"math.sign"}, {}, unary([](float v) { return v > 0.f ? 1.f : v < 0.f ? -1.f : v; }));
    add({"math.floor"}, {}, unary([](float v) { return std::floor(v); }));
    add({"math.ceil"}, {}, unary([](float v) { return std::ceil(v); }));
    add({"math.round"}, {}, unary([](float v) { return std::nearbyint(v); }));  // halves to even, as TF
    add({"math.sin"}, {}, unary([](float v) { return std::sin(v); }));
    add({"math.cos"}, {}, unary([](float v) { return std::cos(v); }));
    add({"math.erf"}, {}, unary([](float v) { return std::erf(v); }));
    add({"math.log_sigmoid"}, {}, unary([](float v) { return v >= 0.f ? -std::log1p(std::exp(-v)) : v - std::log1p(std::exp(v)); }));
    add({"math.sigmoid", "nn.sigmoid"}, {}, activation(AK::kSigmoid));
    add({"math.tanh", "nn.tanh"}, {}, activation(AK::kTanh));
    add({"nn.relu"}, {}, activation(AK::kRelu));
    add({"nn.relu6"}, {}, activation(AK::kRelu6));
    add({"nn.elu"}, {}, activation(AK::kElu, 1.f));
    add({"nn.selu"}, {}, activation(AK::kSelu));
    add({"math.softplus", "nn.softplus"}, {}, activation(AK::kSoftplus));
    add({"math.softsign", "nn.softsign"}, {}, activation(AK::kSoftsign));
    add({"nn.silu", "nn.swish"}, {"beta"}, [](Ctx& c) {
      const float beta = static_cast<float>(c.number("beta", 1.0));
      return map_unary(c.x(), [beta](float v) { return v / (1.f + std::exp(-beta * v)); });
    });
    add({"nn.leaky_relu"}, {"alpha"}, [](Ctx& c) {
      const float alpha = static_cast<float>(c.number("alpha", 0.2));
      return map_unary(c.x(), [alpha](float v) { return v < 0.f ? alpha * v : v; });
    });
    add({"nn.gelu"}, {"approximate"}, [](Ctx& c) {
      return map_unary(c.x(), [approx = c.boolean("approximate", false)](float v) {
        if (approx) return 0.5f * v * (1.f + std::tanh(0.7978845608f * (v + 0.044715f * v * v * v)));
        return 0.5f * v * (1.f + std::erf(v * 0.70710678f));
      });
    });
    add({"clip_by_value"}, {"clip_value_min", "clip_value_max"}, [](Ctx& c) {
      std::string what = "layer " + c.layer();
      Array lo = ops::broadcast_binary(c.x(), c.array("clip_value_min"), [](float a, float b) { return std::max(a, b); }, what);
      return ops::broadcast_binary(lo, c.array("clip_value_max"), [](float a, float b) { return std::min(a, b); }, what);
    });
    add({"cast", "dtypes.cast"}, {"dtype"}, [](Ctx& c) {
      const std::string dtype = c.text("dtype", "float32");
      return map_unary(c.x(), [dtype](float v) { return cast_value(v, dtype); });
    });
    add({"ones_like"}, {"dtype", "optimize"}, [](Ctx& c) { return make_array(c.x().shape, 1.f); });
    add({"zeros_like"}, {"dtype", "optimize"}, [](Ctx& c) { return make_array(c.x().shape, 0.f); });
    // Softmax and normalization over an axis.
    auto softmax = [](bool log) {
      return [log](Ctx& c) {
        Array out = c.x();
        softmax_axis(out, c.axis("axis", -1, out.shape.size()), log);
        return out;
      };
    };
    add({"nn.softmax", "math.softmax"}, {"axis"}, softmax(false));
    add({"nn.log_softmax", "math.log_softmax"}, {"axis"}, softmax(true));
    add({"math.l2_normalize", "nn.l2_normalize", "linalg.l2_normalize"}, {"axis", "epsilon"}, [](Ctx& c) {
      const Array& x = c.x();
      std::vector<int> axes = c.axes("axis", x.shape.size()).value_or(std::vector<int>{});
      Array sq = map_unary(x, [](float v) { return v * v; });
      Array sum = ops::reduce(sq, axes, ops::Reduce::kSum, true);
      const float eps = static_cast<float>(c.number("epsilon", 1e-12));
      return ops::broadcast_binary(x, sum, [eps](float v, float s) { return v / std::sqrt(std::max(s, eps)); }, "layer " + c.layer());
    });
    // Reductions.
    add({"math.reduce_sum"}, {"axis", "keepdims"}, reduction(R::kSum));
    add({"math.reduce_mean"}, {"axis", "keepdims"}, reduction(R::kMean));
    add({"math.reduce_max"}, {"axis", "keepdims"}, reduction(R::kMax));
    add({"math.reduce_min"}, {"axis", "keepdims"}, reduction(R::kMin));
    add({"math.reduce_prod"}, {"axis", "keepdims"}, reduction(R::kProd));
    for (bool largest : {true, false})
      add({largest ? "math.argmax" : "math.argmin"}, {"axis", "output_type"}, [largest](Ctx& c) {
        const Array& x = c.x();
        return ops::arg_extreme(x, c.axis("axis", 0, x.shape.size()), largest);
      });
    // Shapes.
    add({"reshape"}, {"shape"}, [](Ctx& c) {
      auto shape = c.ints("shape");
      if (!shape) throw BadInputError("", "layer " + c.layer(), "reshape without a shape");
      return ops::reshape(c.x(), *shape, "layer " + c.layer());
    });
    add({"expand_dims"}, {"axis"}, [](Ctx& c) {
      Array out = c.x();
      const int axis = norm_axis(static_cast<int>(c.integer("axis", 0)), out.shape.size() + 1, c.layer());
      out.shape.insert(out.shape.begin() + axis, 1);
      return out;
    });
    add({"squeeze"}, {"axis"}, [](Ctx& c) {
      Array out = c.x();
      std::vector<int> axes = c.axes("axis", out.shape.size()).value_or(std::vector<int>{});
      Shape s;
      for (size_t i = 0; i < out.shape.size(); ++i) {
        bool listed = std::find(axes.begin(), axes.end(), static_cast<int>(i)) != axes.end();
        if (listed && out.shape[i] != 1)
          throw UsageError("layer " + c.layer() + ": cannot squeeze axis " + std::to_string(i) + " of size " + std::to_string(out.shape[i]));
        if (axes.empty() ? out.shape[i] != 1 : !listed) s.push_back(out.shape[i]);
      }
      out.shape = s;
      return out;
    });
    add({"transpose", "compat.v1.transpose", "linalg.matrix_transpose"}, {"perm", "conjugate"}, [](Ctx& c) {
      const Array& x = c.x();
      std::vector<int> perm;
      if (auto p = c.axes("perm", x.shape.size())) perm = *p;
      else for (size_t i = x.shape.size(); i-- > 0;) perm.push_back(static_cast<int>(i));
      std::vector<int> sorted = perm;
      std::sort(sorted.begin(), sorted.end());
      for (size_t i = 0; i < sorted.size(); ++i)
        if (sorted.size() != x.shape.size() || sorted[i] != static_cast<int>(i))
          throw UsageError("layer " + c.layer() + ": perm is not a permutation of the input's axes");
      return transpose(x, perm);
    });
    add({"concat"}, {"axis"}, [](Ctx& c) {
      auto xs = c.xs();
      return ops::concat(xs, c.axis("axis", 0, xs.at(0)->shape.size()), "layer " + c.layer());
    });
    add({"stack"}, {"axis"}, [](Ctx& c) {
      auto xs = c.xs();
      return ops::stack(xs, c.axis("axis", 0, xs.at(0)->shape.size() + 1), "layer " + c.layer());
    });
    add({"tile"}, {"multiples"}, [](Ctx& c) {
      auto m = c.ints("multiples");
      if (!m) throw BadInputError("", "layer " + c.layer(), "tile without multiples");
      return ops::tile(c.x(), *m, "layer " + c.layer());
    });
    add({"pad", "compat.v1.pad"}, {"paddings", "mode", "constant_values"}, [](Ctx& c) {
      std::string mode = c.text("mode", "CONSTANT");
      if (mode != "CONSTANT" && mode != "constant") throw UnsupportedError("", "layer " + c.layer(), "pad mode " + mode);
      const Array& p = c.array("paddings");
      if (p.shape.size() != 2 || p.shape[1] != 2) throw BadInputError("", "layer " + c.layer(), "paddings must be a list of [before, after] pairs");
      std::vector<std::pair<int64_t, int64_t>> pads;
      for (int64_t i = 0; i < p.shape[0]; ++i)
        pads.emplace_back(static_cast<int64_t>(p.values[2 * i]), static_cast<int64_t>(p.values[2 * i + 1]));
      return ops::pad(c.x(), pads, static_cast<float>(c.number("constant_values", 0.0)), "layer " + c.layer());
    });
    add({"linalg.matmul", "matmul"}, {"b", "transpose_a", "transpose_b", "adjoint_a", "adjoint_b"}, [](Ctx& c) {
      return ops::matmul(c.x(), c.array("b"), c.boolean("transpose_a", false) || c.boolean("adjoint_a", false),
                         c.boolean("transpose_b", false) || c.boolean("adjoint_b", false), "layer " + c.layer());
    });
    add({"nn.bias_add"}, {"bias", "data_format"}, [](Ctx& c) {
      std::string fmt = c.text("data_format", "NHWC");
      if (fmt.size() > 1 && fmt[1] == 'C') throw UnsupportedError("", "layer " + c.layer(), "bias_add with data_format " + fmt);
      return ops::broadcast_binary(c.x(), c.array("bias"), [](float a, float b) { return a + b; }, "layer " + c.layer());
    });
    add({"__operators__.getitem"}, {"slice_spec", "var"}, [](Ctx& c) {
      if (!c.has("slice_spec")) throw BadInputError("", "layer " + c.layer(), "getitem without slice_spec");
      auto doc = json::parse(c.json_of("slice_spec"), "");
      return ops::basic_index(c.x(), parse_slice_spec(doc, c.layer()), "layer " + c.layer());
    });
    return t;
  }();
  return table;
}

class TfOp : public Layer {
 public:
  TfOp(std::string name, const OpDef* op, Arg first, std::map<std::string, Arg> kwargs, std::vector<std::string> tensor_kwargs)
      : name_(std::move(name)), op_(op), first_(std::move(first)), kwargs_(std::move(kwargs)), tensor_kwargs_(std::move(tensor_kwargs)) {}
  std::vector<std::string> tensor_kwargs() const override { return tensor_kwargs_; }
  std::vector<Array> apply(const std::vector<Array>& in, const Mask&) const override {
    Ctx c(name_, first_, kwargs_, in);
    return single(op_->run(c));
  }
  Mask output_mask(const std::vector<Array>&, const Mask&, const std::vector<Array>&) const override { return nullptr; }

 private:
  std::string name_;
  const OpDef* op_;
  Arg first_;
  std::map<std::string, Arg> kwargs_;
  std::vector<std::string> tensor_kwargs_;
};

std::unique_ptr<Layer> make_tf_op(const LayerParams& p) {
  const std::string function = p.config.str_or({"function"}, "");
  if (function.empty()) p.bad("TF-op layer has no 'function'");
  auto it = op_table().find(function);
  if (it == op_table().end()) p.unsupported("TensorFlow function tf." + function + " is not supported by predict");
  if (p.calls.empty()) p.unsupported("TF-op layer that is never called");
  const LayerCall& call = p.calls[0];
  for (const LayerCall& other : p.calls)
    if (other.kwargs_json != call.kwargs_json || other.constant_args_json != call.constant_args_json ||
        other.inputs.size() != call.inputs.size())
      p.unsupported("TF-op layer called with different arguments at different nodes");
  Arg first;
  for (size_t i = 0; i < call.inputs.size(); ++i) first.inputs.push_back(static_cast<int>(i));
  if (call.inputs.empty()) {
    if (call.constant_args_json.size() != 1) p.unsupported("TF-op call without a tensor or a single constant first argument");
    first.json = call.constant_args_json[0];
    first.numeric = numeric_constant(first.json, "layer " + p.name + ": the first argument");
  } else if (!call.constant_args_json.empty()) {
    p.unsupported("a list argument mixing tensors and constants");
  }
  std::map<std::string, Arg> kwargs;
  std::vector<std::string> tensor_kwargs;
  auto doc = json::parse(call.kwargs_json, p.file);
  if (!doc.IsObject()) p.bad("call kwargs are not an object");
  int next = static_cast<int>(call.inputs.size());
  const std::vector<std::string>& known = it->second.kwargs;
  for (const auto& m : doc.GetObject()) {
    std::string key = m.name.GetString();
    if (key == "name") continue;
    if (std::find(known.begin(), known.end(), key) == known.end())
      p.unsupported("argument '" + key + "' of tf." + function + " is not supported");
    Arg a;
    if (is_tensor_link(m.value)) {
      a.inputs.push_back(next++);
      tensor_kwargs.push_back(key);
    } else if (holds_link(m.value)) {
      p.unsupported("argument '" + key + "' of tf." + function + " holds tensors inside a structure");
    } else {
      a.json = json::to_string(m.value);
      a.numeric = numeric_constant(a.json, "layer " + p.name + ": argument '" + key + "'");
    }
    kwargs.emplace(key, std::move(a));
  }
  return std::make_unique<TfOp>(p.name, &it->second, std::move(first), std::move(kwargs), std::move(tensor_kwargs));
}

}  // namespace

void register_tf_op_layers(Registry& r) {
  r.add("TFOpLambda", make_tf_op);
  r.add("SlicingOpLambda", make_tf_op);
}

}  // namespace kmodel::engine
