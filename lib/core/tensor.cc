// DType table (sizes and names) and TensorRef helpers.
#include "kmodel/tensor.h"

#include <limits>

#include "kmodel/error.h"

namespace kmodel {
namespace {
struct DTypeRow {
  DType dtype;
  const char* name;
  size_t size;
};
constexpr DTypeRow kDTypes[] = {
    {DType::kFloat16, "float16", 2},   {DType::kBFloat16, "bfloat16", 2}, {DType::kFloat32, "float32", 4},
    {DType::kFloat64, "float64", 8},   {DType::kInt8, "int8", 1},         {DType::kInt16, "int16", 2},
    {DType::kInt32, "int32", 4},       {DType::kInt64, "int64", 8},       {DType::kUInt8, "uint8", 1},
    {DType::kUInt16, "uint16", 2},     {DType::kUInt32, "uint32", 4},     {DType::kUInt64, "uint64", 8},
    {DType::kBool, "bool", 1},         {DType::kComplex64, "complex64", 8}, {DType::kComplex128, "complex128", 16},
    {DType::kString, "string", 0},
};
struct AliasRow {
  const char* alias;
  DType dtype;
};
constexpr AliasRow kAliases[] = {
    {"half", DType::kFloat16},   {"float", DType::kFloat32},  {"double", DType::kFloat64},
    {"DT_HALF", DType::kFloat16}, {"DT_BFLOAT16", DType::kBFloat16}, {"DT_FLOAT", DType::kFloat32},
    {"DT_DOUBLE", DType::kFloat64}, {"DT_INT8", DType::kInt8}, {"DT_INT16", DType::kInt16},
    {"DT_INT32", DType::kInt32}, {"DT_INT64", DType::kInt64}, {"DT_UINT8", DType::kUInt8},
    {"DT_UINT16", DType::kUInt16}, {"DT_UINT32", DType::kUInt32}, {"DT_UINT64", DType::kUInt64},
    {"DT_BOOL", DType::kBool}, {"DT_COMPLEX64", DType::kComplex64}, {"DT_COMPLEX128", DType::kComplex128},
    {"DT_STRING", DType::kString}, {"str", DType::kString},
};
}  // namespace

size_t dtype_size(DType dtype) {
  for (const auto& row : kDTypes)
    if (row.dtype == dtype) return row.size;
  return 0;
}

std::string dtype_name(DType dtype) {
  for (const auto& row : kDTypes)
    if (row.dtype == dtype) return row.name;
  return "invalid";
}

std::optional<DType> dtype_from_name(std::string_view name) {
  for (const auto& row : kDTypes)
    if (name == row.name) return row.dtype;
  for (const auto& row : kAliases)
    if (name == row.alias) return row.dtype;
  return std::nullopt;
}

int64_t num_elements(const Shape& shape, const std::string& context) {
  constexpr int64_t kLimit = int64_t{1} << 62;
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) throw BadInputError(context, "", "negative dimension in shape " + shape_str(shape));
    if (d != 0 && n > kLimit / d)
      throw BadInputError(context, "", "shape " + shape_str(shape) + " has too many elements");
    n *= d;
  }
  return n;
}

std::string shape_str(const Shape& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

uint64_t TensorRef::byte_size() const {
  return static_cast<uint64_t>(num_elements()) * dtype_size(dtype_);
}

namespace {
class InMemorySource : public TensorSource {
 public:
  explicit InMemorySource(Tensor t) : tensor_(std::move(t)) {}
  Tensor read() const override { return tensor_; }
  std::string describe() const override { return "<memory>"; }

 private:
  Tensor tensor_;
};
}  // namespace

TensorRef TensorRef::from_tensor(Tensor tensor) {
  DType dtype = tensor.dtype;
  Shape shape = tensor.shape;
  return TensorRef(dtype, std::move(shape), std::make_shared<InMemorySource>(std::move(tensor)));
}

Tensor TensorRef::load() const {
  if (!source_) throw UnsupportedError("", "", "tensor has no data source");
  Tensor t = source_->read();
  if (t.dtype != dtype_ || t.shape != shape_)
    throw BadInputError(source_->describe(), "", "tensor data does not match its declared dtype/shape");
  return t;
}

}  // namespace kmodel
