// RapidJSON helpers: parse with file-named errors, serialize compactly, typed member access.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <rapidjson/document.h>

namespace kmodel::json {

using Value = rapidjson::Value;
using Document = rapidjson::Document;

// Parses JSON text; throws BadInputError("<file>", "byte N", reason) on a syntax error.
// Python's json.dumps may emit NaN / Infinity: they are accepted.
Document parse(std::string_view text, const std::string& file);
// Compact serialization (like json.dumps(separators=(",", ":"))... but RapidJSON's style).
std::string to_string(const Value& value);
// Pretty serialization with 2-space indent.
std::string to_pretty_string(const Value& value);

// Member lookup helpers returning nullptr / nullopt when missing or of another type.
const Value* member(const Value& obj, const char* key);
std::optional<std::string> get_string(const Value& obj, const char* key);
std::optional<int64_t> get_int(const Value& obj, const char* key);
// A JSON number as an integer: truncated toward zero and saturated to +-2^62 (int: to its range).
// Configs from files may hold 1e300 where a size belongs; a plain cast of that is undefined.
int64_t to_int64(double v);
int to_int(double v);
std::optional<double> get_number(const Value& obj, const char* key);
std::optional<bool> get_bool(const Value& obj, const char* key);

// Escapes a string for embedding into JSON text (with the quotes).
std::string quote(std::string_view s);

}  // namespace kmodel::json
