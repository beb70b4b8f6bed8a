// Output shapes of tf.keras TF-op layers (see tf_op_shapes.h). The rules are NumPy/TensorFlow's:
// broadcasting for element-wise functions, reductions removing (or keeping) axes, basic indexing.
#include "core/tf_op_shapes.h"

#include <algorithm>
#include <set>

#include "core/json_util.h"

namespace kmodel {
namespace {

using json::Value;
using MaybeShape = std::optional<Shape>;
constexpr int64_t kUnknown = -1;

// The shape of a numeric JSON constant (() for a number); nullopt when it is not one.
MaybeShape constant_shape(const Value& v) {
  if (v.IsNumber() || v.IsBool()) return Shape{};
  if (!v.IsArray()) return std::nullopt;
  Shape s{static_cast<int64_t>(v.Size())};
  if (v.Size() == 0) return s;
  MaybeShape inner = constant_shape(v[0]);
  if (!inner) return std::nullopt;
  s.insert(s.end(), inner->begin(), inner->end());
  return s;
}

MaybeShape broadcast(const MaybeShape& a, const MaybeShape& b) {
  if (!a || !b) return std::nullopt;
  const size_t r = std::max(a->size(), b->size());
  Shape out(r);
  for (size_t k = 0; k < r; ++k) {
    int64_t da = k + a->size() >= r ? (*a)[k + a->size() - r] : 1;
    int64_t db = k + b->size() >= r ? (*b)[k + b->size() - r] : 1;
    out[k] = da == 1 ? db : db == 1 ? da : (da == kUnknown ? db : da);
  }
  return out;
}

std::optional<size_t> norm_axis(int64_t axis, size_t rank) {
  int64_t a = axis < 0 ? axis + static_cast<int64_t>(rank) : axis;
  if (a < 0 || a >= static_cast<int64_t>(rank)) return std::nullopt;
  return static_cast<size_t>(a);
}

std::optional<std::vector<int64_t>> ints_of(const Value* v) {
  if (!v || v->IsNull()) return std::nullopt;
  std::vector<int64_t> out;
  if (v->IsNumber()) out.push_back(json::to_int64(v->GetDouble()));
  else if (v->IsArray())
    for (const auto& e : v->GetArray()) {
      if (!e.IsNumber()) return std::nullopt;
      out.push_back(json::to_int64(e.GetDouble()));
    }
  else return std::nullopt;
  return out;
}

// Length of a Python slice ({start, stop, step} JSON) over a dimension of size n (n known).
int64_t slice_length(int64_t n, const Value& s) {
  auto bound = [&](const char* k) -> std::optional<int64_t> {
    const Value* v = json::member(s, k);
    if (!v || !v->IsNumber()) return std::nullopt;
    return json::to_int64(v->GetDouble());
  };
  const int64_t step = bound("step").value_or(1);
  return step == 0 ? 0 : python_slice(n, bound("start"), bound("stop"), step).count;
}

MaybeShape getitem(const Shape& x, const Value& spec) {
  const Value* list = &spec;
  if (spec.IsObject() && json::get_string(spec, "class_name") == std::optional<std::string>("__tuple__"))
    list = json::member(spec, "items");
  std::vector<const Value*> items;
  if (list && list->IsArray())
    for (const auto& e : list->GetArray()) items.push_back(&e);
  else
    items.push_back(&spec);
  auto is_ellipsis = [](const Value& e) {
    return e.IsObject() && json::get_string(e, "class_name") == std::optional<std::string>("__ellipsis__");
  };
  size_t consuming = 0;
  for (const Value* e : items)
    if (e->IsNumber() || (e->IsObject() && !is_ellipsis(*e))) ++consuming;
  if (consuming > x.size()) return std::nullopt;
  Shape out;
  size_t axis = 0;
  bool expanded = false;
  auto rest = [&] {
    for (size_t i = 0; i < x.size() - consuming; ++i) out.push_back(x[axis++]);
  };
  for (const Value* e : items) {
    if (e->IsNull()) {
      out.push_back(1);
    } else if (is_ellipsis(*e)) {
      rest();
      expanded = true;
    } else if (e->IsNumber()) {
      ++axis;
    } else if (e->IsObject()) {
      const int64_t n = x[axis++];
      out.push_back(n == kUnknown ? kUnknown : slice_length(n, *e));
    } else {
      return std::nullopt;
    }
  }
  if (!expanded) rest();
  return out;
}

const std::set<std::string>& same_shape_functions() {
  static const std::set<std::string> s = {
      "identity", "convert_to_tensor", "stop_gradient", "math.abs", "math.negative", "math.exp", "math.log",
      "math.log1p", "math.expm1", "math.sqrt", "math.rsqrt", "math.square", "math.reciprocal", "math.sign",
      "math.floor", "math.ceil", "math.round", "math.sin", "math.cos", "math.erf", "math.log_sigmoid",
      "math.sigmoid", "nn.sigmoid", "math.tanh", "nn.tanh", "nn.relu", "nn.relu6", "nn.elu", "nn.selu",
      "math.softplus", "nn.softplus", "math.softsign", "nn.softsign", "nn.silu", "nn.swish", "nn.leaky_relu",
      "nn.gelu", "cast", "dtypes.cast", "ones_like", "zeros_like", "nn.softmax", "math.softmax",
      "nn.log_softmax", "math.log_softmax", "math.l2_normalize", "nn.l2_normalize", "linalg.l2_normalize"};
  return s;
}
const std::set<std::string>& binary_functions() {
  static const std::set<std::string> s = {
      "math.add", "__operators__.add", "math.subtract", "math.multiply", "math.truediv", "math.divide",
      "math.divide_no_nan", "math.floordiv", "math.floormod", "math.maximum", "math.minimum", "math.pow",
      "math.squared_difference", "nn.bias_add"};
  return s;
}

}  // namespace

SliceRange python_slice(int64_t n, std::optional<int64_t> start, std::optional<int64_t> stop, int64_t step) {
  auto norm = [&](int64_t v, int64_t lo, int64_t hi) { return std::clamp(v < 0 ? v + n : v, lo, hi); };
  SliceRange r;
  if (step > 0) {
    r.start = start ? norm(*start, 0, n) : 0;
    const int64_t end = stop ? norm(*stop, 0, n) : n;
    r.count = std::max<int64_t>(0, (end - r.start + step - 1) / step);
  } else {
    r.start = start ? norm(*start, -1, n - 1) : n - 1;
    const int64_t end = stop ? norm(*stop, -1, n - 1) : -1;
    r.count = std::max<int64_t>(0, (r.start - end - step - 1) / -step);
  }
  return r;
}

bool is_tensor_link(const Value& v) {
  if (v.IsObject()) return json::get_string(v, "class_name") == std::optional<std::string>("__keras_tensor__");
  return v.IsArray() && v.Size() >= 3 && v[0].IsString() && v[1].IsNumber() && v[2].IsNumber();
}

bool is_tf_op_layer(const std::string& class_name) {
  return class_name == "TFOpLambda" || class_name == "SlicingOpLambda";
}

std::map<std::string, TensorLink> tf_op_kwarg_links(const LayerCall& call, const std::string& file) {
  std::map<std::string, TensorLink> out;
  if (call.kwargs_json.size() < 3) return out;
  auto doc = json::parse(call.kwargs_json, file);
  if (!doc.IsObject()) return out;
  for (const auto& m : doc.GetObject()) {
    if (!is_tensor_link(m.value)) continue;
    const Value* h = &m.value;
    if (m.value.IsObject()) {
      const Value* c = json::member(m.value, "config");
      h = c ? json::member(*c, "keras_history") : nullptr;
      if (!h || !h->IsArray() || h->Size() < 3 || !(*h)[0].IsString() || !(*h)[1].IsNumber() || !(*h)[2].IsNumber()) continue;
    }
    out[m.name.GetString()] = TensorLink{(*h)[0].GetString(), json::to_int((*h)[1].GetDouble()), json::to_int((*h)[2].GetDouble())};
  }
  return out;
}

std::optional<Shape> tf_op_output_shape(const std::string& fn, const LayerCall& call, const std::vector<MaybeShape>& first,
                                        const std::map<std::string, MaybeShape>& kwarg_shapes, const std::string& file) {
  auto doc = json::parse(call.kwargs_json.empty() ? "{}" : call.kwargs_json, file);
  if (!doc.IsObject()) return std::nullopt;
  // An argument's shape: a tensor kwarg's looked-up shape, or a constant's.
  auto arg_shape = [&](const char* key) -> MaybeShape {
    if (auto it = kwarg_shapes.find(key); it != kwarg_shapes.end()) return it->second;
    const Value* v = json::member(doc, key);
    return v ? constant_shape(*v) : std::nullopt;
  };
  MaybeShape x;
  if (first.size() == 1) x = first[0];
  else if (first.empty() && call.constant_args_json.size() == 1) x = constant_shape(json::parse(call.constant_args_json[0], file));
  const Value* axis_v = json::member(doc, "axis");
  const bool keepdims = json::get_bool(doc, "keepdims").value_or(false);

  if (same_shape_functions().count(fn) || fn == "clip_by_value") return x;
  if (binary_functions().count(fn)) return broadcast(x, arg_shape(fn == "nn.bias_add" ? "bias" : "y"));
  if (fn == "concat" || fn == "stack") {
    if (first.empty()) return std::nullopt;
    for (const auto& s : first)
      if (!s || s->size() != first[0]->size()) return std::nullopt;
    Shape out = *first[0];
    auto ax = norm_axis(ints_of(axis_v).value_or(std::vector<int64_t>{0}).at(0), out.size() + (fn == "stack"));
    if (!ax) return std::nullopt;
    if (fn == "stack") {
      out.insert(out.begin() + static_cast<std::ptrdiff_t>(*ax), static_cast<int64_t>(first.size()));
      return out;
    }
    int64_t total = 0;
    for (const auto& s : first) total = (total == kUnknown || (*s)[*ax] == kUnknown) ? kUnknown : total + (*s)[*ax];
    out[*ax] = total;
    return out;
  }
  if (!x) return std::nullopt;
  const size_t r = x->size();
  if (fn.rfind("math.reduce_", 0) == 0 || fn == "math.argmax" || fn == "math.argmin") {
    std::set<size_t> axes;
    auto listed = ints_of(axis_v);
    if (!listed && (fn == "math.argmax" || fn == "math.argmin")) listed = std::vector<int64_t>{0};
    if (listed) {
      for (int64_t a : *listed) {
        auto n = norm_axis(a, r);
        if (!n) return std::nullopt;
        axes.insert(*n);
      }
    } else {
      for (size_t i = 0; i < r; ++i) axes.insert(i);
    }
    Shape out;
    for (size_t i = 0; i < r; ++i) {
      if (!axes.count(i)) out.push_back((*x)[i]);
      else if (keepdims && fn.rfind("math.reduce_", 0) == 0) out.push_back(1);
    }
    return out;
  }
  if (fn == "reshape") {
    auto s = ints_of(json::member(doc, "shape"));
    if (!s) return std::nullopt;
    return Shape(s->begin(), s->end());  // -1 stays unknown (usually the batch)
  }
  if (fn == "expand_dims") {
    auto ax = norm_axis(ints_of(axis_v).value_or(std::vector<int64_t>{0}).at(0), r + 1);
    if (!ax) return std::nullopt;
    Shape out = *x;
    out.insert(out.begin() + static_cast<std::ptrdiff_t>(*ax), 1);
    return out;
  }
  if (fn == "squeeze") {
    auto listed = ints_of(axis_v);
    Shape out;
    for (size_t i = 0; i < r; ++i) {
      bool drop = false;
      if (listed) {
        for (int64_t a : *listed) drop = drop || norm_axis(a, r) == std::optional<size_t>(i);
      } else {
        drop = (*x)[i] == 1;
      }
      if (!drop) out.push_back((*x)[i]);
    }
    return out;
  }
  if (fn == "transpose" || fn == "compat.v1.transpose" || fn == "linalg.matrix_transpose") {
    auto perm = ints_of(json::member(doc, "perm"));
    Shape out;
    if (!perm) return Shape(x->rbegin(), x->rend());
    for (int64_t p : *perm) {
      auto a = norm_axis(p, r);
      if (!a) return std::nullopt;
      out.push_back((*x)[*a]);
    }
    return out;
  }
  if (fn == "tile") {
    auto m = ints_of(json::member(doc, "multiples"));
    if (!m || m->size() != r) return std::nullopt;
    Shape out = *x;
    for (size_t i = 0; i < r; ++i) out[i] = out[i] == kUnknown ? kUnknown : out[i] * (*m)[i];
    return out;
  }
  if (fn == "pad" || fn == "compat.v1.pad") {
    const Value* p = json::member(doc, "paddings");
    if (!p || !p->IsArray() || p->Size() != r) return std::nullopt;
    Shape out = *x;
    for (size_t i = 0; i < r; ++i) {
      auto pair = ints_of(&(*p)[static_cast<rapidjson::SizeType>(i)]);
      if (!pair || pair->size() != 2) return std::nullopt;
      if (out[i] != kUnknown) out[i] += (*pair)[0] + (*pair)[1];
    }
    return out;
  }
  if (fn == "linalg.matmul" || fn == "matmul") {
    MaybeShape b = arg_shape("b");
    if (!b || r < 2 || b->size() < 2) return std::nullopt;
    const bool ta = json::get_bool(doc, "transpose_a").value_or(false) || json::get_bool(doc, "adjoint_a").value_or(false);
    const bool tb = json::get_bool(doc, "transpose_b").value_or(false) || json::get_bool(doc, "adjoint_b").value_or(false);
    MaybeShape batch = broadcast(Shape(x->begin(), x->end() - 2), Shape(b->begin(), b->end() - 2));
    Shape out = *batch;
    out.push_back(ta ? (*x)[r - 1] : (*x)[r - 2]);
    out.push_back(tb ? (*b)[b->size() - 2] : b->back());
    return out;
  }
  if (fn == "__operators__.getitem") {
    const Value* spec = json::member(doc, "slice_spec");
    return spec ? getitem(*x, *spec) : std::nullopt;
  }
  return std::nullopt;
}

}  // namespace kmodel
