// predict's array files (kmodel/predict.h read_arrays / write_arrays / format_arrays): .npy and .npz
// through io/npy, JSON nested lists, CSV tables; outputs through io::AtomicOutput.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/json_util.h"
#include "io/atomic_output.h"
#include "io/file_util.h"
#include "io/npy.h"
#include "kmodel/error.h"
#include "kmodel/predict.h"

namespace kmodel {
namespace {

constexpr uint64_t kMaxTextInput = uint64_t{1} << 30;

bool ends_with(const std::string& s, const std::string& suffix) {
  if (s.size() < suffix.size()) return false;
  for (size_t i = 0; i < suffix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[s.size() - suffix.size() + i])) != suffix[i]) return false;
  return true;
}

// Nested JSON list -> shape + values; checks that it is rectangular.
void walk_json(const json::Value& v, size_t depth, Shape& shape, std::vector<float>& out, const std::string& file,
               bool& shape_fixed) {
  if (v.IsNumber() || v.IsBool()) {
    if (!shape_fixed) shape_fixed = true;
    if (depth != shape.size()) throw BadInputError(file, "", "ragged nested list: a number at depth " + std::to_string(depth));
    out.push_back(v.IsBool() ? (v.GetBool() ? 1.f : 0.f) : static_cast<float>(v.GetDouble()));
    return;
  }
  if (!v.IsArray()) throw BadInputError(file, "", "expected numbers or lists of numbers");
  if (!shape_fixed && depth == shape.size()) {
    if (depth > 32) throw BadInputError(file, "", "nesting deeper than 32 levels");
    shape.push_back(v.Size());
  }
  if (depth >= shape.size() || shape[depth] != static_cast<int64_t>(v.Size()))
    throw BadInputError(file, "", "ragged nested list at depth " + std::to_string(depth));
  if (v.Size() == 0) shape_fixed = true;
  for (const auto& e : v.GetArray()) walk_json(e, depth + 1, shape, out, file, shape_fixed);
}

FloatArray array_from_json(const json::Value& v, const std::string& file) {
  FloatArray a;
  bool fixed = false;
  walk_json(v, 0, a.shape, a.values, file, fixed);
  return a;
}

std::vector<NamedArray> read_csv(const std::string& path) {
  std::string text = io::read_file(path, kMaxTextInput);
  std::istringstream in(text);
  std::string line;
  FloatArray a;
  int64_t cols = -1, rows = 0, lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    std::vector<float> row;
    bool numeric = true;
    std::stringstream ls(line);
    std::string cell;
    while (std::getline(ls, cell, ',')) {
      char* end = nullptr;
      std::string c = cell;
      c.erase(0, c.find_first_not_of(" \t"));
      c.erase(c.find_last_not_of(" \t") + 1);
      double d = std::strtod(c.c_str(), &end);
      if (c.empty() || end != c.c_str() + c.size()) {
        numeric = false;
        break;
      }
      row.push_back(static_cast<float>(d));
    }
    if (!line.empty() && line.back() == ',') numeric = false;
    if (!numeric) {
      if (rows == 0 && cols < 0) {
        cols = 0;  // header line
        continue;
      }
      throw BadInputError(path, "line " + std::to_string(lineno), "not a row of numbers");
    }
    if (cols > 0 && static_cast<int64_t>(row.size()) != cols)
      throw BadInputError(path, "line " + std::to_string(lineno),
                          "row has " + std::to_string(row.size()) + " values, expected " + std::to_string(cols));
    cols = static_cast<int64_t>(row.size());
    a.values.insert(a.values.end(), row.begin(), row.end());
    ++rows;
  }
  if (rows == 0) throw BadInputError(path, "", "CSV file holds no rows of numbers");
  a.shape = {rows, cols};
  return {{"", std::move(a)}};
}

void put_json(std::string& out, const FloatArray& a, size_t dim, int64_t& pos) {
  if (dim == a.shape.size()) {
    float v = a.values[pos++];
    if (!std::isfinite(v)) {
      out += std::isnan(v) ? "NaN" : (v > 0 ? "Infinity" : "-Infinity");
      return;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(v));
    out += buf;
    return;
  }
  out += '[';
  for (int64_t i = 0; i < a.shape[dim]; ++i) {
    if (i) out += ',';
    put_json(out, a, dim + 1, pos);
  }
  out += ']';
}

Tensor to_tensor(const FloatArray& a) {
  Tensor t;
  t.dtype = DType::kFloat32;
  t.shape = a.shape;
  t.data.resize(a.values.size() * 4);
  std::memcpy(t.data.data(), a.values.data(), t.data.size());
  return t;
}

}  // namespace

std::vector<NamedArray> read_arrays(const std::string& path) {
  if (!io::path_exists(path)) throw IoError(path, "input file does not exist");
  if (ends_with(path, ".json")) {
    auto doc = json::parse(io::read_file(path, kMaxTextInput), path);
    std::vector<NamedArray> out;
    if (doc.IsObject()) {
      for (const auto& m : doc.GetObject()) out.emplace_back(m.name.GetString(), array_from_json(m.value, path));
    } else {
      out.emplace_back("", array_from_json(doc, path));
    }
    return out;
  }
  if (ends_with(path, ".csv")) return read_csv(path);
  const std::string head = io::read_head(path, 6);
  if (head.size() >= 4 && head.compare(0, 4, "PK\x03\x04") == 0) {
    std::vector<NamedArray> out;
    for (auto& [name, t] : io::read_npz(path)) out.emplace_back(name, to_float_array(t, path + ":" + name));
    return out;
  }
  if (head == "\x93NUMPY") return {{"", to_float_array(io::read_npy(path), path)}};
  throw BadInputError(path, "", "not a .npy/.npz file, and the name does not end in .json or .csv");
}

void write_arrays(const std::vector<NamedArray>& arrays, const std::string& path, bool force) {
  if (ends_with(path, ".npy")) {
    if (arrays.size() != 1)
      throw UsageError("the model has " + std::to_string(arrays.size()) + " outputs; write them to an .npz or .json file");
    io::AtomicOutput out(path, io::AtomicOutput::Kind::kFile, force);
    std::string bytes = io::encode_npy(to_tensor(arrays[0].second));
    std::ofstream f(out.temp_path(), std::ios::binary);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    f.close();
    if (!f) throw IoError(path, "cannot write the output");
    out.commit();
  } else if (ends_with(path, ".npz")) {
    io::AtomicOutput out(path, io::AtomicOutput::Kind::kFile, force);
    std::vector<std::pair<std::string, Tensor>> ts;
    for (const auto& [name, a] : arrays) ts.emplace_back(name, to_tensor(a));
    io::write_npz(ts, out.temp_path());
    out.commit();
  } else if (ends_with(path, ".json")) {
    io::AtomicOutput out(path, io::AtomicOutput::Kind::kFile, force);
    std::string text = "{";
    for (size_t i = 0; i < arrays.size(); ++i) {
      if (i) text += ",\n ";
      text += json::quote(arrays[i].first) + ": ";
      int64_t pos = 0;
      put_json(text, arrays[i].second, 0, pos);
    }
    text += "}\n";
    std::ofstream f(out.temp_path(), std::ios::binary);
    f << text;
    f.close();
    if (!f) throw IoError(path, "cannot write the output");
    out.commit();
  } else {
    throw UsageError("cannot tell the output format from '" + path + "'; name it .npy, .npz or .json");
  }
}

std::string format_arrays(const std::vector<NamedArray>& arrays) {
  std::string out;
  for (const auto& [name, a] : arrays) {
    out += name + " " + shape_str(a.shape) + "\n";
    const int64_t rows = a.shape.empty() ? 1 : a.shape[0];
    const int64_t per = rows ? static_cast<int64_t>(a.values.size()) / rows : 0;
    for (int64_t r = 0; r < rows; ++r) {
      out += "  [" + std::to_string(r) + "]";
      for (int64_t i = 0; i < per; ++i) {
        char buf[32];
        std::snprintf(buf, sizeof buf, " %.6g", static_cast<double>(a.values[r * per + i]));
        out += buf;
      }
      out += "\n";
    }
  }
  return out;
}

}  // namespace kmodel
