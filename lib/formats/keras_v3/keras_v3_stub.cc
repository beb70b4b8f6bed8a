// Placeholder until the keras_v3 module lands: every entry point reports "not supported yet".
#include "formats/keras_v3/keras_v3_format.h"

#include "kmodel/error.h"

namespace kmodel::formats::keras_v3 {

bool sniff(const std::string&) { return false; }
Model read(const std::string& path, const ReadOptions&) {
  throw UnsupportedError(path, "", "reading the keras_v3 format is not supported yet");
}
void write(const Model&, const std::string& path, const WriteOptions&) {
  throw UnsupportedError(path, "", "writing the keras_v3 format is not supported yet");
}

}  // namespace kmodel::formats::keras_v3
