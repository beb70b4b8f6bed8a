// Translation of Keras model JSON between dialects: Keras 2 (and Keras 1 where a mapping exists)
// <-> Keras 3 (FORMATS.md B.3, F). Covered: the serialized-object envelope (module, registered_name,
// build_config), InputLayer batch_input_shape <-> batch_shape, Functional inbound_nodes list form <->
// {"args", "kwargs"} with __keras_tensor__ objects, dtype strings/Policy <-> DTypePolicy objects,
// initializer/regularizer/constraint objects, renamed or removed layer arguments, and the H5
// training_config <-> Keras 3 compile_config.
//
// Nothing is dropped silently: every argument, key or object that has no equivalent in the target
// dialect is named in `warnings` (which may be nullptr when the caller does not care).
#pragma once

#include <string>
#include <vector>

namespace kmodel {

// Keras 1/2 model JSON ({"class_name", "config", ...}) -> Keras 3 serialized model as config.json holds
// it ({"module", "class_name", "config", "registered_name", "build_config"}). Input already in the
// Keras 3 dialect is returned unchanged. Throws BadInputError on JSON that is not a model.
std::string to_keras3_model_config(const std::string& json, std::vector<std::string>* warnings);

// Keras 3 serialized model -> Keras 2 / tf.keras model JSON {"class_name", "config"} (the form H5
// model_config attributes hold). Input already in the Keras 1/2 dialect is returned unchanged.
std::string to_keras2_model_config(const std::string& json, std::vector<std::string>* warnings);

// H5 training_config (Keras 1/2: optimizer_config, loss, metrics, ...) -> Keras 3 compile_config.
std::string to_keras3_compile_config(const std::string& training_config, std::vector<std::string>* warnings);

// Keras 3 compile_config -> H5 training_config (optimizer_config in the legacy {"class_name","config"} form).
std::string to_keras2_training_config(const std::string& compile_config, std::vector<std::string>* warnings);

// True when a training/compile config JSON is in the Keras 3 compile_config form (has "optimizer",
// no "optimizer_config").
bool is_keras3_compile_config(const std::string& json);

}  // namespace kmodel
