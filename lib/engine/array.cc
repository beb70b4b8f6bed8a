// Shape helpers of the engine (see array.h).
#include "engine/array.h"

#include "kmodel/error.h"

namespace kmodel::engine {

Array transpose(const Array& a, const std::vector<int>& perm) {
  const size_t r = a.shape.size();
  if (r < 2) return a;
  Shape out_shape(r);
  for (size_t i = 0; i < r; ++i) out_shape[i] = a.shape[perm[i]];
  Array out = make_array(out_shape);
  std::vector<int64_t> in_strides(r, 1);
  for (size_t i = r; i-- > 1;) in_strides[i - 1] = in_strides[i] * a.shape[i];
  std::vector<int64_t> stride(r);  // input stride for each output axis
  for (size_t i = 0; i < r; ++i) stride[i] = in_strides[perm[i]];
  std::vector<int64_t> idx(r, 0);
  const int64_t n = static_cast<int64_t>(out.values.size());
  if (n == 0) return out;
  int64_t src = 0;
  const int64_t last = r ? out_shape[r - 1] : 1;
  const int64_t last_stride = r ? stride[r - 1] : 0;
  for (int64_t o = 0; o < n; o += last) {
    float* dst = out.values.data() + o;
    const float* s = a.values.data() + src;
    for (int64_t j = 0; j < last; ++j) dst[j] = s[j * last_stride];
    // advance the index over all but the last axis
    for (size_t k = r - 1; k-- > 0;) {
      ++idx[k];
      src += stride[k];
      if (idx[k] < out_shape[k]) break;
      src -= stride[k] * out_shape[k];
      idx[k] = 0;
    }
  }
  return out;
}

Array move_axis(const Array& a, int from, int to) {
  const int r = static_cast<int>(a.shape.size());
  std::vector<int> order;
  for (int i = 0; i < r; ++i)
    if (i != from) order.push_back(i);
  order.insert(order.begin() + to, from);
  return transpose(a, order);
}

int norm_axis(int axis, size_t rank, const std::string& layer) {
  int r = static_cast<int>(rank);
  int a = axis < 0 ? axis + r : axis;
  if (a < 0 || a >= r)
    throw UnsupportedError("", "layer " + layer, "axis " + std::to_string(axis) + " is out of range for rank " +
                                                     std::to_string(rank));
  return a;
}

}  // namespace kmodel::engine
