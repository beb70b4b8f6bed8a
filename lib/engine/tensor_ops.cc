// Whole-array operations with NumPy/TensorFlow semantics (see tensor_ops.h).
#include "engine/tensor_ops.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "core/tf_op_shapes.h"
#include "kmodel/error.h"

namespace kmodel::engine::ops {
namespace {

std::vector<int64_t> strides_of(const Shape& s) {
  std::vector<int64_t> st(s.size(), 1);
  for (size_t i = s.size(); i-- > 1;) st[i - 1] = st[i] * s[i];
  return st;
}

// Visits every element of `shape` in C order, calling f(offsets) where offsets[k] is the running
// sum of index * strides[k][axis] for each of the stride sets (one per operand).
template <size_t N, class F>
void odometer(const Shape& shape, const std::array<std::vector<int64_t>, N>& strides, F f) {
  const size_t r = shape.size();
  if (numel(shape) == 0) return;
  std::vector<int64_t> idx(r, 0);
  std::array<int64_t, N> off{};
  for (;;) {
    f(off);
    size_t k = r;
    for (;;) {
      if (k == 0) return;
      --k;
      ++idx[k];
      for (size_t j = 0; j < N; ++j) off[j] += strides[j][k];
      if (idx[k] < shape[k]) break;
      for (size_t j = 0; j < N; ++j) off[j] -= strides[j][k] * shape[k];
      idx[k] = 0;
    }
  }
}

void check_size(int64_t n, const std::string& what) {
  // The engine's arrays are float32 vectors: refuse results beyond 2^34 elements (64 GiB).
  if (n < 0 || n > (int64_t{1} << 34)) throw UsageError(what + ": result of " + std::to_string(n) + " elements is too large");
}

}  // namespace

Array broadcast_binary(const Array& a, const Array& b, const std::function<float(float, float)>& f,
                       const std::string& what) {
  if (a.shape == b.shape) {
    Array out = make_array(a.shape);
    for (size_t i = 0; i < out.values.size(); ++i) out.values[i] = f(a.values[i], b.values[i]);
    return out;
  }
  const size_t r = std::max(a.shape.size(), b.shape.size());
  Shape out_shape(r);
  std::array<std::vector<int64_t>, 2> st{std::vector<int64_t>(r, 0), std::vector<int64_t>(r, 0)};
  const Array* ops[2] = {&a, &b};
  for (int o = 0; o < 2; ++o) {
    const Shape& s = ops[o]->shape;
    std::vector<int64_t> own = strides_of(s);
    for (size_t i = 0; i < s.size(); ++i) {
      size_t k = r - s.size() + i;
      if (s[i] != 1) st[o][k] = own[i];
    }
  }
  for (size_t k = 0; k < r; ++k) {
    int64_t da = k + a.shape.size() >= r ? a.shape[k + a.shape.size() - r] : 1;
    int64_t db = k + b.shape.size() >= r ? b.shape[k + b.shape.size() - r] : 1;
    if (da != db && da != 1 && db != 1)
      throw UsageError(what + ": shapes " + shape_str(a.shape) + " and " + shape_str(b.shape) + " do not broadcast");
    out_shape[k] = da == 1 ? db : da;
  }
  check_size(numel(out_shape), what);
  Array out = make_array(out_shape);
  float* dst = out.values.data();
  odometer<2>(out_shape, st, [&](const std::array<int64_t, 2>& off) { *dst++ = f(a.values[off[0]], b.values[off[1]]); });
  return out;
}

Array reduce(const Array& a, std::vector<int> axes, Reduce kind, bool keepdims) {
  const size_t r = a.shape.size();
  std::vector<char> reduced(r, axes.empty() ? 1 : 0);
  for (int ax : axes) reduced[static_cast<size_t>(ax)] = 1;
  Shape kept_shape(r);
  for (size_t i = 0; i < r; ++i) kept_shape[i] = reduced[i] ? 1 : a.shape[i];
  const float init = kind == Reduce::kMax   ? -std::numeric_limits<float>::infinity()
                     : kind == Reduce::kMin ? std::numeric_limits<float>::infinity()
                     : kind == Reduce::kProd ? 1.f
                                             : 0.f;
  std::vector<double> acc(static_cast<size_t>(numel(kept_shape)), init);
  std::vector<int64_t> kst = strides_of(kept_shape);
  std::array<std::vector<int64_t>, 1> st{std::vector<int64_t>(r, 0)};
  for (size_t i = 0; i < r; ++i) st[0][i] = reduced[i] ? 0 : kst[i];
  const float* src = a.values.data();
  odometer<1>(a.shape, st, [&](const std::array<int64_t, 1>& off) {
    double& d = acc[static_cast<size_t>(off[0])];
    const float v = *src++;
    switch (kind) {
      case Reduce::kSum:
      case Reduce::kMean: d += v; break;
      case Reduce::kMax: d = std::max<double>(d, v); break;
      case Reduce::kMin: d = std::min<double>(d, v); break;
      case Reduce::kProd: d *= v; break;
    }
  });
  int64_t count = 1;
  for (size_t i = 0; i < r; ++i)
    if (reduced[i]) count *= a.shape[i];
  Shape out_shape;
  for (size_t i = 0; i < r; ++i)
    if (keepdims || !reduced[i]) out_shape.push_back(kept_shape[i]);
  Array out = make_array(out_shape);
  for (size_t i = 0; i < acc.size(); ++i)
    out.values[i] = static_cast<float>(kind == Reduce::kMean ? (count ? acc[i] / count : std::nan("")) : acc[i]);
  return out;
}

Array arg_extreme(const Array& a, int axis, bool largest) {
  const int64_t outer = dims_product(a.shape, 0, static_cast<size_t>(axis));
  const int64_t n = a.shape[static_cast<size_t>(axis)];
  const int64_t inner = dims_product(a.shape, static_cast<size_t>(axis) + 1, a.shape.size());
  Shape out_shape = a.shape;
  out_shape.erase(out_shape.begin() + axis);
  Array out = make_array(out_shape);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const float* p = a.values.data() + o * n * inner + i;
      int64_t best = 0;
      for (int64_t j = 1; j < n; ++j)
        if (largest ? p[j * inner] > p[best * inner] : p[j * inner] < p[best * inner]) best = j;
      out.values[static_cast<size_t>(o * inner + i)] = static_cast<float>(best);
    }
  return out;
}

Array basic_index(const Array& a, const std::vector<IndexItem>& items, const std::string& what) {
  using K = IndexItem::Kind;
  size_t consuming = 0, ellipses = 0;
  for (const auto& it : items) {
    if (it.kind == K::kInt || it.kind == K::kSlice) ++consuming;
    if (it.kind == K::kEllipsis) ++ellipses;
  }
  if (ellipses > 1) throw UsageError(what + ": an index can have only one ellipsis");
  const size_t r = a.shape.size();
  if (consuming > r)
    throw UsageError(what + ": " + std::to_string(consuming) + " indices for an array of rank " + std::to_string(r));
  // Expand: the ellipsis (or the end) stands for the axes no item consumes.
  std::vector<IndexItem> full;
  bool expanded = false;
  for (const auto& it : items) {
    if (it.kind == K::kEllipsis) {
      for (size_t i = 0; i < r - consuming; ++i) full.push_back(IndexItem{});
      expanded = true;
    } else {
      full.push_back(it);
    }
  }
  if (!expanded)
    for (size_t i = 0; i < r - consuming; ++i) full.push_back(IndexItem{});
  const std::vector<int64_t> in_st = strides_of(a.shape);
  Shape out_shape;
  std::array<std::vector<int64_t>, 1> st;
  int64_t base = 0;
  size_t axis = 0;
  for (const auto& it : full) {
    if (it.kind == K::kNewAxis) {
      out_shape.push_back(1);
      st[0].push_back(0);
      continue;
    }
    const int64_t n = a.shape[axis];
    if (it.kind == K::kInt) {
      int64_t i = it.index < 0 ? it.index + n : it.index;
      if (i < 0 || i >= n)
        throw UsageError(what + ": index " + std::to_string(it.index) + " is out of range for axis " +
                         std::to_string(axis) + " of size " + std::to_string(n));
      base += i * in_st[axis];
    } else {  // a slice, with Python's rules for open, negative and out-of-range bounds
      const int64_t step = it.step.value_or(1);
      if (step == 0) throw UsageError(what + ": slice step cannot be zero");
      const SliceRange range = python_slice(n, it.start, it.stop, step);
      out_shape.push_back(range.count);
      st[0].push_back(step * in_st[axis]);
      if (range.count > 0) base += range.start * in_st[axis];
    }
    ++axis;
  }
  Array out = make_array(out_shape);
  float* dst = out.values.data();
  const float* src = a.values.data() + base;
  odometer<1>(out_shape, st, [&](const std::array<int64_t, 1>& off) { *dst++ = src[off[0]]; });
  return out;
}

Array concat(const std::vector<const Array*>& parts, int axis, const std::string& what) {
  if (parts.empty()) throw UsageError(what + ": nothing to concatenate");
  const Shape& s0 = parts[0]->shape;
  const size_t ax = static_cast<size_t>(axis);
  Shape out_shape = s0;
  out_shape[ax] = 0;
  for (const Array* p : parts) {
    Shape s = p->shape;
    if (s.size() != s0.size()) throw UsageError(what + ": cannot join arrays of ranks " + std::to_string(s0.size()) + " and " + std::to_string(s.size()));
    for (size_t i = 0; i < s.size(); ++i)
      if (i != ax && s[i] != s0[i])
        throw UsageError(what + ": cannot join shapes " + shape_str(s0) + " and " + shape_str(s) + " on axis " + std::to_string(axis));
    out_shape[ax] += s[ax];
  }
  check_size(numel(out_shape), what);
  Array out = make_array(out_shape);
  const int64_t outer = dims_product(s0, 0, ax), inner = dims_product(s0, ax + 1, s0.size());
  const int64_t out_row = out_shape[ax] * inner;
  int64_t col = 0;
  for (const Array* p : parts) {
    const int64_t row = p->shape[ax] * inner;
    for (int64_t o = 0; o < outer; ++o)
      std::copy_n(p->values.data() + o * row, row, out.values.data() + o * out_row + col);
    col += row;
  }
  return out;
}

Array stack(const std::vector<const Array*>& parts, int axis, const std::string& what) {
  std::vector<Array> expanded;
  for (const Array* p : parts) {
    Array e = *p;
    e.shape.insert(e.shape.begin() + axis, 1);
    expanded.push_back(std::move(e));
  }
  std::vector<const Array*> ptrs;
  for (const Array& e : expanded) ptrs.push_back(&e);
  return concat(ptrs, axis, what);
}

Array tile(const Array& a, const std::vector<int64_t>& multiples, const std::string& what) {
  if (multiples.size() != a.shape.size())
    throw UsageError(what + ": " + std::to_string(multiples.size()) + " multiples for an array of rank " + std::to_string(a.shape.size()));
  Array out = a;
  for (size_t ax = 0; ax < multiples.size(); ++ax) {
    if (multiples[ax] < 0) throw UsageError(what + ": negative multiple");
    if (multiples[ax] == 1) continue;
    int64_t n = 0;
    if (__builtin_mul_overflow(numel(out.shape), multiples[ax], &n)) n = -1;
    check_size(n, what);
    std::vector<const Array*> copies(static_cast<size_t>(multiples[ax]), &out);
    if (copies.empty()) {
      out.shape[ax] = 0;
      out.values.clear();
      continue;
    }
    Array next = concat(copies, static_cast<int>(ax), what);
    out = std::move(next);
  }
  return out;
}

Array pad(const Array& a, const std::vector<std::pair<int64_t, int64_t>>& pads, float value, const std::string& what) {
  if (pads.size() != a.shape.size())
    throw UsageError(what + ": " + std::to_string(pads.size()) + " paddings for an array of rank " + std::to_string(a.shape.size()));
  Shape out_shape = a.shape;
  int64_t base = 0;
  std::vector<int64_t> ost;
  for (size_t i = 0; i < pads.size(); ++i) {
    if (pads[i].first < 0 || pads[i].second < 0) throw UsageError(what + ": negative padding");
    if (pads[i].first > (int64_t{1} << 34) || pads[i].second > (int64_t{1} << 34)) throw UsageError(what + ": padding is too large");
    out_shape[i] += pads[i].first + pads[i].second;
  }
  int64_t total = 1;
  for (int64_t d : out_shape)
    if (__builtin_mul_overflow(total, d, &total)) total = -1;
  check_size(total, what);
  ost = strides_of(out_shape);
  for (size_t i = 0; i < pads.size(); ++i) base += pads[i].first * ost[i];
  Array out = make_array(out_shape, value);
  std::array<std::vector<int64_t>, 1> st{ost};
  const float* src = a.values.data();
  float* dst = out.values.data() + base;
  odometer<1>(a.shape, st, [&](const std::array<int64_t, 1>& off) { dst[off[0]] = *src++; });
  return out;
}

Array matmul(const Array& a, const Array& b, bool transpose_a, bool transpose_b, const std::string& what) {
  if (a.shape.size() < 2 || b.shape.size() < 2)
    throw UsageError(what + ": matmul needs arrays of rank 2 or more, got " + shape_str(a.shape) + " and " + shape_str(b.shape));
  auto last_two = [](const Array& x, bool t) {
    const size_t r = x.shape.size();
    std::vector<int> perm(r);
    for (size_t i = 0; i < r; ++i) perm[i] = static_cast<int>(i);
    std::swap(perm[r - 1], perm[r - 2]);
    return t ? transpose(x, perm) : x;
  };
  const Array A = last_two(a, transpose_a), B = last_two(b, transpose_b);
  const int64_t M = A.shape[A.shape.size() - 2], K = A.shape.back(), N = B.shape.back();
  if (B.shape[B.shape.size() - 2] != K)
    throw UsageError(what + ": matmul of " + shape_str(A.shape) + " by " + shape_str(B.shape) + ": inner sizes differ");
  Shape ba(A.shape.begin(), A.shape.end() - 2), bb(B.shape.begin(), B.shape.end() - 2);
  // Broadcast the batch dims by computing the output's batch shape with a dummy element-wise op.
  Array ia = make_array(ba), ib = make_array(bb);
  for (size_t i = 0; i < ia.values.size(); ++i) ia.values[i] = static_cast<float>(i);
  for (size_t i = 0; i < ib.values.size(); ++i) ib.values[i] = static_cast<float>(i);
  Array which_a = broadcast_binary(ia, ib, [](float x, float) { return x; }, what);
  Array which_b = broadcast_binary(ia, ib, [](float, float y) { return y; }, what);
  Shape out_shape = which_a.shape;
  out_shape.push_back(M);
  out_shape.push_back(N);
  check_size(numel(out_shape), what);
  Array out = make_array(out_shape);
  for (size_t i = 0; i < which_a.values.size(); ++i) {
    const int64_t ja = static_cast<int64_t>(which_a.values[i]), jb = static_cast<int64_t>(which_b.values[i]);
    MapR(out.values.data() + i * M * N, M, N).noalias() =
        CMapR(A.values.data() + ja * M * K, M, K) * CMapR(B.values.data() + jb * K * N, K, N);
  }
  return out;
}

Array reshape(Array a, const std::vector<int64_t>& shape, const std::string& what) {
  int64_t known = 1;
  int infer = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (infer >= 0) throw UsageError(what + ": reshape to " + shape_str(shape) + " has more than one -1");
      infer = static_cast<int>(i);
    } else if (shape[i] < 0) {
      throw UsageError(what + ": reshape to " + shape_str(shape));
    } else {
      known *= shape[i];
    }
  }
  const int64_t n = numel(a.shape);
  Shape out = shape;
  if (infer >= 0) {
    if (known == 0 || n % known != 0)
      throw UsageError(what + ": cannot reshape " + shape_str(a.shape) + " to " + shape_str(shape));
    out[static_cast<size_t>(infer)] = n / known;
  } else if (known != n) {
    throw UsageError(what + ": cannot reshape " + shape_str(a.shape) + " to " + shape_str(shape));
  }
  a.shape = out;
  return a;
}

}  // namespace kmodel::engine::ops
