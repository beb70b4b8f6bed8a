// .npy / .npz reading and writing (see npy.h).
#include "io/npy.h"

#include <cstring>

#include "io/file_util.h"
#include "io/zip.h"
#include "kmodel/error.h"

namespace kmodel::io {
namespace {

constexpr char kMagic[] = "\x93NUMPY";

struct Descr {
  const char* code;
  DType dtype;
};
constexpr Descr kDescrs[] = {
    {"f2", DType::kFloat16}, {"f4", DType::kFloat32}, {"f8", DType::kFloat64}, {"i1", DType::kInt8},
    {"i2", DType::kInt16},   {"i4", DType::kInt32},   {"i8", DType::kInt64},   {"u1", DType::kUInt8},
    {"u2", DType::kUInt16},  {"u4", DType::kUInt32},  {"u8", DType::kUInt64},  {"b1", DType::kBool},
};

// A tiny parser for the Python-literal header dict.
class HeaderParser {
 public:
  HeaderParser(std::string_view s, const std::string& file) : s_(s), file_(file) {}
  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n')) ++i_;
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw BadInputError(file_, "npy header byte " + std::to_string(i_), what);
  }
  void expect(char c) {
    ws();
    if (i_ >= s_.size() || s_[i_] != c) fail(std::string("expected '") + c + "'");
    ++i_;
  }
  bool peek(char c) {
    ws();
    return i_ < s_.size() && s_[i_] == c;
  }
  std::string str() {
    ws();
    if (i_ >= s_.size() || (s_[i_] != '\'' && s_[i_] != '"')) fail("expected a string");
    char q = s_[i_++];
    size_t start = i_;
    while (i_ < s_.size() && s_[i_] != q) ++i_;
    if (i_ >= s_.size()) fail("unterminated string");
    return std::string(s_.substr(start, i_++ - start));
  }
  bool boolean() {
    ws();
    if (s_.substr(i_, 4) == "True") { i_ += 4; return true; }
    if (s_.substr(i_, 5) == "False") { i_ += 5; return false; }
    fail("expected True or False");
  }
  int64_t integer() {
    ws();
    size_t start = i_;
    int64_t v = 0;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') {
      if (v > (int64_t{1} << 50)) fail("dimension too large");
      v = v * 10 + (s_[i_++] - '0');
    }
    if (i_ < s_.size() && s_[i_] == 'L') ++i_;  // Python 2 longs
    if (start == i_) fail("expected a dimension");
    return v;
  }
  Shape shape() {
    expect('(');
    Shape out;
    while (!peek(')')) {
      out.push_back(integer());
      if (out.size() > 32) fail("more than 32 dimensions");
      if (peek(',')) ++i_;
      else if (!peek(')')) fail("expected ',' or ')'");
    }
    ++i_;
    return out;
  }
  size_t pos() const { return i_; }
  std::string_view rest() const { return s_.substr(i_); }

 private:
  std::string_view s_;
  const std::string& file_;
  size_t i_ = 0;
};

}  // namespace

Tensor parse_npy(std::string_view bytes, const std::string& file) {
  if (bytes.size() < 10 || std::memcmp(bytes.data(), kMagic, 6) != 0)
    throw BadInputError(file, "byte 0", "not a .npy file (no \\x93NUMPY magic)");
  const uint8_t major = static_cast<uint8_t>(bytes[6]);
  size_t header_len, offset;
  if (major == 1) {
    header_len = static_cast<uint8_t>(bytes[8]) | (static_cast<size_t>(static_cast<uint8_t>(bytes[9])) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) throw BadInputError(file, "byte 8", "truncated .npy header length");
    header_len = 0;
    for (int i = 0; i < 4; ++i) header_len |= static_cast<size_t>(static_cast<uint8_t>(bytes[8 + i])) << (8 * i);
    offset = 12;
  } else {
    throw UnsupportedError(file, "byte 6", ".npy format version " + std::to_string(major) + " is not supported");
  }
  if (header_len > kMaxNpyHeader) throw BadInputError(file, "byte 8", "npy header length " + std::to_string(header_len) + " exceeds the limit");
  if (offset + header_len > bytes.size()) throw BadInputError(file, "byte 8", "npy header runs past the end of the file");
  HeaderParser p(bytes.substr(offset, header_len), file);
  std::string descr;
  bool fortran = false, have_descr = false, have_order = false, have_shape = false;
  Shape shape;
  p.expect('{');
  while (!p.peek('}')) {
    std::string key = p.str();
    p.expect(':');
    if (key == "descr" && !have_descr) { descr = p.str(); have_descr = true; }
    else if (key == "fortran_order" && !have_order) { fortran = p.boolean(); have_order = true; }
    else if (key == "shape" && !have_shape) { shape = p.shape(); have_shape = true; }
    else p.fail("unexpected or repeated key '" + key + "'");
    if (p.peek(',')) p.expect(',');
    else if (!p.peek('}')) p.fail("expected ',' or '}'");
  }
  p.expect('}');
  for (char c : p.rest())
    if (c != ' ' && c != '\n' && c != '\0') p.fail("unexpected text after the header dict");
  if (!have_descr || !have_order || !have_shape) p.fail("header lacks descr, fortran_order or shape");
  if (fortran) throw UnsupportedError(file, "npy header", "Fortran-order arrays are not supported; save with C order");
  if (descr.size() != 3 || (descr[0] != '<' && descr[0] != '|' && descr[0] != '='))
    throw UnsupportedError(file, "npy header", "dtype '" + descr + "' is not supported (little-endian numbers only)");
  DType dtype = DType::kInvalid;
  for (const auto& d : kDescrs)
    if (descr.compare(1, 2, d.code) == 0) dtype = d.dtype;
  if (dtype == DType::kInvalid) throw UnsupportedError(file, "npy header", "dtype '" + descr + "' is not supported");
  const int64_t n = num_elements(shape, file);
  const size_t data_off = offset + header_len;
  const uint64_t want = static_cast<uint64_t>(n) * dtype_size(dtype);
  if (bytes.size() - data_off != want)
    throw BadInputError(file, "byte " + std::to_string(data_off),
                        "array data holds " + std::to_string(bytes.size() - data_off) + " bytes, shape " +
                            shape_str(shape) + " needs " + std::to_string(want));
  Tensor t;
  t.dtype = dtype;
  t.shape = shape;
  t.data.assign(bytes.begin() + data_off, bytes.end());
  return t;
}

Tensor read_npy(const std::string& path) {
  const uint64_t size = file_size(path);
  return parse_npy(read_file(path, std::max<uint64_t>(size, 1)), path);
}

std::string encode_npy(const Tensor& t) {
  const char* code = nullptr;
  for (const auto& d : kDescrs)
    if (d.dtype == t.dtype) code = d.code;
  if (!code) throw UnsupportedError("", "", "cannot write dtype " + dtype_name(t.dtype) + " to .npy");
  std::string descr = std::string(t.dtype == DType::kInt8 || t.dtype == DType::kUInt8 || t.dtype == DType::kBool ? "|" : "<") + code;
  std::string shape = "(";
  for (size_t i = 0; i < t.shape.size(); ++i) shape += std::to_string(t.shape[i]) + (t.shape.size() == 1 || i + 1 < t.shape.size() ? ", " : "");
  if (t.shape.size() == 1) shape.resize(shape.size() - 1);
  shape += ")";
  std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string out(kMagic, 6);
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>((header.size() >> 8) & 0xff);
  out += header;
  out.append(reinterpret_cast<const char*>(t.data.data()), t.data.size());
  return out;
}

std::vector<std::pair<std::string, Tensor>> read_npz(const std::string& path) {
  ZipReader zip(path);
  std::vector<std::pair<std::string, Tensor>> out;
  for (const ZipEntry& e : zip.entries()) {
    if (e.is_directory()) continue;
    std::string name = e.name;
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".npy") == 0) name.resize(name.size() - 4);
    out.emplace_back(name, parse_npy(zip.read(e.name, std::max<uint64_t>(zip.archive_size() * 1032, 1 << 20)), path + ":" + e.name));
  }
  return out;
}

void write_npz(const std::vector<std::pair<std::string, Tensor>>& arrays, const std::string& path) {
  ZipWriter zip(path);
  for (const auto& [name, t] : arrays) zip.add(name + ".npy", encode_npy(t));
  zip.close();
}

}  // namespace kmodel::io
