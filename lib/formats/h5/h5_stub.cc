// Placeholder until the h5 module lands: every entry point reports "not supported yet".
#include "formats/h5/h5_format.h"

#include "kmodel/error.h"

namespace kmodel::formats::h5 {

bool sniff(const std::string&) { return false; }
Model read(const std::string& path, const ReadOptions&) {
  throw UnsupportedError(path, "", "reading the h5 format is not supported yet");
}
void write(const Model&, const std::string& path, const WriteOptions&) {
  throw UnsupportedError(path, "", "writing the h5 format is not supported yet");
}

}  // namespace kmodel::formats::h5
