// Which layer class names are Keras built-ins (Keras 1, 2 and 3), so reports can tell custom
// objects apart, and which classes carry Python code (Lambda) that kmodel never runs.
#pragma once

#include <string>

namespace kmodel {

// True for layer/model classes shipped with Keras 1, 2 or 3 (including tf.keras-only ones).
bool is_builtin_layer_class(const std::string& class_name);
// True for layers whose config carries Python code (Lambda, TFOpLambda is not: it names a TF op).
bool is_code_layer_class(const std::string& class_name);

}  // namespace kmodel
