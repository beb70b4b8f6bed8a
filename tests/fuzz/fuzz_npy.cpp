// Fuzzes predict's array inputs: .npy bytes through io::parse_npy (in memory) and the same bytes as a
// file through kmodel::read_arrays by extension (.npy, or .npz when they start like a zip).
#include "fuzz_common.h"
#include "io/npy.h"
#include "kmodel/predict.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    kmodel::Tensor t = kmodel::io::parse_npy(bytes, "fuzz.npy");
    (void)kmodel::to_float_array(t, "fuzz.npy");
  } catch (const kmodel::Error&) {
  } catch (const std::exception&) {
  }
  const bool zip = size >= 2 && data[0] == 'P' && data[1] == 'K';
  const std::string path = kfuzz::scratch_dir() + (zip ? "/arrays.npz" : "/array.npy");
  kfuzz::write_file(path, data, size);
  try {
    (void)kmodel::read_arrays(path);
  } catch (const kmodel::Error&) {
  } catch (const std::exception&) {
  }
  return 0;
}
