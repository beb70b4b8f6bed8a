// Merge layers: Add, Subtract, Multiply, Average, Maximum, Minimum (numpy broadcasting),
// Concatenate, Dot (batch dot over given axes, optional L2 normalization), and Keras 1 Merge modes.
#include <algorithm>
#include <cmath>

#include "engine/layer.h"

namespace kmodel::engine {
namespace {

enum class Op { kAdd, kSub, kMul, kAvg, kMax, kMin };

Array broadcast_op(const Array& a, const Array& b, Op op) {
  const size_t r = std::max(a.shape.size(), b.shape.size());
  Shape sa(r, 1), sb(r, 1), so(r);
  std::copy(a.shape.begin(), a.shape.end(), sa.begin() + (r - a.shape.size()));
  std::copy(b.shape.begin(), b.shape.end(), sb.begin() + (r - b.shape.size()));
  for (size_t i = 0; i < r; ++i) {
    if (sa[i] != sb[i] && sa[i] != 1 && sb[i] != 1)
      throw UsageError("merge inputs have incompatible shapes " + shape_str(a.shape) + " and " + shape_str(b.shape));
    so[i] = std::max(sa[i], sb[i]);
  }
  auto f = [op](float x, float y) {
    switch (op) {
      case Op::kAdd: case Op::kAvg: return x + y;
      case Op::kSub: return x - y;
      case Op::kMul: return x * y;
      case Op::kMax: return std::max(x, y);
      case Op::kMin: return std::min(x, y);
    }
    return x;
  };
  Array out = make_array(so);
  if (sa == sb) {
    for (size_t i = 0; i < out.values.size(); ++i) out.values[i] = f(a.values[i], b.values[i]);
    return out;
  }
  std::vector<int64_t> stra(r), strb(r);
  int64_t s1 = 1, s2 = 1;
  for (size_t i = r; i-- > 0;) {
    stra[i] = sa[i] == 1 ? 0 : s1;
    strb[i] = sb[i] == 1 ? 0 : s2;
    s1 *= sa[i];
    s2 *= sb[i];
  }
  std::vector<int64_t> idx(r, 0);
  for (size_t n = 0; n < out.values.size(); ++n) {
    int64_t ia = 0, ib = 0;
    for (size_t i = 0; i < r; ++i) {
      ia += idx[i] * stra[i];
      ib += idx[i] * strb[i];
    }
    out.values[n] = f(a.values[ia], b.values[ib]);
    for (size_t k = r; k-- > 0;) {
      if (++idx[k] < so[k]) break;
      idx[k] = 0;
    }
  }
  return out;
}

class Elementwise : public Layer {
 public:
  explicit Elementwise(Op op) : op_(op) {}
  std::vector<Array> apply(const std::vector<Array>& in, const Mask&) const override {
    if (in.size() < 2 && op_ != Op::kAdd) throw UsageError("merge layer needs at least 2 inputs");
    if (op_ == Op::kSub && in.size() != 2) throw UsageError("Subtract needs exactly 2 inputs");
    Array acc = in[0];
    for (size_t i = 1; i < in.size(); ++i) acc = broadcast_op(acc, in[i], op_);
    if (op_ == Op::kAvg)
      for (float& v : acc.values) v /= static_cast<float>(in.size());
    return single(std::move(acc));
  }

 private:
  Op op_;
};

class Concatenate : public Layer {
 public:
  explicit Concatenate(int axis) : axis_(axis) {}
  std::vector<Array> apply(const std::vector<Array>& in, const Mask&) const override {
    const size_t r = in.at(0).shape.size();
    const int a = norm_axis(axis_, r, "Concatenate");
    Shape os = in[0].shape;
    os[a] = 0;
    for (const Array& x : in) {
      Shape s = x.shape;
      if (s.size() != r) throw UsageError("Concatenate inputs have different ranks");
      for (size_t i = 0; i < r; ++i)
        if (static_cast<int>(i) != a && s[i] != in[0].shape[i])
          throw UsageError("Concatenate inputs " + shape_str(in[0].shape) + " and " + shape_str(s) + " do not match");
      os[a] += s[a];
    }
    Array out = make_array(os);
    const int64_t outer = dims_product(os, 0, a), inner = dims_product(os, a + 1, r);
    int64_t off = 0;
    for (const Array& x : in) {
      const int64_t block = x.shape[a] * inner;
      for (int64_t o = 0; o < outer; ++o)
        std::copy_n(x.values.data() + o * block, block, out.values.data() + o * os[a] * inner + off);
      off += block;
    }
    return single(std::move(out));
  }

 private:
  int axis_;
};

void l2_normalize(Array& a, int axis) {
  const int64_t d = a.shape[axis];
  const int64_t inner = dims_product(a.shape, axis + 1, a.shape.size());
  const int64_t outer = dims_product(a.shape, 0, axis);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      double s = 0;
      for (int64_t k = 0; k < d; ++k) {
        float v = a.values[(o * d + k) * inner + i];
        s += static_cast<double>(v) * v;
      }
      const double inv = 1.0 / std::sqrt(std::max(s, 1e-12));
      for (int64_t k = 0; k < d; ++k) a.values[(o * d + k) * inner + i] *= static_cast<float>(inv);
    }
}

class Dot : public Layer {
 public:
  Dot(int ax, int ay, bool normalize) : ax_(ax), ay_(ay), normalize_(normalize) {}
  std::vector<Array> apply(const std::vector<Array>& in, const Mask&) const override {
    if (in.size() != 2) throw UsageError("Dot needs exactly 2 inputs");
    Array x = in[0], y = in[1];
    if (x.shape.size() > 3 || y.shape.size() > 3) throw UnsupportedError("", "Dot", "inputs of rank above 3");
    const int ax = norm_axis(ax_, x.shape.size(), "Dot"), ay = norm_axis(ay_, y.shape.size(), "Dot");
    if (normalize_) {
      l2_normalize(x, ax);
      l2_normalize(y, ay);
    }
    // Bring the contracted axis last for x and first (after batch) for y, as (B, m, k) x (B, k, n).
    if (x.shape.size() == 2) x.shape.insert(x.shape.begin() + 1, 1);
    else if (ax == 1) x = transpose(x, {0, 2, 1});
    const bool y2 = y.shape.size() == 2;
    if (y2) y.shape.push_back(1);
    else if (ay == 2) y = transpose(y, {0, 2, 1});
    const int64_t B = x.shape[0], m = x.shape[1], k = x.shape[2], n = y.shape[2];
    if (y.shape[1] != k) throw UsageError("Dot contracted dimensions differ: " + std::to_string(k) + " vs " + std::to_string(y.shape[1]));
    Array out = make_array({B, m, n});
    for (int64_t b = 0; b < B; ++b)
      MapR(out.values.data() + b * m * n, m, n).noalias() =
          CMapR(x.values.data() + b * m * k, m, k) * CMapR(y.values.data() + b * k * n, k, n);
    Shape os{B};
    if (in[0].shape.size() == 3) os.push_back(m);
    if (!y2) os.push_back(n);
    if (os.size() == 1) os.push_back(1);
    out.shape = os;
    return single(std::move(out));
  }

 private:
  int ax_, ay_;
  bool normalize_;
};

std::pair<int, int> dot_axes(const Config& c) {
  auto a = c.int_list("axes");
  if (!a) a = c.int_list("dot_axes");
  if (!a || a->empty()) return {-1, -1};
  if (a->size() == 1) return {static_cast<int>((*a)[0]), static_cast<int>((*a)[0])};
  return {static_cast<int>((*a)[0]), static_cast<int>((*a)[1])};
}

Creator op_creator(Op op) {
  return [op](const LayerParams&) -> std::unique_ptr<Layer> { return std::make_unique<Elementwise>(op); };
}

}  // namespace

void register_merge_layers(Registry& r) {
  r.add("Add", op_creator(Op::kAdd));
  r.add("Subtract", op_creator(Op::kSub));
  r.add("Multiply", op_creator(Op::kMul));
  r.add("Average", op_creator(Op::kAvg));
  r.add("Maximum", op_creator(Op::kMax));
  r.add("Minimum", op_creator(Op::kMin));
  r.add("Concatenate", [](const LayerParams& p) -> std::unique_ptr<Layer> {
    return std::make_unique<Concatenate>(static_cast<int>(p.config.int_or({"axis"}, -1)));
  });
  r.add("Dot", [](const LayerParams& p) -> std::unique_ptr<Layer> {
    auto [a, b] = dot_axes(p.config);
    return std::make_unique<Dot>(a, b, p.config.bool_or({"normalize"}, false));
  });
  r.add("Merge", [](const LayerParams& p) -> std::unique_ptr<Layer> {  // Keras 1
    const std::string mode = p.config.str_or({"mode"}, "sum");
    if (mode == "sum") return std::make_unique<Elementwise>(Op::kAdd);
    if (mode == "mul") return std::make_unique<Elementwise>(Op::kMul);
    if (mode == "ave") return std::make_unique<Elementwise>(Op::kAvg);
    if (mode == "max") return std::make_unique<Elementwise>(Op::kMax);
    if (mode == "concat") return std::make_unique<Concatenate>(static_cast<int>(p.config.int_or({"concat_axis"}, -1)));
    if (mode == "dot" || mode == "cos") {
      auto [a, b] = dot_axes(p.config);
      return std::make_unique<Dot>(a, b, mode == "cos");
    }
    p.unsupported("Merge mode \"" + mode + "\"");
  });
}

}  // namespace kmodel::engine
