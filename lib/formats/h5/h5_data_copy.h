// Phase two of writing an H5 file: after HDF5 has laid out every dataset (allocated, never filled)
// and closed the file, the tensor bytes are written at their offsets with plain file I/O — copied
// file-to-file (copy_file_range) when the source stores them raw, else loaded one tensor at a time.
#pragma once

#include <string>
#include <vector>

#include "kmodel/tensor.h"

namespace kmodel::formats::h5 {

struct PendingData {
  const TensorRef* tensor = nullptr;
  uint64_t offset = 0;  // where the dataset's bytes go in the output file
  uint64_t size = 0;    // bytes HDF5 allocated
};

// Writes every pending tensor into `path` (the temp output). Throws IoError / the source's errors.
void write_pending_data(const std::string& path, const std::string& display_path,
                        const std::vector<PendingData>& pending);

}  // namespace kmodel::formats::h5
