// Temp-then-rename output (see atomic_output.h).
#include "io/atomic_output.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>

#include <fcntl.h>
#include <unistd.h>

#include "io/file_util.h"
#include "kmodel/error.h"

namespace kmodel::io {
namespace fs = std::filesystem;

namespace {
std::string random_suffix() {
  std::random_device rd;
  std::mt19937_64 gen(rd());
  static const char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string s;
  for (int i = 0; i < 8; ++i) s += kChars[gen() % 36];
  return s;
}

void fsync_path(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

void fsync_tree(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec))
      if (it->is_regular_file(ec)) fsync_path(it->path().string());
  }
  fsync_path(path);
}
}  // namespace

void remove_all_quietly(const std::string& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
}

AtomicOutput::AtomicOutput(std::string destination, Kind kind, bool force)
    : destination_(std::move(destination)), kind_(kind), force_(force) {
  while (destination_.size() > 1 && destination_.back() == '/') destination_.pop_back();
  if (destination_.empty()) throw UsageError("empty output path");
  if (path_exists(destination_) && !force_)
    throw IoError(destination_, "output already exists (use --force to replace it)");
  std::string dir = dirname(destination_);
  if (!is_directory(dir)) throw IoError(destination_, "output directory " + dir + " does not exist");
  temp_ = join_path(dir, "." + basename(destination_) + ".kmodel-tmp-" + random_suffix());
  if (kind_ == Kind::kDirectory) {
    std::error_code ec;
    if (!fs::create_directory(temp_, ec) || ec)
      throw IoError(destination_, "cannot create temporary directory " + temp_ + ": " + ec.message());
  }
}

AtomicOutput::~AtomicOutput() {
  if (!committed_) remove_all_quietly(temp_);
}

void AtomicOutput::commit() {
  if (!path_exists(temp_)) throw IoError(destination_, "writer produced no output");
  fsync_tree(temp_);
  std::error_code ec;
  if (path_exists(destination_)) {
    if (!force_) throw IoError(destination_, "output already exists (use --force to replace it)");
    if (kind_ == Kind::kFile && !is_directory(destination_)) {
      // rename(2) atomically replaces a file.
    } else {
      // Directories cannot be replaced atomically: move the old one aside, then swap.
      std::string old = temp_ + ".old";
      fs::rename(destination_, old, ec);
      if (ec) throw IoError(destination_, "cannot replace existing output: " + ec.message());
      fs::rename(temp_, destination_, ec);
      if (ec) {
        std::error_code ec2;
        fs::rename(old, destination_, ec2);
        throw IoError(destination_, "cannot move output into place: " + ec.message());
      }
      committed_ = true;
      remove_all_quietly(old);
      fsync_path(dirname(destination_));
      return;
    }
  }
  if (::rename(temp_.c_str(), destination_.c_str()) != 0)
    throw IoError(destination_, std::string("cannot move output into place: ") + std::strerror(errno));
  committed_ = true;
  fsync_path(dirname(destination_));
}

}  // namespace kmodel::io
