// Placeholder until the savedmodel module lands: every entry point reports "not supported yet".
#include "formats/savedmodel/savedmodel_format.h"

#include "kmodel/error.h"

namespace kmodel::formats::savedmodel {

bool sniff(const std::string&) { return false; }
Model read(const std::string& path, const ReadOptions&) {
  throw UnsupportedError(path, "", "reading the savedmodel format is not supported yet");
}
void write(const Model&, const std::string& path, const WriteOptions&) {
  throw UnsupportedError(path, "", "writing the savedmodel format is not supported yet");
}

}  // namespace kmodel::formats::savedmodel
