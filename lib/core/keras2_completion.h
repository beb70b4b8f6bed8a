// Variables tf.keras 2 creates that Keras 3 does not. tf.keras' Normalization layer owns an int64
// `count` (samples seen by adapt) next to mean and variance; Keras 3's has no such variable, so a
// model that comes from a .keras archive lacks it. tf.keras loads H5 weights by position and
// refuses a layer whose count of arrays differs, so when a Keras 3 model is written in a Keras 2
// format (H5, SavedModel, checkpoint) each such missing non-trainable variable is added with its
// initial value (count = 0: only a later adapt() reads it; inference does not), and named in a warning.
#pragma once

#include <string>
#include <vector>

#include "kmodel/model.h"

namespace kmodel {

// A copy of `model` with the Keras-2-only variables its layers lack added (see above). Models not
// in the Keras 3 dialect, or without an architecture, are returned unchanged. Only variables that
// are non-trainable, of a fully known shape and with a constant initializer (zeros, ones) are
// added, and only after the layer's own weights, which must match the Keras 2 list's first names.
Model with_keras2_only_variables(const Model& model, std::vector<std::string>* warnings);

}  // namespace kmodel
