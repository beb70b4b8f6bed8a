// Fuzzes the Keras H5 reader on top of libhdf5: the input is written to a file, read as H5, inspected
// and validated (every dataset read). libhdf5 itself is not instrumented; crashes inside it are caught
// by the HDF5 guard (lib/io/hdf5_guard.h) in the reader, which this harness runs like the CLI does.
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = kfuzz::scratch_dir() + "/model.h5";
  kfuzz::write_file(path, data, size);
  kfuzz::read_and_exercise(kmodel::Format::kH5, path);
  return 0;
}
