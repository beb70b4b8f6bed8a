// Weight-name rules of the Keras HDF5 layout (see h5_layout.h).
#include "formats/h5/h5_layout.h"

namespace kmodel::formats::h5 {

namespace {
bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
}  // namespace

std::string attr_from_weight_name(const std::string& layer, const std::string& class_name,
                                  const std::string& weight_name) {
  std::string name = weight_name;
  auto colon = name.rfind(':');
  if (colon != std::string::npos && name.find('/', colon) == std::string::npos) name.resize(colon);
  if (name.rfind(layer + "/", 0) == 0) name = name.substr(layer.size() + 1);
  // RNN layers keep their variables in a cell scope: "<x>_cell/kernel" -> "cell/kernel".
  auto slash = name.find('/');
  if (slash != std::string::npos && ends_with(name.substr(0, slash), "_cell") &&
      name.find('/', slash + 1) == std::string::npos)
    name = "cell" + name.substr(slash);
  return name;
}

}  // namespace kmodel::formats::h5
