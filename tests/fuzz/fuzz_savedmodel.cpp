// Fuzzes SavedModel protos. The first input byte picks the target: even -> the input is
// saved_model.pb (keras_metadata.pb and variables/ from a fixed fixture), odd -> the input is
// keras_metadata.pb (saved_model.pb and variables/ fixed). The directory is then read, inspected and
// validated through the public API.
#include "fuzz_common.h"

#ifndef KMODEL_TESTDATA
#error "KMODEL_TESTDATA must name the testdata directory"
#endif

namespace {
const std::string kFixture = std::string(KMODEL_TESTDATA) + "/savedmodel/coffee_roast_savedmodel_keras";

const std::string& model_dir() {
  static const std::string dir = [] {
    std::string d = kfuzz::scratch_dir() + "/sm";
    mkdir(d.c_str(), 0755);
    mkdir((d + "/variables").c_str(), 0755);
    kfuzz::copy_file(kFixture + "/variables/variables.index", d + "/variables/variables.index");
    kfuzz::copy_file(kFixture + "/variables/variables.data-00000-of-00001",
                     d + "/variables/variables.data-00000-of-00001");
    return d;
  }();
  return dir;
}
const std::string& fixed_pb() {
  static const std::string s = kfuzz::read_whole(kFixture + "/saved_model.pb");
  return s;
}
const std::string& fixed_meta() {
  static const std::string s = kfuzz::read_whole(kFixture + "/keras_metadata.pb");
  return s;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const bool metadata = data[0] & 1;
  data += 1;
  size -= 1;
  const std::string& dir = model_dir();
  const std::string& pb = metadata ? fixed_pb() : fixed_meta();
  kfuzz::write_file(dir + (metadata ? "/keras_metadata.pb" : "/saved_model.pb"), data, size);
  kfuzz::write_file(dir + (metadata ? "/saved_model.pb" : "/keras_metadata.pb"),
                    reinterpret_cast<const uint8_t*>(pb.data()), pb.size());
  kfuzz::read_and_exercise(kmodel::Format::kSavedModel, dir);
  return 0;
}
