// TensorBundle reader and writer (see tensor_bundle.h and FORMATS.md section D).
// The .index table goes through libleveldb's public Table / TableBuilder API; before handing the file
// to LevelDB we check the footer and the index block's handles against the real file size ourselves,
// because LevelDB allocates a block buffer from a declared size before reading it.
#include "io/tensor_bundle.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <leveldb/env.h>
#include <leveldb/iterator.h>
#include <leveldb/options.h>
#include <leveldb/table.h>
#include <leveldb/table_builder.h>

#include "io/crc32c.h"
#include "kmodel/error.h"
#include "tensor_bundle.pb.h"

namespace kmodel::io {

namespace {

constexpr uint64_t kTableMagic = 0xdb4775248b80fb57ull;
constexpr size_t kFooterSize = 48;
constexpr size_t kBlockTrailerSize = 5;
constexpr int kMaxShards = 1 << 20;

// TF DataType enum values (types.proto) <-> our DType.
struct TfDTypeRow {
  int tf;
  DType dtype;
  const char* tf_name;
};
constexpr TfDTypeRow kTfDTypes[] = {
    {1, DType::kFloat32, "DT_FLOAT"},      {2, DType::kFloat64, "DT_DOUBLE"},   {3, DType::kInt32, "DT_INT32"},
    {4, DType::kUInt8, "DT_UINT8"},        {5, DType::kInt16, "DT_INT16"},      {6, DType::kInt8, "DT_INT8"},
    {7, DType::kString, "DT_STRING"},      {8, DType::kComplex64, "DT_COMPLEX64"}, {9, DType::kInt64, "DT_INT64"},
    {10, DType::kBool, "DT_BOOL"},         {14, DType::kBFloat16, "DT_BFLOAT16"}, {17, DType::kUInt16, "DT_UINT16"},
    {18, DType::kComplex128, "DT_COMPLEX128"}, {19, DType::kFloat16, "DT_HALF"}, {22, DType::kUInt32, "DT_UINT32"},
    {23, DType::kUInt64, "DT_UINT64"},
};

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

// Minimal varint decoding over a bounded buffer; returns false on truncation/overlong.
bool get_varint64(const uint8_t*& p, const uint8_t* end, uint64_t& out) {
  out = 0;
  for (int shift = 0; shift <= 63 && p < end; shift += 7) {
    uint8_t b = *p++;
    out |= uint64_t(b & 0x7f) << shift;
    if (!(b & 0x80)) return true;
  }
  return false;
}

void put_varint64(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

uint32_t load_le32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
uint64_t load_le64(const uint8_t* p) { return uint64_t(load_le32(p)) | uint64_t(load_le32(p + 4)) << 32; }
void store_le32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

bool file_stat_size(const std::string& path, uint64_t& size) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  size = static_cast<uint64_t>(st.st_size);
  return true;
}

// Reads exactly n bytes at offset from an open fd into buf.
bool pread_all(int fd, void* buf, uint64_t n, uint64_t offset) {
  auto* p = static_cast<char*>(buf);
  while (n > 0) {
    size_t chunk = static_cast<size_t>(std::min<uint64_t>(n, uint64_t{1} << 30));
    ssize_t got = ::pread(fd, p, chunk, static_cast<off_t>(offset));
    if (got < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (got == 0) return false;
    p += got;
    n -= static_cast<uint64_t>(got);
    offset += static_cast<uint64_t>(got);
  }
  return true;
}

std::string read_small(const std::string& path, uint64_t offset, uint64_t n) {
  std::string out(n, '\0');
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) throw IoError(path, std::string("cannot open: ") + std::strerror(errno));
  bool ok = pread_all(fd, out.data(), n, offset);
  ::close(fd);
  if (!ok) throw IoError(path, "short read at offset " + std::to_string(offset));
  return out;
}

// Snappy's densest element is a 3-byte copy of 64 bytes; 22x bounds any valid expansion.
constexpr uint64_t kSnappyMaxExpansion = 22;

// Minimal raw-Snappy decoder, used only to look into a compressed index block before LevelDB does.
std::string snappy_uncompress(const std::string& in, const std::string& path, const std::string& where) {
  const auto* p = reinterpret_cast<const uint8_t*>(in.data());
  const uint8_t* end = p + in.size();
  uint64_t n = 0;
  if (!get_varint64(p, end, n) || n > kSnappyMaxExpansion * in.size() + 64)
    throw BadInputError(path, where, "bad snappy length");
  std::string out;
  out.reserve(static_cast<size_t>(n));
  auto bad = [&]() { return BadInputError(path, where, "corrupt snappy data"); };
  while (p < end) {
    uint8_t tag = *p++;
    uint64_t len = 0, offset = 0;
    switch (tag & 3) {
      case 0: {
        len = tag >> 2;
        if (len >= 60) {
          size_t nb = len - 59;
          if (uint64_t(end - p) < nb) throw bad();
          len = 0;
          for (size_t i = 0; i < nb; ++i) len |= uint64_t(p[i]) << (8 * i);
          p += nb;
        }
        ++len;
        if (uint64_t(end - p) < len || out.size() + len > n) throw bad();
        out.append(reinterpret_cast<const char*>(p), static_cast<size_t>(len));
        p += len;
        continue;
      }
      case 1:
        if (end - p < 1) throw bad();
        len = ((tag >> 2) & 7) + 4;
        offset = (uint64_t(tag >> 5) << 8) | *p++;
        break;
      case 2:
        if (end - p < 2) throw bad();
        len = (tag >> 2) + 1;
        offset = uint64_t(p[0]) | uint64_t(p[1]) << 8;
        p += 2;
        break;
      default:
        if (end - p < 4) throw bad();
        len = (tag >> 2) + 1;
        offset = load_le32(p);
        p += 4;
        break;
    }
    if (offset == 0 || offset > out.size() || out.size() + len > n) throw bad();
    for (uint64_t i = 0; i < len; ++i) out.push_back(out[out.size() - offset]);
  }
  if (out.size() != n) throw bad();
  return out;
}

// Checks the footer and every BlockHandle of the (uncompressed) index block against the file size so
// that LevelDB never allocates a block buffer from a hostile declared size.
void prevalidate_table(const std::string& path, uint64_t file_size) {
  if (file_size < kFooterSize)
    throw BadInputError(path, "footer", "file is " + std::to_string(file_size) +
                                            " bytes, too short for a LevelDB table (48-byte footer)");
  std::string footer = read_small(path, file_size - kFooterSize, kFooterSize);
  const auto* f = reinterpret_cast<const uint8_t*>(footer.data());
  if (load_le64(f + 40) != kTableMagic)
    throw BadInputError(path, "footer", "bad magic number (not a TensorBundle .index / LevelDB table)");
  const uint8_t* p = f;
  const uint8_t* end = f + 40;
  uint64_t handles[4];
  for (auto& h : handles)
    if (!get_varint64(p, end, h)) throw BadInputError(path, "footer", "malformed block handle");
  uint64_t limit = file_size - kFooterSize;
  for (int i = 0; i < 2; ++i) {
    uint64_t off = handles[2 * i], size = handles[2 * i + 1];
    if (off > limit || size > limit - off || kBlockTrailerSize > limit - off - size)
      throw BadInputError(path, i == 0 ? "metaindex handle" : "index handle",
                          "block [" + std::to_string(off) + ", +" + std::to_string(size) +
                              ") runs past the end of the table (" + std::to_string(file_size) + " bytes)");
  }
  uint64_t index_off = handles[2], index_size = handles[3];
  std::string raw = read_small(path, index_off, index_size + kBlockTrailerSize);
  const auto* rb = reinterpret_cast<const uint8_t*>(raw.data());
  uint8_t type = rb[index_size];
  uint32_t stored = crc32c_unmask(load_le32(rb + index_size + 1));
  if (crc32c(rb, index_size + 1) != stored) throw BadInputError(path, "index block", "block checksum mismatch");
  std::string block;
  if (type == 0) {
    block = raw.substr(0, index_size);
  } else if (type == 1) {
    block = snappy_uncompress(raw.substr(0, index_size), path, "index block");
  } else {
    throw UnsupportedError(path, "index block", "unknown block compression type " + std::to_string(type));
  }
  const auto* b = reinterpret_cast<const uint8_t*>(block.data());
  const uint64_t bsize = block.size();
  if (bsize < 4) throw BadInputError(path, "index block", "block too short");
  uint32_t num_restarts = load_le32(b + bsize - 4);
  if (uint64_t(num_restarts) * 4 + 4 > bsize) throw BadInputError(path, "index block", "bad restart count");
  const uint8_t* q = b;
  const uint8_t* qend = b + bsize - 4 - uint64_t(num_restarts) * 4;
  while (q < qend) {
    uint64_t shared, unshared, vlen;
    if (!get_varint64(q, qend, shared) || !get_varint64(q, qend, unshared) || !get_varint64(q, qend, vlen) ||
        unshared > uint64_t(qend - q) || vlen > uint64_t(qend - q) - unshared)
      throw BadInputError(path, "index block", "malformed block entry");
    q += unshared;
    const uint8_t* v = q;
    const uint8_t* vend = q + vlen;
    uint64_t off, size;
    if (!get_varint64(v, vend, off) || !get_varint64(v, vend, size))
      throw BadInputError(path, "index block", "malformed data block handle");
    if (off > limit || size > limit - off || kBlockTrailerSize > limit - off - size)
      throw BadInputError(path, "index block", "data block [" + std::to_string(off) + ", +" +
                                                   std::to_string(size) + ") runs past the end of the table");
    // A Snappy block declares its uncompressed length up front; LevelDB allocates it before
    // decompressing, so bound it by Snappy's maximal expansion of the stored bytes.
    std::string head = read_small(path, off, std::min<uint64_t>(size, 5));
    std::string btype = read_small(path, off + size, 1);
    if (btype[0] == 1) {
      const auto* h = reinterpret_cast<const uint8_t*>(head.data());
      uint64_t ulen = 0;
      if (!get_varint64(h, h + head.size(), ulen) || ulen > kSnappyMaxExpansion * size + 64)
        throw BadInputError(path, "data block @" + std::to_string(off),
                            "snappy block declares an impossible uncompressed size");
    }
    q = vend;
  }
}

class Fd {
 public:
  explicit Fd(const std::string& path) : fd_(::open(path.c_str(), O_RDONLY)) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

std::string tf_dtype_name(int tf_dtype) {
  for (const auto& row : kTfDTypes)
    if (row.tf == tf_dtype) return row.tf_name;
  return "DT_" + std::to_string(tf_dtype);
}
DType dtype_from_tf(int tf_dtype) {
  for (const auto& row : kTfDTypes)
    if (row.tf == tf_dtype) return row.dtype;
  return DType::kInvalid;
}
int tf_from_dtype(DType dtype) {
  for (const auto& row : kTfDTypes)
    if (row.dtype == dtype) return row.tf;
  return 0;
}

std::string bundle_shard_path(const std::string& prefix, int shard_id, int num_shards) {
  char buf[48];
  std::snprintf(buf, sizeof buf, ".data-%05d-of-%05d", shard_id, num_shards);
  return prefix + buf;
}

bool is_table_file(const std::string& path) {
  uint64_t size = 0;
  if (!file_stat_size(path, size) || size < kFooterSize) return false;
  try {
    std::string footer = read_small(path, size - 8, 8);
    return load_le64(reinterpret_cast<const uint8_t*>(footer.data())) == kTableMagic;
  } catch (const Error&) {
    return false;
  }
}

void for_each_table_entry(const std::string& path,
                          const std::function<bool(const std::string& key, std::string_view value)>& visit) {
  uint64_t size = 0;
  if (!file_stat_size(path, size)) throw IoError(path, "no such file");
  prevalidate_table(path, size);
  leveldb::RandomAccessFile* raw_file = nullptr;
  leveldb::Status s = leveldb::Env::Default()->NewRandomAccessFile(path, &raw_file);
  if (!s.ok()) throw IoError(path, s.ToString());
  std::unique_ptr<leveldb::RandomAccessFile> file(raw_file);
  leveldb::Options options;
  options.paranoid_checks = true;
  leveldb::Table* raw_table = nullptr;
  s = leveldb::Table::Open(options, file.get(), size, &raw_table);
  if (!s.ok()) throw BadInputError(path, "table", s.ToString());
  std::unique_ptr<leveldb::Table> table(raw_table);
  leveldb::ReadOptions ro;
  ro.verify_checksums = true;
  ro.fill_cache = false;
  std::unique_ptr<leveldb::Iterator> it(table->NewIterator(ro));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    leveldb::Slice v = it->value();
    if (!visit(it->key().ToString(), std::string_view(v.data(), v.size()))) return;
  }
  if (!it->status().ok()) throw BadInputError(path, "table", it->status().ToString());
}

struct BundleReader::State {
  std::string index_path;
  std::string prefix;
  int num_shards = 1;
  bool big_endian = false;
  std::vector<std::string> shard_paths;

  Tensor read(const BundleEntry& e) const;
};

namespace {

void byteswap_elements(std::vector<uint8_t>& data, size_t elem) {
  if (elem <= 1) return;
  for (size_t i = 0; i + elem <= data.size(); i += elem) std::reverse(data.begin() + i, data.begin() + i + elem);
}

// Decodes a DT_STRING payload (FORMATS D.6), verifying both checksums.
std::vector<std::string> decode_strings(const std::vector<uint8_t>& buf, int64_t n, uint32_t expected_crc,
                                        const std::string& file, const std::string& key) {
  const uint8_t* p = buf.data();
  const uint8_t* end = p + buf.size();
  if (uint64_t(n) > buf.size())
    throw BadInputError(file, key, std::to_string(n) + " string elements cannot fit in " +
                                       std::to_string(buf.size()) + " bytes");
  std::vector<uint64_t> lens(static_cast<size_t>(n));
  uint32_t crc = 0;
  uint64_t total = 0;
  for (auto& len : lens) {
    if (!get_varint64(p, end, len)) throw BadInputError(file, key, "truncated string length varint");
    if (len > 0xffffffffull) {
      uint8_t b8[8];
      for (int i = 0; i < 8; ++i) b8[i] = static_cast<uint8_t>(len >> (8 * i));
      crc = crc32c_extend(crc, b8, 8);
    } else {
      uint8_t b4[4];
      store_le32(b4, static_cast<uint32_t>(len));
      crc = crc32c_extend(crc, b4, 4);
    }
    if (len > buf.size()) throw BadInputError(file, key, "string length exceeds the stored size");
    total += len;
  }
  if (end - p < 4) throw BadInputError(file, key, "truncated string length checksum");
  uint32_t len_crc = load_le32(p);
  if (crc32c_unmask(len_crc) != crc)
    throw BadInputError(file, key, "string length checksum mismatch");
  crc = crc32c_extend(crc, p, 4);
  p += 4;
  if (total != uint64_t(end - p))
    throw BadInputError(file, key, "string bytes (" + std::to_string(total) + ") disagree with the stored size (" +
                                       std::to_string(end - p) + " bytes left)");
  crc = crc32c_extend(crc, p, total);
  if (crc != crc32c_unmask(expected_crc))
    throw BadInputError(file, key, "tensor checksum mismatch (stored " + hex32(expected_crc) + ", computed " +
                                       hex32(crc32c_mask(crc)) + ")");
  std::vector<std::string> out;
  out.reserve(lens.size());
  for (uint64_t len : lens) {
    out.emplace_back(reinterpret_cast<const char*>(p), static_cast<size_t>(len));
    p += len;
  }
  return out;
}

}  // namespace

Tensor BundleReader::State::read(const BundleEntry& e) const {
  if (e.sliced) throw UnsupportedError(index_path, e.key, "partitioned (sliced) tensors are not supported");
  if (e.dtype == DType::kInvalid)
    throw UnsupportedError(index_path, e.key, "tensor dtype " + tf_dtype_name(e.tf_dtype) + " cannot be read");
  if (e.shard_id < 0 || e.shard_id >= num_shards)
    throw BadInputError(index_path, e.key, "shard_id " + std::to_string(e.shard_id) + " out of range");
  const std::string& shard = shard_paths[static_cast<size_t>(e.shard_id)];
  uint64_t shard_size = 0;
  if (!file_stat_size(shard, shard_size))
    throw BadInputError(shard, e.key, "data shard is missing");
  if (e.offset > shard_size || e.size > shard_size - e.offset)
    throw BadInputError(shard, e.key, "entry [offset " + std::to_string(e.offset) + ", size " +
                                          std::to_string(e.size) + "] runs past the end of the shard (" +
                                          std::to_string(shard_size) + " bytes)");
  int64_t n = num_elements(e.shape, index_path + ": " + e.key);
  Tensor t;
  t.dtype = e.dtype;
  t.shape = e.shape;
  std::vector<uint8_t> buf(static_cast<size_t>(e.size));
  {
    Fd fd(shard);
    if (fd.get() < 0) throw IoError(shard, std::string("cannot open: ") + std::strerror(errno));
    if (!pread_all(fd.get(), buf.data(), e.size, e.offset)) throw IoError(shard, "short read for " + e.key);
  }
  if (e.dtype == DType::kString) {
    t.strings = decode_strings(buf, n, e.masked_crc32c, shard, e.key);
    return t;
  }
  uint32_t crc = crc32c(buf.data(), buf.size());
  if (crc != crc32c_unmask(e.masked_crc32c))
    throw BadInputError(shard, e.key, "tensor checksum mismatch (stored " + hex32(e.masked_crc32c) +
                                          ", computed " + hex32(crc32c_mask(crc)) + ")");
  if (big_endian) {
    size_t elem = dtype_size(e.dtype);
    if (e.dtype == DType::kComplex64 || e.dtype == DType::kComplex128) elem /= 2;
    byteswap_elements(buf, elem);
  }
  t.data = std::move(buf);
  return t;
}

namespace {
class BundleTensorSource : public TensorSource {
 public:
  BundleTensorSource(std::shared_ptr<const BundleReader::State> state, BundleEntry entry)
      : state_(std::move(state)), entry_(std::move(entry)) {}
  Tensor read() const override { return state_->read(entry_); }
  std::string describe() const override { return state_->index_path + ":" + entry_.key; }

 private:
  std::shared_ptr<const BundleReader::State> state_;
  BundleEntry entry_;
};

std::string status_text(const leveldb::Status& s) {
  std::string t = s.ToString();
  // LevelDB prefixes "Corruption: "; keep the substance on one line.
  for (auto& c : t)
    if (c == '\n') c = ' ';
  return t;
}
}  // namespace

BundleReader::BundleReader(std::string prefix) : prefix_(std::move(prefix)) {
  auto state = std::make_shared<State>();
  state->prefix = prefix_;
  state->index_path = prefix_ + ".index";
  const std::string& index_path = state->index_path;
  uint64_t index_size = 0;
  if (!file_stat_size(index_path, index_size)) {
    if (::access(index_path.c_str(), F_OK) != 0) throw IoError(index_path, "no such file");
    throw IoError(index_path, "not a regular file");
  }
  prevalidate_table(index_path, index_size);

  leveldb::RandomAccessFile* raw_file = nullptr;
  leveldb::Status s = leveldb::Env::Default()->NewRandomAccessFile(index_path, &raw_file);
  if (!s.ok()) throw IoError(index_path, status_text(s));
  std::unique_ptr<leveldb::RandomAccessFile> file(raw_file);
  leveldb::Options options;
  options.paranoid_checks = true;
  options.filter_policy = nullptr;
  leveldb::Table* raw_table = nullptr;
  s = leveldb::Table::Open(options, file.get(), index_size, &raw_table);
  if (!s.ok()) throw BadInputError(index_path, "table", status_text(s));
  std::unique_ptr<leveldb::Table> table(raw_table);
  leveldb::ReadOptions ro;
  ro.verify_checksums = true;
  ro.fill_cache = false;
  std::unique_ptr<leveldb::Iterator> it(table->NewIterator(ro));

  bool saw_header = false;
  std::string prev_key;
  bool first = true;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::string key = it->key().ToString();
    leveldb::Slice value = it->value();
    if (!first && key <= prev_key)
      throw BadInputError(index_path, key, "keys are not strictly increasing");
    first = false;
    prev_key = key;
    if (key.empty()) {
      kmodel::tf::BundleHeaderProto header;
      if (!header.ParseFromArray(value.data(), static_cast<int>(value.size())))
        throw BadInputError(index_path, "header entry", "cannot parse BundleHeaderProto");
      if (header.num_shards() < 1 || header.num_shards() > kMaxShards)
        throw BadInputError(index_path, "header entry", "num_shards " + std::to_string(header.num_shards()) +
                                                            " out of range");
      const auto& v = header.version();
      if (v.producer() < 0) throw BadInputError(index_path, "header version", "negative producer version");
      if (v.min_consumer() > 1)
        throw UnsupportedError(index_path, "header version",
                               "bundle needs a reader of version >= " + std::to_string(v.min_consumer()));
      for (int bad : v.bad_consumers())
        if (bad == 1) throw UnsupportedError(index_path, "header version", "bundle excludes reader version 1");
      state->num_shards = header.num_shards();
      state->big_endian = header.endianness() == kmodel::tf::BundleHeaderProto::BIG;
      saw_header = true;
      continue;
    }
    if (!saw_header) throw BadInputError(index_path, key, "entry before the header entry");
    if (static_cast<unsigned char>(key[0]) == 0) continue;  // slice entry of a partitioned tensor
    kmodel::tf::BundleEntryProto proto;
    if (!proto.ParseFromArray(value.data(), static_cast<int>(value.size())))
      throw BadInputError(index_path, key, "cannot parse BundleEntryProto");
    BundleEntry e;
    e.key = key;
    e.tf_dtype = static_cast<int>(proto.dtype());
    e.dtype = dtype_from_tf(e.tf_dtype);
    if (proto.shape().unknown_rank()) throw BadInputError(index_path, key, "shape of unknown rank");
    for (const auto& d : proto.shape().dim()) {
      if (d.size() < 0) throw BadInputError(index_path, key, "negative dimension " + std::to_string(d.size()));
      e.shape.push_back(d.size());
    }
    e.shard_id = proto.shard_id();
    if (proto.offset() < 0 || proto.size() < 0)
      throw BadInputError(index_path, key, "negative offset or size");
    e.offset = static_cast<uint64_t>(proto.offset());
    e.size = static_cast<uint64_t>(proto.size());
    e.masked_crc32c = proto.crc32c();
    e.sliced = proto.slices_size() > 0;
    int64_t n = num_elements(e.shape, index_path + ": " + key);  // throws on overflow
    if (!e.sliced) {
      if (e.shard_id < 0 || e.shard_id >= state->num_shards)
        throw BadInputError(index_path, key, "shard_id " + std::to_string(e.shard_id) + " out of range [0, " +
                                                 std::to_string(state->num_shards) + ")");
      size_t elem = dtype_size(e.dtype);
      if (elem > 0) {
        if (uint64_t(n) > (uint64_t{1} << 62) / elem)
          throw BadInputError(index_path, key, "shape " + shape_str(e.shape) + " is too large");
        uint64_t expected = uint64_t(n) * elem;
        if (expected != e.size)
          throw BadInputError(index_path, key, "shape " + shape_str(e.shape) + " of " + dtype_name(e.dtype) +
                                                   " needs " + std::to_string(expected) + " bytes but the entry holds " +
                                                   std::to_string(e.size));
      } else if (e.dtype == DType::kString && e.size < uint64_t(n) + 4) {
        throw BadInputError(index_path, key, "string tensor of " + std::to_string(n) +
                                                 " elements cannot fit in " + std::to_string(e.size) + " bytes");
      }
    }
    entries_.push_back(std::move(e));
  }
  if (!it->status().ok()) throw BadInputError(index_path, "table", status_text(it->status()));
  if (!saw_header) throw BadInputError(index_path, "header entry", "missing (the table has no \"\" key)");

  num_shards_ = state->num_shards;
  for (int i = 0; i < num_shards_; ++i) state->shard_paths.push_back(bundle_shard_path(prefix_, i, num_shards_));
  // Shards and entry extents are checked against the real files now (stat only, no data read).
  std::vector<uint64_t> shard_sizes(static_cast<size_t>(num_shards_), 0);
  std::vector<int> shard_state(static_cast<size_t>(num_shards_), 0);  // 0 unknown, 1 present, -1 missing
  for (const auto& e : entries_) {
    if (e.sliced) continue;
    size_t sid = static_cast<size_t>(e.shard_id);
    const std::string& shard = state->shard_paths[sid];
    if (shard_state[sid] == 0) shard_state[sid] = file_stat_size(shard, shard_sizes[sid]) ? 1 : -1;
    if (shard_state[sid] < 0) throw BadInputError(shard, e.key, "data shard is missing");
    uint64_t sz = shard_sizes[sid];
    if (e.offset > sz || e.size > sz - e.offset)
      throw BadInputError(shard, e.key, "entry [offset " + std::to_string(e.offset) + ", size " +
                                            std::to_string(e.size) + "] runs past the end of the shard (" +
                                            std::to_string(sz) + " bytes)");
  }
  state_ = std::move(state);
}

BundleReader::~BundleReader() = default;

const BundleEntry* BundleReader::find(const std::string& key) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), key,
                             [](const BundleEntry& e, const std::string& k) { return e.key < k; });
  if (it == entries_.end() || it->key != key) return nullptr;
  return &*it;
}

Tensor BundleReader::read(const BundleEntry& entry) const { return state_->read(entry); }

TensorRef BundleReader::ref(const BundleEntry& entry) const {
  return TensorRef(entry.dtype, entry.shape, std::make_shared<BundleTensorSource>(state_, entry));
}

std::string BundleReader::shard_path(int shard_id) const { return bundle_shard_path(prefix_, shard_id, num_shards_); }

// ---------------------------------------------------------------------------------------------------
// Writer

struct BundleWriter::State {
  std::string prefix, data_path, index_path;
  std::FILE* data = nullptr;
  uint64_t offset = 0;
  std::map<std::string, std::string> entries;  // key -> serialized BundleEntryProto (sorted bytewise)
  bool finished = false;

  ~State() {
    if (data) std::fclose(data);
  }
  void write_bytes(const void* p, size_t n) {
    if (n && std::fwrite(p, 1, n, data) != n) throw IoError(data_path, std::string("write failed: ") + std::strerror(errno));
    offset += n;
  }
};

BundleWriter::BundleWriter(std::string prefix) : state_(std::make_unique<State>()) {
  state_->prefix = std::move(prefix);
  state_->data_path = bundle_shard_path(state_->prefix, 0, 1);
  state_->index_path = state_->prefix + ".index";
  state_->data = std::fopen(state_->data_path.c_str(), "wb");
  if (!state_->data) throw IoError(state_->data_path, std::string("cannot create: ") + std::strerror(errno));
}

BundleWriter::~BundleWriter() = default;

void BundleWriter::add(const std::string& key, const Tensor& tensor) {
  State& st = *state_;
  if (st.finished) throw UsageError("BundleWriter::add after finish");
  if (key.empty()) throw UsageError("bundle keys must not be empty (the empty key is the header)");
  if (st.entries.count(key)) throw UsageError("duplicate bundle key " + key);
  int tf = tf_from_dtype(tensor.dtype);
  if (tf == 0) throw UnsupportedError(st.index_path, key, "cannot store dtype " + dtype_name(tensor.dtype));
  int64_t n = num_elements(tensor.shape, key);
  kmodel::tf::BundleEntryProto proto;
  proto.set_dtype(static_cast<kmodel::tf::DataType>(tf));
  auto* shape = proto.mutable_shape();
  for (int64_t d : tensor.shape) shape->add_dim()->set_size(d);
  proto.set_offset(static_cast<int64_t>(st.offset));
  uint32_t crc = 0;
  uint64_t size = 0;
  if (tensor.dtype == DType::kString) {
    if (tensor.strings.size() != static_cast<size_t>(n))
      throw UsageError("string tensor " + key + " has " + std::to_string(tensor.strings.size()) +
                       " elements, shape says " + std::to_string(n));
    std::string lens;
    for (const auto& s : tensor.strings) {
      put_varint64(lens, s.size());
      if (s.size() > 0xffffffffull) {
        uint8_t b8[8];
        for (int i = 0; i < 8; ++i) b8[i] = static_cast<uint8_t>(uint64_t(s.size()) >> (8 * i));
        crc = crc32c_extend(crc, b8, 8);
      } else {
        uint8_t b4[4];
        store_le32(b4, static_cast<uint32_t>(s.size()));
        crc = crc32c_extend(crc, b4, 4);
      }
    }
    uint8_t masked[4];
    store_le32(masked, crc32c_mask(crc));
    crc = crc32c_extend(crc, masked, 4);
    st.write_bytes(lens.data(), lens.size());
    st.write_bytes(masked, 4);
    size = lens.size() + 4;
    for (const auto& s : tensor.strings) {
      crc = crc32c_extend(crc, s.data(), s.size());
      st.write_bytes(s.data(), s.size());
      size += s.size();
    }
  } else {
    uint64_t expected = uint64_t(n) * dtype_size(tensor.dtype);
    if (tensor.data.size() != expected)
      throw UsageError("tensor " + key + " holds " + std::to_string(tensor.data.size()) + " bytes, shape " +
                       shape_str(tensor.shape) + " needs " + std::to_string(expected));
    crc = crc32c(tensor.data.data(), tensor.data.size());
    st.write_bytes(tensor.data.data(), tensor.data.size());
    size = tensor.data.size();
  }
  proto.set_size(static_cast<int64_t>(size));
  proto.set_crc32c(crc32c_mask(crc));
  std::string value;
  proto.SerializeToString(&value);
  st.entries.emplace(key, std::move(value));
}

void BundleWriter::finish() {
  State& st = *state_;
  if (st.finished) return;
  if (std::fflush(st.data) != 0 || ::fsync(::fileno(st.data)) != 0)
    throw IoError(st.data_path, std::string("write failed: ") + std::strerror(errno));
  if (std::fclose(st.data) != 0) {
    st.data = nullptr;
    throw IoError(st.data_path, std::string("close failed: ") + std::strerror(errno));
  }
  st.data = nullptr;

  leveldb::WritableFile* raw = nullptr;
  leveldb::Status s = leveldb::Env::Default()->NewWritableFile(st.index_path, &raw);
  if (!s.ok()) throw IoError(st.index_path, status_text(s));
  std::unique_ptr<leveldb::WritableFile> file(raw);
  leveldb::Options options;
  options.compression = leveldb::kNoCompression;
  options.filter_policy = nullptr;
  options.block_size = 262144;  // TF's table_options block size
  options.block_restart_interval = 16;
  leveldb::TableBuilder builder(options, file.get());
  kmodel::tf::BundleHeaderProto header;
  header.set_num_shards(1);
  header.set_endianness(kmodel::tf::BundleHeaderProto::LITTLE);
  header.mutable_version()->set_producer(1);
  std::string header_bytes;
  header.SerializeToString(&header_bytes);
  builder.Add(leveldb::Slice(), header_bytes);
  for (const auto& [key, value] : st.entries) builder.Add(key, value);
  s = builder.Finish();
  if (s.ok()) s = file->Sync();
  if (s.ok()) s = file->Close();
  if (!s.ok()) throw IoError(st.index_path, status_text(s));
  st.finished = true;
}

}  // namespace kmodel::io
