// Fuzzes .keras archives (Keras 3 zip: config.json, metadata.json, model.weights.h5 / npz) through
// the zip reader and the keras_v3 reader.
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = kfuzz::scratch_dir() + "/model.keras";
  kfuzz::write_file(path, data, size);
  kfuzz::read_and_exercise(kmodel::Format::kKerasV3, path);
  return 0;
}
