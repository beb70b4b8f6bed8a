// Entry points over the IR: detect an artifact's format by content, read it into a Model, write a
// Model in any format. app/ and tests use only these; each format lives in lib/formats/<name>/.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "kmodel/model.h"

namespace kmodel {

// "h5", "json", "checkpoint", "savedmodel", "keras".
std::string format_name(Format format);
// Parses a --to value (also accepts aliases: "hdf5", "ckpt", "tf", "saved_model", "keras3", "zip").
std::optional<Format> format_from_name(std::string_view name);

// Detects by content: HDF5 signature, ZIP signature, directory with saved_model.pb, TensorBundle
// prefix / .index / checkpoint state file, JSON object with class_name. Throws IoError if the path
// does not exist, BadInputError if it is not a recognised artifact (Git LFS pointers named as such).
Format detect(const std::string& path);

// Output format from a destination name: .h5/.hdf5/.keras/.json; nullopt when the name does not say.
std::optional<Format> format_for_destination(const std::string& path);

struct ReadOptions {
  // Weights to attach to an architecture-only artifact (JSON), read from any format with weights.
  std::string weights_path;
  // Architecture used to name the variables of a checkpoint (JSON or any artifact with one).
  std::string arch_path;
};

// Reads an artifact of any supported format. Tensor data stays lazy (TensorRefs).
Model read(const std::string& path, const ReadOptions& options = {});
// Reads with an explicit format (skips detection).
Model read_as(Format format, const std::string& path, const ReadOptions& options = {});

struct WriteOptions {
  bool force = false;         // replace an existing destination
  bool weights_only = false;  // H5: save_weights layout; other formats: drop architecture/training config
  bool include_optimizer = true;
};

// Writes atomically (temp beside the destination, then rename). Refuses to overwrite without force,
// and refuses to write onto the model's own input path.
void write(const Model& model, const std::string& path, Format format, const WriteOptions& options = {});

}  // namespace kmodel
