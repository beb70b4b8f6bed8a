// The legacy V1 checkpoint format (TF1 TensorSliceWriter): one LevelDB-format table whose "" entry is
// a SavedTensorSlices message with the metadata of every tensor (SavedSliceMeta: 1 name, 2 shape,
// 3 type, 4 slices) and whose other entries hold the data (SavedTensorSlices.data = SavedSlice: 1 name,
// 2 slice, 3 TensorProto). Listing needs only the "" entry; values are decoded from TensorProto's
// typed repeated fields (or tensor_content) for unpartitioned tensors. No per-tensor CRC exists in this
// format; the table's block checksums are verified.
#include <algorithm>
#include <cstring>
#include <memory>
#include <string_view>

#include "formats/checkpoint/checkpoint_internal.h"
#include "io/tensor_bundle.h"
#include "kmodel/error.h"

namespace kmodel::formats::checkpoint {

namespace {

// Minimal protobuf wire reader over a bounded buffer.
struct Wire {
  std::string_view buf;
  size_t pos = 0;
  std::string file, where;

  bool done() const { return pos >= buf.size(); }
  [[noreturn]] void fail(const std::string& what) const { throw BadInputError(file, where, what); }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift <= 63; shift += 7) {
      if (pos >= buf.size()) fail("truncated varint");
      uint8_t b = static_cast<uint8_t>(buf[pos++]);
      v |= uint64_t(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    fail("overlong varint");
  }
  std::string_view bytes() {
    uint64_t n = varint();
    if (n > buf.size() - pos) fail("length-delimited field runs past the end of its message");
    std::string_view v = buf.substr(pos, static_cast<size_t>(n));
    pos += static_cast<size_t>(n);
    return v;
  }
  uint32_t fixed32() {
    if (buf.size() - pos < 4) fail("truncated fixed32");
    uint32_t v;
    std::memcpy(&v, buf.data() + pos, 4);
    pos += 4;
    return v;
  }
  uint64_t fixed64() {
    if (buf.size() - pos < 8) fail("truncated fixed64");
    uint64_t v;
    std::memcpy(&v, buf.data() + pos, 8);
    pos += 8;
    return v;
  }
  void skip(int wire_type) {
    switch (wire_type) {
      case 0: varint(); break;
      case 1: fixed64(); break;
      case 2: bytes(); break;
      case 5: fixed32(); break;
      default: fail("unsupported wire type " + std::to_string(wire_type));
    }
  }
  Wire sub(std::string_view b) const { return Wire{b, 0, file, where}; }
};

Shape parse_shape(Wire w) {
  Shape shape;
  while (!w.done()) {
    uint64_t tag = w.varint();
    if (tag >> 3 == 2 && (tag & 7) == 2) {
      Wire dim = w.sub(w.bytes());
      int64_t size = 0;
      while (!dim.done()) {
        uint64_t t = dim.varint();
        if (t >> 3 == 1 && (t & 7) == 0) size = static_cast<int64_t>(dim.varint());
        else dim.skip(static_cast<int>(t & 7));
      }
      if (size < 0) w.fail("negative dimension");
      shape.push_back(size);
    } else {
      w.skip(static_cast<int>(tag & 7));
    }
  }
  return shape;
}

// True when a TensorSliceProto covers the whole tensor (every extent without a length).
bool full_slice(Wire w) {
  while (!w.done()) {
    uint64_t tag = w.varint();
    if (tag >> 3 == 1 && (tag & 7) == 2) {
      Wire extent = w.sub(w.bytes());
      while (!extent.done()) {
        uint64_t t = extent.varint();
        if (t >> 3 == 2) return false;  // has a length: partial
        extent.skip(static_cast<int>(t & 7));
      }
    } else {
      w.skip(static_cast<int>(tag & 7));
    }
  }
  return true;
}

struct V1Tensor {
  std::string name;
  Shape shape;
  int tf_dtype = 0;
  bool partitioned = false;
};

std::vector<V1Tensor> parse_meta(std::string_view header, const std::string& file) {
  Wire top{header, 0, file, "SavedTensorSlices.meta"};
  std::vector<V1Tensor> out;
  while (!top.done()) {
    uint64_t tag = top.varint();
    if (tag >> 3 != 1 || (tag & 7) != 2) {
      top.skip(static_cast<int>(tag & 7));
      continue;
    }
    Wire meta = top.sub(top.bytes());
    while (!meta.done()) {
      uint64_t t = meta.varint();
      if (t >> 3 != 1 || (t & 7) != 2) {
        meta.skip(static_cast<int>(t & 7));
        continue;
      }
      Wire sm = meta.sub(meta.bytes());
      V1Tensor v;
      int slices = 0;
      while (!sm.done()) {
        uint64_t f = sm.varint();
        switch (f >> 3) {
          case 1: v.name = std::string(sm.bytes()); break;
          case 2: v.shape = parse_shape(sm.sub(sm.bytes())); break;
          case 3: v.tf_dtype = static_cast<int>(sm.varint()); break;
          case 4:
            ++slices;
            if (!full_slice(sm.sub(sm.bytes()))) v.partitioned = true;
            break;
          default: sm.skip(static_cast<int>(f & 7));
        }
      }
      if (slices > 1) v.partitioned = true;
      out.push_back(std::move(v));
    }
  }
  return out;
}

// Appends the elements of a (possibly packed) repeated numeric field to `out` as `elem`-byte values.
template <class Read>
void append_repeated(Wire& w, int wire_type, int packed_unit_type, std::vector<uint8_t>& out, size_t elem, Read read) {
  auto put = [&](uint64_t v) {
    uint8_t b[8];
    std::memcpy(b, &v, 8);  // little-endian host
    out.insert(out.end(), b, b + elem);
  };
  if (wire_type == 2) {
    Wire p = w.sub(w.bytes());
    while (!p.done()) put(read(p));
  } else if (wire_type == packed_unit_type) {
    put(read(w));
  } else {
    w.skip(wire_type);
  }
}

Tensor decode_tensor_proto(Wire w, DType dtype, const Shape& shape) {
  Tensor t;
  t.dtype = dtype;
  t.shape = shape;
  const int64_t n = num_elements(shape, w.file + ": " + w.where);
  const size_t es = dtype_size(dtype);
  auto rd_varint = [](Wire& x) { return x.varint(); };
  auto rd_f32 = [](Wire& x) { return uint64_t(x.fixed32()); };
  auto rd_f64 = [](Wire& x) { return x.fixed64(); };
  // The TensorProto field holding each dtype's values, its unpacked wire type and element width.
  int field = 0, unit = 0;
  size_t width = es;
  switch (dtype) {
    case DType::kFloat32: field = 5, unit = 5; break;
    case DType::kFloat64: field = 6, unit = 1; break;
    case DType::kInt32: case DType::kInt16: case DType::kInt8: case DType::kUInt8: case DType::kUInt16:
      field = 7, unit = 0; break;
    case DType::kString: field = 8, unit = 2; break;
    case DType::kComplex64: field = 9, unit = 5, width = 4; break;
    case DType::kInt64: field = 10, unit = 0; break;
    case DType::kBool: field = 11, unit = 0; break;
    case DType::kComplex128: field = 12, unit = 1, width = 8; break;
    case DType::kFloat16: case DType::kBFloat16: field = 13, unit = 0; break;
    case DType::kUInt32: field = 16, unit = 0; break;
    case DType::kUInt64: field = 17, unit = 0; break;
    default: throw UnsupportedError(w.file, w.where, "cannot decode dtype " + dtype_name(dtype));
  }

  while (!w.done()) {
    uint64_t tag = w.varint();
    int f = static_cast<int>(tag >> 3), wt = static_cast<int>(tag & 7);
    if (f == 4 && wt == 2) {
      std::string_view b = w.bytes();
      t.data.assign(b.begin(), b.end());
    } else if (f == field && dtype == DType::kString && wt == 2) {
      t.strings.emplace_back(w.bytes());
    } else if (f == field && dtype != DType::kString) {
      if (unit == 5) append_repeated(w, wt, unit, t.data, width, rd_f32);
      else if (unit == 1) append_repeated(w, wt, unit, t.data, width, rd_f64);
      else append_repeated(w, wt, unit, t.data, width, rd_varint);
    } else {
      w.skip(wt);
    }
  }
  // TensorSliceWriter stores every element; a short value list (TensorProto broadcasting) would make
  // us allocate from the declared shape alone, so it is refused.
  if (dtype == DType::kString) {
    if (static_cast<int64_t>(t.strings.size()) != n)
      w.fail("string tensor holds " + std::to_string(t.strings.size()) + " values, shape needs " + std::to_string(n));
    return t;
  }
  const uint64_t want = uint64_t(n) * es;
  if (t.data.size() != want)
    w.fail("tensor holds " + std::to_string(t.data.size()) + " bytes, shape " + shape_str(shape) + " needs " + std::to_string(want));
  return t;
}

class V1Source : public TensorSource {
 public:
  V1Source(std::string file, V1Tensor meta) : file_(std::move(file)), meta_(std::move(meta)) {}
  Tensor read() const override {
    if (meta_.partitioned) throw UnsupportedError(file_, meta_.name, "partitioned V1 tensors are not supported");
    DType dtype = io::dtype_from_tf(meta_.tf_dtype);
    std::unique_ptr<Tensor> found;
    io::for_each_table_entry(file_, [&](const std::string& key, std::string_view value) {
      if (key.empty()) return true;
      Wire top{value, 0, file_, meta_.name};
      while (!top.done()) {
        uint64_t tag = top.varint();
        if (tag >> 3 != 2 || (tag & 7) != 2) {
          top.skip(static_cast<int>(tag & 7));
          continue;
        }
        Wire slice = top.sub(top.bytes());
        std::string name;
        std::string_view data;
        bool has_data = false;
        while (!slice.done()) {
          uint64_t t = slice.varint();
          if (t >> 3 == 1 && (t & 7) == 2) name = std::string(slice.bytes());
          else if (t >> 3 == 3 && (t & 7) == 2) data = slice.bytes(), has_data = true;
          else slice.skip(static_cast<int>(t & 7));
        }
        if (name == meta_.name && has_data) {
          found = std::make_unique<Tensor>(decode_tensor_proto(top.sub(data), dtype, meta_.shape));
          return false;
        }
      }
      return true;
    });
    if (!found) throw BadInputError(file_, meta_.name, "V1 checkpoint has no data entry for this tensor");
    return std::move(*found);
  }
  std::string describe() const override { return file_ + ":" + meta_.name; }

 private:
  std::string file_;
  V1Tensor meta_;
};

}  // namespace

std::vector<BundleVariable> read_v1_variables(const std::string& file) {
  std::string header;
  bool seen = false;
  io::for_each_table_entry(file, [&](const std::string& key, std::string_view value) {
    if (key.empty()) {
      header.assign(value);
      seen = true;
    }
    return false;  // "" sorts first: only the metadata entry is read
  });
  if (!seen) throw BadInputError(file, "", "V1 checkpoint table has no metadata entry (\"\" key)");
  std::vector<BundleVariable> out;
  for (auto& meta : parse_meta(header, file)) {
    BundleVariable v;
    v.key = meta.name;
    v.dtype = io::dtype_from_tf(meta.tf_dtype);
    v.shape = meta.shape;
    v.bytes = static_cast<uint64_t>(num_elements(meta.shape, file + ": " + meta.name)) * dtype_size(v.dtype);
    v.tensor = TensorRef(v.dtype, v.shape, std::make_shared<V1Source>(file, meta));
    out.push_back(std::move(v));
  }
  std::sort(out.begin(), out.end(), [](const BundleVariable& a, const BundleVariable& b) { return a.key < b.key; });
  return out;
}

}  // namespace kmodel::formats::checkpoint
