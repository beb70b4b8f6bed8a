// Tests for --init: distributions (bounds, mean, std), fans, orthogonality, reproducibility.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>

#include "core/initializers.h"
#include "kmodel/error.h"

using namespace kmodel;

namespace {

std::vector<double> values(const Tensor& t) {
  std::vector<double> v(static_cast<size_t>(t.num_elements()));
  for (size_t i = 0; i < v.size(); ++i) v[i] = t.as<float>()[i];
  return v;
}
struct Stats {
  double mean = 0, std = 0, min = 1e300, max = -1e300;
};
Stats stats(const std::vector<double>& v) {
  Stats s;
  for (double x : v) {
    s.mean += x;
    s.min = std::min(s.min, x);
    s.max = std::max(s.max, x);
  }
  s.mean /= static_cast<double>(v.size());
  for (double x : v) s.std += (x - s.mean) * (x - s.mean);
  s.std = std::sqrt(s.std / static_cast<double>(v.size()));
  return s;
}
Stats init_stats(const std::string& json, const Shape& shape, uint64_t seed = 7) {
  return stats(values(initialize_weight(json, shape, DType::kFloat32, seed, "layer/kernel")));
}

}  // namespace

TEST_CASE("init: glorot/he/lecun uniform bounds and std", "[diff][init]") {
  // Dense kernel (200, 300): fan_in 200, fan_out 300.
  double limit = std::sqrt(6.0 / 500.0);
  auto g = init_stats(R"({"class_name": "GlorotUniform", "config": {"seed": null}})", {200, 300});
  CHECK(g.max <= limit);
  CHECK(g.min >= -limit);
  CHECK(g.max > 0.98 * limit);
  CHECK(std::fabs(g.mean) < 0.002);
  CHECK(g.std == Approx(limit / std::sqrt(3.0)).epsilon(0.02));
  // Keras 2.0 writes glorot_uniform as VarianceScaling(fan_avg, uniform): same distribution.
  auto vs = init_stats(R"({"class_name": "VarianceScaling", "config": {"scale": 1.0, "mode": "fan_avg", "distribution": "uniform", "seed": null}})", {200, 300});
  CHECK(vs.max <= limit);
  CHECK(vs.std == Approx(g.std).epsilon(0.02));
  // Conv kernel (3, 3, 16, 32): receptive 9, fan_in 144.
  double he = std::sqrt(6.0 / 144.0);
  auto h = init_stats("\"he_uniform\"", {3, 3, 16, 32});
  CHECK(h.max <= he);
  CHECK(h.std == Approx(he / std::sqrt(3.0)).epsilon(0.03));
  double lecun = std::sqrt(3.0 / 144.0);
  auto l = init_stats(R"({"class_name": "LecunUniform", "config": {}})", {3, 3, 16, 32});
  CHECK(l.max <= lecun);
  CHECK(l.max > 0.95 * lecun);
}

TEST_CASE("init: truncated normals (he/glorot/lecun normal, TruncatedNormal) have the right std and 2-sigma bounds",
          "[diff][init]") {
  // VarianceScaling truncated: stddev = sqrt(scale / fan) / 0.8796..., truncated at 2 stddev, so the
  // resulting std is sqrt(scale / fan).
  double target = std::sqrt(2.0 / 400.0);
  auto h = init_stats(R"({"class_name": "HeNormal", "config": {"seed": null}})", {400, 300});
  CHECK(h.std == Approx(target).epsilon(0.02));
  CHECK(h.max <= 2.0 * target / 0.87962566103423978 + 1e-6);
  CHECK(h.min >= -2.0 * target / 0.87962566103423978 - 1e-6);
  auto gn = init_stats("\"glorot_normal\"", {400, 300});
  CHECK(gn.std == Approx(std::sqrt(2.0 / 700.0)).epsilon(0.02));
  auto ln = init_stats(R"({"class_name": "LecunNormal", "config": {}})", {400, 300});
  CHECK(ln.std == Approx(std::sqrt(1.0 / 400.0)).epsilon(0.02));
  auto t = init_stats(R"({"class_name": "TruncatedNormal", "config": {"mean": 1.0, "stddev": 0.1}})", {300, 300});
  CHECK(t.min >= 0.8 - 1e-6);
  CHECK(t.max <= 1.2 + 1e-6);
  CHECK(t.mean == Approx(1.0).epsilon(0.002));
  CHECK(t.std == Approx(0.1 * 0.87962566103423978).epsilon(0.02));  // std of a 2-sigma truncated normal
  auto un = init_stats(R"({"class_name": "VarianceScaling", "config": {"scale": 2.0, "mode": "fan_out", "distribution": "untruncated_normal"}})", {300, 500});
  CHECK(un.std == Approx(std::sqrt(2.0 / 500.0)).epsilon(0.02));
  CHECK(un.max > 3.0 * std::sqrt(2.0 / 500.0));  // not truncated
}

TEST_CASE("init: random uniform/normal, constants, identity, Keras 1 names", "[diff][init]") {
  auto u = init_stats(R"({"class_name": "RandomUniform", "config": {"minval": 2.0, "maxval": 4.0}})", {100000});
  CHECK(u.min >= 2.0);
  CHECK(u.max < 4.0);
  CHECK(u.mean == Approx(3.0).epsilon(0.005));
  auto k1u = init_stats("\"uniform\"", {100000});  // Keras 1/2 default for Embedding: U(-0.05, 0.05)
  CHECK(k1u.max <= 0.05);
  CHECK(k1u.min >= -0.05);
  auto n = init_stats(R"({"class_name": "RandomNormal", "config": {"mean": -1.0, "stddev": 0.5}})", {100000});
  CHECK(n.mean == Approx(-1.0).epsilon(0.01));
  CHECK(n.std == Approx(0.5).epsilon(0.02));
  auto z = init_stats(R"({"class_name": "Zeros", "config": {}})", {10});
  CHECK(z.min == 0.0);
  CHECK(z.max == 0.0);
  auto one = init_stats("\"one\"", {10});
  CHECK(one.min == 1.0);
  auto c = init_stats(R"({"class_name": "Constant", "config": {"value": 0.25}})", {4, 4});
  CHECK(c.min == 0.25);
  CHECK(c.max == 0.25);
  Tensor id = initialize_weight(R"({"class_name": "Identity", "config": {"gain": 2.0}})", {3, 4}, DType::kFloat32, 1, "x");
  auto iv = values(id);
  CHECK(iv[0] == 2.0);
  CHECK(iv[5] == 2.0);
  CHECK(iv[10] == 2.0);
  CHECK(iv[1] == 0.0);
  CHECK(iv[11] == 0.0);
}

TEST_CASE("init: orthogonal gives orthonormal rows/columns (times gain)", "[diff][init]") {
  for (Shape shape : {Shape{64, 32}, Shape{16, 48}, Shape{3, 3, 4, 8}}) {
    Tensor t = initialize_weight(R"({"class_name": "OrthogonalInitializer", "config": {"gain": 1.5, "seed": null}})", shape,
                                 DType::kFloat64, 3, "lstm/recurrent_kernel");
    int64_t cols = shape.back(), rows = t.num_elements() / cols;
    const double* q = t.as<double>();
    bool tall = rows >= cols;
    int64_t k = tall ? cols : rows;
    double worst = 0;
    for (int64_t a = 0; a < k; ++a)
      for (int64_t b = 0; b < k; ++b) {
        double dot = 0;
        if (tall)
          for (int64_t i = 0; i < rows; ++i) dot += q[i * cols + a] * q[i * cols + b];
        else
          for (int64_t j = 0; j < cols; ++j) dot += q[a * cols + j] * q[b * cols + j];
        worst = std::max(worst, std::fabs(dot - (a == b ? 2.25 : 0.0)));
      }
    INFO("shape " << shape_str(shape));
    CHECK(worst < 1e-9);
  }
}

TEST_CASE("init: reproducible per seed and per weight; LSTM unit_forget_bias; errors", "[diff][init]") {
  const char* g = R"({"class_name": "GlorotUniform", "config": {"seed": null}})";
  Tensor a = initialize_weight(g, {8, 8}, DType::kFloat32, 42, "dense/kernel");
  Tensor b = initialize_weight(g, {8, 8}, DType::kFloat32, 42, "dense/kernel");
  Tensor c = initialize_weight(g, {8, 8}, DType::kFloat32, 43, "dense/kernel");
  Tensor d = initialize_weight(g, {8, 8}, DType::kFloat32, 42, "dense_1/kernel");
  CHECK(a.data == b.data);
  CHECK(a.data != c.data);
  CHECK(a.data != d.data);
  // A seed in the config wins over the global one.
  const char* seeded = R"({"class_name": "GlorotUniform", "config": {"seed": 5}})";
  CHECK(initialize_weight(seeded, {8, 8}, DType::kFloat32, 1, "k").data ==
        initialize_weight(seeded, {8, 8}, DType::kFloat32, 2, "k").data);

  Tensor bias = initialize_weight(
      R"({"class_name":"kmodel>UnitForgetBias","config":{"units":3,"base":{"class_name":"Zeros","config":{}}}})", {12},
      DType::kFloat32, 0, "lstm/bias");
  auto bv = values(bias);
  CHECK(bv == std::vector<double>{0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0});

  CHECK_THROWS_AS(initialize_weight(R"({"class_name": "MyInit", "config": {}})", {2}, DType::kFloat32, 0, "x"),
                  UnsupportedError);
  CHECK_THROWS_AS(initialize_weight("\"zeros\"", {-1, 3}, DType::kFloat32, 0, "x"), UsageError);
  Tensor cnt = initialize_weight("\"zeros\"", {}, DType::kInt64, 0, "norm/count");
  CHECK(cnt.data.size() == 8);
}
