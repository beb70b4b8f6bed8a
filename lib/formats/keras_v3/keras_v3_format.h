// Entry points of the keras_v3 format module, called only by lib/formats.cc.
#pragma once

#include <string>

#include "kmodel/formats.h"

namespace kmodel::formats::keras_v3 {

// True when the path holds this format (decided by content, never by name alone).
bool sniff(const std::string& path);
Model read(const std::string& path, const ReadOptions& options);
void write(const Model& model, const std::string& path, const WriteOptions& options);

}  // namespace kmodel::formats::keras_v3
