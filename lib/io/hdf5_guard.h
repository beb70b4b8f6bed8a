// Containment for crashes inside libhdf5. libhdf5 (1.10.x) trusts the metadata of the files it
// opens: a corrupt global heap, B-tree or object header can make it read wild memory and segfault
// (e.g. H5HG_read copying a vlen string attribute with a corrupt length). kmodel must never crash on
// bad input, so before the process opens an HDF5 file, a forked child opens it and walks everything
// the readers may touch: every attribute's value of every object (read in its native type), every
// dataset's type, shape and creation properties, and every dataset's data up to a total budget. It
// reaches objects both by iteration and by the routes the readers take (attributes opened by name,
// objects looked up by the names that layer_names / weight_names list), since a damaged file can hide
// from one route what the other finds.
// If the child dies (signal, sanitizer abort) or hangs, the file is refused with a BadInputError;
// if it finishes, libhdf5 has proven it can read those structures, and the parent proceeds.
// Each file (device, inode, size, mtime) is probed once per process.
#pragma once

#include <cstdint>
#include <string>

namespace kmodel::io::h5 {

struct GuardLimits {
  uint64_t data_budget_bytes = uint64_t{64} << 20;  // dataset bytes the child reads in total
  uint64_t max_dataset_bytes = uint64_t{16} << 20;  // larger datasets: metadata only
  int timeout_ms = 60000;                           // the child is killed after this
};

// Probes `path` in a child process; throws BadInputError(path, ...) when libhdf5 crashes or hangs on
// it. Returns normally when the walk finished or when libhdf5 merely refuses the file (the caller's
// own open then reports that). Disabled when the environment sets KMODEL_HDF5_GUARD=0;
// KMODEL_HDF5_GUARD_TIMEOUT_MS (100..3600000) overrides the timeout (scripts/fuzz.sh uses 100 ms).
void guard_hdf5_file(const std::string& path, const GuardLimits& limits = {});

}  // namespace kmodel::io::h5
