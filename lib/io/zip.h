// Safe ZIP reading and deterministic ZIP writing over libzip, for `.keras` archives and `.npz` files.
//
// ZipReader validates the whole central directory when it opens an archive and refuses, with a
// BadInputError naming the archive and the entry:
//   - absolute entry names ("/x", "\x", "C:x"), names with a ".." component, empty names or NULs,
//   - duplicate entry names,
//   - declared sizes that cannot fit the archive (compressed size beyond the file size, a stored
//     entry whose sizes differ, a deflated entry expanding beyond deflate's maximum ratio),
//   - encrypted entries, and compression methods other than stored/deflate.
// Reads are bounded by a caller-given maximum and verify the entry's CRC-32.
// ZipWriter writes STORED entries in the order they are added, with a fixed DOS timestamp
// (1980-01-01 00:00, what Python's zipfile uses for entries opened with zf.open(name, "w")).
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

struct zip;

namespace kmodel::io {

struct ZipEntry {
  std::string name;
  uint64_t index = 0;            // position in the central directory
  uint64_t size = 0;             // uncompressed size
  uint64_t compressed_size = 0;
  uint16_t method = 0;           // 0 stored, 8 deflate
  uint32_t crc = 0;              // CRC-32 from the central directory
  bool is_directory() const { return !name.empty() && name.back() == '/'; }
};

// CRC-32 (ISO-HDLC, the ZIP checksum). `crc` continues a previous value.
uint32_t zip_crc32(const void* data, size_t size, uint32_t crc = 0);

// Checks one entry name; returns "" when safe, else the reason (used by ZipReader; exposed for tests
// and for writers that take names from input).
std::string unsafe_zip_name_reason(const std::string& name);

class ZipReader {
 public:
  // Opens and validates the archive. Throws IoError if it cannot be opened, BadInputError if it is
  // not a valid ZIP or holds an unsafe entry (see above).
  explicit ZipReader(const std::string& path);
  ~ZipReader();
  ZipReader(const ZipReader&) = delete;
  ZipReader& operator=(const ZipReader&) = delete;

  const std::string& path() const { return path_; }
  uint64_t archive_size() const { return archive_size_; }
  // Entries in central-directory order.
  const std::vector<ZipEntry>& entries() const { return entries_; }
  // nullptr when absent.
  const ZipEntry* find(const std::string& name) const;
  bool has(const std::string& name) const { return find(name) != nullptr; }

  // Reads a whole entry, refusing entries larger than max_bytes; verifies size and CRC-32.
  std::string read(const std::string& name, uint64_t max_bytes = uint64_t{1} << 30) const;
  // Streams an entry into a new file at `dest_path` (created exclusively; never overwritten),
  // verifying size and CRC-32. The caller picks dest_path; entry names never become paths.
  void extract_to(const std::string& name, const std::string& dest_path) const;

 private:
  const ZipEntry& require(const std::string& name) const;
  std::string path_;
  uint64_t archive_size_ = 0;
  zip* archive_ = nullptr;
  std::vector<ZipEntry> entries_;
};

class ZipWriter {
 public:
  // Creates (truncating) the archive at `path`. Nothing is written until close().
  explicit ZipWriter(const std::string& path);
  ~ZipWriter();  // discards an unclosed archive
  ZipWriter(const ZipWriter&) = delete;
  ZipWriter& operator=(const ZipWriter&) = delete;

  // Adds a STORED entry with the given bytes. Names are checked like ZipReader does; duplicates refused.
  void add(const std::string& name, std::string data);
  // Adds a STORED entry whose content is streamed from an existing file at close() time.
  void add_file(const std::string& name, const std::string& source_path);
  // Writes the archive. Throws IoError on failure.
  void close();

 private:
  void check_name(const std::string& name);
  void finish_entry(int64_t index, const std::string& name);
  std::string path_;
  zip* archive_ = nullptr;
  std::deque<std::string> buffers_;  // kept alive until close(): libzip reads them then
  std::vector<std::string> names_;
};

}  // namespace kmodel::io
