// The engine's working value: a float32 C-order array (FloatArray from predict.h) plus small shape
// helpers and an optional time-step mask. Not a general tensor library: only what layers need.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "kmodel/predict.h"

namespace kmodel::engine {

using Array = FloatArray;
// Row-major float matrix views for GEMMs.
using MatR = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MapR = Eigen::Map<MatR>;
using CMapR = Eigen::Map<const MatR>;
using VecMap = Eigen::Map<Eigen::VectorXf>;
using CVecMap = Eigen::Map<const Eigen::VectorXf>;
using RowVec = Eigen::Matrix<float, 1, Eigen::Dynamic>;
using CRowMap = Eigen::Map<const RowVec>;

// A (batch, time) keep-mask (1 = keep) carried beside sequence values; null when absent.
using Mask = std::shared_ptr<const std::vector<uint8_t>>;

inline int64_t numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}
inline Array make_array(Shape shape, float fill = 0.f) {
  Array a;
  a.values.assign(static_cast<size_t>(numel(shape)), fill);
  a.shape = std::move(shape);
  return a;
}
// Product of dims [from, to).
inline int64_t dims_product(const Shape& s, size_t from, size_t to) {
  int64_t n = 1;
  for (size_t i = from; i < to && i < s.size(); ++i) n *= s[i];
  return n;
}

// Moves axis `from` to position `to` (numpy.moveaxis).
Array move_axis(const Array& a, int from, int to);
// General transpose: out.shape[i] = a.shape[perm[i]].
Array transpose(const Array& a, const std::vector<int>& perm);
// Normalizes a possibly negative axis against rank; throws UnsupportedError when out of range.
int norm_axis(int axis, size_t rank, const std::string& layer);

}  // namespace kmodel::engine
