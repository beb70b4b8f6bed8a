#include "formats/keras_v3/keras_v3_format.h"
#include "kmodel/error.h"
namespace kmodel::formats::keras_v3 {
void write(const Model&, const std::string& path, const WriteOptions&) {
  throw UnsupportedError(path, "", "writing .keras is in progress");
}
}
