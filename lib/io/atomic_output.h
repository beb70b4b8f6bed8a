// Atomic output: write into a temporary file or directory beside the destination, then rename it
// into place on commit(). If the writer throws, the destructor removes the temporary, so a failed
// conversion leaves neither partial output nor temp files, and an existing destination is intact.
#pragma once

#include <string>

namespace kmodel::io {

class AtomicOutput {
 public:
  enum class Kind { kFile, kDirectory };
  // Throws IoError if `destination` exists and !force, or if its directory is missing.
  AtomicOutput(std::string destination, Kind kind, bool force);
  ~AtomicOutput();
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;

  // Path to write to (a file path, or a created empty directory for kDirectory).
  const std::string& temp_path() const { return temp_; }
  const std::string& destination() const { return destination_; }
  // fsyncs and renames the temporary onto the destination (replacing it when force was given).
  void commit();

 private:
  std::string destination_, temp_;
  Kind kind_;
  bool force_;
  bool committed_ = false;
};

// Removes a file or directory tree, ignoring errors.
void remove_all_quietly(const std::string& path);

}  // namespace kmodel::io
