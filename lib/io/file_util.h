// Plain file-system helpers: existence checks, bounded whole-file reads, reading a file's first bytes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kmodel::io {

bool path_exists(const std::string& path);
bool is_directory(const std::string& path);
bool is_regular_file(const std::string& path);
// Size of a regular file; throws IoError if it cannot be stat'ed.
uint64_t file_size(const std::string& path);
// Reads a whole file, refusing files larger than max_bytes (BadInputError). Throws IoError on failure.
std::string read_file(const std::string& path, uint64_t max_bytes = uint64_t{1} << 31);
// Reads up to n bytes from the start of a file ("" if unreadable or a directory).
std::string read_head(const std::string& path, size_t n);
// Reads exactly `size` bytes at `offset`; throws BadInputError naming `path` if the file is shorter.
std::vector<uint8_t> read_range(const std::string& path, uint64_t offset, uint64_t size);
// True if the content looks like a Git LFS pointer ("version https://git-lfs.github.com/spec/v1").
bool is_git_lfs_pointer(const std::string& head);
// Joins two path pieces with one '/'.
std::string join_path(const std::string& dir, const std::string& name);
// Directory part of a path ("." when none), and last component.
std::string dirname(const std::string& path);
std::string basename(const std::string& path);
// Canonical absolute path if it exists, else the absolute form of the input.
std::string absolute_path(const std::string& path);

}  // namespace kmodel::io
