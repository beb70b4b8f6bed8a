// RapidJSON helpers (see json_util.h).
#include "core/json_util.h"

#include <limits>
#include <optional>
#include <string>

#include <rapidjson/error/en.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "kmodel/error.h"

namespace kmodel::json {

// RapidJSON's parser, serializers and destructor recurse once per nesting level: a hostile document
// nested 100 000 levels deep overflows the stack. Keras configs stay far below this bound.
constexpr int kMaxJsonDepth = 512;

void check_depth(std::string_view text, const std::string& file) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth)
        throw BadInputError(file, "byte " + std::to_string(i),
                            "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
}

// RapidJSON 1.1's full-precision number parser normalizes a zero significand with clz(0), which is
// undefined, for a zero literal it cannot take its fast path on: a large exponent ("-0e50") or many
// fraction digits ("0.000...0", 23 or more); UBSan findings by fuzz_json. Zero is zero whatever its
// digits, so every valid zero literal with a fraction or exponent is rewritten to "0.0" (a double, as
// before) padded with spaces to the same length, so error offsets stay right, in a copy of the text;
// text without such literals is parsed as it is. Invalid literals ("0.e5") are left for the parser to
// reject.
namespace {
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Length of the valid JSON number at `i` whose digits are all zero and which has a fraction or an
// exponent; 0 if there is none.
size_t zero_double_literal_length(std::string_view text, size_t i) {
  size_t j = i;
  if (j < text.size() && text[j] == '-') ++j;
  if (j >= text.size() || text[j] != '0') return 0;
  ++j;
  bool is_double = false;
  if (j < text.size() && text[j] == '.') {
    size_t digits_start = ++j;
    while (j < text.size() && text[j] == '0') ++j;
    if (j == digits_start || (j < text.size() && is_digit(text[j]))) return 0;
    is_double = true;
  }
  if (j < text.size() && (text[j] == 'e' || text[j] == 'E')) {
    ++j;
    if (j < text.size() && (text[j] == '+' || text[j] == '-')) ++j;
    size_t digits_start = j;
    while (j < text.size() && is_digit(text[j])) ++j;
    if (j == digits_start) return 0;
    is_double = true;
  }
  if (!is_double || (j < text.size() && is_digit(text[j]))) return 0;
  return j - i;
}
}  // namespace

std::optional<std::string> normalize_zero_literals(std::string_view text) {
  std::optional<std::string> out;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
      continue;
    }
    if (c != '-' && !is_digit(c)) continue;
    size_t len = zero_double_literal_length(text, i);
    const std::string_view zero = c == '-' ? "-0.0" : "0.0";
    if (len > zero.size()) {
      if (!out) out.emplace(text);
      for (size_t k = 0; k < len; ++k) (*out)[i + k] = k < zero.size() ? zero[k] : ' ';
    }
    // Skip the rest of this token (a number, or digits inside a bare word).
    size_t j = i + 1;
    while (j < text.size() && (is_digit(text[j]) || text[j] == '.' || text[j] == 'e' || text[j] == 'E' ||
                               text[j] == '+' || text[j] == '-'))
      ++j;
    i = j - 1;
  }
  return out;
}

Document parse(std::string_view text, const std::string& file) {
  check_depth(text, file);
  std::optional<std::string> safe = normalize_zero_literals(text);
  if (safe) text = *safe;
  Document doc;
  constexpr unsigned kFlags = rapidjson::kParseNanAndInfFlag | rapidjson::kParseFullPrecisionFlag;
  doc.Parse<kFlags>(text.data(), text.size());
  if (doc.HasParseError())
    throw BadInputError(file, "byte " + std::to_string(doc.GetErrorOffset()),
                        std::string("invalid JSON: ") + rapidjson::GetParseError_En(doc.GetParseError()));
  return doc;
}

std::string to_string(const Value& value) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer, rapidjson::UTF8<>, rapidjson::UTF8<>, rapidjson::CrtAllocator,
                    rapidjson::kWriteNanAndInfFlag>
      writer(buf);
  value.Accept(writer);
  return std::string(buf.GetString(), buf.GetSize());
}

std::string to_pretty_string(const Value& value) {
  rapidjson::StringBuffer buf;
  // RapidJSON 1.1's PrettyWriter cannot take extra write flags; NaN/Inf fall back to compact form.
  rapidjson::PrettyWriter<rapidjson::StringBuffer> writer(buf);
  writer.SetIndent(' ', 2);
  if (!value.Accept(writer)) return to_string(value);
  return std::string(buf.GetString(), buf.GetSize());
}

const Value* member(const Value& obj, const char* key) {
  if (!obj.IsObject()) return nullptr;
  auto it = obj.FindMember(key);
  return it == obj.MemberEnd() ? nullptr : &it->value;
}

std::optional<std::string> get_string(const Value& obj, const char* key) {
  const Value* v = member(obj, key);
  if (!v || !v->IsString()) return std::nullopt;
  return std::string(v->GetString(), v->GetStringLength());
}

int64_t to_int64(double v) {
  constexpr double kLimit = 4611686018427387904.0;  // 2^62
  if (!(v == v)) return 0;                          // NaN (not valid JSON, but never cast it)
  if (v >= kLimit) return int64_t{1} << 62;
  if (v <= -kLimit) return -(int64_t{1} << 62);
  return static_cast<int64_t>(v);
}

int to_int(double v) {
  int64_t x = to_int64(v);
  if (x > std::numeric_limits<int>::max()) return std::numeric_limits<int>::max();
  if (x < std::numeric_limits<int>::min()) return std::numeric_limits<int>::min();
  return static_cast<int>(x);
}

std::optional<int64_t> get_int(const Value& obj, const char* key) {
  const Value* v = member(obj, key);
  if (!v) return std::nullopt;
  if (v->IsInt64()) return v->GetInt64();
  if (v->IsDouble()) {
    double d = v->GetDouble();
    int64_t x = to_int64(d);
    if (static_cast<double>(x) == d) return x;
  }
  return std::nullopt;
}

std::optional<double> get_number(const Value& obj, const char* key) {
  const Value* v = member(obj, key);
  if (!v || !v->IsNumber()) return std::nullopt;
  return v->GetDouble();
}

std::optional<bool> get_bool(const Value& obj, const char* key) {
  const Value* v = member(obj, key);
  if (!v || !v->IsBool()) return std::nullopt;
  return v->GetBool();
}

std::string quote(std::string_view s) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buf);
  writer.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace kmodel::json
