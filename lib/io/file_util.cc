// Plain file-system helpers used by every reader (see file_util.h).
#include "io/file_util.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <sys/stat.h>

#include "kmodel/error.h"

namespace kmodel::io {
namespace fs = std::filesystem;

bool path_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

bool is_directory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool is_regular_file(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

uint64_t file_size(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) throw IoError(path, std::string("cannot stat: ") + std::strerror(errno));
  return static_cast<uint64_t>(st.st_size);
}

std::string read_file(const std::string& path, uint64_t max_bytes) {
  if (is_directory(path)) throw BadInputError(path, "", "is a directory, expected a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(path, std::string("cannot open: ") + std::strerror(errno));
  uint64_t size = file_size(path);
  if (size > max_bytes)
    throw BadInputError(path, "", "file is too large (" + std::to_string(size) + " bytes, limit " +
                                      std::to_string(max_bytes) + ")");
  std::string data(size, '\0');
  in.read(data.data(), static_cast<std::streamsize>(size));
  if (static_cast<uint64_t>(in.gcount()) != size) throw IoError(path, "short read");
  return data;
}

std::string read_head(const std::string& path, size_t n) {
  if (!is_regular_file(path)) return "";
  std::ifstream in(path, std::ios::binary);
  std::string data(n, '\0');
  in.read(data.data(), static_cast<std::streamsize>(n));
  data.resize(static_cast<size_t>(in.gcount()));
  return data;
}

std::vector<uint8_t> read_range(const std::string& path, uint64_t offset, uint64_t size) {
  uint64_t total = file_size(path);
  if (offset > total || size > total - offset)
    throw BadInputError(path, "offset " + std::to_string(offset),
                        "range of " + std::to_string(size) + " bytes runs past the end of the file (" +
                            std::to_string(total) + " bytes)");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(path, std::string("cannot open: ") + std::strerror(errno));
  in.seekg(static_cast<std::streamoff>(offset));
  std::vector<uint8_t> data(size);
  in.read(reinterpret_cast<char*>(data.data()), static_cast<std::streamsize>(size));
  if (static_cast<uint64_t>(in.gcount()) != size) throw IoError(path, "short read");
  return data;
}

bool is_git_lfs_pointer(const std::string& head) {
  return head.rfind("version https://git-lfs.github.com/spec/", 0) == 0;
}

std::string join_path(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  if (dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

std::string dirname(const std::string& path) {
  fs::path p(path);
  auto parent = p.parent_path().string();
  return parent.empty() ? "." : parent;
}

std::string basename(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return fs::path(p).filename().string();
}

std::string absolute_path(const std::string& path) {
  std::error_code ec;
  auto c = fs::weakly_canonical(fs::path(path), ec);
  if (ec) return fs::absolute(fs::path(path)).string();
  return c.string();
}

}  // namespace kmodel::io
