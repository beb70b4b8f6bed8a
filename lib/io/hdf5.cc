// HDF5 RAII handles and the string/dtype/dataset helpers (see hdf5.h).
#include "io/hdf5.h"

#include <algorithm>
#include <cstring>
#include <fstream>

#include "io/hdf5_guard.h"
#include "kmodel/error.h"

namespace kmodel::io::h5 {

namespace {
// Bound for a single attribute's element count or string size: attributes live in object headers
// (64 KB) or the global heap; anything beyond this is corrupt or hostile.
constexpr hsize_t kMaxAttrElements = hsize_t{1} << 24;
constexpr size_t kMaxStringBytes = size_t{1} << 30;

std::string trim_nul(const char* p, size_t n) {
  size_t len = 0;
  while (len < n && p[len] != '\0') ++len;
  return std::string(p, len);
}

[[noreturn]] void fail(const std::string& where, const std::string& what) {
  throw BadInputError("", where, what);
}

// Size of the file `obj` lives in, 0 when unknown.
hsize_t containing_file_size(hid_t obj) {
  hid_t file = H5Iget_file_id(obj);
  if (file < 0) return 0;
  hsize_t size = 0;
  if (H5Fget_filesize(file, &size) < 0) size = 0;
  H5Fclose(file);
  return size;
}
}  // namespace

bool attribute_exceeds_file(hid_t file_type, hssize_t count, hsize_t file_size) {
  if (count <= 0 || file_size == 0) return false;
  // Attribute data is never chunked, compressed or filled: it is stored in full (in the object header
  // or the dense attribute heap). A variable-length element is at least 8 bytes on disk (length and
  // heap reference), so a declared size beyond the file's is corrupt metadata, which libhdf5 1.10
  // would otherwise follow element by element through the global heap.
  size_t element = H5Tget_size(file_type);
  if (H5Tget_class(file_type) == H5T_VLEN || H5Tis_variable_str(file_type) > 0) element = std::max<size_t>(element, 8);
  if (element == 0) return false;
  return static_cast<hsize_t>(count) > file_size / element;
}

void silence_errors() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

void Handle::reset() {
  if (id_ < 0) return;
  switch (H5Iget_type(id_)) {
    case H5I_FILE: H5Fclose(id_); break;
    case H5I_GROUP: H5Gclose(id_); break;
    case H5I_DATASET: H5Dclose(id_); break;
    case H5I_ATTR: H5Aclose(id_); break;
    case H5I_DATATYPE: H5Tclose(id_); break;
    case H5I_DATASPACE: H5Sclose(id_); break;
    case H5I_GENPROP_LST: H5Pclose(id_); break;
    default: break;
  }
  id_ = H5I_INVALID_HID;
}

bool has_hdf5_signature(const std::string& path) {
  static const char kSig[8] = {'\x89', 'H', 'D', 'F', '\r', '\n', '\x1a', '\n'};
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  char buf[8];
  for (std::streamoff off = 0; off <= (1 << 20); off = off == 0 ? 512 : off * 2) {
    in.clear();
    in.seekg(off);
    if (!in.read(buf, 8)) return false;
    if (std::memcmp(buf, kSig, 8) == 0) return true;
  }
  return false;
}

Handle open_file_readonly(const std::string& path) {
  silence_errors();
  guard_hdf5_file(path);  // libhdf5 may crash on corrupt metadata: probe in a child process first
  Handle fapl(H5Pcreate(H5P_FILE_ACCESS));
  // Strong close so no object stays open past the file handle.
  H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_STRONG);
  Handle f(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.get()));
  if (!f.valid()) throw BadInputError(path, "", "not a readable HDF5 file (truncated or corrupt)");
  return f;
}

Handle create_file(const std::string& path) {
  silence_errors();
  Handle fapl(H5Pcreate(H5P_FILE_ACCESS));
  H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_STRONG);
  Handle f(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()));
  if (!f.valid()) throw IoError(path, "cannot create HDF5 file");
  return f;
}

bool has_attribute(hid_t obj, const std::string& name) { return H5Aexists(obj, name.c_str()) > 0; }

bool has_link(hid_t loc, const std::string& path) {
  std::string partial;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    std::string part = path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (!part.empty()) {
      partial += (partial.empty() ? "" : "/") + part;
      if (H5Lexists(loc, partial.c_str(), H5P_DEFAULT) <= 0) return false;
    }
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return !partial.empty();
}

Handle open_group(hid_t loc, const std::string& path, const std::string& file) {
  if (!has_link(loc, path) || !is_group(loc, path)) throw BadInputError(file, path, "group is missing");
  Handle g(H5Gopen2(loc, path.c_str(), H5P_DEFAULT));
  if (!g.valid()) throw BadInputError(file, path, "cannot open group");
  return g;
}

Handle create_group(hid_t loc, const std::string& name, const std::string& file) {
  Handle g(H5Gcreate2(loc, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  if (!g.valid()) throw IoError(file, "cannot create group " + name);
  return g;
}

Handle ensure_group(hid_t loc, const std::string& path, const std::string& file) {
  Handle current(H5Gopen2(loc, ".", H5P_DEFAULT));
  size_t start = 0;
  while (start < path.size()) {
    size_t slash = path.find('/', start);
    std::string part = path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (!part.empty()) {
      if (H5Lexists(current.get(), part.c_str(), H5P_DEFAULT) > 0)
        current = Handle(H5Gopen2(current.get(), part.c_str(), H5P_DEFAULT));
      else
        current = create_group(current.get(), part, file);
      if (!current.valid()) throw IoError(file, "cannot open or create group " + path);
    }
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return current;
}

bool is_group(hid_t loc, const std::string& name) {
  H5O_info_t info;
  if (H5Oget_info_by_name(loc, name.c_str(), &info, H5P_DEFAULT) < 0) return false;
  return info.type == H5O_TYPE_GROUP;
}

bool is_dataset(hid_t loc, const std::string& name) {
  H5O_info_t info;
  if (H5Oget_info_by_name(loc, name.c_str(), &info, H5P_DEFAULT) < 0) return false;
  return info.type == H5O_TYPE_DATASET;
}

std::vector<std::string> list_children(hid_t group, const std::string& file) {
  std::vector<std::string> names;
  auto cb = [](hid_t, const char* name, const H5L_info_t*, void* data) -> herr_t {
    static_cast<std::vector<std::string>*>(data)->emplace_back(name);
    return 0;
  };
  if (H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, nullptr, cb, &names) < 0)
    throw BadInputError(file, "", "cannot list group members");
  return names;
}

std::vector<std::string> list_attributes(hid_t obj, const std::string& file) {
  std::vector<std::string> names;
  auto cb = [](hid_t, const char* name, const H5A_info_t*, void* data) -> herr_t {
    static_cast<std::vector<std::string>*>(data)->emplace_back(name);
    return 0;
  };
  if (H5Aiterate2(obj, H5_INDEX_NAME, H5_ITER_INC, nullptr, cb, &names) < 0)
    throw BadInputError(file, "", "cannot list attributes");
  return names;
}

std::vector<std::string> read_string_list_attr(hid_t obj, const std::string& name, const std::string& where,
                                               StringAttrStyle* style) {
  std::string loc = where + "@" + name;
  Handle attr(H5Aopen(obj, name.c_str(), H5P_DEFAULT));
  if (!attr.valid()) fail(loc, "attribute is missing or unreadable");
  Handle space(H5Aget_space(attr.get()));
  Handle type(H5Aget_type(attr.get()));
  int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0 || rank > 1) fail(loc, "expected a scalar or 1-D attribute, rank is " + std::to_string(rank));
  hssize_t count = H5Sget_simple_extent_npoints(space.get());
  if (count < 0 || static_cast<hsize_t>(count) > kMaxAttrElements) fail(loc, "attribute has an absurd size");
  if (count == 0) return {};  // h5py stores [] as an empty float64 array
  if (attribute_exceeds_file(type.get(), count, containing_file_size(attr.get())))
    fail(loc, "attribute declares " + std::to_string(count) + " elements, more than the file can hold");
  if (H5Tget_class(type.get()) != H5T_STRING) fail(loc, "expected a string attribute");
  H5T_cset_t cset = H5Tget_cset(type.get());
  std::vector<std::string> out;
  out.reserve(static_cast<size_t>(count));
  if (H5Tis_variable_str(type.get()) > 0) {
    Handle mem(H5Tcopy(H5T_C_S1));
    H5Tset_size(mem.get(), H5T_VARIABLE);
    H5Tset_cset(mem.get(), cset);
    std::vector<char*> ptrs(static_cast<size_t>(count), nullptr);
    if (H5Aread(attr.get(), mem.get(), ptrs.data()) < 0) fail(loc, "cannot read string attribute");
    for (char* p : ptrs) out.emplace_back(p ? p : "");
    H5Dvlen_reclaim(mem.get(), space.get(), H5P_DEFAULT, ptrs.data());
    if (style) *style = {true, cset == H5T_CSET_UTF8, rank == 0, 0};
  } else {
    size_t size = H5Tget_size(type.get());
    if (size == 0 || size > kMaxStringBytes || size * static_cast<size_t>(count) > kMaxStringBytes)
      fail(loc, "string attribute has an absurd size");
    Handle mem(H5Tcopy(H5T_C_S1));
    H5Tset_size(mem.get(), size);
    H5Tset_strpad(mem.get(), H5T_STR_NULLPAD);
    H5Tset_cset(mem.get(), cset);
    std::vector<char> buf(size * static_cast<size_t>(count));
    if (H5Aread(attr.get(), mem.get(), buf.data()) < 0) fail(loc, "cannot read string attribute");
    for (hssize_t i = 0; i < count; ++i) out.push_back(trim_nul(buf.data() + i * size, size));
    if (style) *style = {false, cset == H5T_CSET_UTF8, rank == 0, size};
  }
  return out;
}

std::string read_string_attr(hid_t obj, const std::string& name, const std::string& where,
                             StringAttrStyle* style) {
  auto list = read_string_list_attr(obj, name, where, style);
  if (list.size() != 1)
    fail(where + "@" + name, "expected one string, found " + std::to_string(list.size()));
  return list[0];
}

std::optional<std::vector<std::string>> read_chunked_string_list(hid_t obj, const std::string& name,
                                                                 const std::string& where) {
  if (has_attribute(obj, name)) return read_string_list_attr(obj, name, where);
  if (!has_attribute(obj, name + "0")) return std::nullopt;
  std::vector<std::string> all;
  for (int i = 0; has_attribute(obj, name + std::to_string(i)); ++i) {
    auto part = read_string_list_attr(obj, name + std::to_string(i), where);
    all.insert(all.end(), part.begin(), part.end());
  }
  return all;
}

namespace {
void write_attr(hid_t obj, const std::string& name, hid_t type, hid_t space, const void* data,
                const std::string& file) {
  if (H5Aexists(obj, name.c_str()) > 0) H5Adelete(obj, name.c_str());
  Handle attr(H5Acreate2(obj, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT));
  if (!attr.valid() || H5Awrite(attr.get(), type, data) < 0)
    throw IoError(file, "cannot write attribute " + name);
}
}  // namespace

void write_string_attr(hid_t obj, const std::string& name, const std::string& value, bool utf8,
                       const std::string& file) {
  Handle type(H5Tcopy(H5T_C_S1));
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), utf8 ? H5T_CSET_UTF8 : H5T_CSET_ASCII);
  Handle space(H5Screate(H5S_SCALAR));
  const char* p = value.c_str();
  write_attr(obj, name, type.get(), space.get(), &p, file);
}

void write_fixed_string_attr(hid_t obj, const std::string& name, const std::string& value,
                             const std::string& file) {
  Handle type(H5Tcopy(H5T_C_S1));
  H5Tset_size(type.get(), std::max<size_t>(1, value.size()));
  H5Tset_strpad(type.get(), H5T_STR_NULLPAD);
  Handle space(H5Screate(H5S_SCALAR));
  std::string buf = value.empty() ? std::string(1, '\0') : value;
  write_attr(obj, name, type.get(), space.get(), buf.data(), file);
}

void write_string_list_attr(hid_t obj, const std::string& name, const std::vector<std::string>& values,
                            const std::string& file) {
  if (values.empty()) return write_empty_list_attr(obj, name, file);
  Handle type(H5Tcopy(H5T_C_S1));
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_ASCII);
  hsize_t dims[1] = {values.size()};
  Handle space(H5Screate_simple(1, dims, nullptr));
  std::vector<const char*> ptrs;
  for (const auto& v : values) ptrs.push_back(v.c_str());
  write_attr(obj, name, type.get(), space.get(), ptrs.data(), file);
}

void write_fixed_string_list_attr(hid_t obj, const std::string& name, const std::vector<std::string>& values,
                                  size_t size, const std::string& file) {
  size = std::max<size_t>(size, 1);
  Handle type(H5Tcopy(H5T_C_S1));
  H5Tset_size(type.get(), size);
  H5Tset_strpad(type.get(), H5T_STR_NULLPAD);
  hsize_t dims[1] = {values.size()};
  Handle space(H5Screate_simple(1, dims, nullptr));
  std::vector<char> buf(size * values.size(), '\0');
  for (size_t i = 0; i < values.size(); ++i)
    std::memcpy(buf.data() + i * size, values[i].data(), std::min(size, values[i].size()));
  write_attr(obj, name, type.get(), space.get(), buf.data(), file);
}

void write_empty_list_attr(hid_t obj, const std::string& name, const std::string& file) {
  hsize_t dims[1] = {0};
  Handle space(H5Screate_simple(1, dims, nullptr));
  double dummy = 0;
  write_attr(obj, name, H5T_IEEE_F64LE, space.get(), &dummy, file);
}

void write_chunked_string_list(hid_t obj, const std::string& name, const std::vector<std::string>& values,
                               const std::string& file) {
  size_t maxlen = 0;
  for (const auto& v : values) maxlen = std::max(maxlen, v.size());
  if (maxlen > kHdf5ObjectHeaderLimit)
    throw UnsupportedError(file, name, "an item is longer than HDF5's 64512-byte object header limit");
  // numpy's S<maxlen> array nbytes; np.array_split into k near-equal chunks until each fits.
  size_t n = values.size();
  size_t chunks = 1;
  auto largest_chunk_bytes = [&](size_t k) { return ((n + k - 1) / k) * std::max<size_t>(maxlen, 1); };
  while (n > 0 && largest_chunk_bytes(chunks) > kHdf5ObjectHeaderLimit) ++chunks;
  if (chunks == 1) {
    write_string_list_attr(obj, name, values, file);
    return;
  }
  size_t base = n / chunks, extra = n % chunks, pos = 0;
  for (size_t c = 0; c < chunks; ++c) {
    size_t len = base + (c < extra ? 1 : 0);
    std::vector<std::string> part(values.begin() + pos, values.begin() + pos + len);
    // Each chunk keeps the whole array's element size, as numpy's split views do.
    write_fixed_string_list_attr(obj, name + std::to_string(c), part, maxlen, file);
    pos += len;
  }
}

DType dtype_of(hid_t type) {
  H5T_class_t cls = H5Tget_class(type);
  size_t size = H5Tget_size(type);
  if (cls == H5T_FLOAT) {
    if (size == 2) return DType::kFloat16;
    if (size == 4) return DType::kFloat32;
    if (size == 8) return DType::kFloat64;
  } else if (cls == H5T_INTEGER) {
    bool is_signed = H5Tget_sign(type) == H5T_SGN_2;
    switch (size) {
      case 1: return is_signed ? DType::kInt8 : DType::kUInt8;
      case 2: return is_signed ? DType::kInt16 : DType::kUInt16;
      case 4: return is_signed ? DType::kInt32 : DType::kUInt32;
      case 8: return is_signed ? DType::kInt64 : DType::kUInt64;
      default: break;
    }
  } else if (cls == H5T_ENUM && size == 1) {
    return DType::kBool;  // h5py stores numpy bool as an int8 enum {FALSE, TRUE}
  } else if (cls == H5T_COMPOUND && H5Tget_nmembers(type) == 2) {
    Handle m0(H5Tget_member_type(type, 0));
    if (H5Tget_class(m0.get()) == H5T_FLOAT) {
      if (size == 8) return DType::kComplex64;
      if (size == 16) return DType::kComplex128;
    }
  } else if (cls == H5T_OPAQUE && size == 2) {
    return DType::kBFloat16;
  }
  return DType::kInvalid;
}

namespace {
Handle complex_type(DType dtype, bool file_layout) {
  size_t part = dtype == DType::kComplex64 ? 4 : 8;
  hid_t base = part == 4 ? (file_layout ? H5T_IEEE_F32LE : H5T_NATIVE_FLOAT)
                         : (file_layout ? H5T_IEEE_F64LE : H5T_NATIVE_DOUBLE);
  Handle t(H5Tcreate(H5T_COMPOUND, 2 * part));
  H5Tinsert(t.get(), "r", 0, base);
  H5Tinsert(t.get(), "i", part, base);
  return t;
}

Handle bool_type() {
  Handle t(H5Tenum_create(H5T_NATIVE_INT8));
  int8_t f = 0, tr = 1;
  H5Tenum_insert(t.get(), "FALSE", &f);
  H5Tenum_insert(t.get(), "TRUE", &tr);
  return t;
}

Handle type_for(DType dtype, bool file_layout, const std::string& file) {
  switch (dtype) {
    case DType::kFloat16: {
      // IEEE half: 1 sign, 5 exponent, 10 mantissa bits, bias 15 (h5py's float16 layout).
      Handle t(H5Tcopy(H5T_IEEE_F32LE));
      H5Tset_fields(t.get(), 15, 10, 5, 0, 10);
      H5Tset_size(t.get(), 2);
      H5Tset_ebias(t.get(), 15);
      return t;
    }
    case DType::kFloat32: return Handle(H5Tcopy(H5T_IEEE_F32LE));
    case DType::kFloat64: return Handle(H5Tcopy(H5T_IEEE_F64LE));
    case DType::kInt8: return Handle(H5Tcopy(H5T_STD_I8LE));
    case DType::kInt16: return Handle(H5Tcopy(H5T_STD_I16LE));
    case DType::kInt32: return Handle(H5Tcopy(H5T_STD_I32LE));
    case DType::kInt64: return Handle(H5Tcopy(H5T_STD_I64LE));
    case DType::kUInt8: return Handle(H5Tcopy(H5T_STD_U8LE));
    case DType::kUInt16: return Handle(H5Tcopy(H5T_STD_U16LE));
    case DType::kUInt32: return Handle(H5Tcopy(H5T_STD_U32LE));
    case DType::kUInt64: return Handle(H5Tcopy(H5T_STD_U64LE));
    case DType::kBool: return bool_type();
    case DType::kComplex64:
    case DType::kComplex128: return complex_type(dtype, file_layout);
    case DType::kBFloat16: {
      Handle t(H5Tcreate(H5T_OPAQUE, 2));
      H5Tset_tag(t.get(), "bfloat16");
      return t;
    }
    default: break;
  }
  throw UnsupportedError(file, "", "dtype " + dtype_name(dtype) + " cannot be stored in HDF5 by kmodel");
}
}  // namespace

Handle file_type_for(DType dtype, const std::string& file) { return type_for(dtype, true, file); }
Handle memory_type_for(DType dtype, const std::string& file) { return type_for(dtype, false, file); }

DatasetInfo dataset_info(hid_t dataset, const std::string& where) {
  DatasetInfo info;
  Handle type(H5Dget_type(dataset));
  Handle space(H5Dget_space(dataset));
  if (!type.valid() || !space.valid()) fail(where, "cannot read dataset header");
  info.dtype = dtype_of(type.get());
  H5T_class_t cls = H5Tget_class(type.get());
  info.type_description = "HDF5 class " + std::to_string(static_cast<int>(cls)) + " size " +
                          std::to_string(H5Tget_size(type.get()));
  if (cls == H5T_STRING) info.type_description = "string";
  int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0 || rank > 32) fail(where, "dataset has an invalid rank");
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  if (rank > 0) H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  for (hsize_t d : dims) info.shape.push_back(static_cast<int64_t>(d));
  num_elements(info.shape, where);  // throws on overflow
  return info;
}

Tensor read_dataset(hid_t dataset, const DatasetInfo& info, const std::string& where) {
  if (info.dtype == DType::kInvalid || info.dtype == DType::kString)
    throw UnsupportedError("", where, "dataset type (" + info.type_description + ") is not supported");
  Tensor t;
  t.dtype = info.dtype;
  t.shape = info.shape;
  uint64_t bytes = static_cast<uint64_t>(num_elements(info.shape, where)) * dtype_size(info.dtype);
  // The stored size bounds the allocation: a dataset cannot hold more than its storage unless it
  // is unallocated (then it reads as fill values) — refuse absurd sizes either way.
  hsize_t storage = H5Dget_storage_size(dataset);
  constexpr uint64_t kMaxUnbackedBytes = uint64_t{1} << 26;
  if (bytes > storage && bytes > kMaxUnbackedBytes)
    fail(where, "dataset declares " + std::to_string(bytes) + " bytes but stores only " + std::to_string(storage));
  t.data.resize(bytes);
  if (bytes == 0) return t;
  Handle mem = memory_type_for(info.dtype, "");
  hid_t mem_type = mem.get();
  Handle native;
  if (info.dtype != DType::kBool && info.dtype != DType::kBFloat16 && info.dtype != DType::kComplex64 &&
      info.dtype != DType::kComplex128 && info.dtype != DType::kFloat16) {
    // Little-endian file types are also the native layout on the hosts we support.
    mem_type = mem.get();
  }
  if (info.dtype == DType::kBFloat16) {
    Handle ft(H5Dget_type(dataset));
    native = Handle(H5Tcopy(ft.get()));
    mem_type = native.get();
  }
  if (H5Dread(dataset, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, t.data.data()) < 0)
    fail(where, "cannot read dataset data (corrupt or truncated file)");
  return t;
}

Handle create_dataset_allocated(hid_t loc, const std::string& name, DType dtype, const Shape& shape,
                                const std::string& file) {
  Handle type = file_type_for(dtype, file);
  Handle space;
  if (shape.empty()) {
    space = Handle(H5Screate(H5S_SCALAR));
  } else {
    std::vector<hsize_t> dims(shape.begin(), shape.end());
    space = Handle(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
  }
  Handle dcpl(H5Pcreate(H5P_DATASET_CREATE));
  H5Pset_layout(dcpl.get(), H5D_CONTIGUOUS);
  H5Pset_alloc_time(dcpl.get(), H5D_ALLOC_TIME_EARLY);
  H5Pset_fill_time(dcpl.get(), H5D_FILL_TIME_NEVER);
  Handle ds(H5Dcreate2(loc, name.c_str(), type.get(), space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT));
  if (!ds.valid()) throw IoError(file, "cannot create dataset " + name + " (disk full or file size limit?)");
  return ds;
}

std::optional<uint64_t> contiguous_offset(hid_t dataset) {
  Handle dcpl(H5Dget_create_plist(dataset));
  if (!dcpl.valid() || H5Pget_layout(dcpl.get()) != H5D_CONTIGUOUS || H5Pget_nfilters(dcpl.get()) != 0)
    return std::nullopt;
  haddr_t off = H5Dget_offset(dataset);
  if (off == HADDR_UNDEF) return std::nullopt;
  return static_cast<uint64_t>(off);
}

bool is_plain_little_endian(hid_t dataset) {
  Handle type(H5Dget_type(dataset));
  H5T_class_t cls = H5Tget_class(type.get());
  if (cls == H5T_INTEGER || cls == H5T_FLOAT) {
    if (H5Tget_size(type.get()) > 1 && H5Tget_order(type.get()) != H5T_ORDER_LE) return false;
    if (cls == H5T_FLOAT) {
      // Only IEEE layouts: compare with the standard little-endian types.
      size_t size = H5Tget_size(type.get());
      if (size == 4) return H5Tequal(type.get(), H5T_IEEE_F32LE) > 0;
      if (size == 8) return H5Tequal(type.get(), H5T_IEEE_F64LE) > 0;
      Handle half = file_type_for(DType::kFloat16, "");
      return H5Tequal(type.get(), half.get()) > 0;
    }
    return true;
  }
  return false;
}

void write_dataset(hid_t loc, const std::string& name, const Tensor& tensor, const std::string& file) {
  if (tensor.dtype == DType::kString)
    throw UnsupportedError(file, name, "string tensors cannot be written as Keras H5 weights");
  Handle type = file_type_for(tensor.dtype, file);
  Handle space;
  if (tensor.shape.empty()) {
    space = Handle(H5Screate(H5S_SCALAR));
  } else {
    std::vector<hsize_t> dims(tensor.shape.begin(), tensor.shape.end());
    space = Handle(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
  }
  Handle ds(H5Dcreate2(loc, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  if (!ds.valid()) throw IoError(file, "cannot create dataset " + name);
  if (!tensor.data.empty() && H5Dwrite(ds.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, tensor.data.data()) < 0)
    throw IoError(file, "cannot write dataset " + name + " (disk full or file size limit?)");
}

}  // namespace kmodel::io::h5
