// See hdf5_guard.h: probe an HDF5 file in a forked child before the process trusts libhdf5 with it.
#include "io/hdf5_guard.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <hdf5.h>

#include "io/hdf5.h"
#include "kmodel/error.h"

// Sanitizer runtimes (ASan, libFuzzer) install a death callback that must not run in the child.
extern "C" void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

namespace kmodel::io::h5 {
namespace {

constexpr hssize_t kMaxAttrElements = hssize_t{1} << 24;

struct Walk {
  uint64_t data_left;
  uint64_t max_dataset;
  hsize_t file_size;
  std::set<haddr_t> walked = {};  // object header addresses already walked (reached by several routes)
};

// Reads a selection-sized buffer of `space` in `file_type`'s native form through `read`.
template <class ReadFn>
void read_native(hid_t file_type, hid_t space, uint64_t max_bytes, ReadFn read) {
  hssize_t n = H5Sget_simple_extent_npoints(space);
  if (n < 0 || n > kMaxAttrElements * 16) return;
  hid_t mem = H5Tget_native_type(file_type, H5T_DIR_ASCEND);
  if (mem < 0) return;
  size_t elem = H5Tget_size(mem);
  if (elem == 0 || (n > 0 && elem > max_bytes / static_cast<uint64_t>(n))) {
    H5Tclose(mem);
    return;
  }
  std::vector<unsigned char> buf(static_cast<size_t>(n) * elem + 16);
  if (read(mem, buf.data()) >= 0 && H5Tdetect_class(mem, H5T_VLEN) > 0)
    H5Dvlen_reclaim(mem, space, H5P_DEFAULT, buf.data());
  else if (H5Tget_class(mem) == H5T_STRING && H5Tis_variable_str(mem) > 0)
    H5Dvlen_reclaim(mem, space, H5P_DEFAULT, buf.data());
  H5Tclose(mem);
}

herr_t visit_attr(hid_t loc, const char* name, const H5A_info_t*, void* data) {
  hid_t attr = H5Aopen(loc, name, H5P_DEFAULT);
  if (attr < 0) return 0;
  hid_t type = H5Aget_type(attr);
  hid_t space = H5Aget_space(attr);
  if (type >= 0 && space >= 0) {
    hssize_t n = H5Sget_simple_extent_npoints(space);
    // The readers refuse attributes larger than the file before reading them; so does the walk.
    if (n >= 0 && n <= kMaxAttrElements && !attribute_exceeds_file(type, n, static_cast<Walk*>(data)->file_size))
      read_native(type, space, uint64_t{1} << 30, [&](hid_t mem, void* buf) { return H5Aread(attr, mem, buf); });
  }
  if (space >= 0) H5Sclose(space);
  if (type >= 0) H5Tclose(type);
  H5Aclose(attr);
  return 0;
}

// Attributes the readers open by name. A lookup by name can reach an attribute that iteration (which
// stops at the first damaged attribute message) never visits, so these are also read by name.
constexpr const char* kNamedAttributes[] = {"keras_version", "backend", "model_config", "training_config",
                                            "layer_names", "weight_names", "name", "dtype"};
constexpr int kNamedAttributeChunks = 4;  // Keras splits long name lists into layer_names0, layer_names1...

void visit_attr_by_name(hid_t obj, const std::string& name, Walk& w) {
  if (H5Aexists(obj, name.c_str()) <= 0) return;
  visit_attr(obj, name.c_str(), nullptr, &w);
}

void walk_object(hid_t obj, Walk& w) {
  // An object reached again (by name after iteration, or through a second link) is not re-read: its
  // attributes and data were probed, and its data must not spend the data budget twice.
  H5O_info_t info;
  if (H5Oget_info(obj, &info) >= 0 && !w.walked.insert(info.addr).second) return;
  hsize_t idx = 0;
  H5Aiterate2(obj, H5_INDEX_NAME, H5_ITER_NATIVE, &idx, visit_attr, &w);
  for (const char* name : kNamedAttributes) {
    visit_attr_by_name(obj, name, w);
    for (int i = 0; i < kNamedAttributeChunks; ++i) visit_attr_by_name(obj, name + std::to_string(i), w);
  }
  H5I_type_t kind = H5Iget_type(obj);
  if (kind != H5I_DATASET) return;
  hid_t type = H5Dget_type(obj);
  hid_t space = H5Dget_space(obj);
  hid_t dcpl = H5Dget_create_plist(obj);
  if (dcpl >= 0) {
    int nf = H5Pget_nfilters(dcpl);
    for (int i = 0; i < nf && i < 32; ++i) {
      unsigned flags = 0, cd[8];
      size_t ncd = 8;
      char fname[64];
      H5Pget_filter2(dcpl, static_cast<unsigned>(i), &flags, &ncd, cd, sizeof fname, fname, nullptr);
    }
    if (H5Pget_layout(dcpl) == H5D_CHUNKED) {
      hsize_t dims[H5S_MAX_RANK];
      H5Pget_chunk(dcpl, H5S_MAX_RANK, dims);
    }
    H5Pclose(dcpl);
  }
  (void)H5Dget_storage_size(obj);
  if (type >= 0 && space >= 0 && w.data_left > 0) {
    uint64_t limit = w.max_dataset < w.data_left ? w.max_dataset : w.data_left;
    hssize_t n = H5Sget_simple_extent_npoints(space);
    size_t tsize = H5Tget_size(type);
    if (n >= 0 && tsize > 0 && static_cast<uint64_t>(n) <= limit / tsize) {
      w.data_left -= static_cast<uint64_t>(n) * tsize;
      read_native(type, space, limit,
                  [&](hid_t mem, void* buf) { return H5Dread(obj, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf); });
    }
  }
  if (space >= 0) H5Sclose(space);
  if (type >= 0) H5Tclose(type);
}

herr_t visit_link(hid_t group, const char* name, const H5L_info_t* info, void* data) {
  if (info->type != H5L_TYPE_HARD) return 0;  // soft links resolve to visited objects; never follow external ones
  hid_t obj = H5Oopen(group, name, H5P_DEFAULT);
  if (obj < 0) return 0;
  walk_object(obj, *static_cast<Walk*>(data));
  H5Oclose(obj);
  return 0;
}

// Iteration (H5Lvisit) can miss objects the readers reach by name: a corrupt group may stop the
// iteration early, or a lookup by name may take another way through a damaged symbol table. The
// readers look objects up by the names that string attributes list, relative to the group holding
// the attribute (model_weights@layer_names, <layer>@weight_names, optimizer_weights@weight_names),
// so the probe does the same: every string of every attribute of `group` is tried as a path, and
// what it names is walked, and searched the same way when it is a group, a few levels deep.
constexpr int kMaxNameDepth = 4;
constexpr size_t kMaxNameLookups = 100000;
constexpr size_t kMaxNameLength = 4096;

void walk_by_names(hid_t group, Walk& w, int depth, size_t& lookups) {
  if (depth > kMaxNameDepth) return;
  std::vector<std::string> attributes;
  try {
    attributes = list_attributes(group, "");
  } catch (const std::exception&) {
    return;
  }
  for (const std::string& attribute : attributes) {
    std::vector<std::string> names;
    try {
      names = read_string_list_attr(group, attribute, "", nullptr);
    } catch (const std::exception&) {
      continue;  // not a string list (or unreadable): nothing to look up
    }
    for (const std::string& name : names) {
      if (name.empty() || name.size() > kMaxNameLength || ++lookups > kMaxNameLookups) continue;
      if (!has_link(group, name)) continue;
      bool child_group = is_group(group, name);
      if (!child_group && !is_dataset(group, name)) continue;
      hid_t obj = H5Oopen(group, name.c_str(), H5P_DEFAULT);
      if (obj < 0) continue;
      walk_object(obj, w);
      if (child_group) walk_by_names(obj, w, depth + 1, lookups);
      H5Oclose(obj);
    }
  }
}

// The probe's exit status when libhdf5 ran out of the memory the probe allows it (see below).
constexpr int kExitTooMuchMemory = 3;
constexpr uint64_t kProbeMemoryHeadroom = uint64_t{1} << 30;  // bytes libhdf5 may allocate in the probe

// The process's current data segment size (VmData, private writable mappings), in bytes; 0 if unknown.
uint64_t current_data_bytes() {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return 0;
  char line[256];
  uint64_t kb = 0;
  while (std::fgets(line, sizeof line, f))
    if (std::sscanf(line, "VmData: %" SCNu64 " kB", &kb) == 1) break;
  std::fclose(f);
  return kb * 1024;
}

herr_t note_resource_error(unsigned, const H5E_error2_t* e, void* flag) {
  if (e->maj_num == H5E_RESOURCE) *static_cast<bool*>(flag) = true;
  return 0;
}

// libhdf5 reports a failed allocation as an H5E_RESOURCE error: corrupt sizes asked for more than the
// probe's headroom (e.g. a vlen attribute claiming gigabytes in an 11 KB file). The file is refused.
herr_t exit_on_resource_error(hid_t stack, void*) {
  bool resource = false;
  H5Ewalk2(stack, H5E_WALK_DOWNWARD, note_resource_error, &resource);
  if (resource) _exit(kExitTooMuchMemory);
  return 0;
}

[[noreturn]] void child_walk(const std::string& path, const GuardLimits& limits, pid_t parent, hsize_t file_size) {
  // A probe never outlives its parent (a killed kmodel must not leave libhdf5 spinning).
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(0);
  if (__sanitizer_set_death_callback) __sanitizer_set_death_callback(nullptr);
  for (int sig : {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL}) signal(sig, SIG_DFL);
  struct rlimit no_core = {0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  int devnull = open("/dev/null", O_WRONLY);
  if (devnull >= 0) {
    dup2(devnull, 1);
    dup2(devnull, 2);
  }
  // Bound what libhdf5 may allocate here: corrupt metadata can make it ask for gigabytes. The limit is
  // relative to the current data size (ASan builds reserve terabytes of shadow up front).
  if (uint64_t data = current_data_bytes()) {
    struct rlimit cap = {data + kProbeMemoryHeadroom, data + kProbeMemoryHeadroom};
    setrlimit(RLIMIT_DATA, &cap);
  }
  H5Eset_auto2(H5E_DEFAULT, exit_on_resource_error, nullptr);
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl);
  if (f < 0) _exit(0);  // refused cleanly: the parent's own open reports it
  Walk w{limits.data_budget_bytes, limits.max_dataset_bytes, file_size};
  hid_t root = H5Gopen2(f, "/", H5P_DEFAULT);
  if (root >= 0) {
    walk_object(root, w);
    H5Lvisit(root, H5_INDEX_NAME, H5_ITER_NATIVE, visit_link, &w);
    size_t lookups = 0;
    walk_by_names(root, w, 0, lookups);
    // The Keras H5 groups whose names no attribute lists.
    for (const char* top : {"model_weights", "optimizer_weights"}) {
      if (!has_link(root, top) || !is_group(root, top)) continue;
      hid_t g = H5Gopen2(root, top, H5P_DEFAULT);
      if (g < 0) continue;
      walk_object(g, w);
      walk_by_names(g, w, 1, lookups);
      H5Gclose(g);
    }
  }
  _exit(0);  // no cleanup: nothing of this process outlives it
}

using FileKey = std::tuple<dev_t, ino_t, off_t, int64_t, int64_t, uint64_t>;
constexpr size_t kMaxCached = 4096;         // entries per cache; cleared when full
constexpr off_t kHashLimit = off_t{16} << 20;  // files up to this size are keyed by content too

// FNV-1a of the file's bytes, so a file rewritten in place within one timestamp tick is re-probed.
uint64_t content_hash(const std::string& path, off_t size) {
  if (size > kHashLimit) return 0;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  uint64_t h = 1469598103934665603ull;
  unsigned char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (ssize_t i = 0; i < n; ++i) h = (h ^ buf[i]) * 1099511628211ull;
  }
  ::close(fd);
  return h;
}
std::mutex g_mutex;
std::set<FileKey>& probed() {
  static std::set<FileKey> s;
  return s;
}
std::map<FileKey, std::string>& refused() {  // key -> the error detail, so a refused file forks once
  static std::map<FileKey, std::string> m;
  return m;
}

}  // namespace

void guard_hdf5_file(const std::string& path, const GuardLimits& requested) {
  const char* env = std::getenv("KMODEL_HDF5_GUARD");
  if (env && std::string(env) == "0") return;
  GuardLimits limits = requested;
  if (const char* t = std::getenv("KMODEL_HDF5_GUARD_TIMEOUT_MS")) {
    char* end = nullptr;
    long ms = std::strtol(t, &end, 10);
    if (end != t && *end == '\0' && ms >= 100 && ms <= 3600000) limits.timeout_ms = static_cast<int>(ms);
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return;  // the caller's open reports it
  FileKey key{st.st_dev, st.st_ino, st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec, content_hash(path, st.st_size)};
  std::lock_guard<std::mutex> lock(g_mutex);
  if (probed().count(key)) return;
  if (auto it = refused().find(key); it != refused().end()) throw BadInputError(path, "HDF5 metadata", it->second);

  // The child holds the write end of a pipe it never writes: its exit (or death) closes it, which
  // wakes the parent's poll at once, with the timeout as poll's own.
  int exit_pipe[2];
  if (pipe2(exit_pipe, O_CLOEXEC) != 0)
    throw IoError(path, std::string("cannot create a pipe to probe the HDF5 file: ") + std::strerror(errno));
  fflush(nullptr);
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    int err = errno;
    close(exit_pipe[0]);
    close(exit_pipe[1]);
    throw IoError(path, std::string("cannot fork to probe the HDF5 file: ") + std::strerror(err));
  }
  if (pid == 0) {
    close(exit_pipe[0]);
    child_walk(path, limits, parent, static_cast<hsize_t>(st.st_size));
  }
  close(exit_pipe[1]);

  int status = 0;
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) {
      close(exit_pipe[0]);
      throw IoError(path, "lost the HDF5 probe process");
    }
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long elapsed_ms = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
    if (elapsed_ms >= limits.timeout_ms) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      close(exit_pipe[0]);
      std::string what = "corrupt HDF5 file: libhdf5 did not finish reading its metadata in " +
                         std::to_string(limits.timeout_ms) + " ms";
      refused()[key] = what;
      throw BadInputError(path, "HDF5 metadata", what);
    }
    // Hang-up means the child is exiting; a process forked elsewhere meanwhile may hold a copy of the
    // write end, so the wait is also sliced and waitpid stays the authority.
    struct pollfd pfd = {exit_pipe[0], POLLIN, 0};
    int slice = static_cast<int>(std::min<long>(limits.timeout_ms - elapsed_ms, 100));
    if (poll(&pfd, 1, slice) > 0 && (pfd.revents & (POLLHUP | POLLIN | POLLERR))) {
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      break;
    }
  }
  close(exit_pipe[0]);
  if (probed().size() >= kMaxCached) probed().clear();
  if (refused().size() >= kMaxCached) refused().clear();
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    probed().insert(key);
    return;
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == kExitTooMuchMemory) {
    std::string what = "corrupt HDF5 file: libhdf5 would need more than " +
                       std::to_string(kProbeMemoryHeadroom >> 20) + " MiB to read its metadata";
    refused()[key] = what;
    throw BadInputError(path, "HDF5 metadata", what);
  }
  std::string how = WIFSIGNALED(status) ? "signal " + std::to_string(WTERMSIG(status))
                                        : "exit status " + std::to_string(WEXITSTATUS(status));
  std::string what = "corrupt HDF5 file: libhdf5 crashed reading it (" + how + ", contained in a probe process)";
  refused()[key] = what;
  throw BadInputError(path, "HDF5 metadata", what);
}

}  // namespace kmodel::io::h5
