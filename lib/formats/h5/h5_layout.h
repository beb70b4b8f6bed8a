// Names and small helpers of the Keras HDF5 layout (FORMATS.md section A), shared by the H5 reader
// and writer: attribute and group names, and the weight-name <-> attribute-path rules.
#pragma once

#include <string>

namespace kmodel::formats::h5 {

// Root attributes of a full-model file (A.2).
inline constexpr const char* kKerasVersionAttr = "keras_version";
inline constexpr const char* kBackendAttr = "backend";
inline constexpr const char* kModelConfigAttr = "model_config";
inline constexpr const char* kTrainingConfigAttr = "training_config";
// Weights group and its attributes (A.3); layer groups carry kWeightNamesAttr.
inline constexpr const char* kModelWeightsGroup = "model_weights";
inline constexpr const char* kOptimizerWeightsGroup = "optimizer_weights";
inline constexpr const char* kTopLevelWeightsGroup = "top_level_model_weights";
inline constexpr const char* kLayerNamesAttr = "layer_names";
inline constexpr const char* kWeightNamesAttr = "weight_names";

// Extras keys (Model::extras) that keep H5 details for a faithful round trip.
inline constexpr const char* kExtraWeightsGroupKerasVersion = "h5.weights_group.keras_version";
inline constexpr const char* kExtraWeightsGroupBackend = "h5.weights_group.backend";
inline constexpr const char* kExtraNoWeightsGroupKerasVersion = "h5.weights_group.no_keras_version";
inline constexpr const char* kExtraNoWeightsGroupBackend = "h5.weights_group.no_backend";
inline constexpr const char* kExtraHasTopLevelGroup = "h5.weights_group.has_top_level_model_weights";

// Object path of a weight below its layer from its H5 weight name: strips ":0", the layer-name
// prefix, and maps RNN cell sub-scopes ("lstm/lstm_cell/kernel:0" -> "cell/kernel").
std::string attr_from_weight_name(const std::string& layer, const std::string& class_name,
                                  const std::string& weight_name);

}  // namespace kmodel::formats::h5
