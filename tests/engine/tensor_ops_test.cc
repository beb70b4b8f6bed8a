// engine/tensor_ops: NumPy semantics of indexing (negative and out-of-range bounds, negative steps,
// new axes, ellipsis), broadcasting, reductions, joins, padding and batched matmul, checked against
// values worked out by hand; shape errors are UsageErrors, never crashes.
#include "engine/tensor_ops.h"

#include <catch2/catch.hpp>

#include "kmodel/error.h"

using namespace kmodel;
using namespace kmodel::engine;

namespace {

Array iota(Shape shape) {
  Array a = make_array(std::move(shape));
  for (size_t i = 0; i < a.values.size(); ++i) a.values[i] = static_cast<float>(i);
  return a;
}

ops::IndexItem slice(std::optional<int64_t> start, std::optional<int64_t> stop, std::optional<int64_t> step = {}) {
  ops::IndexItem it;
  it.kind = ops::IndexItem::Kind::kSlice;
  it.start = start;
  it.stop = stop;
  it.step = step;
  return it;
}
ops::IndexItem index(int64_t i) {
  ops::IndexItem it;
  it.kind = ops::IndexItem::Kind::kInt;
  it.index = i;
  return it;
}
ops::IndexItem item(ops::IndexItem::Kind k) {
  ops::IndexItem it;
  it.kind = k;
  return it;
}

}  // namespace

TEST_CASE("tensor_ops: basic indexing follows Python's slice rules", "[engine][tensor_ops]") {
  Array a = iota({2, 5});  // [[0..4], [5..9]]
  Array r = ops::basic_index(a, {slice({}, {}), slice(-2, {})}, "t");  // a[:, -2:]
  CHECK(r.shape == Shape{2, 2});
  CHECK(r.values == std::vector<float>{3, 4, 8, 9});
  r = ops::basic_index(a, {slice({}, {}), slice({}, {}, -2)}, "t");  // a[:, ::-2]
  CHECK(r.values == std::vector<float>{4, 2, 0, 9, 7, 5});
  r = ops::basic_index(a, {index(-1), slice(1, 100)}, "t");  // a[-1, 1:100]
  CHECK(r.shape == Shape{4});
  CHECK(r.values == std::vector<float>{6, 7, 8, 9});
  r = ops::basic_index(a, {slice({}, {}), slice(3, 1)}, "t");  // empty
  CHECK(r.shape == Shape{2, 0});
  r = ops::basic_index(a, {slice({}, {}), slice(3, -10, -1)}, "t");  // a[:, 3:-10:-1] runs to the start
  CHECK(r.values == std::vector<float>{3, 2, 1, 0, 8, 7, 6, 5});
  r = ops::basic_index(a, {item(ops::IndexItem::Kind::kEllipsis), index(0)}, "t");  // a[..., 0]
  CHECK(r.values == std::vector<float>{0, 5});
  r = ops::basic_index(a, {item(ops::IndexItem::Kind::kNewAxis), index(1)}, "t");  // a[None, 1]
  CHECK(r.shape == Shape{1, 5});
  CHECK_THROWS_AS(ops::basic_index(a, {slice({}, {}), index(5)}, "t"), UsageError);
  CHECK_THROWS_AS(ops::basic_index(a, {index(0), index(0), index(0)}, "t"), UsageError);
  CHECK_THROWS_AS(ops::basic_index(a, {slice({}, {}, 0)}, "t"), UsageError);
}

TEST_CASE("tensor_ops: broadcasting, reductions, joins, padding, matmul", "[engine][tensor_ops]") {
  Array a = iota({2, 3}), row = iota({3}), col = iota({2, 1});
  Array s = ops::broadcast_binary(a, row, [](float x, float y) { return x + y; }, "t");
  CHECK(s.values == std::vector<float>{0, 2, 4, 3, 5, 7});
  s = ops::broadcast_binary(col, row, [](float x, float y) { return x * 10 + y; }, "t");
  CHECK(s.shape == Shape{2, 3});
  CHECK(s.values == std::vector<float>{0, 1, 2, 10, 11, 12});
  CHECK_THROWS_AS(ops::broadcast_binary(a, iota({2}), [](float x, float) { return x; }, "t"), UsageError);

  CHECK(ops::reduce(a, {1}, ops::Reduce::kSum, false).values == std::vector<float>{3, 12});
  Array m = ops::reduce(a, {0}, ops::Reduce::kMean, true);
  CHECK(m.shape == Shape{1, 3});
  CHECK(m.values == std::vector<float>{1.5f, 2.5f, 3.5f});
  CHECK(ops::reduce(a, {}, ops::Reduce::kMax, false).shape.empty());
  CHECK(ops::arg_extreme(a, 1, true).values == std::vector<float>{2, 2});

  Array c = ops::concat({&a, &a}, 1, "t");
  CHECK(c.shape == Shape{2, 6});
  CHECK(c.values == std::vector<float>{0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5});
  CHECK(ops::stack({&a, &a}, 1, "t").shape == Shape{2, 2, 3});
  CHECK(ops::tile(row, {2}, "t").values == std::vector<float>{0, 1, 2, 0, 1, 2});
  Array p = ops::pad(row, {{1, 2}}, -1.f, "t");
  CHECK(p.values == std::vector<float>{-1, 0, 1, 2, -1, -1});

  Array b = iota({3, 2});  // a (2x3) @ b (3x2) = [[10, 13], [28, 40]]
  Array y = ops::matmul(a, b, false, false, "t");
  CHECK(y.values == std::vector<float>{10, 13, 28, 40});
  Array batch = iota({2, 2, 3});  // broadcast a rank-2 right side over a batch
  CHECK(ops::matmul(batch, b, false, false, "t").shape == Shape{2, 2, 2});
  CHECK(ops::matmul(a, a, false, true, "t").values == std::vector<float>{5, 14, 14, 50});
  CHECK_THROWS_AS(ops::matmul(a, a, false, false, "t"), UsageError);

  CHECK(ops::reshape(a, {-1, 2}, "t").shape == Shape{3, 2});
  CHECK_THROWS_AS(ops::reshape(a, {4, -1}, "t"), UsageError);
  CHECK_THROWS_AS(ops::reshape(a, {-1, -1}, "t"), UsageError);
}
