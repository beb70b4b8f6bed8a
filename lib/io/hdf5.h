// Thin RAII layer over the HDF5 C library: owned handles, string attributes in every flavour h5py
// writes (vlen/fixed, ASCII/UTF-8, scalar/array, empty float64 lists), dtype mapping, and dataset
// reads/writes of raw little-endian bytes. HDF5's own error printing is silenced; failures become
// kmodel errors naming the file and the HDF5 path.
#pragma once

#include <hdf5.h>

#include <optional>
#include <string>
#include <vector>

#include "kmodel/tensor.h"

namespace kmodel::io::h5 {

// Silences HDF5's automatic error stack printing (idempotent, thread-unsafe like HDF5 itself).
void silence_errors();

// An owned hid_t closed with the right H5*close on destruction.
class Handle {
 public:
  Handle() = default;
  explicit Handle(hid_t id) : id_(id) {}
  ~Handle() { reset(); }
  Handle(Handle&& o) noexcept : id_(o.id_) { o.id_ = H5I_INVALID_HID; }
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = o.id_;
      o.id_ = H5I_INVALID_HID;
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  void reset();
  // Gives up ownership without closing.
  hid_t release() {
    hid_t id = id_;
    id_ = H5I_INVALID_HID;
    return id;
  }

 private:
  hid_t id_ = H5I_INVALID_HID;
};

// True when an attribute of `file_type` with `count` elements cannot fit in a file of `file_size`
// bytes (attribute data is always stored in full), i.e. its dataspace is corrupt. False if unknown.
bool attribute_exceeds_file(hid_t file_type, hssize_t count, hsize_t file_size);

// True if the file starts with the HDF5 signature (at offset 0, 512, 1024, ...).
bool has_hdf5_signature(const std::string& path);

// Opens read-only; throws BadInputError if it is not a readable HDF5 file.
Handle open_file_readonly(const std::string& path);
// Creates (truncating) a file for writing; throws IoError.
Handle create_file(const std::string& path);

bool has_attribute(hid_t obj, const std::string& name);
bool has_link(hid_t loc, const std::string& path);   // each path component checked
Handle open_group(hid_t loc, const std::string& path, const std::string& file);
Handle create_group(hid_t loc, const std::string& name, const std::string& file);
// Opens or creates every group along an '/'-separated path.
Handle ensure_group(hid_t loc, const std::string& path, const std::string& file);
bool is_group(hid_t loc, const std::string& name);
bool is_dataset(hid_t loc, const std::string& name);
// Direct child link names in alphabetical (HDF5 default) order.
std::vector<std::string> list_children(hid_t group, const std::string& file);
// Attribute names of an object.
std::vector<std::string> list_attributes(hid_t obj, const std::string& file);

// How a string attribute is stored, so a round trip can reproduce it.
struct StringAttrStyle {
  bool vlen = true;
  bool utf8 = false;
  bool scalar = true;
  size_t fixed_size = 0;  // element size for fixed-length strings
};

// Reads a string attribute (scalar or 1-element array; vlen or fixed; NUL-trimmed).
std::string read_string_attr(hid_t obj, const std::string& name, const std::string& where,
                             StringAttrStyle* style = nullptr);
// Reads a list-of-strings attribute; a zero-length attribute of any type is an empty list.
std::vector<std::string> read_string_list_attr(hid_t obj, const std::string& name, const std::string& where,
                                               StringAttrStyle* style = nullptr);
// Reads `name` or, when absent, the chunked `name0`, `name1`, ... (Keras' 64 KB header workaround).
// Returns nullopt when neither exists.
std::optional<std::vector<std::string>> read_chunked_string_list(hid_t obj, const std::string& name,
                                                                 const std::string& where);

void write_string_attr(hid_t obj, const std::string& name, const std::string& value, bool utf8,
                       const std::string& file);
void write_fixed_string_attr(hid_t obj, const std::string& name, const std::string& value,
                             const std::string& file);
// Writes a vlen ASCII string array (what h5py writes for a list of bytes).
void write_string_list_attr(hid_t obj, const std::string& name, const std::vector<std::string>& values,
                            const std::string& file);
// Writes a fixed-length NULLPAD string array of element size `size` (numpy S<size>).
void write_fixed_string_list_attr(hid_t obj, const std::string& name, const std::vector<std::string>& values,
                                  size_t size, const std::string& file);
// Writes an empty float64 array of shape (0,) (h5py's encoding of an empty list).
void write_empty_list_attr(hid_t obj, const std::string& name, const std::string& file);
// Keras' save_attributes_to_hdf5_group: one vlen attribute when it fits in 64512 bytes as numpy
// S<maxlen>, else near-equal chunks name0, name1, ... as fixed-length arrays.
void write_chunked_string_list(hid_t obj, const std::string& name, const std::vector<std::string>& values,
                               const std::string& file);
constexpr size_t kHdf5ObjectHeaderLimit = 64512;

// Maps an HDF5 datatype to a DType (kInvalid when unsupported). Handles IEEE/integers of any
// endianness, HDF5 enums of bool (h5py's bool), and compound complex numbers {r, i}.
DType dtype_of(hid_t type);
// The little-endian HDF5 file datatype for a DType (caller closes). bfloat16 maps to 16-bit opaque.
Handle file_type_for(DType dtype, const std::string& file);
// The native in-memory datatype for reading into little-endian bytes.
Handle memory_type_for(DType dtype, const std::string& file);

struct DatasetInfo {
  DType dtype = DType::kInvalid;
  Shape shape;
  std::string type_description;  // for error messages about unsupported types
};
DatasetInfo dataset_info(hid_t dataset, const std::string& where);
// Reads a dataset into a Tensor of dtype/shape `info`; checks size limits and read errors.
Tensor read_dataset(hid_t dataset, const DatasetInfo& info, const std::string& where);
// Creates a contiguous dataset whose storage is allocated now and never filled, so its raw bytes
// can be written later at dataset_offset() with plain file I/O. `shape` empty = scalar.
Handle create_dataset_allocated(hid_t loc, const std::string& name, DType dtype, const Shape& shape,
                                const std::string& file);
// File offset of a contiguous, allocated, unfiltered dataset's data; nullopt otherwise.
std::optional<uint64_t> contiguous_offset(hid_t dataset);
// True when the dataset's stored bytes equal what kmodel writes for its dtype (little-endian,
// unfiltered, contiguous), so they may be copied verbatim.
bool is_plain_little_endian(hid_t dataset);
// Creates a contiguous dataset and writes the tensor's bytes.
void write_dataset(hid_t loc, const std::string& name, const Tensor& tensor, const std::string& file);

}  // namespace kmodel::io::h5
