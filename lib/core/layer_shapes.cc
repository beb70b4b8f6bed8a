// Shape propagation and expected weights per Keras layer class (see layer_shapes.h).
// The formulas are the documented Keras semantics: conv output length
// valid: floor((L - d*(k-1) - 1) / s) + 1, same/causal: ceil(L / s), full (Keras 1): L + d*(k-1);
// transposed conv: (L-1)*s + d*(k-1)+1 - 2*pad + output_padding, or L*s + max(k-s, 0) (valid) and L*s
// (same) without output_padding; weights as the layers' build() methods create them.
#include "core/layer_shapes.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include "core/json_util.h"
#include "core/tf_op_shapes.h"
#include "kmodel/error.h"

namespace kmodel {
namespace {

using json::Value;
using MaybeShape = std::optional<Shape>;  // nullopt: rank unknown
constexpr int64_t kUnknown = -1;

struct Result {
  bool known = false;
  std::vector<MaybeShape> outputs;
  std::vector<ExpectedWeight> weights;
};

struct Ctx {
  std::string file;
  KerasDialect dialect = KerasDialect::kUnknown;
  bool keras1() const { return dialect == KerasDialect::kKeras1; }
};

std::string to_text(const Value& v) { return json::to_string(v); }

// The JSON text of an initializer config key, falling back to a Keras 1 key and a default name.
std::string init_of(const Value& cfg, const char* key, const char* k1_key, const char* dflt) {
  if (const Value* v = json::member(cfg, key); v && !v->IsNull()) return to_text(*v);
  if (k1_key)
    if (const Value* v = json::member(cfg, k1_key); v && !v->IsNull()) return to_text(*v);
  return json::quote(dflt);
}

std::optional<int64_t> int_of(const Value& cfg, std::initializer_list<const char*> keys) {
  for (const char* k : keys)
    if (auto v = json::get_int(cfg, k)) return v;
  return std::nullopt;
}

// An int or a list of ints, expanded to n values; empty when absent or malformed.
std::vector<int64_t> ints_n(const Value* v, size_t n) {
  std::vector<int64_t> out;
  if (!v || v->IsNull()) return out;
  if (v->IsNumber()) return std::vector<int64_t>(n, json::to_int64(v->GetDouble()));
  if (v->IsArray()) {
    for (const auto& e : v->GetArray()) {
      if (!e.IsNumber()) return {};
      out.push_back(json::to_int64(e.GetDouble()));
    }
    if (out.size() == 1 && n > 1) out.assign(n, out[0]);
    if (out.size() != n) return {};
  }
  return out;
}

std::vector<int64_t> ints_key(const Value& cfg, const char* key, size_t n, int64_t dflt) {
  auto v = ints_n(json::member(cfg, key), n);
  if (v.empty()) v.assign(n, dflt);
  return v;
}

MaybeShape shape_of_json(const Value& v) {
  if (!v.IsArray()) return std::nullopt;
  Shape s;
  for (const auto& e : v.GetArray()) s.push_back(e.IsNumber() ? json::to_int64(e.GetDouble()) : kUnknown);
  return s;
}

bool bool_of(const Value& cfg, const char* key, bool dflt) { return json::get_bool(cfg, key).value_or(dflt); }
std::string str_of(const Value& cfg, const char* key, const std::string& dflt) {
  return json::get_string(cfg, key).value_or(dflt);
}

bool channels_first(const Value& cfg) {
  if (auto df = json::get_string(cfg, "data_format")) return *df == "channels_first";
  if (auto dim = json::get_string(cfg, "dim_ordering")) return *dim == "th";
  return false;
}

int64_t mul(int64_t a, int64_t b) { return (a < 0 || b < 0) ? kUnknown : a * b; }
int64_t add(int64_t a, int64_t b) { return (a < 0 || b < 0) ? kUnknown : a + b; }

int64_t conv_out(int64_t len, int64_t k, const std::string& padding, int64_t s, int64_t d) {
  if (len < 0 || k <= 0 || s <= 0) return kUnknown;
  int64_t dk = (k - 1) * std::max<int64_t>(d, 1) + 1;
  int64_t n;
  if (padding == "same" || padding == "causal") n = len;
  else if (padding == "full") n = len + dk - 1;
  else n = len - dk + 1;
  if (n <= 0) return 0;
  return (n + s - 1) / s;
}

int64_t deconv_out(int64_t len, int64_t k, const std::string& padding, int64_t s, int64_t d,
                   std::optional<int64_t> out_pad) {
  if (len < 0 || k <= 0 || s <= 0) return kUnknown;
  int64_t dk = (k - 1) * std::max<int64_t>(d, 1) + 1;
  if (!out_pad) {
    if (padding == "valid") return len * s + std::max<int64_t>(dk - s, 0);
    if (padding == "full") return len * s - (s + dk - 2);
    return len * s;
  }
  int64_t pad = padding == "same" ? dk / 2 : padding == "full" ? dk - 1 : 0;
  return (len - 1) * s + dk - 2 * pad + *out_pad;
}

void add_weight(Result& r, std::string name, Shape shape, std::string init, bool trainable = true,
                std::string attr = "", DType dtype = DType::kFloat32) {
  ExpectedWeight w;
  w.attr = attr.empty() ? name : attr;
  w.name = std::move(name);
  w.shape = std::move(shape);
  w.trainable = trainable;
  w.dtype = dtype;
  w.initializer_json = std::move(init);
  r.weights.push_back(std::move(w));
}

int64_t last_dim(const MaybeShape& s) { return s && !s->empty() ? s->back() : kUnknown; }

// ---- layer families ------------------------------------------------------------------------

Result dense(const Value& cfg, const MaybeShape& in, const Ctx& ctx) {
  Result r;
  r.known = true;
  int64_t units = int_of(cfg, {"units", "output_dim"}).value_or(kUnknown);
  int64_t in_dim = last_dim(in);
  if (in_dim < 0) in_dim = int_of(cfg, {"input_dim"}).value_or(kUnknown);
  bool bias = bool_of(cfg, "use_bias", bool_of(cfg, "bias", true));
  add_weight(r, ctx.keras1() ? "W" : "kernel", {in_dim, units}, init_of(cfg, "kernel_initializer", "init", "glorot_uniform"));
  if (bias) add_weight(r, ctx.keras1() ? "b" : "bias", {units}, init_of(cfg, "bias_initializer", nullptr, "zeros"));
  if (in) {
    Shape o = *in;
    if (o.empty()) o.push_back(units);
    else o.back() = units;
    r.outputs.push_back(o);
  } else {
    r.outputs.push_back(std::nullopt);
  }
  return r;
}

enum class ConvKind { kPlain, kTranspose, kSeparable, kDepthwise };

Result conv(const Value& cfg, const MaybeShape& in, int rank, ConvKind kind, const Ctx& ctx, const std::string& cls) {
  Result r;
  r.known = true;
  size_t n = static_cast<size_t>(rank);
  bool cf = channels_first(cfg);
  // Kernel size (Keras 2/3 kernel_size; Keras 1 filter_length / nb_row, nb_col / kernel_dim1..3).
  std::vector<int64_t> k = ints_n(json::member(cfg, "kernel_size"), n);
  if (k.empty()) {
    if (rank == 1) k = ints_n(json::member(cfg, "filter_length"), 1);
    else if (rank == 2) {
      auto a = json::get_int(cfg, "nb_row"), b = json::get_int(cfg, "nb_col");
      if (a && b) k = {*a, *b};
    } else {
      auto a = json::get_int(cfg, "kernel_dim1"), b = json::get_int(cfg, "kernel_dim2"), c = json::get_int(cfg, "kernel_dim3");
      if (a && b && c) k = {*a, *b, *c};
    }
  }
  if (k.empty()) k.assign(n, kUnknown);
  std::vector<int64_t> strides = ints_n(json::member(cfg, "strides"), n);
  if (strides.empty()) strides = ints_n(json::member(cfg, "subsample"), n);
  if (strides.empty()) strides = ints_n(json::member(cfg, "subsample_length"), n);
  if (strides.empty()) strides.assign(n, 1);
  std::vector<int64_t> dil = ints_n(json::member(cfg, "dilation_rate"), n);
  if (dil.empty()) dil = ints_n(json::member(cfg, "atrous_rate"), n);
  if (dil.empty()) dil.assign(n, 1);
  std::string padding = str_of(cfg, "padding", str_of(cfg, "border_mode", "valid"));
  int64_t filters = int_of(cfg, {"filters", "nb_filter"}).value_or(kUnknown);
  int64_t groups = json::get_int(cfg, "groups").value_or(1);
  int64_t dm = json::get_int(cfg, "depth_multiplier").value_or(1);
  bool bias = bool_of(cfg, "use_bias", bool_of(cfg, "bias", true));

  int64_t in_ch = kUnknown;
  std::vector<int64_t> spatial(n, kUnknown);
  bool rank_ok = in && in->size() == n + 2;
  if (rank_ok) {
    in_ch = cf ? (*in)[1] : in->back();
    for (size_t i = 0; i < n; ++i) spatial[i] = (*in)[cf ? i + 2 : i + 1];
  }
  if (in_ch < 0 && rank == 1 && !ctx.keras1()) in_ch = kUnknown;
  if (in_ch < 0) in_ch = json::get_int(cfg, "input_dim").value_or(kUnknown);

  auto kname = [&](const char* k2) { return ctx.keras1() ? std::string("W") : std::string(k2); };
  std::string kinit = init_of(cfg, "kernel_initializer", "init", "glorot_uniform");
  int64_t out_ch = filters;
  Shape kshape(k.begin(), k.end());
  switch (kind) {
    case ConvKind::kPlain:
      if (ctx.keras1()) {
        if (rank == 1) kshape = {k[0], 1, in_ch, filters};
        else if (cf) { kshape = {filters, in_ch}; kshape.insert(kshape.end(), k.begin(), k.end()); }
        else { kshape.push_back(in_ch); kshape.push_back(filters); }
      } else {
        kshape.push_back(in_ch < 0 || groups <= 0 ? kUnknown : in_ch / groups);
        kshape.push_back(filters);
      }
      add_weight(r, kname("kernel"), kshape, kinit);
      break;
    case ConvKind::kTranspose:
      if (ctx.keras1() && cf) { kshape = {in_ch, filters}; kshape.insert(kshape.end(), k.begin(), k.end()); }
      else if (ctx.keras1()) { kshape.push_back(filters); kshape.push_back(in_ch); }
      else { kshape.push_back(filters); kshape.push_back(in_ch); }
      add_weight(r, kname("kernel"), kshape, kinit);
      break;
    case ConvKind::kSeparable: {
      Shape dshape = kshape;
      dshape.push_back(in_ch);
      dshape.push_back(dm);
      Shape pshape(n, 1);
      pshape.push_back(mul(in_ch, dm));
      pshape.push_back(filters);
      add_weight(r, "depthwise_kernel", dshape, init_of(cfg, "depthwise_initializer", nullptr, "glorot_uniform"));
      add_weight(r, "pointwise_kernel", pshape, init_of(cfg, "pointwise_initializer", nullptr, "glorot_uniform"));
      break;
    }
    case ConvKind::kDepthwise: {
      kshape.push_back(in_ch);
      kshape.push_back(dm);
      add_weight(r, "depthwise_kernel", kshape, init_of(cfg, "depthwise_initializer", nullptr, "glorot_uniform"));
      out_ch = mul(in_ch, dm);
      break;
    }
  }
  if (bias) add_weight(r, ctx.keras1() ? "b" : "bias", {out_ch}, init_of(cfg, "bias_initializer", nullptr, "zeros"));

  if (!rank_ok) {
    r.outputs.push_back(std::nullopt);
    return r;
  }
  std::vector<int64_t> outp(n);
  std::vector<int64_t> opad = ints_n(json::member(cfg, "output_padding"), n);
  for (size_t i = 0; i < n; ++i) {
    if (kind == ConvKind::kTranspose)
      outp[i] = deconv_out(spatial[i], k[i], padding, strides[i], dil[i],
                           opad.empty() ? std::nullopt : std::optional<int64_t>(opad[i]));
    else
      outp[i] = conv_out(spatial[i], k[i], padding, strides[i], dil[i]);
  }
  if (kind == ConvKind::kTranspose && cls == "Deconvolution2D") {  // Keras 1: output_shape is given
    const Value* osv = json::member(cfg, "output_shape");
    if (auto os = osv ? shape_of_json(*osv) : std::nullopt) {
      if (os->size() == n + 2) {
        Shape o = *os;
        o[0] = (*in)[0];
        r.outputs.push_back(o);
        return r;
      }
    }
  }
  Shape o{(*in)[0]};
  if (cf) o.push_back(out_ch);
  o.insert(o.end(), outp.begin(), outp.end());
  if (!cf) o.push_back(out_ch);
  r.outputs.push_back(o);
  return r;
}

Result pooling(const Value& cfg, const MaybeShape& in, int rank) {
  Result r;
  r.known = true;
  size_t n = static_cast<size_t>(rank);
  bool cf = channels_first(cfg);
  std::vector<int64_t> pool = ints_n(json::member(cfg, "pool_size"), n);
  if (pool.empty()) pool = ints_n(json::member(cfg, "pool_length"), n);
  if (pool.empty()) pool.assign(n, 2);
  std::vector<int64_t> strides = ints_n(json::member(cfg, "strides"), n);
  if (strides.empty()) strides = ints_n(json::member(cfg, "stride"), n);
  if (strides.empty()) strides = pool;
  std::string padding = str_of(cfg, "padding", str_of(cfg, "border_mode", "valid"));
  if (!in || in->size() != n + 2) {
    r.outputs.push_back(std::nullopt);
    return r;
  }
  Shape o = *in;
  for (size_t i = 0; i < n; ++i) {
    size_t axis = cf ? i + 2 : i + 1;
    o[axis] = conv_out(o[axis], pool[i], padding, strides[i], 1);
  }
  r.outputs.push_back(o);
  return r;
}

Result global_pooling(const Value& cfg, const MaybeShape& in) {
  Result r;
  r.known = true;
  if (!in || in->size() < 3) {
    r.outputs.push_back(std::nullopt);
    return r;
  }
  bool cf = channels_first(cfg);
  int64_t ch = cf ? (*in)[1] : in->back();
  if (bool_of(cfg, "keepdims", false)) {
    Shape o = *in;
    for (size_t i = 1; i < o.size(); ++i)
      if (i != (cf ? 1 : o.size() - 1)) o[i] = 1;
    r.outputs.push_back(o);
  } else {
    r.outputs.push_back(Shape{(*in)[0], ch});
  }
  return r;
}

// Padding/cropping amounts as (before, after) per spatial dim.
std::vector<std::pair<int64_t, int64_t>> pairs_of(const Value* v, size_t n, int64_t dflt) {
  std::vector<std::pair<int64_t, int64_t>> out(n, {dflt, dflt});
  if (!v || v->IsNull()) return out;
  if (v->IsNumber()) {
    int64_t x = json::to_int64(v->GetDouble());
    return std::vector<std::pair<int64_t, int64_t>>(n, {x, x});
  }
  if (!v->IsArray()) return out;
  if (n == 1 && v->Size() == 2 && (*v)[0].IsNumber() && (*v)[1].IsNumber())
    return {{json::to_int64((*v)[0].GetDouble()), json::to_int64((*v)[1].GetDouble())}};
  if (v->Size() != n) return out;
  for (size_t i = 0; i < n; ++i) {
    const Value& e = (*v)[static_cast<rapidjson::SizeType>(i)];
    if (e.IsNumber()) out[i] = {json::to_int64(e.GetDouble()), json::to_int64(e.GetDouble())};
    else if (e.IsArray() && e.Size() == 2 && e[0].IsNumber() && e[1].IsNumber())
      out[i] = {json::to_int64(e[0].GetDouble()), json::to_int64(e[1].GetDouble())};
  }
  return out;
}

Result pad_crop(const Value& cfg, const MaybeShape& in, int rank, int sign) {
  Result r;
  r.known = true;
  size_t n = static_cast<size_t>(rank);
  auto p = pairs_of(json::member(cfg, sign > 0 ? "padding" : "cropping"), n, sign > 0 ? 1 : 0);
  if (!in || in->size() != n + 2) {
    r.outputs.push_back(std::nullopt);
    return r;
  }
  bool cf = channels_first(cfg) && rank > 1;
  Shape o = *in;
  for (size_t i = 0; i < n; ++i) {
    size_t axis = cf ? i + 2 : i + 1;
    if (o[axis] >= 0) o[axis] += sign * (p[i].first + p[i].second);
  }
  r.outputs.push_back(o);
  return r;
}

Result upsampling(const Value& cfg, const MaybeShape& in, int rank) {
  Result r;
  r.known = true;
  size_t n = static_cast<size_t>(rank);
  std::vector<int64_t> size = ints_n(json::member(cfg, "size"), n);
  if (size.empty()) size = ints_n(json::member(cfg, "length"), n);
  if (size.empty()) size.assign(n, 2);
  if (!in || in->size() != n + 2) {
    r.outputs.push_back(std::nullopt);
    return r;
  }
  bool cf = channels_first(cfg) && rank > 1;
  Shape o = *in;
  for (size_t i = 0; i < n; ++i) {
    size_t axis = cf ? i + 2 : i + 1;
    o[axis] = mul(o[axis], size[i]);
  }
  r.outputs.push_back(o);
  return r;
}

Result norm_layer(const Value& cfg, const MaybeShape& in, const std::string& cls, const Ctx& ctx) {
  Result r;
  r.known = true;
  std::vector<int64_t> axes;
  const Value* axis = json::member(cfg, "axis");
  if (axis && axis->IsArray()) {
    for (const auto& a : axis->GetArray())
      if (a.IsNumber()) axes.push_back(json::to_int64(a.GetDouble()));
  } else if (axis && axis->IsNumber()) {
    axes.push_back(json::to_int64(axis->GetDouble()));
  } else {
    axes.push_back(-1);
  }
  Shape pshape;
  if (in && !in->empty()) {
    int64_t rank = static_cast<int64_t>(in->size());
    for (int64_t a : axes) {
      int64_t ax = a < 0 ? a + rank : a;
      pshape.push_back(ax >= 0 && ax < rank ? (*in)[static_cast<size_t>(ax)] : kUnknown);
    }
  } else {
    pshape.assign(axes.size(), kUnknown);
  }
  if (cls == "BatchNormalization" && axes.size() > 1) {
    // Several axes: Keras keeps the parameter shape as the input shape with 1 in reduced axes;
    // tf.keras flattens to the axis dims when they are the only non-reduced ones. Keep the dims.
  }
  bool center = bool_of(cfg, "center", true), scale = bool_of(cfg, "scale", true);
  if (cls == "LayerNormalization") {
    // LayerNormalization's gamma/beta have the shape of the normalized axes.
    if (scale) add_weight(r, "gamma", pshape, init_of(cfg, "gamma_initializer", nullptr, "ones"));
    if (center) add_weight(r, "beta", pshape, init_of(cfg, "beta_initializer", nullptr, "zeros"));
  } else {
    bool k1 = ctx.keras1();
    if (scale || k1) add_weight(r, "gamma", pshape, init_of(cfg, "gamma_initializer", "gamma_init", "ones"));
    if (center || k1) add_weight(r, "beta", pshape, init_of(cfg, "beta_initializer", "beta_init", "zeros"));
    add_weight(r, k1 ? "running_mean" : "moving_mean", pshape,
               init_of(cfg, "moving_mean_initializer", nullptr, "zeros"), false);
    add_weight(r, k1 ? "running_std" : "moving_variance", pshape,
               init_of(cfg, "moving_variance_initializer", nullptr, "ones"), false);
  }
  r.outputs.push_back(in);
  return r;
}

Result embedding(const Value& cfg, const MaybeShape& in, const Ctx& ctx) {
  Result r;
  r.known = true;
  int64_t input_dim = json::get_int(cfg, "input_dim").value_or(kUnknown);
  int64_t output_dim = json::get_int(cfg, "output_dim").value_or(kUnknown);
  add_weight(r, ctx.keras1() ? "W" : "embeddings", {input_dim, output_dim},
             init_of(cfg, "embeddings_initializer", "init", "uniform"));
  MaybeShape i = in;
  if (!i) {
    if (auto len = json::get_int(cfg, "input_length")) i = Shape{kUnknown, *len};
    else if (const Value* il = json::member(cfg, "input_length"); il && il->IsNull()) i = Shape{kUnknown, kUnknown};
  }
  if (i) {
    Shape o = *i;
    o.push_back(output_dim);
    r.outputs.push_back(o);
  } else {
    r.outputs.push_back(std::nullopt);
  }
  return r;
}

// Recurrent layers: LSTM, GRU, SimpleRNN (and their CuDNN variants, Keras 1 names).
Result recurrent(const Value& cfg, const MaybeShape& in, const std::string& cls, const Ctx& ctx) {
  Result r;
  r.known = true;
  int64_t units = int_of(cfg, {"units", "output_dim"}).value_or(kUnknown);
  int64_t in_dim = in && in->size() == 3 ? (*in)[2] : kUnknown;
  if (in_dim < 0) in_dim = json::get_int(cfg, "input_dim").value_or(kUnknown);
  bool lstm = cls.find("LSTM") != std::string::npos;
  bool gru = cls.find("GRU") != std::string::npos;
  bool cudnn = cls.rfind("CuDNN", 0) == 0;
  int gates = lstm ? 4 : gru ? 3 : 1;
  std::string kinit = init_of(cfg, "kernel_initializer", "init", "glorot_uniform");
  std::string rinit = init_of(cfg, "recurrent_initializer", "inner_init", "orthogonal");
  std::string binit = init_of(cfg, "bias_initializer", nullptr, "zeros");
  bool bias = bool_of(cfg, "use_bias", true);
  if (ctx.keras1()) {
    std::string forget = init_of(cfg, "forget_bias_init", nullptr, "one");
    auto block = [&](const std::string& g, bool forget_gate) {
      add_weight(r, "W_" + g, {in_dim, units}, kinit);
      add_weight(r, "U_" + g, {units, units}, rinit);
      add_weight(r, "b_" + g, {units}, forget_gate ? forget : json::quote("zero"));
    };
    if (lstm) for (const char* g : {"i", "c", "f", "o"}) block(g, std::string(g) == "f");
    else if (gru) for (const char* g : {"z", "r", "h"}) block(g, false);
    else {
      add_weight(r, "W", {in_dim, units}, kinit);
      add_weight(r, "U", {units, units}, rinit);
      add_weight(r, "b", {units}, json::quote("zero"));
    }
  } else {
    std::string cell = ctx.dialect == KerasDialect::kKeras3 || !cudnn ? "cell/" : "";
    add_weight(r, "kernel", {in_dim, mul(units, gates)}, kinit, true, cell + "kernel");
    add_weight(r, "recurrent_kernel", {units, mul(units, gates)}, rinit, true, cell + "recurrent_kernel");
    if (bias || cudnn) {
      Shape bshape{mul(units, gates)};
      if (gru && (cudnn || bool_of(cfg, "reset_after", false))) bshape = {2, mul(units, gates)};
      if (lstm && cudnn) bshape = {mul(units, 8)};
      if (lstm && bool_of(cfg, "unit_forget_bias", true) && !cudnn) {
        std::string b = "{\"class_name\":\"kmodel>UnitForgetBias\",\"config\":{\"units\":" +
                        std::to_string(units) + ",\"base\":" + binit + "}}";
        binit = b;
      }
      add_weight(r, "bias", bshape, binit, true, cell + "bias");
    }
  }
  bool seq = bool_of(cfg, "return_sequences", false);
  bool state = bool_of(cfg, "return_state", false);
  int64_t batch = in && !in->empty() ? (*in)[0] : kUnknown;
  int64_t steps = in && in->size() >= 2 ? (*in)[1] : kUnknown;
  if (!in) {
    if (auto len = json::get_int(cfg, "input_length")) steps = *len;
  }
  r.outputs.push_back(seq ? Shape{batch, steps, units} : Shape{batch, units});
  if (state)
    for (int i = 0; i < (lstm ? 2 : 1); ++i) r.outputs.push_back(Shape{batch, units});
  return r;
}

Result conv_lstm(const Value& cfg, const MaybeShape& in, int rank) {
  Result r;
  r.known = true;
  size_t n = static_cast<size_t>(rank);
  bool cf = channels_first(cfg);
  std::vector<int64_t> k = ints_key(cfg, "kernel_size", n, kUnknown);
  std::vector<int64_t> strides = ints_key(cfg, "strides", n, 1);
  std::vector<int64_t> dil = ints_key(cfg, "dilation_rate", n, 1);
  std::string padding = str_of(cfg, "padding", "valid");
  int64_t filters = json::get_int(cfg, "filters").value_or(kUnknown);
  bool ok = in && in->size() == n + 3;
  int64_t in_ch = ok ? (cf ? (*in)[2] : in->back()) : kUnknown;
  Shape ks(k.begin(), k.end()), rks(k.begin(), k.end());
  ks.push_back(in_ch);
  ks.push_back(mul(filters, 4));
  rks.push_back(filters);
  rks.push_back(mul(filters, 4));
  add_weight(r, "kernel", ks, init_of(cfg, "kernel_initializer", nullptr, "glorot_uniform"), true, "cell/kernel");
  add_weight(r, "recurrent_kernel", rks, init_of(cfg, "recurrent_initializer", nullptr, "orthogonal"), true,
             "cell/recurrent_kernel");
  if (bool_of(cfg, "use_bias", true)) {
    std::string binit = init_of(cfg, "bias_initializer", nullptr, "zeros");
    if (bool_of(cfg, "unit_forget_bias", true))
      binit = "{\"class_name\":\"kmodel>UnitForgetBias\",\"config\":{\"units\":" + std::to_string(filters) +
              ",\"base\":" + binit + "}}";
    add_weight(r, "bias", {mul(filters, 4)}, binit, true, "cell/bias");
  }
  if (!ok) {
    r.outputs.push_back(std::nullopt);
    return r;
  }
  Shape step{(*in)[0]};
  if (cf) step.push_back(filters);
  for (size_t i = 0; i < n; ++i)
    step.push_back(conv_out((*in)[cf ? i + 3 : i + 2], k[i], padding, strides[i], dil[i]));
  if (!cf) step.push_back(filters);
  Shape o = step;
  if (bool_of(cfg, "return_sequences", false)) o.insert(o.begin() + 1, (*in)[1]);
  r.outputs.push_back(o);
  if (bool_of(cfg, "return_state", false)) {
    r.outputs.push_back(step);
    r.outputs.push_back(step);
  }
  return r;
}

Result identity(const MaybeShape& in) {
  Result r;
  r.known = true;
  r.outputs.push_back(in);
  return r;
}

// Resizing, CenterCrop, RandomCrop: the image becomes (height, width), channels kept.
Result resized_image(const Value& cfg, const MaybeShape& in) {
  Result r;
  r.known = true;
  auto h = int_of(cfg, {"height"}), w = int_of(cfg, {"width"});
  if (!in || in->size() != 4) {
    r.outputs.push_back(std::nullopt);
    return r;
  }
  bool cf = channels_first(cfg);
  Shape o = *in;
  o[cf ? 2 : 1] = h && *h > 0 ? *h : kUnknown;
  o[cf ? 3 : 2] = w && *w > 0 ? *w : kUnknown;
  r.outputs.push_back(o);
  return r;
}

Result flatten(const MaybeShape& in) {
  Result r;
  r.known = true;
  if (!in || in->empty()) {
    r.outputs.push_back(std::nullopt);
    return r;
  }
  int64_t p = 1;
  for (size_t i = 1; i < in->size(); ++i) p = mul(p, (*in)[i]);
  r.outputs.push_back(Shape{(*in)[0], p});
  return r;
}

Result reshape(const Value& cfg, const MaybeShape& in) {
  Result r;
  r.known = true;
  auto target = json::member(cfg, "target_shape") ? shape_of_json(*json::member(cfg, "target_shape")) : std::nullopt;
  if (!target) {
    r.outputs.push_back(std::nullopt);
    return r;
  }
  Shape o{in && !in->empty() ? (*in)[0] : kUnknown};
  o.insert(o.end(), target->begin(), target->end());
  auto unknown_at = std::find(o.begin() + 1, o.end(), kUnknown);
  if (unknown_at != o.end() && in) {
    int64_t total = 1, known = 1;
    for (size_t i = 1; i < in->size(); ++i) total = mul(total, (*in)[i]);
    for (auto it = o.begin() + 1; it != o.end(); ++it)
      if (it != unknown_at) known = mul(known, *it);
    if (total >= 0 && known > 0) *unknown_at = total / known;
  }
  r.outputs.push_back(o);
  return r;
}

Result permute(const Value& cfg, const MaybeShape& in) {
  Result r;
  r.known = true;
  const Value* dims = json::member(cfg, "dims");
  if (!in || !dims || !dims->IsArray() || dims->Size() + 1 != in->size()) {
    r.outputs.push_back(std::nullopt);
    return r;
  }
  Shape o{(*in)[0]};
  for (const auto& d : dims->GetArray()) {
    int64_t i = d.IsNumber() ? json::to_int64(d.GetDouble()) : -1;
    o.push_back(i >= 1 && static_cast<size_t>(i) < in->size() ? (*in)[static_cast<size_t>(i)] : kUnknown);
  }
  r.outputs.push_back(o);
  return r;
}

Result repeat_vector(const Value& cfg, const MaybeShape& in) {
  Result r;
  r.known = true;
  int64_t n = json::get_int(cfg, "n").value_or(kUnknown);
  if (!in || in->size() != 2) {
    r.outputs.push_back(std::nullopt);
    return r;
  }
  r.outputs.push_back(Shape{(*in)[0], n, (*in)[1]});
  return r;
}

MaybeShape broadcast(const std::vector<MaybeShape>& ins) {
  MaybeShape out;
  for (const auto& s : ins) {
    if (!s) return std::nullopt;
    if (!out) { out = s; continue; }
    Shape a = *out, b = *s;
    if (a.size() < b.size()) std::swap(a, b);
    size_t off = a.size() - b.size();
    for (size_t i = 0; i < b.size(); ++i) {
      int64_t& x = a[off + i];
      int64_t y = b[i];
      if (x == 1) x = y;
      else if (y != 1 && x != y) x = (x < 0) ? y : (y < 0 ? x : x);
    }
    out = a;
  }
  return out;
}

MaybeShape concat(const std::vector<MaybeShape>& ins, int64_t axis) {
  if (ins.empty() || !ins[0]) return std::nullopt;
  Shape o = *ins[0];
  int64_t rank = static_cast<int64_t>(o.size());
  int64_t ax = axis < 0 ? axis + rank : axis;
  if (ax < 0 || ax >= rank) return std::nullopt;
  for (size_t i = 1; i < ins.size(); ++i) {
    if (!ins[i] || ins[i]->size() != o.size()) return std::nullopt;
    o[static_cast<size_t>(ax)] = add(o[static_cast<size_t>(ax)], (*ins[i])[static_cast<size_t>(ax)]);
  }
  return o;
}

MaybeShape dot(const std::vector<MaybeShape>& ins, const Value* axes_v) {
  if (ins.size() != 2 || !ins[0] || !ins[1]) return std::nullopt;
  const Shape& a = *ins[0];
  const Shape& b = *ins[1];
  std::vector<int64_t> axes = ints_n(axes_v, 2);
  if (axes.empty()) axes = {static_cast<int64_t>(a.size()) - 1, static_cast<int64_t>(b.size()) - 1};
  int64_t aa = axes[0] < 0 ? axes[0] + static_cast<int64_t>(a.size()) : axes[0];
  int64_t bb = axes[1] < 0 ? axes[1] + static_cast<int64_t>(b.size()) : axes[1];
  Shape o{a[0]};
  for (size_t i = 1; i < a.size(); ++i)
    if (static_cast<int64_t>(i) != aa) o.push_back(a[i]);
  for (size_t i = 1; i < b.size(); ++i)
    if (static_cast<int64_t>(i) != bb) o.push_back(b[i]);
  if (o.size() == 1) o.push_back(1);
  return o;
}

Result prelu(const Value& cfg, const MaybeShape& in) {
  Result r;
  r.known = true;
  Shape a;
  if (in && !in->empty()) {
    a.assign(in->begin() + 1, in->end());
    if (const Value* sh = json::member(cfg, "shared_axes"); sh && sh->IsArray())
      for (const auto& x : sh->GetArray()) {
        int64_t i = x.IsNumber() ? json::to_int64(x.GetDouble()) : 0;
        if (i >= 1 && static_cast<size_t>(i) <= a.size()) a[static_cast<size_t>(i - 1)] = 1;
      }
  } else {
    a.push_back(kUnknown);
  }
  add_weight(r, "alpha", a, init_of(cfg, "alpha_initializer", "init", "zeros"));
  r.outputs.push_back(in);
  return r;
}

Result normalization(const Value& cfg, const MaybeShape& in, const Ctx& ctx) {
  Result r;
  r.known = true;
  r.outputs.push_back(in);
  const Value* mean = json::member(cfg, "mean");
  if (mean && !mean->IsNull()) return r;  // mean/variance given in the config: no weights
  std::vector<int64_t> axes;
  const Value* axis = json::member(cfg, "axis");
  if (axis && axis->IsArray()) {
    for (const auto& a : axis->GetArray())
      if (a.IsNumber()) axes.push_back(json::to_int64(a.GetDouble()));
  } else if (axis && axis->IsNumber()) {
    axes.push_back(json::to_int64(axis->GetDouble()));
  } else if (!axis) {
    axes.push_back(-1);
  }
  Shape s;
  for (int64_t a : axes) {
    if (in && !in->empty()) {
      int64_t rank = static_cast<int64_t>(in->size());
      int64_t ax = a < 0 ? a + rank : a;
      s.push_back(ax >= 0 && ax < rank ? (*in)[static_cast<size_t>(ax)] : kUnknown);
    } else {
      s.push_back(kUnknown);
    }
  }
  add_weight(r, "mean", s, json::quote("zeros"), false);
  add_weight(r, "variance", s, json::quote("ones"), false);
  if (ctx.dialect != KerasDialect::kKeras3) add_weight(r, "count", {}, json::quote("zeros"), false, "", DType::kInt64);
  return r;
}

bool one_of(const std::string& s, std::initializer_list<const char*> names) {
  for (const char* n : names)
    if (s == n) return true;
  return false;
}

// The spatial rank in a class name: "Conv2D" -> 2, "Conv3DTranspose" -> 3, "ZeroPadding1D" -> 1.
int trailing_rank(const std::string& cls) {
  for (size_t i = 0; i + 1 < cls.size(); ++i)
    if (cls[i] >= '1' && cls[i] <= '3' && cls[i + 1] == 'D') return cls[i] - '0';
  return 0;
}

struct SubLayer {
  std::string class_name;
  const Value* config = nullptr;
};
SubLayer sub_layer(const Value& cfg) {
  SubLayer s;
  const Value* l = json::member(cfg, "layer");
  if (!l || !l->IsObject()) return s;
  s.class_name = json::get_string(*l, "class_name").value_or("");
  s.config = json::member(*l, "config");
  return s;
}

void make_non_trainable(Result& r) {
  for (auto& w : r.weights) w.trainable = false;
}
void legacy_order(std::vector<ExpectedWeight>& ws) {
  std::stable_partition(ws.begin(), ws.end(), [](const ExpectedWeight& w) { return w.trainable; });
}

Result layer_result(const std::string& cls, const Value& cfg, const std::vector<MaybeShape>& ins, const Ctx& ctx);

// MultiHeadAttention(query, value[, key]): EinsumDense projections "query", "key", "value"
// (kernels (dim, heads, key_dim|value_dim), biases (heads, dim)) and "attention_output"
// (kernel (heads, value_dim, out), bias (out,)); output = query shape with the last dim = out.
Result multi_head_attention(const Value& cfg, const std::vector<MaybeShape>& ins) {
  Result r;
  r.known = true;
  int64_t heads = json::get_int(cfg, "num_heads").value_or(kUnknown);
  int64_t key_dim = json::get_int(cfg, "key_dim").value_or(kUnknown);
  int64_t value_dim = key_dim;
  if (const Value* v = json::member(cfg, "value_dim"); v && v->IsNumber()) value_dim = json::to_int64(v->GetDouble());
  bool bias = bool_of(cfg, "use_bias", true);
  MaybeShape q = ins.size() > 0 ? ins[0] : std::nullopt;
  MaybeShape v = ins.size() > 1 ? ins[1] : std::nullopt;
  MaybeShape k = ins.size() > 2 ? ins[2] : v;
  int64_t out = last_dim(q);
  if (const Value* os = json::member(cfg, "output_shape"); os && !os->IsNull()) {
    auto o = ints_n(os, os->IsArray() ? os->Size() : 1);
    if (o.size() == 1) out = o[0];
  }
  std::string kinit = init_of(cfg, "kernel_initializer", nullptr, "glorot_uniform");
  std::string binit = init_of(cfg, "bias_initializer", nullptr, "zeros");
  auto proj = [&](const char* name, int64_t in, int64_t dim) {
    add_weight(r, std::string(name) + "/kernel", {in, heads, dim}, kinit);
    if (bias) add_weight(r, std::string(name) + "/bias", {heads, dim}, binit);
  };
  proj("query", last_dim(q), key_dim);
  proj("key", last_dim(k), key_dim);
  proj("value", last_dim(v), value_dim);
  add_weight(r, "attention_output/kernel", {heads, value_dim, out}, kinit);
  if (bias) add_weight(r, "attention_output/bias", {out}, binit);
  if (q && !q->empty()) {
    Shape o = *q;
    o.back() = out;
    r.outputs.push_back(o);
  } else {
    r.outputs.push_back(std::nullopt);
  }
  return r;
}

// GroupNormalization: gamma/beta over the channel axis.
Result group_norm(const Value& cfg, const MaybeShape& in) {
  Result r;
  r.known = true;
  int64_t axis = json::get_int(cfg, "axis").value_or(-1);
  int64_t ch = kUnknown;
  if (in && !in->empty()) {
    int64_t rank = static_cast<int64_t>(in->size());
    int64_t ax = axis < 0 ? axis + rank : axis;
    if (ax >= 0 && ax < rank) ch = (*in)[static_cast<size_t>(ax)];
  }
  if (bool_of(cfg, "scale", true)) add_weight(r, "gamma", {ch}, init_of(cfg, "gamma_initializer", nullptr, "ones"));
  if (bool_of(cfg, "center", true)) add_weight(r, "beta", {ch}, init_of(cfg, "beta_initializer", nullptr, "zeros"));
  r.outputs.push_back(in);
  return r;
}

// Attention([query, value(, key)]): output = query shape with value's last dim; a "scale" scalar
// with use_scale, and Keras 3's "concat_score_weight" scalar with score_mode "concat".
Result attention(const Value& cfg, const std::vector<MaybeShape>& ins) {
  Result r;
  r.known = true;
  if (bool_of(cfg, "use_scale", false)) add_weight(r, "scale", {}, json::quote("ones"));
  if (str_of(cfg, "score_mode", "dot") == "concat") add_weight(r, "concat_score_weight", {}, json::quote("ones"));
  MaybeShape q = ins.size() > 0 ? ins[0] : std::nullopt;
  MaybeShape v = ins.size() > 1 ? ins[1] : std::nullopt;
  if (q && v && !q->empty()) {
    Shape o = *q;
    o.back() = last_dim(v);
    r.outputs.push_back(o);
  } else {
    r.outputs.push_back(std::nullopt);
  }
  return r;
}

Result bidirectional(const Value& cfg, const MaybeShape& in, const Ctx& ctx) {
  SubLayer inner = sub_layer(cfg);
  Result r;
  if (!inner.config) return r;
  Result f = layer_result(inner.class_name, *inner.config, {in}, ctx);
  if (!f.known) return r;
  r.known = true;
  std::string inner_name = json::get_string(*inner.config, "name").value_or("rnn");
  for (const char* dir : {"forward", "backward"}) {
    for (const auto& w : f.weights) {
      ExpectedWeight x = w;
      if (ctx.keras1()) x.name = std::string(dir) + "_" + inner_name + "_" + w.name;
      else x.name = std::string(dir) + "_" + inner_name + "/" + w.name;
      x.attr = std::string(dir) + "_layer/" + w.attr;
      r.weights.push_back(x);
    }
  }
  legacy_order(r.weights);
  std::string mode = "concat";
  if (const Value* m = json::member(cfg, "merge_mode")) mode = m->IsString() ? m->GetString() : "none";
  MaybeShape o = f.outputs.empty() ? std::nullopt : f.outputs[0];
  if (mode == "none") {
    r.outputs = {o, o};
  } else {
    if (mode == "concat" && o && !o->empty()) o->back() = mul(o->back(), 2);
    r.outputs.push_back(o);
  }
  for (int dir = 0; dir < 2; ++dir)  // return_state: forward states, then backward states
    for (size_t i = 1; i < f.outputs.size(); ++i) r.outputs.push_back(f.outputs[i]);
  return r;
}

Result time_distributed(const Value& cfg, const MaybeShape& in, const Ctx& ctx) {
  SubLayer inner = sub_layer(cfg);
  Result r;
  if (!inner.config) return r;
  MaybeShape step;
  if (in && in->size() >= 2) {
    step = Shape{(*in)[0]};
    step->insert(step->end(), in->begin() + 2, in->end());
  }
  Result f = layer_result(inner.class_name, *inner.config, {step}, ctx);
  if (!f.known) return r;
  r.known = true;
  r.weights = f.weights;
  for (auto& w : r.weights) w.attr = "layer/" + w.attr;
  for (const auto& o : f.outputs) {
    if (o && in && in->size() >= 2 && !o->empty()) {
      Shape x = *o;
      x.insert(x.begin() + 1, (*in)[1]);
      r.outputs.push_back(x);
    } else {
      r.outputs.push_back(std::nullopt);
    }
  }
  return r;
}

// A layer config written by Keras 2/3 even when the model text looked like Keras 1 (the dialect
// guess from text alone takes a Keras 2 Embedding's "output_dim" for Keras 1).
bool has_keras2_keys(const Value& cfg) {
  for (const char* k : {"kernel_initializer", "embeddings_initializer", "gamma_initializer", "depthwise_initializer",
                        "units", "filters", "kernel_size", "recurrent_initializer", "moving_mean_initializer"})
    if (json::member(cfg, k)) return true;
  return false;
}

Result layer_result(const std::string& cls, const Value& cfg, const std::vector<MaybeShape>& ins, const Ctx& outer) {
  Ctx ctx = outer;
  if (ctx.keras1() && has_keras2_keys(cfg)) ctx.dialect = KerasDialect::kKeras2;
  const MaybeShape in = ins.empty() ? std::nullopt : ins[0];
  int rank = trailing_rank(cls);
  Result r;
  if (cls == "Dense") r = dense(cfg, in, ctx);
  else if (one_of(cls, {"Conv1D", "Conv2D", "Conv3D", "Convolution1D", "Convolution2D", "Convolution3D",
                        "AtrousConvolution1D", "AtrousConvolution2D"}))
    r = conv(cfg, in, rank, ConvKind::kPlain, ctx, cls);
  else if (one_of(cls, {"Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose", "Convolution2DTranspose",
                        "Convolution3DTranspose", "Deconvolution2D", "Deconvolution3D"}))
    r = conv(cfg, in, rank, ConvKind::kTranspose, ctx, cls);
  else if (one_of(cls, {"SeparableConv1D", "SeparableConv2D", "SeparableConvolution1D", "SeparableConvolution2D"}))
    r = conv(cfg, in, rank, ConvKind::kSeparable, ctx, cls);
  else if (one_of(cls, {"DepthwiseConv1D", "DepthwiseConv2D"}))
    r = conv(cfg, in, rank, ConvKind::kDepthwise, ctx, cls);
  else if (one_of(cls, {"MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D",
                        "AveragePooling3D", "MaxPool1D", "MaxPool2D", "MaxPool3D", "AvgPool1D", "AvgPool2D",
                        "AvgPool3D"}))
    r = pooling(cfg, in, rank);
  else if (cls.rfind("Global", 0) == 0 && cls.find("Pool") != std::string::npos) r = global_pooling(cfg, in);
  else if (one_of(cls, {"ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D"})) r = pad_crop(cfg, in, rank, +1);
  else if (one_of(cls, {"Cropping1D", "Cropping2D", "Cropping3D"})) r = pad_crop(cfg, in, rank, -1);
  else if (one_of(cls, {"UpSampling1D", "UpSampling2D", "UpSampling3D"})) r = upsampling(cfg, in, rank);
  else if (cls == "Flatten") r = flatten(in);
  else if (cls == "Reshape") r = reshape(cfg, in);
  else if (cls == "Permute") r = permute(cfg, in);
  else if (cls == "RepeatVector") r = repeat_vector(cfg, in);
  else if (one_of(cls, {"BatchNormalization", "LayerNormalization", "SyncBatchNormalization"}))
    r = norm_layer(cfg, in, cls == "SyncBatchNormalization" ? "BatchNormalization" : cls, ctx);
  else if (cls == "Embedding") r = embedding(cfg, in, ctx);
  else if (one_of(cls, {"LSTM", "GRU", "SimpleRNN", "CuDNNLSTM", "CuDNNGRU"})) r = recurrent(cfg, in, cls, ctx);
  else if (one_of(cls, {"ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D"})) r = conv_lstm(cfg, in, rank);
  else if (cls == "Bidirectional") r = bidirectional(cfg, in, ctx);
  else if (cls == "MultiHeadAttention") r = multi_head_attention(cfg, ins);
  else if (cls == "GroupNormalization") r = group_norm(cfg, in);
  else if (cls == "Attention") r = attention(cfg, ins);
  else if (cls == "TimeDistributed") r = time_distributed(cfg, in, ctx);
  else if (one_of(cls, {"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"})) {
    r.known = true;
    r.outputs.push_back(broadcast(ins));
  } else if (cls == "Concatenate") {
    r.known = true;
    r.outputs.push_back(concat(ins, json::get_int(cfg, "axis").value_or(-1)));
  } else if (cls == "Dot") {
    r.known = true;
    r.outputs.push_back(dot(ins, json::member(cfg, "axes")));
  } else if (cls == "Merge") {  // Keras 1
    r.known = true;
    std::string mode = str_of(cfg, "mode", "sum");
    if (mode == "concat") r.outputs.push_back(concat(ins, json::get_int(cfg, "concat_axis").value_or(-1)));
    else if (mode == "dot" || mode == "cos") r.outputs.push_back(dot(ins, json::member(cfg, "dot_axes")));
    else r.outputs.push_back(broadcast(ins));
  } else if (cls == "PReLU") r = prelu(cfg, in);
  else if (cls == "Normalization") r = normalization(cfg, in, ctx);
  else if (one_of(cls, {"Activation", "LeakyReLU", "ELU", "ReLU", "ThresholdedReLU", "Softmax", "Dropout",
                        "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise",
                        "GaussianDropout", "AlphaDropout", "ActivityRegularization", "Masking", "Rescaling",
                        "UnitNormalization", "Identity", "RandomFlip", "RandomRotation", "RandomZoom",
                        "RandomTranslation", "RandomContrast", "RandomBrightness", "RandomHeight", "RandomWidth"}))
    r = identity(in);  // the Random* augmentations at inference
  else if (one_of(cls, {"Resizing", "CenterCrop", "RandomCrop"})) r = resized_image(cfg, in);
  else
    return r;  // unknown class
  if (!bool_of(cfg, "trainable", true)) make_non_trainable(r);
  legacy_order(r.weights);
  return r;
}

// ---- graphs ------------------------------------------------------------------------------

MaybeShape input_layer_shape(const Value& cfg) {
  for (const char* key : {"batch_input_shape", "batch_shape"})
    if (const Value* v = json::member(cfg, key)) return shape_of_json(*v);
  if (const Value* v = json::member(cfg, "input_shape")) {
    auto s = shape_of_json(*v);
    if (s) s->insert(s->begin(), kUnknown);
    return s;
  }
  return std::nullopt;
}

// A Sequential member's own declared input (batch_input_shape, Keras 1 input_dim/input_length).
MaybeShape declared_input(const LayerSpec& spec, const Value& cfg) {
  if (auto s = input_layer_shape(cfg)) return s;
  auto dim = json::get_int(cfg, "input_dim");
  if (spec.class_name == "Embedding") return std::nullopt;  // input_dim is the vocabulary
  if (dim) {
    if (auto len = json::get_int(cfg, "input_length")) return Shape{kUnknown, *len, *dim};
    if (spec.class_name == "Dense") return Shape{kUnknown, *dim};
    return Shape{kUnknown, kUnknown, *dim};
  }
  return std::nullopt;
}

struct GraphOut {
  std::vector<MaybeShape> outputs;
  std::vector<ExpectedWeight> weights;  // legacy order over all layers
};

GraphOut infer_graph(const ArchitectureSpec& arch, const std::vector<MaybeShape>* override_inputs,
                     const std::string& prefix, const Ctx& ctx, std::map<std::string, LayerShapes>& out);

void record(std::map<std::string, LayerShapes>& out, const std::string& key, const std::string& cls, const Result& r) {
  LayerShapes ls;
  ls.class_name = cls;
  ls.known = r.known;
  bool all = !r.outputs.empty();
  for (const auto& o : r.outputs)
    if (!o) all = false;
  if (r.known && all)
    for (const auto& o : r.outputs) ls.output_shapes.push_back(*o);
  ls.weights = r.weights;
  out[key] = std::move(ls);
}

Result run_layer(const LayerSpec& spec, const std::vector<MaybeShape>& ins, const std::string& prefix, const Ctx& ctx,
                 std::map<std::string, LayerShapes>& out) {
  if (spec.is_model()) {
    ArchitectureSpec sub = parse_nested_architecture(spec, ctx.dialect, ctx.file);
    GraphOut g = infer_graph(sub, ins.empty() || !ins[0] ? nullptr : &ins, prefix + spec.name + "/", ctx, out);
    Result r;
    r.known = true;
    r.outputs = g.outputs;
    r.weights = g.weights;
    return r;
  }
  auto doc = json::parse(spec.config_json, ctx.file);
  if (spec.class_name == "InputLayer") {
    Result r;
    r.known = true;
    r.outputs.push_back(input_layer_shape(doc));
    return r;
  }
  return layer_result(spec.class_name, doc, ins, ctx);
}

void append_weights(GraphOut& g, const std::string& layer, const Result& r) {
  for (const auto& w : r.weights) {
    ExpectedWeight x = w;
    x.name = layer + "/" + w.name;
    x.attr = layer + "/" + w.attr;
    g.weights.push_back(x);
  }
}

// Tensors passed as call keyword arguments "value" then "key" (MultiHeadAttention, Attention):
// Keras 2 [layer, node, tensor] triples or Keras 3 __keras_tensor__ objects.
std::vector<TensorLink> kwarg_tensors(const std::string& kwargs_json, const std::string& file) {
  std::vector<TensorLink> out;
  if (kwargs_json.size() < 3) return out;
  auto doc = json::parse(kwargs_json, file);
  for (const char* key : {"value", "key"}) {
    const Value* v = json::member(doc, key);
    if (!v) continue;
    const Value* hist = v;
    if (v->IsObject()) {
      const Value* c = json::member(*v, "config");
      hist = c ? json::member(*c, "keras_history") : nullptr;
    }
    if (hist && hist->IsArray() && hist->Size() >= 3 && (*hist)[0].IsString() && (*hist)[1].IsNumber() &&
        (*hist)[2].IsNumber()) {
      TensorLink l;
      l.layer = (*hist)[0].GetString();
      l.node_index = json::to_int((*hist)[1].GetDouble());
      l.tensor_index = json::to_int((*hist)[2].GetDouble());
      out.push_back(l);
    }
  }
  return out;
}

GraphOut infer_graph(const ArchitectureSpec& arch, const std::vector<MaybeShape>* override_inputs,
                     const std::string& prefix, const Ctx& ctx, std::map<std::string, LayerShapes>& out) {
  GraphOut g;
  bool sequential = arch.class_name == "Sequential" || arch.inputs.empty();
  if (sequential) {
    MaybeShape cur;
    if (override_inputs && !override_inputs->empty()) cur = (*override_inputs)[0];
    if (!cur && !arch.batch_input_shape_json.empty()) {
      auto doc = json::parse(arch.batch_input_shape_json, ctx.file);
      cur = shape_of_json(doc);
    }
    bool first = true;
    for (const auto& spec : arch.layers) {
      if (first && !cur && !spec.is_model()) {
        auto doc = json::parse(spec.config_json, ctx.file);
        cur = declared_input(spec, doc);
      }
      first = false;
      Result r = run_layer(spec, {cur}, prefix, ctx, out);
      record(out, prefix + spec.name, spec.is_model() ? spec.class_name : spec.class_name, r);
      append_weights(g, spec.name, r);
      cur = r.known && !r.outputs.empty() ? r.outputs[0] : std::nullopt;
    }
    g.outputs = {cur};
    legacy_order(g.weights);
    return g;
  }
  // Functional: resolve (layer, node) outputs until no progress.
  std::map<std::string, const LayerSpec*> by_name;
  for (const auto& spec : arch.layers) by_name[spec.name] = &spec;
  std::map<std::pair<std::string, int>, std::vector<MaybeShape>> produced;
  std::map<std::string, Result> first_call;
  if (override_inputs)
    for (size_t i = 0; i < arch.inputs.size() && i < override_inputs->size(); ++i)
      if ((*override_inputs)[i]) produced[{arch.inputs[i].layer, 0}] = {(*override_inputs)[i]};
  auto lookup = [&](const TensorLink& l, bool& ok) -> MaybeShape {
    auto it = produced.find({l.layer, l.node_index});
    if (it == produced.end()) {
      // Renumbered node indices: a layer with a single call is referenced by that call.
      auto sit = by_name.find(l.layer);
      if (sit != by_name.end() && sit->second->inbound_nodes.size() == 1) it = produced.find({l.layer, 0});
    }
    if (it == produced.end()) {
      ok = false;
      return std::nullopt;
    }
    size_t t = static_cast<size_t>(std::max(l.tensor_index, 0));
    return t < it->second.size() ? it->second[t] : std::nullopt;
  };
  bool progress = true;
  std::map<std::string, size_t> done_nodes;
  while (progress) {
    progress = false;
    for (const auto& spec : arch.layers) {
      size_t& done = done_nodes[spec.name];
      size_t total = spec.inbound_nodes.empty() ? 1 : spec.inbound_nodes.size();
      while (done < total) {
        std::vector<MaybeShape> ins;
        bool ok = true;
        if (!spec.inbound_nodes.empty()) {
          for (const auto& l : spec.inbound_nodes[done].inputs) ins.push_back(lookup(l, ok));
          for (const auto& l : kwarg_tensors(spec.inbound_nodes[done].kwargs_json, ctx.file)) ins.push_back(lookup(l, ok));
        }
        if (!ok) break;
        if (is_tf_op_layer(spec.class_name) && !spec.inbound_nodes.empty()) {
          // A TF-op layer's shape follows from its function and its call's arguments.
          const LayerCall& call = spec.inbound_nodes[done];
          std::vector<MaybeShape> first;
          for (const auto& l : call.inputs) first.push_back(lookup(l, ok));
          std::map<std::string, MaybeShape> kwarg_shapes;
          for (const auto& [key, l] : tf_op_kwarg_links(call, ctx.file)) kwarg_shapes[key] = lookup(l, ok);
          if (!ok) break;
          auto cfg = json::parse(spec.config_json, ctx.file);
          Result r;
          MaybeShape shape = tf_op_output_shape(str_of(cfg, "function", ""), call, first, kwarg_shapes, ctx.file);
          r.known = shape.has_value();
          r.outputs = {shape};
          produced[{spec.name, static_cast<int>(done)}] = r.outputs;
          if (done == 0) first_call[spec.name] = r;
          ++done;
          progress = true;
          continue;
        }
        if (spec.inbound_nodes.empty() && produced.count({spec.name, 0})) {  // overridden input
          first_call[spec.name] = Result{true, produced[{spec.name, 0}], {}};
          ++done;
          progress = true;
          continue;
        }
        Result r = run_layer(spec, ins, prefix, ctx, out);
        produced[{spec.name, static_cast<int>(done)}] = r.outputs;
        if (done == 0) first_call[spec.name] = r;
        ++done;
        progress = true;
      }
    }
  }
  for (const auto& spec : arch.layers) {
    auto it = first_call.find(spec.name);
    if (it == first_call.end()) {  // unresolved: compute with unknown inputs for the weights
      std::vector<MaybeShape> ins(spec.inbound_nodes.empty() ? 1 : spec.inbound_nodes[0].inputs.size());
      Result r = run_layer(spec, ins, prefix, ctx, out);
      r.outputs.assign(r.outputs.size(), std::nullopt);
      it = first_call.emplace(spec.name, r).first;
    }
    record(out, prefix + spec.name, spec.class_name, it->second);
    append_weights(g, spec.name, it->second);
  }
  for (const auto& l : arch.outputs) {
    bool ok = true;
    g.outputs.push_back(lookup(l, ok));
  }
  legacy_order(g.weights);
  return g;
}

}  // namespace

int64_t LayerShapes::param_count() const {
  // -1 when a dimension is unknown or the count does not fit (absurd configs must not overflow).
  int64_t total = 0;
  for (const auto& w : weights) {
    int64_t n = 1;
    for (int64_t d : w.shape) {
      if (d < 0 || __builtin_mul_overflow(n, d, &n)) return -1;
    }
    if (__builtin_add_overflow(total, n, &total)) return -1;
  }
  return total;
}

std::string keras_shape_str(const Shape& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += shape[i] < 0 ? "None" : std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

std::string output_shape_str(const LayerShapes& shapes) {
  if (shapes.output_shapes.empty()) return "?";
  if (shapes.output_shapes.size() == 1) return keras_shape_str(shapes.output_shapes[0]);
  std::string s = "[";
  for (size_t i = 0; i < shapes.output_shapes.size(); ++i) {
    if (i) s += ", ";
    s += keras_shape_str(shapes.output_shapes[i]);
  }
  return s + "]";
}

std::map<std::string, LayerShapes> infer_layer_shapes(const ArchitectureSpec& arch, const std::string& file) {
  Ctx ctx;
  ctx.file = file;
  ctx.dialect = arch.dialect;
  std::map<std::string, LayerShapes> out;
  infer_graph(arch, nullptr, "", ctx, out);
  return out;
}

}  // namespace kmodel
