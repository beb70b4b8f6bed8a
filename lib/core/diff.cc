// Weight comparison for `kmodel diff-weights` (see kmodel/diff.h).
#include "kmodel/diff.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <sstream>

#include "core/json_util.h"
#include "core/keras1_weights.h"
#include "core/weight_matching.h"
#include "kmodel/error.h"

namespace kmodel {
namespace {

double half_to_double(uint16_t h) {
  uint32_t sign = (h >> 15) & 1, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  double v;
  if (exp == 0) v = std::ldexp(static_cast<double>(mant), -24);
  else if (exp == 31) v = mant ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
  else v = std::ldexp(static_cast<double>(mant | 0x400), static_cast<int>(exp) - 25);
  return sign ? -v : v;
}

double bf16_to_double(uint16_t b) {
  uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Element i of numeric bytes as double (complex: real and imaginary parts are elements 2i, 2i+1).
double element(const uint8_t* p, DType dtype, int64_t i) {
  switch (dtype) {
    case DType::kFloat16: { uint16_t h; std::memcpy(&h, p + 2 * i, 2); return half_to_double(h); }
    case DType::kBFloat16: { uint16_t h; std::memcpy(&h, p + 2 * i, 2); return bf16_to_double(h); }
    case DType::kFloat32: case DType::kComplex64: { float f; std::memcpy(&f, p + 4 * i, 4); return f; }
    case DType::kFloat64: case DType::kComplex128: { double d; std::memcpy(&d, p + 8 * i, 8); return d; }
    case DType::kInt8: return static_cast<int8_t>(p[i]);
    case DType::kUInt8: case DType::kBool: return p[i];
    case DType::kInt16: { int16_t v; std::memcpy(&v, p + 2 * i, 2); return v; }
    case DType::kUInt16: { uint16_t v; std::memcpy(&v, p + 2 * i, 2); return v; }
    case DType::kInt32: { int32_t v; std::memcpy(&v, p + 4 * i, 4); return v; }
    case DType::kUInt32: { uint32_t v; std::memcpy(&v, p + 4 * i, 4); return v; }
    case DType::kInt64: { int64_t v; std::memcpy(&v, p + 8 * i, 8); return static_cast<double>(v); }
    case DType::kUInt64: { uint64_t v; std::memcpy(&v, p + 8 * i, 8); return static_cast<double>(v); }
    default: return 0;
  }
}

bool is_complex(DType t) { return t == DType::kComplex64 || t == DType::kComplex128; }
// Bytes per scalar (a complex element is two scalars).
size_t scalar_size(DType t) { return is_complex(t) ? dtype_size(t) / 2 : dtype_size(t); }

// Streams a numeric tensor's bytes in chunks: straight from the file when the source exposes a raw
// extent (contiguous little-endian bytes, e.g. an unfiltered HDF5 dataset), else from one load().
class ChunkReader {
 public:
  explicit ChunkReader(const TensorRef& ref) : dtype_(ref.dtype()) {
    int64_t scalars = ref.num_elements() * (is_complex(dtype_) ? 2 : 1);
    total_ = static_cast<uint64_t>(scalars) * scalar_size(dtype_);
    if (auto ext = ref.raw_extent(); ext && ext->size == total_) {
      file_ = std::fopen(ext->path.c_str(), "rb");
      if (file_) {
        offset_ = ext->offset;
        what_ = ref.describe();
      }
    }
    if (!file_) {
      tensor_ = ref.load();
      if (tensor_.data.size() < total_)
        throw BadInputError("", ref.describe(), "tensor data is shorter than its shape says");
    }
  }
  ~ChunkReader() {
    if (file_) std::fclose(file_);
  }
  ChunkReader(const ChunkReader&) = delete;
  ChunkReader& operator=(const ChunkReader&) = delete;
  // Pointer to the bytes of scalars [first, first + count).
  const uint8_t* get(int64_t first, int64_t count) {
    size_t sz = scalar_size(dtype_);
    if (!file_) return tensor_.data.data() + static_cast<size_t>(first) * sz;
    buf_.resize(static_cast<size_t>(count) * sz);
    if (fseeko(file_, static_cast<off_t>(offset_ + static_cast<uint64_t>(first) * sz), SEEK_SET) != 0 ||
        std::fread(buf_.data(), 1, buf_.size(), file_) != buf_.size())
      throw IoError(what_, "cannot read tensor bytes");
    return buf_.data();
  }

 private:
  DType dtype_;
  uint64_t total_ = 0, offset_ = 0;
  std::FILE* file_ = nullptr;
  std::string what_;
  Tensor tensor_;
  std::vector<uint8_t> buf_;
};

constexpr int64_t kChunkScalars = int64_t{1} << 20;

void compare_strings(const Tensor& a, const Tensor& b, WeightDiff& d) {
  d.elements = static_cast<int64_t>(a.strings.size());
  for (size_t i = 0; i < a.strings.size() && i < b.strings.size(); ++i)
    if (a.strings[i] != b.strings[i]) ++d.mismatches;
  d.status = d.mismatches ? WeightStatus::kDiffers : WeightStatus::kEqual;
}

void compare_values(const TensorRef& ra, const TensorRef& rb, const DiffOptions& o, WeightDiff& d) {
  ChunkReader ca(ra), cb(rb);
  DType da = ra.dtype(), db = rb.dtype();
  int64_t n = ra.num_elements() * (is_complex(da) ? 2 : 1);
  d.elements = ra.num_elements();
  bool exact = true;
  for (int64_t first = 0; first < n; first += kChunkScalars) {
    int64_t count = std::min(kChunkScalars, n - first);
    const uint8_t* pa = ca.get(first, count);
    const uint8_t* pb = cb.get(first, count);
    for (int64_t j = 0; j < count; ++j) {
      double x = element(pa, da, j), y = element(pb, db, j);
      bool xn = std::isnan(x), yn = std::isnan(y);
      if (xn || yn) {
        if (!(xn && yn && o.equal_nan)) ++d.mismatches;
        if (!(xn && yn)) exact = false;
        if (xn && yn && !o.equal_nan) exact = false;
        continue;
      }
      if (x == y) continue;
      exact = false;
      if (std::isinf(x) || std::isinf(y)) {  // unequal with an infinity: never close
        ++d.mismatches;
        d.max_abs = std::numeric_limits<double>::infinity();
        d.max_rel = std::numeric_limits<double>::infinity();
        continue;
      }
      double diff = std::fabs(x - y);
      d.max_abs = std::max(d.max_abs, diff);
      double rel = y != 0 ? diff / std::fabs(y) : std::numeric_limits<double>::infinity();
      d.max_rel = std::max(d.max_rel, rel);
      if (!(diff <= o.atol + o.rtol * std::fabs(y))) ++d.mismatches;
    }
  }
  if (d.mismatches > 0) d.status = WeightStatus::kDiffers;
  else d.status = exact ? WeightStatus::kEqual : WeightStatus::kWithinTolerance;
}

void compare_pair(const WeightPair& p, const DiffOptions& o, DiffResult& r, bool optimizer) {
  WeightDiff d;
  d.optimizer = optimizer;
  if (p.a) {
    d.key = p.a->key;
    d.name_a = p.a->weight->name;
    d.dtype_a = p.a->weight->tensor.dtype();
    d.shape_a = p.a->weight->tensor.shape();
  }
  if (p.b) {
    if (d.key.empty()) d.key = p.b->key;
    d.name_b = p.b->weight->name;
    d.dtype_b = p.b->weight->tensor.dtype();
    d.shape_b = p.b->weight->tensor.shape();
  }
  if (!p.b) d.status = WeightStatus::kOnlyInA;
  else if (!p.a) d.status = WeightStatus::kOnlyInB;
  else if (d.shape_a != d.shape_b) d.status = WeightStatus::kShapeMismatch;
  else {
    // One pair at a time, streamed in chunks where the sources allow it; nothing is kept afterwards.
    const TensorRef& ta = p.a->weight->tensor;
    const TensorRef& tb = p.b->weight->tensor;
    auto special = [](DType t) { return t == DType::kString || is_complex(t); };
    if ((special(d.dtype_a) || special(d.dtype_b)) && d.dtype_a != d.dtype_b) {
      d.status = WeightStatus::kDTypeMismatch;
    } else if (d.dtype_a == DType::kString) {
      compare_strings(ta.load(), tb.load(), d);
    } else {
      compare_values(ta, tb, o, d);
      if (d.dtype_a != d.dtype_b) d.status = WeightStatus::kDTypeMismatch;
    }
  }
  r.weights.push_back(std::move(d));
}

std::string num(double v) {
  if (std::isinf(v)) return "inf";
  std::ostringstream s;
  s.precision(6);
  s << v;
  return s.str();
}

std::string json_num(double v) {
  if (!std::isfinite(v)) return "null";
  std::ostringstream s;
  s.precision(17);
  s << v;
  return s.str();
}

}  // namespace

std::string status_name(WeightStatus s) {
  switch (s) {
    case WeightStatus::kEqual: return "equal";
    case WeightStatus::kWithinTolerance: return "within_tolerance";
    case WeightStatus::kDiffers: return "differs";
    case WeightStatus::kShapeMismatch: return "shape_mismatch";
    case WeightStatus::kDTypeMismatch: return "dtype_mismatch";
    case WeightStatus::kOnlyInA: return "only_in_a";
    case WeightStatus::kOnlyInB: return "only_in_b";
  }
  return "?";
}

size_t DiffResult::count(WeightStatus s) const {
  size_t n = 0;
  for (const auto& w : weights)
    if (w.status == s) ++n;
  return n;
}

bool DiffResult::same() const {
  for (const auto& w : weights)
    if (w.status != WeightStatus::kEqual && w.status != WeightStatus::kWithinTolerance) return false;
  return true;
}

DiffResult diff_weights(const Model& a, const Model& b, const DiffOptions& options) {
  DiffResult r;
  r.path_a = a.path;
  r.path_b = b.path;
  r.options = options;
  MatchBy by = options.by;
  // A Keras 1 file against a Keras 2/3 one: compare the Keras 1 weights as Keras loads them (per-gate
  // RNN arrays merged, Keras 2 variable names), which is what a conversion of it holds.
  const bool k1a = a.dialect == KerasDialect::kKeras1, k1b = b.dialect == KerasDialect::kKeras1;
  std::vector<std::string> notes_a, notes_b;
  const Model va = k1a && !k1b ? keras2_weight_view(a, &notes_a) : Model{};
  const Model vb = k1b && !k1a ? keras2_weight_view(b, &notes_b) : Model{};
  const Model& ma = k1a && !k1b ? va : a;
  const Model& mb = k1b && !k1a ? vb : b;
  for (const auto& n : notes_a) r.notes.push_back("A: " + n);
  for (const auto& n : notes_b) r.notes.push_back("B: " + n);
  auto fa = flatten_weights(ma), fb = flatten_weights(mb);
  for (const auto& p : match_flat(fa, fb, by)) compare_pair(p, options, r, false);
  if (options.optimizer) {
    auto oa = flatten_optimizer(a), ob = flatten_optimizer(b);
    // Optimizer variable names differ between versions and formats; Keras itself loads them by order.
    for (const auto& p : match_flat(oa, ob, MatchBy::kOrder)) compare_pair(p, options, r, true);
  }
  return r;
}

std::string diff_summary(const DiffResult& r) {
  std::ostringstream s;
  s << r.weights.size() << " weights: " << r.count(WeightStatus::kEqual) << " equal, "
    << r.count(WeightStatus::kWithinTolerance) << " within tolerance, " << r.count(WeightStatus::kDiffers)
    << " differ, " << r.count(WeightStatus::kShapeMismatch) << " shape mismatch, "
    << r.count(WeightStatus::kDTypeMismatch) << " dtype mismatch, " << r.count(WeightStatus::kOnlyInA)
    << " only in A, " << r.count(WeightStatus::kOnlyInB) << " only in B";
  double max_abs = 0, max_rel = 0;
  for (const auto& w : r.weights) {
    max_abs = std::max(max_abs, w.max_abs);
    max_rel = std::max(max_rel, w.max_rel);
  }
  s << "; max abs diff " << num(max_abs) << ", max rel diff " << num(max_rel) << " (atol " << num(r.options.atol)
    << ", rtol " << num(r.options.rtol) << ", by " << (r.options.by == MatchBy::kOrder ? "order" : "name")
    << "): " << (r.same() ? "SAME" : "DIFFERENT");
  return s.str();
}

std::string diff_text(const DiffResult& r, bool all) {
  std::ostringstream s;
  s << "A: " << r.path_a << "\nB: " << r.path_b << "\n";
  for (const auto& n : r.notes) s << "note: " << n << "\n";
  for (const auto& w : r.weights) {
    if (!all && w.status == WeightStatus::kEqual) continue;
    s << status_name(w.status) << "  " << w.key;
    if (!w.name_a.empty() && !w.name_b.empty() && r.options.by == MatchBy::kOrder) s << " <-> " << w.name_b;
    if (w.status == WeightStatus::kShapeMismatch)
      s << "  A " << shape_str(w.shape_a) << " vs B " << shape_str(w.shape_b);
    else if (w.status == WeightStatus::kDTypeMismatch)
      s << "  A " << dtype_name(w.dtype_a) << " vs B " << dtype_name(w.dtype_b) << ", max abs " << num(w.max_abs);
    else if (w.status == WeightStatus::kOnlyInA)
      s << "  " << shape_str(w.shape_a);
    else if (w.status == WeightStatus::kOnlyInB)
      s << "  " << shape_str(w.shape_b);
    else
      s << "  " << shape_str(w.shape_a) << " max abs " << num(w.max_abs) << " max rel " << num(w.max_rel)
        << (w.mismatches ? ", " + std::to_string(w.mismatches) + " of " + std::to_string(w.elements) + " elements differ" : "");
    s << "\n";
  }
  s << diff_summary(r) << "\n";
  return s.str();
}

std::string diff_json(const DiffResult& r) {
  std::ostringstream s;
  auto shape_json = [](const Shape& sh) {
    std::string o = "[";
    for (size_t i = 0; i < sh.size(); ++i) o += (i ? "," : "") + std::to_string(sh[i]);
    return o + "]";
  };
  s << "{\"a\":" << json::quote(r.path_a) << ",\"b\":" << json::quote(r.path_b) << ",\"by\":\""
    << (r.options.by == MatchBy::kOrder ? "order" : "name") << "\",\"atol\":" << json_num(r.options.atol)
    << ",\"rtol\":" << json_num(r.options.rtol) << ",\"equal_nan\":" << (r.options.equal_nan ? "true" : "false")
    << ",\"same\":" << (r.same() ? "true" : "false") << ",\"notes\":[";
  for (size_t i = 0; i < r.notes.size(); ++i) s << (i ? "," : "") << json::quote(r.notes[i]);
  s << "],\"counts\":{";
  const WeightStatus all[] = {WeightStatus::kEqual, WeightStatus::kWithinTolerance, WeightStatus::kDiffers,
                              WeightStatus::kShapeMismatch, WeightStatus::kDTypeMismatch, WeightStatus::kOnlyInA,
                              WeightStatus::kOnlyInB};
  for (size_t i = 0; i < 7; ++i) s << (i ? "," : "") << "\"" << status_name(all[i]) << "\":" << r.count(all[i]);
  s << "},\"weights\":[";
  for (size_t i = 0; i < r.weights.size(); ++i) {
    const auto& w = r.weights[i];
    s << (i ? "," : "") << "{\"key\":" << json::quote(w.key) << ",\"status\":\"" << status_name(w.status) << "\"";
    if (w.status != WeightStatus::kOnlyInB) s << ",\"name_a\":" << json::quote(w.name_a) << ",\"dtype_a\":\"" << dtype_name(w.dtype_a) << "\",\"shape_a\":" << shape_json(w.shape_a);
    if (w.status != WeightStatus::kOnlyInA) s << ",\"name_b\":" << json::quote(w.name_b) << ",\"dtype_b\":\"" << dtype_name(w.dtype_b) << "\",\"shape_b\":" << shape_json(w.shape_b);
    s << ",\"max_abs\":" << json_num(w.max_abs) << ",\"max_rel\":" << json_num(w.max_rel)
      << ",\"mismatches\":" << w.mismatches << ",\"elements\":" << w.elements
      << ",\"optimizer\":" << (w.optimizer ? "true" : "false") << "}";
  }
  s << "]}";
  return s.str();
}

}  // namespace kmodel
