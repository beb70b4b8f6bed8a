// Entry points of the json format module, called only by lib/formats.cc.
#pragma once

#include <string>

#include "kmodel/formats.h"

namespace kmodel::formats::json {

// True when the path holds this format (decided by content, never by name alone).
bool sniff(const std::string& path);
Model read(const std::string& path, const ReadOptions& options);
void write(const Model& model, const std::string& path, const WriteOptions& options);
// model.to_json()-style text of the architecture; throws UnsupportedError when there is none.
std::string to_json_text(const Model& model);

}  // namespace kmodel::formats::json
