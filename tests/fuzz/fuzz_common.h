// Shared helpers for the libFuzzer harnesses: a per-process scratch directory (on /dev/shm when it
// exists), writing the fuzz input to a file there, and exercising a Model through the public API the
// CLI uses (inspect text + JSON, the summary, validation that reads every tensor).
// kmodel::Error and other std::exceptions are the expected outcome for bad input; anything else
// (a crash, a sanitizer report, a leak, a huge allocation) is a finding.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include <google/protobuf/stubs/logging.h>
#include <spdlog/spdlog.h>

#include "kmodel/error.h"
#include "kmodel/formats.h"
#include "kmodel/report.h"
#include "kmodel/security.h"

namespace kfuzz {

inline const std::string& scratch_dir() {
  static const std::string dir = [] {
    spdlog::set_level(spdlog::level::off);
    google::protobuf::SetLogHandler(nullptr);  // discard libprotobuf's parse complaints
    const char* base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    std::string templ = std::string(base) + "/kmodel-fuzz-XXXXXX";
    if (!mkdtemp(templ.data())) std::abort();
    // Best-effort cleanup at exit (libFuzzer exits through exit() on -runs / -max_total_time).
    static std::string to_remove = templ;
    std::atexit([] { std::string cmd = "rm -rf '" + to_remove + "'"; (void)!std::system(cmd.c_str()); });
    return templ;
  }();
  return dir;
}

inline void write_file(const std::string& path, const uint8_t* data, size_t size) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  if (size && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
}

inline std::string read_whole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void copy_file(const std::string& from, const std::string& to) {
  std::string bytes = read_whole(from);
  write_file(to, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

// Everything `inspect`, `inspect --security` and `load` do with a model, minus printing.
inline void exercise(const kmodel::Model& model) {
  (void)kmodel::inspect_text(model);
  (void)kmodel::inspect_json(model);
  (void)kmodel::security_findings(model);
  (void)kmodel::validate(model);
}

// Reads `path` as `format` and exercises the result; bad input must surface as an exception.
inline void read_and_exercise(kmodel::Format format, const std::string& path) {
  try {
    kmodel::Model model = kmodel::read_as(format, path);
    exercise(model);
  } catch (const kmodel::Error&) {
  } catch (const std::exception&) {
  }
}

}  // namespace kfuzz
