// One exception hierarchy for the whole library. Every error names the file, the place inside it
// (HDF5 path, proto field, zip entry, byte offset) and what was wrong. app/ maps kinds to exit codes.
#pragma once

#include <stdexcept>
#include <string>

namespace kmodel {

// Process exit codes, documented in docs/CLI.md.
enum class ExitCode : int {
  kOk = 0,
  kCheckFailed = 1,   // diff over tolerance, load validation failed
  kUsage = 2,         // bad command line
  kUnsupported = 3,   // valid input kmodel does not handle (yet)
  kBadInput = 4,      // corrupt, truncated or wrong-type input
  kIo = 5,            // cannot read/write files (permissions, disk full, exists without --force)
};

class Error : public std::runtime_error {
 public:
  // `file` may be empty; `where` is a location inside the file (may be empty).
  Error(ExitCode code, std::string file, std::string where, const std::string& what);
  ExitCode code() const { return code_; }
  const std::string& file() const { return file_; }
  const std::string& where() const { return where_; }
  const std::string& detail() const { return detail_; }

 private:
  ExitCode code_;
  std::string file_, where_, detail_;
};

// Corrupt, truncated or malformed input.
struct BadInputError : Error {
  BadInputError(std::string file, std::string where, const std::string& what)
      : Error(ExitCode::kBadInput, std::move(file), std::move(where), what) {}
};
// Well-formed input that kmodel does not support.
struct UnsupportedError : Error {
  UnsupportedError(std::string file, std::string where, const std::string& what)
      : Error(ExitCode::kUnsupported, std::move(file), std::move(where), what) {}
};
// File system failures: cannot open, cannot write, destination exists.
struct IoError : Error {
  IoError(std::string file, const std::string& what) : Error(ExitCode::kIo, std::move(file), "", what) {}
};
// Wrong use of the command line or API.
struct UsageError : Error {
  explicit UsageError(const std::string& what) : Error(ExitCode::kUsage, "", "", what) {}
};
// A check the user asked for did not hold (load validation, diff over tolerance).
struct CheckFailedError : Error {
  CheckFailedError(std::string file, const std::string& what)
      : Error(ExitCode::kCheckFailed, std::move(file), "", what) {}
};

}  // namespace kmodel
