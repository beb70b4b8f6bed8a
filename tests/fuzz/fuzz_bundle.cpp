// Fuzzes the TensorBundle container and the checkpoint reader. Input layout (so both files mutate):
//   u32 little-endian N, then N bytes of "<prefix>.index" (LevelDB table), then the bytes of
//   "<prefix>.data-00000-of-00001". Seeds are made from testdata bundles by scripts/fuzz.sh.
// Every entry is read through BundleReader (size + CRC checks), then the whole checkpoint through
// the public reader, inspected and validated.
#include "fuzz_common.h"
#include "io/tensor_bundle.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  uint32_t n = uint32_t(data[0]) | uint32_t(data[1]) << 8 | uint32_t(data[2]) << 16 | uint32_t(data[3]) << 24;
  data += 4;
  size -= 4;
  if (n > size) n = static_cast<uint32_t>(size);
  const std::string prefix = kfuzz::scratch_dir() + "/ckpt";
  kfuzz::write_file(prefix + ".index", data, n);
  kfuzz::write_file(prefix + ".data-00000-of-00001", data + n, size - n);
  try {
    kmodel::io::BundleReader reader(prefix);
    for (const auto& entry : reader.entries()) {
      try {
        (void)reader.read(entry);
      } catch (const kmodel::Error&) {
      }
    }
  } catch (const kmodel::Error&) {
  } catch (const std::exception&) {
  }
  kfuzz::read_and_exercise(kmodel::Format::kCheckpoint, prefix);
  return 0;
}
