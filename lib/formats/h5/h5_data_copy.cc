// Raw tensor data writing for the H5 writer (see h5_data_copy.h).
#include "formats/h5/h5_data_copy.h"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

#include "kmodel/error.h"

namespace kmodel::formats::h5 {

namespace {
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

void pwrite_all(int fd, const uint8_t* data, uint64_t size, uint64_t offset, const std::string& path) {
  while (size > 0) {
    ssize_t n = ::pwrite(fd, data, size, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw IoError(path, std::string("write failed: ") + std::strerror(errno));
    }
    data += n;
    size -= static_cast<uint64_t>(n);
    offset += static_cast<uint64_t>(n);
  }
}

// Copies [src_off, src_off+size) of src into dst at dst_off, in the kernel when possible.
void copy_range(const RawExtent& src, int dst, uint64_t dst_off, const std::string& path) {
  Fd in(::open(src.path.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.get() < 0) throw IoError(src.path, std::string("cannot open: ") + std::strerror(errno));
  loff_t off_in = static_cast<loff_t>(src.offset), off_out = static_cast<loff_t>(dst_off);
  uint64_t left = src.size;
  while (left > 0) {
    ssize_t n = ::copy_file_range(in.get(), &off_in, dst, &off_out, left, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // unsupported here or short source: fall back below
    left -= static_cast<uint64_t>(n);
  }
  if (left == 0) return;
  std::vector<uint8_t> buf(std::min<uint64_t>(left, 8u << 20));
  while (left > 0) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(left, buf.size()));
    ssize_t n = ::pread(in.get(), buf.data(), want, off_in);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw BadInputError(src.path, "offset " + std::to_string(off_in), "tensor data is truncated");
    pwrite_all(dst, buf.data(), static_cast<uint64_t>(n), static_cast<uint64_t>(off_out), path);
    off_in += n;
    off_out += n;
    left -= static_cast<uint64_t>(n);
  }
}
}  // namespace

void write_pending_data(const std::string& path, const std::string& display_path,
                        const std::vector<PendingData>& pending) {
  Fd out(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (out.get() < 0) throw IoError(display_path, std::string("cannot reopen output: ") + std::strerror(errno));
  for (const auto& p : pending) {
    if (p.size == 0) continue;
    auto raw = p.tensor->raw_extent();
    if (raw && raw->size == p.size) {
      copy_range(*raw, out.get(), p.offset, display_path);
      continue;
    }
    Tensor t = p.tensor->load();
    if (t.data.size() != p.size)
      throw BadInputError(p.tensor->describe(), "", "tensor has " + std::to_string(t.data.size()) +
                                                        " bytes, expected " + std::to_string(p.size));
    pwrite_all(out.get(), t.data.data(), t.data.size(), p.offset, display_path);
  }
  if (::close(out.release()) != 0) throw IoError(display_path, std::string("close failed: ") + std::strerror(errno));
}

}  // namespace kmodel::formats::h5
