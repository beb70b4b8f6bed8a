// Keras 3 saving-layout rules (see keras_v3_layout.h).
#include "formats/keras_v3/keras_v3_layout.h"

#include <cctype>
#include <regex>

#include "core/keras_classes.h"

namespace kmodel::formats::keras_v3 {

std::string to_snake_case(const std::string& class_name) {
  static const std::regex non_word("[^A-Za-z0-9_]+");
  static const std::regex cap_word("(.)([A-Z][a-z]+)");
  static const std::regex lower_upper("([a-z])([A-Z])");
  std::string s = std::regex_replace(class_name, non_word, "");
  s = std::regex_replace(s, cap_word, "$1_$2");
  s = std::regex_replace(s, lower_upper, "$1_$2");
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::vector<ContainerItem> container_items(const ArchitectureSpec& arch, const std::string& base) {
  std::vector<ContainerItem> out;
  std::map<std::string, int> used;
  bool sequential = arch.class_name == "Sequential";
  for (size_t i = 0; i < arch.layers.size(); ++i) {
    const auto& spec = arch.layers[i];
    if (sequential && spec.class_name == "InputLayer") continue;
    std::string cls = spec.class_name == "Model" ? "Functional" : spec.class_name;
    std::string name = to_snake_case(cls);
    auto it = used.find(name);
    if (it == used.end()) {
      used[name] = 0;
    } else {
      name += "_" + std::to_string(++it->second);
    }
    out.push_back({i, base + "/" + name});
  }
  return out;
}

std::string owner_path(const std::string& attr) {
  auto slash = attr.rfind('/');
  return slash == std::string::npos ? "" : attr.substr(0, slash);
}

namespace {
void borrow_base_classes(ArchitectureSpec& arch) {
  for (auto& spec : arch.layers) {
    if (spec.is_model()) continue;
    const std::string& cls = spec.class_name;
    if (cls.size() > 1 && cls[0] == 'Q' && std::isupper(static_cast<unsigned char>(cls[1])) &&
        !is_builtin_layer_class(cls) && is_builtin_layer_class(cls.substr(1)))
      spec.class_name = cls.substr(1);
  }
}
}  // namespace

std::map<std::string, LayerShapes> expected_layer_weights(const ArchitectureSpec& arch, const std::string& file) {
  std::map<std::string, LayerShapes> shapes;
  try {
    shapes = infer_layer_shapes(arch, file);
  } catch (const std::exception&) {
    // Shapes are a convenience for naming; an architecture kmodel cannot follow still loads.
  }
  ArchitectureSpec borrowed = arch;
  borrow_base_classes(borrowed);
  std::map<std::string, LayerShapes> base;
  try {
    base = infer_layer_shapes(borrowed, file);
  } catch (const std::exception&) {
  }
  for (auto& [key, ls] : base) {
    auto it = shapes.find(key);
    if (it == shapes.end()) {
      shapes[key] = ls;
    } else if (!it->second.known && ls.known) {
      std::string cls = it->second.class_name;
      it->second = ls;
      it->second.class_name = cls;
    }
  }
  return shapes;
}

bool is_rnn_class(const std::string& class_name) {
  return class_name == "LSTM" || class_name == "GRU" || class_name == "SimpleRNN" || class_name == "ConvLSTM1D" ||
         class_name == "ConvLSTM2D" || class_name == "ConvLSTM3D" || class_name == "RNN";
}

std::string h5_weight_name(const std::string& layer, const std::string& class_name, const std::string& attr) {
  std::string a = attr;
  if (a.rfind("cell/", 0) == 0 && is_rnn_class(class_name)) a = to_snake_case(class_name) + "_cell/" + a.substr(5);
  return layer + "/" + a + ":0";
}

}  // namespace kmodel::formats::keras_v3
