// Placeholder until the checkpoint module lands: every entry point reports "not supported yet".
#include "formats/checkpoint/checkpoint_format.h"

#include "kmodel/error.h"

namespace kmodel::formats::checkpoint {

bool sniff(const std::string&) { return false; }
Model read(const std::string& path, const ReadOptions&) {
  throw UnsupportedError(path, "", "reading the checkpoint format is not supported yet");
}
void write(const Model&, const std::string& path, const WriteOptions&) {
  throw UnsupportedError(path, "", "writing the checkpoint format is not supported yet");
}

}  // namespace kmodel::formats::checkpoint
