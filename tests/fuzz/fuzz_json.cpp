// Fuzzes JSON architectures and configs: kmodel::parse_architecture on the bytes, then the JSON reader
// (which also derives layer shapes and expected weights) on the same bytes written to a file.
#include "fuzz_common.h"
#include "kmodel/architecture.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = kfuzz::scratch_dir() + "/model.json";
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    kmodel::ArchitectureSpec spec = kmodel::parse_architecture(text, "fuzz.json");
    for (const auto& layer : spec.layers)
      if (layer.is_model()) (void)kmodel::parse_nested_architecture(layer, spec.dialect, "fuzz.json");
  } catch (const kmodel::Error&) {
  } catch (const std::exception&) {
  }
  (void)kmodel::detect_dialect(text, "");
  kfuzz::write_file(path, data, size);
  kfuzz::read_and_exercise(kmodel::Format::kJson, path);
  return 0;
}
