// Public predict API (kmodel/predict.h): dtype conversion to float32 and the Predictor facade over
// engine::Graph, with input shape checks.
#include "kmodel/predict.h"

#include <cstring>
#include <map>

#include "engine/graph.h"
#include "kmodel/architecture.h"
#include "kmodel/error.h"

namespace kmodel {
namespace {

float half_to_float(uint16_t h) {
  const uint32_t sign = (h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ffu, bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal
      exp = 127 - 15 + 1;
      while (!(mant & 0x400u)) {
        mant <<= 1;
        --exp;
      }
      mant &= 0x3ffu;
      bits = sign | (exp << 23) | (mant << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp - 15 + 127) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

template <class T>
void convert(const Tensor& t, std::vector<float>& out) {
  const size_t n = out.size();
  for (size_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, t.data.data() + i * sizeof(T), sizeof(T));
    out[i] = static_cast<float>(v);
  }
}

}  // namespace

FloatArray to_float_array(const Tensor& t, const std::string& context) {
  FloatArray a;
  a.shape = t.shape;
  const int64_t n = num_elements(t.shape, context);
  const size_t es = dtype_size(t.dtype);
  if (t.dtype == DType::kString || t.dtype == DType::kComplex64 || t.dtype == DType::kComplex128 || es == 0)
    throw UnsupportedError(context, "", "tensor of dtype " + dtype_name(t.dtype) + " cannot be used as float32");
  if (t.data.size() != static_cast<size_t>(n) * es)
    throw BadInputError(context, "", "tensor holds " + std::to_string(t.data.size()) + " bytes, expected " +
                                         std::to_string(static_cast<size_t>(n) * es));
  a.values.resize(static_cast<size_t>(n));
  switch (t.dtype) {
    case DType::kFloat32: if (!t.data.empty()) std::memcpy(a.values.data(), t.data.data(), t.data.size()); break;
    case DType::kFloat64: convert<double>(t, a.values); break;
    case DType::kFloat16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, t.data.data() + i * 2, 2);
        a.values[i] = half_to_float(h);
      }
      break;
    case DType::kBFloat16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, t.data.data() + i * 2, 2);
        uint32_t bits = static_cast<uint32_t>(h) << 16;
        std::memcpy(&a.values[i], &bits, 4);
      }
      break;
    case DType::kInt8: convert<int8_t>(t, a.values); break;
    case DType::kInt16: convert<int16_t>(t, a.values); break;
    case DType::kInt32: convert<int32_t>(t, a.values); break;
    case DType::kInt64: convert<int64_t>(t, a.values); break;
    case DType::kUInt8: case DType::kBool: convert<uint8_t>(t, a.values); break;
    case DType::kUInt16: convert<uint16_t>(t, a.values); break;
    case DType::kUInt32: convert<uint32_t>(t, a.values); break;
    case DType::kUInt64: convert<uint64_t>(t, a.values); break;
    default: throw UnsupportedError(context, "", "dtype " + dtype_name(t.dtype) + " is not numeric");
  }
  return a;
}

Predictor::Predictor(const Model& model) {
  if (!model.has_architecture())
    throw UnsupportedError(model.path, "", "the artifact has no architecture (weights only): predict needs a model");
  ArchitectureSpec arch = parse_architecture(model.model_config, model.path);
  if (arch.dialect == KerasDialect::kUnknown) arch.dialect = model.dialect;
  if (model.dialect != KerasDialect::kUnknown) arch.dialect = model.dialect;
  if (!model.keras_version.empty()) arch.keras_version = model.keras_version;  // the file's own word first
  auto by_name = std::make_shared<std::map<std::string, std::vector<const Weight*>>>();
  for (const Layer& l : model.layers)
    for (const Weight& w : l.weights) (*by_name)[l.name].push_back(&w);
  engine::WeightProvider provider = [by_name](const std::string& layer) {
    auto it = by_name->find(layer);
    return it == by_name->end() ? std::vector<const Weight*>{} : it->second;
  };
  graph_ = std::make_unique<engine::Graph>(arch, provider, model.path);
}

Predictor::~Predictor() = default;
Predictor::Predictor(Predictor&&) noexcept = default;
Predictor& Predictor::operator=(Predictor&&) noexcept = default;

const std::vector<PredictIO>& Predictor::inputs() const { return graph_->inputs(); }
const std::vector<PredictIO>& Predictor::outputs() const { return graph_->outputs(); }

std::vector<FloatArray> Predictor::run(const std::vector<FloatArray>& inputs) const {
  const auto& decl = graph_->inputs();
  if (inputs.size() != decl.size())
    throw UsageError("model takes " + std::to_string(decl.size()) + " input(s), got " + std::to_string(inputs.size()));
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Shape& want = decl[i].shape;
    const Shape& got = inputs[i].shape;
    if (static_cast<int64_t>(inputs[i].values.size()) != engine::numel(got))
      throw UsageError("input \"" + decl[i].name + "\": data does not fill shape " + shape_str(got));
    if (want.empty()) continue;
    bool ok = want.size() == got.size();
    for (size_t d = 1; ok && d < want.size(); ++d) ok = want[d] < 0 || want[d] == got[d];
    if (!ok) {
      std::string w = "(";
      for (size_t d = 0; d < want.size(); ++d) w += (d ? ", " : "") + (want[d] < 0 ? std::string("None") : std::to_string(want[d]));
      throw UsageError("input \"" + decl[i].name + "\" has shape " + shape_str(got) + ", the model expects " + w + ")");
    }
  }
  return graph_->run(inputs);
}

}  // namespace kmodel
