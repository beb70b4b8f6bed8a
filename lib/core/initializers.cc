// Keras initializers over a documented, portable RNG (see initializers.h).
#include "core/initializers.h"

#include <cmath>
#include <cstring>
#include <random>

#include <Eigen/Dense>

#include "core/json_util.h"
#include "kmodel/error.h"

namespace kmodel {
namespace {

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

uint64_t fnv1a64(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

class Rng {
 public:
  Rng(uint64_t seed, const std::string& stream) : gen_(splitmix64(seed) ^ fnv1a64(stream)) {}
  // Uniform in [0, 1) from the top 53 bits.
  double uniform() { return static_cast<double>(gen_() >> 11) * (1.0 / 9007199254740992.0); }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u1;
    do u1 = uniform(); while (u1 <= 0.0);
    double u2 = uniform();
    double r = std::sqrt(-2.0 * std::log(u1));
    spare_ = r * std::sin(2.0 * M_PI * u2);
    has_spare_ = true;
    return r * std::cos(2.0 * M_PI * u2);
  }
  double truncated_normal(double mean, double stddev) {
    while (true) {
      double z = normal();
      if (std::fabs(z) <= 2.0) return mean + stddev * z;
    }
  }

 private:
  std::mt19937_64 gen_;
  bool has_spare_ = false;
  double spare_ = 0;
};

struct Fans {
  double in = 1, out = 1;
};
Fans fans(const Shape& s) {
  Fans f;
  if (s.empty()) return f;
  if (s.size() == 1) {
    f.in = f.out = static_cast<double>(s[0]);
    return f;
  }
  double receptive = 1;
  for (size_t i = 0; i + 2 < s.size(); ++i) receptive *= static_cast<double>(s[i]);
  f.in = static_cast<double>(s[s.size() - 2]) * receptive;
  f.out = static_cast<double>(s.back()) * receptive;
  return f;
}

std::string lower_snake(const std::string& name) {
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (std::isupper(static_cast<unsigned char>(c))) {
      if (i > 0 && name[i - 1] != '_') out += '_';
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else {
      out += c;
    }
  }
  return out;
}

std::vector<double> generate(const json::Value& init, const Shape& shape, uint64_t seed, const std::string& stream,
                             const std::string& where);

std::vector<double> variance_scaling(double scale, const std::string& mode, const std::string& distribution,
                                     const Shape& shape, Rng& rng, int64_t n) {
  Fans f = fans(shape);
  double denom = mode == "fan_in" ? f.in : mode == "fan_out" ? f.out : (f.in + f.out) / 2.0;
  scale /= std::max(1.0, denom);
  std::vector<double> v(static_cast<size_t>(n));
  if (distribution == "uniform") {
    double limit = std::sqrt(3.0 * scale);
    for (auto& x : v) x = rng.uniform(-limit, limit);
  } else if (distribution == "untruncated_normal") {
    double sd = std::sqrt(scale);
    for (auto& x : v) x = sd * rng.normal();
  } else {  // "truncated_normal", and Keras 2's "normal" which meant truncated
    double sd = std::sqrt(scale) / 0.87962566103423978;
    for (auto& x : v) x = rng.truncated_normal(0.0, sd);
  }
  return v;
}

std::vector<double> generate(const json::Value& init, const Shape& shape, uint64_t seed, const std::string& stream,
                             const std::string& where) {
  std::string cls;
  const json::Value* cfg = nullptr;
  if (init.IsString()) cls = init.GetString();
  else if (init.IsObject()) {
    cls = json::get_string(init, "class_name").value_or("");
    cfg = json::member(init, "config");
  }
  if (cls.empty()) throw BadInputError("", where, "initializer is neither a name nor a {class_name, config} object");
  static const json::Value kEmpty(rapidjson::kObjectType);
  const json::Value& c = cfg && cfg->IsObject() ? *cfg : kEmpty;
  if (auto s = json::get_int(c, "seed")) seed = static_cast<uint64_t>(*s);
  std::string name = lower_snake(cls);
  int64_t n = num_elements(shape);
  Rng rng(seed, stream);
  auto num = [&](const char* key, double dflt) { return json::get_number(c, key).value_or(dflt); };

  if (name == "zeros" || name == "zero") return std::vector<double>(static_cast<size_t>(n), 0.0);
  if (name == "ones" || name == "one") return std::vector<double>(static_cast<size_t>(n), 1.0);
  if (name == "constant") return std::vector<double>(static_cast<size_t>(n), num("value", 0.0));
  if (name == "random_uniform" || name == "uniform") {
    double lo = num("minval", -0.05), hi = num("maxval", 0.05);
    std::vector<double> v(static_cast<size_t>(n));
    for (auto& x : v) x = rng.uniform(lo, hi);
    return v;
  }
  if (name == "random_normal" || name == "normal") {
    double mean = num("mean", 0.0), sd = num("stddev", 0.05);
    std::vector<double> v(static_cast<size_t>(n));
    for (auto& x : v) x = mean + sd * rng.normal();
    return v;
  }
  if (name == "truncated_normal") {
    double mean = num("mean", 0.0), sd = num("stddev", 0.05);
    std::vector<double> v(static_cast<size_t>(n));
    for (auto& x : v) x = rng.truncated_normal(mean, sd);
    return v;
  }
  if (name == "variance_scaling")
    return variance_scaling(num("scale", 1.0), json::get_string(c, "mode").value_or("fan_in"),
                            json::get_string(c, "distribution").value_or("truncated_normal"), shape, rng, n);
  if (name == "glorot_uniform") return variance_scaling(1.0, "fan_avg", "uniform", shape, rng, n);
  if (name == "glorot_normal") return variance_scaling(1.0, "fan_avg", "truncated_normal", shape, rng, n);
  if (name == "he_uniform") return variance_scaling(2.0, "fan_in", "uniform", shape, rng, n);
  if (name == "he_normal") return variance_scaling(2.0, "fan_in", "truncated_normal", shape, rng, n);
  if (name == "lecun_uniform") return variance_scaling(1.0, "fan_in", "uniform", shape, rng, n);
  if (name == "lecun_normal") return variance_scaling(1.0, "fan_in", "truncated_normal", shape, rng, n);
  if (name == "orthogonal" || name == "orthogonal_initializer") {
    double gain = num("gain", 1.0);
    if (shape.size() < 2) throw UnsupportedError("", where, "Orthogonal initializer needs a shape of rank >= 2");
    int64_t cols = shape.back(), rows = n / std::max<int64_t>(cols, 1);
    int64_t big = std::max(rows, cols), small = std::min(rows, cols);
    Eigen::MatrixXd a(big, small);
    for (int64_t i = 0; i < big; ++i)  // row-major fill order, documented
      for (int64_t j = 0; j < small; ++j) a(i, j) = rng.normal();
    Eigen::HouseholderQR<Eigen::MatrixXd> qr(a);
    Eigen::MatrixXd q = qr.householderQ() * Eigen::MatrixXd::Identity(big, small);
    Eigen::MatrixXd r = qr.matrixQR().topRows(small).triangularView<Eigen::Upper>();
    for (int64_t j = 0; j < small; ++j)
      if (r(j, j) < 0) q.col(j) *= -1.0;
    if (rows < cols) q.transposeInPlace();  // now rows x cols
    std::vector<double> v(static_cast<size_t>(n));
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j) v[static_cast<size_t>(i * cols + j)] = gain * q(i, j);
    return v;
  }
  if (name == "identity" || name == "identity_initializer") {
    if (shape.size() != 2) throw UnsupportedError("", where, "Identity initializer needs a 2-D shape");
    double gain = num("gain", 1.0);
    std::vector<double> v(static_cast<size_t>(n), 0.0);
    for (int64_t i = 0; i < std::min(shape[0], shape[1]); ++i) v[static_cast<size_t>(i * shape[1] + i)] = gain;
    return v;
  }
  if (cls == "kmodel>UnitForgetBias") {
    int64_t units = json::get_int(c, "units").value_or(n / 4);
    const json::Value* base = json::member(c, "base");
    std::vector<double> v = base ? generate(*base, shape, seed, stream, where)
                                 : std::vector<double>(static_cast<size_t>(n), 0.0);
    for (int64_t i = units; i < 2 * units && i < n; ++i) v[static_cast<size_t>(i)] = 1.0;  // gates i, f, c, o
    return v;
  }
  throw UnsupportedError("", where, "initializer \"" + cls + "\" is not supported by --init");
}

uint16_t double_to_half(double d) {
  float f = static_cast<float>(d);
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000;
  int32_t exp = static_cast<int32_t>((x >> 23) & 0xff) - 127 + 15;
  uint32_t mant = x & 0x7fffff;
  if (((x >> 23) & 0xff) == 0xff) return static_cast<uint16_t>(sign | 0x7c00 | (mant ? 0x200 : 0));
  if (exp >= 31) return static_cast<uint16_t>(sign | 0x7c00);
  if (exp <= 0) {
    if (exp < -10) return static_cast<uint16_t>(sign);
    mant |= 0x800000;
    uint32_t shift = static_cast<uint32_t>(14 - exp);
    uint32_t h = mant >> shift;
    if ((mant >> (shift - 1)) & 1) ++h;
    return static_cast<uint16_t>(sign | h);
  }
  uint32_t h = sign | (static_cast<uint32_t>(exp) << 10) | (mant >> 13);
  if (mant & 0x1000) ++h;  // round half up
  return static_cast<uint16_t>(h);
}

}  // namespace

Tensor initialize_weight(const std::string& initializer_json, const Shape& shape, DType dtype, uint64_t seed,
                         const std::string& stream, const std::string& where) {
  for (int64_t d : shape)
    if (d < 0)
      throw UsageError("cannot initialize " + where + ": its shape " + shape_str(shape) +
                       " is not fully known from the architecture");
  auto doc = json::parse(initializer_json, where);
  std::vector<double> v = generate(doc, shape, seed, stream, where);
  Tensor t;
  t.dtype = dtype;
  t.shape = shape;
  size_t n = v.size();
  t.data.resize(n * dtype_size(dtype));
  uint8_t* p = t.data.data();
  for (size_t i = 0; i < n; ++i) {
    switch (dtype) {
      case DType::kFloat32: { float f = static_cast<float>(v[i]); std::memcpy(p + 4 * i, &f, 4); break; }
      case DType::kFloat64: std::memcpy(p + 8 * i, &v[i], 8); break;
      case DType::kFloat16: { uint16_t h = double_to_half(v[i]); std::memcpy(p + 2 * i, &h, 2); break; }
      case DType::kInt32: { int32_t x = static_cast<int32_t>(v[i]); std::memcpy(p + 4 * i, &x, 4); break; }
      case DType::kInt64: { int64_t x = static_cast<int64_t>(v[i]); std::memcpy(p + 8 * i, &x, 8); break; }
      default: throw UnsupportedError("", where, "--init cannot make " + dtype_name(dtype) + " weights");
    }
  }
  return t;
}

}  // namespace kmodel
