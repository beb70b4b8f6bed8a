// Internals of the checkpoint format shared by its reader, writer and tests.
#pragma once

#include <string>
#include <vector>

#include "kmodel/model.h"

namespace kmodel::formats::checkpoint {

// The prefix a path designates: a directory with a `checkpoint` state file (relative or absolute
// model_checkpoint_path; an absolute path that does not exist is retried as its basename inside the
// directory), a bundle directory holding variables.index, a "<prefix>.index" file, or a prefix.
// Throws UnsupportedError for the legacy V1 format, BadInputError / IoError otherwise.
std::string resolve_prefix(const std::string& path);

// What a path designates: a V2 prefix, or (v1 = true) the file of a legacy V1 checkpoint.
struct Location {
  std::string path;
  bool v1 = false;
};
Location locate(const std::string& path);

// The tensors of a legacy V1 (TensorSliceWriter) checkpoint file, sorted by name, read from its
// metadata entry only; TensorRefs decode the values on demand (unpartitioned tensors only).
std::vector<BundleVariable> read_v1_variables(const std::string& file);
// model_checkpoint_path of a text-format CheckpointState. `file` names the state file for errors.
std::string parse_state_file(const std::string& text, const std::string& file);
// Where `kmodel convert ... DST --to checkpoint` writes: DST is a prefix ("out/ckpt" -> out/ckpt.index,
// out/ckpt.data-00000-of-00001, out/checkpoint); a trailing ".index" is dropped; an existing directory
// DST means the prefix DST/ckpt.
std::string output_prefix(const std::string& destination);

}  // namespace kmodel::formats::checkpoint
