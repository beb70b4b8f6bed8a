// Tensor value types of the IR: DType, Shape, lazy TensorRef (bytes read on demand) and owned Tensor.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kmodel {

// Element types that occur in Keras/TF artifacts. Names follow numpy ("float32").
enum class DType : uint8_t {
  kInvalid, kFloat16, kBFloat16, kFloat32, kFloat64,
  kInt8, kInt16, kInt32, kInt64, kUInt8, kUInt16, kUInt32, kUInt64,
  kBool, kComplex64, kComplex128, kString,
};

// Bytes per element; 0 for kString and kInvalid.
size_t dtype_size(DType dtype);
// numpy-style name: "float32", "int64", "bool", "string", "bfloat16", "complex64".
std::string dtype_name(DType dtype);
// Inverse of dtype_name; also accepts TF names ("DT_FLOAT", "half"). nullopt if unknown.
std::optional<DType> dtype_from_name(std::string_view name);

using Shape = std::vector<int64_t>;

// Number of elements; throws BadInputError (file `context`) on negative dims or overflow past 2^62.
int64_t num_elements(const Shape& shape, const std::string& context = "");
// "(3, 4)" style; "()" for scalars.
std::string shape_str(const Shape& shape);

// Owned tensor data. Numeric tensors hold raw little-endian row-major bytes in `data`;
// kString tensors hold their elements in `strings`.
struct Tensor {
  DType dtype = DType::kInvalid;
  Shape shape;
  std::vector<uint8_t> data;
  std::vector<std::string> strings;

  int64_t num_elements() const { return kmodel::num_elements(shape); }
  template <class T> const T* as() const { return reinterpret_cast<const T*>(data.data()); }
  template <class T> T* as_mut() { return reinterpret_cast<T*>(data.data()); }
};

// A tensor's bytes stored raw (little-endian, row-major, unfiltered) at one place in a plain file,
// so a writer may copy them file-to-file (copy_file_range) without passing through memory.
struct RawExtent {
  std::string path;
  uint64_t offset = 0;
  uint64_t size = 0;
};

// Where the bytes of a TensorRef come from. Implemented by each format (HDF5 dataset, bundle entry, ...).
class TensorSource {
 public:
  virtual ~TensorSource() = default;
  // The raw location of the bytes when they can be copied verbatim and need no verification;
  // nullopt otherwise (the default). Writers fall back to read().
  virtual std::optional<RawExtent> raw_extent() const { return std::nullopt; }
  // Reads and verifies (checksums, sizes) the tensor. Throws kmodel::Error on failure.
  virtual Tensor read() const = 0;
  // Human-readable origin for error messages, e.g. "model.h5:/model_weights/dense/dense/kernel:0".
  virtual std::string describe() const = 0;
};

// A lazy handle to tensor data: dtype and shape are known without reading bytes.
class TensorRef {
 public:
  TensorRef() = default;
  TensorRef(DType dtype, Shape shape, std::shared_ptr<const TensorSource> source)
      : dtype_(dtype), shape_(std::move(shape)), source_(std::move(source)) {}
  // A TensorRef over data already in memory.
  static TensorRef from_tensor(Tensor tensor);

  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int64_t num_elements() const { return kmodel::num_elements(shape_); }
  // Payload size in bytes for numeric dtypes (0 for strings).
  uint64_t byte_size() const;
  bool valid() const { return source_ != nullptr; }
  // Reads the data now (a fresh copy each call); throws if the source is missing or corrupt.
  Tensor load() const;
  std::string describe() const { return source_ ? source_->describe() : "<no data>"; }
  std::optional<RawExtent> raw_extent() const { return source_ ? source_->raw_extent() : std::nullopt; }

 private:
  DType dtype_ = DType::kInvalid;
  Shape shape_;
  std::shared_ptr<const TensorSource> source_;
};

}  // namespace kmodel
