// SavedModel writer (issue 5): not implemented yet.
#include "formats/savedmodel/savedmodel_format.h"
#include "kmodel/error.h"

namespace kmodel::formats::savedmodel {

void write(const Model&, const std::string& path, const WriteOptions&) {
  throw UnsupportedError(path, "", "writing the savedmodel format is not supported yet");
}

}  // namespace kmodel::formats::savedmodel
