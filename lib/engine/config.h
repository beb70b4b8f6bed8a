// Layer config parsing for the engine, in one place: typed access to a layer's "config" JSON with
// Keras 1 / 2 / 3 key aliases, int-or-list arguments, activations, and data_format. Layers receive
// values from here; their math never touches JSON.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kmodel/model.h"

namespace kmodel::engine {

// A parsed activation (Keras string names, or {"class_name": ...} objects in Keras 3 / tf.keras).
struct Activation {
  enum class Kind {
    kLinear, kRelu, kSigmoid, kHardSigmoid, kHardSigmoidK3, kTanh, kSoftmax, kLogSoftmax, kSoftplus,
    kSoftsign, kSelu, kElu, kExponential, kSwish, kGelu, kGeluTanh, kRelu6, kLeakyRelu, kMish,
    kHardSilu,
  };
  Kind kind = Kind::kLinear;
  float alpha = 0.f;  // leaky_relu slope, elu alpha
  bool is_linear() const { return kind == Kind::kLinear; }
};

// Parses an activation name; throws UnsupportedError naming `layer` for unknown ones.
// `dialect` decides hard_sigmoid's formula (Keras 3: relu6(x + 3) / 6; before: 0.2 x + 0.5).
Activation parse_activation(const std::string& name, KerasDialect dialect, const std::string& layer);

class Config {
 public:
  Config();
  // Parses the config JSON text; throws BadInputError naming `file` and `layer`.
  Config(const std::string& json_text, const std::string& file, const std::string& layer);

  bool has(const char* key) const;  // present and not null
  // First present key among `keys` (Keras 1 aliases: {"units", "output_dim"}).
  std::optional<std::string> str(std::initializer_list<const char*> keys) const;
  std::string str_or(std::initializer_list<const char*> keys, const std::string& fallback) const;
  std::optional<double> num(std::initializer_list<const char*> keys) const;
  double num_or(std::initializer_list<const char*> keys, double fallback) const;
  int64_t int_or(std::initializer_list<const char*> keys, int64_t fallback) const;
  bool bool_or(std::initializer_list<const char*> keys, bool fallback) const;
  // An int or a list of ints, broadcast to n values (kernel_size 3 -> {3, 3}); fallback if absent.
  std::vector<int64_t> ints(std::initializer_list<const char*> keys, size_t n, int64_t fallback) const;
  // A list of ints of any length (target_shape, dims); nullopt if absent.
  std::optional<std::vector<int64_t>> int_list(const char* key) const;
  // A list that may contain nulls (batch_input_shape): null -> -1.
  std::optional<std::vector<int64_t>> shape_list(std::initializer_list<const char*> keys) const;
  // Nested pairs ((1, 1), (2, 2)) or an int or a list, normalized to n (before, after) pairs.
  std::vector<std::pair<int64_t, int64_t>> pairs(const char* key, size_t n, int64_t fallback) const;
  // The JSON text of a member (for wrappers' inner layer config); "" if absent.
  std::string json_of(const char* key) const;
  // A nested layer entry {"class_name", "config"} under `key` (wrappers): (class_name, config JSON).
  // Throws BadInputError when absent or malformed.
  std::pair<std::string, std::string> nested_layer(const char* key) const;
  // Activation under `keys` (default "linear").
  Activation activation(std::initializer_list<const char*> keys, KerasDialect dialect) const;
  // True for channels_first (data_format) or Keras 1 dim_ordering "th".
  bool channels_first() const;
  // List of numbers (Normalization mean/variance, Rescaling scale); nullopt if absent or not numeric.
  std::optional<std::vector<double>> numbers(const char* key) const;

  const std::string& layer() const { return layer_; }
  const std::string& file() const { return file_; }

 private:
  struct Doc;
  std::shared_ptr<Doc> doc_;
  std::string file_, layer_;
};

}  // namespace kmodel::engine
