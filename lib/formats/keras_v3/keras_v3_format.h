// Entry points of the keras_v3 format module, called only by lib/formats.cc.
#pragma once

#include <hdf5.h>

#include <string>

#include "kmodel/formats.h"

namespace kmodel::formats::keras_v3 {

// True when the path holds this format (decided by content, never by name alone): a ZIP archive
// holding config.json, a directory holding config.json + model.weights.h5 (`save(zipped=False)`),
// or a standalone Keras 3 `.weights.h5` file (see is_keras3_weights_h5).
bool sniff(const std::string& path);
Model read(const std::string& path, const ReadOptions& options);
void write(const Model& model, const std::string& path, const WriteOptions& options);

// True for an open HDF5 file laid out as Keras 3 writes weights (`model.save_weights("x.weights.h5")`
// or the model.weights.h5 inside a .keras): a root group `layers` or `vars` (or `optimizer`) and none of
// the legacy Keras attributes (`model_config`, `layer_names`) nor a `model_weights` group. Never throws.
bool is_keras3_weights_h5(hid_t file);

}  // namespace kmodel::formats::keras_v3
