// Keras 3 saving-layout rules shared by the .keras reader and writer (FORMATS.md B.4): the class-based
// auto names of `model.weights.h5` groups, and which object path below a layer holds which variable.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/layer_shapes.h"
#include "kmodel/architecture.h"

namespace kmodel::formats::keras_v3 {

inline constexpr const char* kMetadataEntry = "metadata.json";
inline constexpr const char* kConfigEntry = "config.json";
inline constexpr const char* kWeightsEntry = "model.weights.h5";
inline constexpr const char* kNpzWeightsEntry = "model.weights.npz";
inline constexpr const char* kAssetsPrefix = "assets/";
// Model::extras key prefix holding asset bytes ("keras_v3.asset:assets/<path>").
inline constexpr const char* kAssetExtraPrefix = "keras_v3.asset:";
// Model::extras key holding the config.json of a subclassed model (Model::model_config stays empty
// because no architecture can be derived from it; the .keras writer writes it back).
inline constexpr const char* kSubclassedConfigExtra = "keras_v3.subclassed_config";
// Model::extras key prefix naming the weights-file group of a layer that no architecture places
// ("keras_v3.group:<layer name>" -> "layers/dense_3"), so .keras -> .keras keeps the layout.
inline constexpr const char* kGroupExtraPrefix = "keras_v3.group:";
// Model::extras key holding metadata.json's date_saved.
inline constexpr const char* kDateSavedExtra = "keras_v3.date_saved";

// Keras' naming.to_snake_case: "BatchNormalization" -> "batch_normalization", "Conv2D" -> "conv2d",
// "QDense" -> "q_dense", "LSTM" -> "lstm", "SimpleRNN" -> "simple_rnn".
std::string to_snake_case(const std::string& class_name);

// One element of a saved container (a model's `layers` list), in container order.
struct ContainerItem {
  size_t spec_index = 0;   // index into ArchitectureSpec::layers
  std::string group;       // e.g. "layers/dense_1" (relative to the container's parent)
};
// The auto names of a model's `layers` container: snake_case(class) + per-class counter in order.
// Sequential models skip their InputLayer (Keras' Sequential.layers does not list it).
std::vector<ContainerItem> container_items(const ArchitectureSpec& arch, const std::string& base);

// Object path of a variable's owner below its layer: "cell/kernel" -> "cell", "kernel" -> "".
std::string owner_path(const std::string& attr);

// Expected weights of every layer (keyed like infer_layer_shapes); QKeras-style classes ("QDense")
// unknown to kmodel borrow the weights of their base class ("Dense") when it is a Keras built-in.
std::map<std::string, LayerShapes> expected_layer_weights(const ArchitectureSpec& arch, const std::string& file);

// H5-style full weight name for a variable `attr` ("cell/kernel") of `layer` of class `class_name`:
// "lstm/lstm_cell/kernel:0", "dense/kernel:0".
std::string h5_weight_name(const std::string& layer, const std::string& class_name, const std::string& attr);

// True for layer classes whose variables live in a `cell` sub-object in Keras 3.
bool is_rnn_class(const std::string& class_name);

}  // namespace kmodel::formats::keras_v3
