// Safe ZIP reader / deterministic STORED writer over libzip (see zip.h).
#include "io/zip.h"

#include <zip.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>

#include <fcntl.h>
#include <unistd.h>

#include "io/file_util.h"
#include "kmodel/error.h"

namespace kmodel::io {

namespace {

// Deflate cannot expand data by more than about 1032:1; anything beyond is a lie (zip bomb or corruption).
constexpr uint64_t kMaxDeflateRatio = 1040;

const std::array<uint32_t, 256>& crc_table() {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  return table;
}

std::string zip_error_text(int code) {
  zip_error_t err;
  zip_error_init_with_code(&err, code);
  std::string s = zip_error_strerror(&err);
  zip_error_fini(&err);
  return s;
}

std::string archive_error(zip_t* za) {
  zip_error_t* err = zip_get_error(za);
  return err ? zip_error_strerror(err) : "unknown libzip error";
}

struct ZipFileCloser {
  void operator()(zip_file_t* f) const {
    if (f) zip_fclose(f);
  }
};
using ZipFilePtr = std::unique_ptr<zip_file_t, ZipFileCloser>;

}  // namespace

uint32_t zip_crc32(const void* data, size_t size, uint32_t crc) {
  const auto& t = crc_table();
  const auto* p = static_cast<const uint8_t*>(data);
  crc = ~crc;
  for (size_t i = 0; i < size; ++i) crc = t[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

std::string unsafe_zip_name_reason(const std::string& name) {
  if (name.empty()) return "empty entry name";
  if (name.find('\0') != std::string::npos) return "entry name contains a NUL byte";
  if (name[0] == '/' || name[0] == '\\') return "absolute entry name";
  if (name.size() >= 2 && name[1] == ':' &&
      ((name[0] >= 'A' && name[0] <= 'Z') || (name[0] >= 'a' && name[0] <= 'z')))
    return "entry name with a drive letter";
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find_first_of("/\\", start);
    if (end == std::string::npos) end = name.size();
    if (name.compare(start, end - start, "..") == 0 && end - start == 2) return "entry name with a '..' component";
    start = end + 1;
  }
  return "";
}

// ---------------------------------------------------------------------------------------------- reader

ZipReader::ZipReader(const std::string& path) : path_(path) {
  if (!is_regular_file(path)) throw IoError(path, "not a regular file");
  archive_size_ = file_size(path);
  int err = 0;
  archive_ = zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &err);
  if (!archive_) {
    if (err == ZIP_ER_OPEN || err == ZIP_ER_READ) throw IoError(path, "cannot open zip: " + zip_error_text(err));
    if (err == ZIP_ER_EXISTS)  // libzip's consistency check found two entries with one name
      throw BadInputError(path, "zip central directory", "refusing duplicate entry name (two entries share a name)");
    throw BadInputError(path, "zip central directory", "not a valid zip archive: " + zip_error_text(err));
  }
  try {
    zip_int64_t n = zip_get_num_entries(archive_, 0);
    if (n < 0) throw BadInputError(path, "zip central directory", "cannot count entries");
    std::set<std::string> seen;
    for (zip_int64_t i = 0; i < n; ++i) {
      zip_stat_t st;
      zip_stat_init(&st);
      if (zip_stat_index(archive_, static_cast<zip_uint64_t>(i), ZIP_FL_ENC_RAW, &st) != 0)
        throw BadInputError(path, "zip entry #" + std::to_string(i), "unreadable entry: " + archive_error(archive_));
      ZipEntry e;
      e.index = static_cast<uint64_t>(i);
      e.name = (st.valid & ZIP_STAT_NAME) && st.name ? std::string(st.name) : std::string();
      std::string where = "zip entry '" + e.name + "'";
      if (e.name.empty()) where = "zip entry #" + std::to_string(i);
      std::string reason = unsafe_zip_name_reason(e.name);
      if (!reason.empty()) throw BadInputError(path, where, "refusing unsafe entry: " + reason);
      if (!seen.insert(e.name).second) throw BadInputError(path, where, "refusing duplicate entry name");
      if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE)
        throw BadInputError(path, where, "refusing encrypted entry (encryption is not supported)");
      e.size = st.size;
      e.compressed_size = st.comp_size;
      e.method = static_cast<uint16_t>(st.comp_method);
      e.crc = st.crc;
      if (e.method != ZIP_CM_STORE && e.method != ZIP_CM_DEFLATE)
        throw UnsupportedError(path, where, "compression method " + std::to_string(e.method) +
                                                " is not supported (expected stored or deflate)");
      if (e.compressed_size > archive_size_)
        throw BadInputError(path, where, "declared compressed size " + std::to_string(e.compressed_size) +
                                             " exceeds the archive size " + std::to_string(archive_size_));
      if (e.method == ZIP_CM_STORE && e.size != e.compressed_size)
        throw BadInputError(path, where, "stored entry declares size " + std::to_string(e.size) +
                                             " but compressed size " + std::to_string(e.compressed_size));
      if (e.method == ZIP_CM_DEFLATE && e.size > e.compressed_size * kMaxDeflateRatio + 1024)
        throw BadInputError(path, where, "declared size " + std::to_string(e.size) +
                                             " is impossible for " + std::to_string(e.compressed_size) +
                                             " deflated bytes");
      entries_.push_back(std::move(e));
    }
  } catch (...) {
    zip_discard(archive_);
    archive_ = nullptr;
    throw;
  }
}

ZipReader::~ZipReader() {
  if (archive_) zip_discard(archive_);
}

const ZipEntry* ZipReader::find(const std::string& name) const {
  for (const auto& e : entries_)
    if (e.name == name) return &e;
  return nullptr;
}

const ZipEntry& ZipReader::require(const std::string& name) const {
  const ZipEntry* e = find(name);
  if (!e) throw BadInputError(path_, "zip entry '" + name + "'", "entry is missing from the archive");
  return *e;
}

namespace {
// Reads an entry chunk by chunk, handing each chunk to `sink`; checks the total size and CRC.
template <class Sink>
void stream_entry(zip_t* za, const ZipEntry& e, const std::string& path, Sink&& sink) {
  std::string where = "zip entry '" + e.name + "'";
  ZipFilePtr f(zip_fopen_index(za, e.index, 0));
  if (!f) throw BadInputError(path, where, "cannot open entry: " + archive_error(za));
  std::vector<char> buf(1 << 16);
  uint64_t total = 0;
  uint32_t crc = 0;
  for (;;) {
    zip_int64_t got = zip_fread(f.get(), buf.data(), buf.size());
    if (got < 0) {
      zip_error_t* err = zip_file_get_error(f.get());
      throw BadInputError(path, where, std::string("corrupt entry data: ") + (err ? zip_error_strerror(err) : "?"));
    }
    if (got == 0) break;
    total += static_cast<uint64_t>(got);
    if (total > e.size)
      throw BadInputError(path, where, "entry holds more data than its declared size " + std::to_string(e.size));
    crc = zip_crc32(buf.data(), static_cast<size_t>(got), crc);
    sink(buf.data(), static_cast<size_t>(got));
  }
  if (total != e.size)
    throw BadInputError(path, where, "entry is truncated: " + std::to_string(total) + " of " +
                                         std::to_string(e.size) + " declared bytes");
  if (crc != e.crc) {
    char msg[96];
    std::snprintf(msg, sizeof msg, "CRC-32 mismatch: computed %08x, central directory says %08x", crc, e.crc);
    throw BadInputError(path, where, msg);
  }
}
}  // namespace

std::string ZipReader::read(const std::string& name, uint64_t max_bytes) const {
  const ZipEntry& e = require(name);
  if (e.size > max_bytes)
    throw BadInputError(path_, "zip entry '" + name + "'",
                        "entry size " + std::to_string(e.size) + " exceeds the limit of " + std::to_string(max_bytes));
  std::string out;
  out.reserve(static_cast<size_t>(e.size));
  stream_entry(archive_, e, path_, [&](const char* p, size_t n) { out.append(p, n); });
  return out;
}

void ZipReader::extract_to(const std::string& name, const std::string& dest_path) const {
  const ZipEntry& e = require(name);
  int fd = ::open(dest_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) throw IoError(dest_path, std::string("cannot create: ") + std::strerror(errno));
  try {
    stream_entry(archive_, e, path_, [&](const char* p, size_t n) {
      while (n > 0) {
        ssize_t w = ::write(fd, p, n);
        if (w < 0) {
          if (errno == EINTR) continue;
          throw IoError(dest_path, std::string("write failed: ") + std::strerror(errno));
        }
        p += w;
        n -= static_cast<size_t>(w);
      }
    });
  } catch (...) {
    ::close(fd);
    ::unlink(dest_path.c_str());
    throw;
  }
  if (::close(fd) != 0) {
    ::unlink(dest_path.c_str());
    throw IoError(dest_path, std::string("close failed: ") + std::strerror(errno));
  }
}

// ---------------------------------------------------------------------------------------------- writer

ZipWriter::ZipWriter(const std::string& path) : path_(path) {
  int err = 0;
  archive_ = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  if (!archive_) throw IoError(path, "cannot create zip: " + zip_error_text(err));
}

ZipWriter::~ZipWriter() {
  if (archive_) zip_discard(archive_);
}

void ZipWriter::check_name(const std::string& name) {
  if (!archive_) throw IoError(path_, "zip archive already closed");
  std::string reason = unsafe_zip_name_reason(name);
  if (!reason.empty()) throw UsageError("cannot add zip entry '" + name + "': " + reason);
  for (const auto& n : names_)
    if (n == name) throw UsageError("cannot add zip entry '" + name + "' twice");
}

void ZipWriter::finish_entry(int64_t index, const std::string& name) {
  if (index < 0) throw IoError(path_, "cannot add zip entry '" + name + "': " + archive_error(archive_));
  auto idx = static_cast<zip_uint64_t>(index);
  // DOS date 1980-01-01 = ((1980-1980) << 9) | (1 << 5) | 1; time 00:00:00 = 0.
  if (zip_set_file_compression(archive_, idx, ZIP_CM_STORE, 0) != 0 ||
      zip_file_set_dostime(archive_, idx, 0, (1 << 5) | 1, 0) != 0)
    throw IoError(path_, "cannot set zip entry '" + name + "' attributes: " + archive_error(archive_));
  names_.push_back(name);
}

void ZipWriter::add(const std::string& name, std::string data) {
  check_name(name);
  buffers_.push_back(std::move(data));
  const std::string& buf = buffers_.back();
  zip_source_t* src = zip_source_buffer(archive_, buf.data(), buf.size(), 0);
  if (!src) throw IoError(path_, "cannot add zip entry '" + name + "': " + archive_error(archive_));
  zip_int64_t idx = zip_file_add(archive_, name.c_str(), src, ZIP_FL_ENC_UTF_8);
  if (idx < 0) zip_source_free(src);
  finish_entry(idx, name);
}

void ZipWriter::add_file(const std::string& name, const std::string& source_path) {
  check_name(name);
  if (!is_regular_file(source_path)) throw IoError(source_path, "not a regular file");
  zip_source_t* src = zip_source_file(archive_, source_path.c_str(), 0, -1);
  if (!src) throw IoError(source_path, "cannot read for zip entry '" + name + "': " + archive_error(archive_));
  zip_int64_t idx = zip_file_add(archive_, name.c_str(), src, ZIP_FL_ENC_UTF_8);
  if (idx < 0) zip_source_free(src);
  finish_entry(idx, name);
}

void ZipWriter::close() {
  if (!archive_) throw IoError(path_, "zip archive already closed");
  if (zip_close(archive_) != 0) {
    std::string msg = archive_error(archive_);
    zip_discard(archive_);
    archive_ = nullptr;
    throw IoError(path_, "cannot write zip: " + msg);
  }
  archive_ = nullptr;
  buffers_.clear();
}

}  // namespace kmodel::io
