// `inspect --security`: finds what would run code when Keras loads an artifact. Works on the JSON DOM
// of the configs and on archive entry headers only; nothing found is executed, unmarshalled or
// unpickled (npy headers are read as text to learn the dtype, payloads are never read).
#include "kmodel/security.h"

#include <stdlib.h>
#include <unistd.h>

#include <sstream>

#include <rapidjson/document.h>

#include "core/json_util.h"
#include "core/keras_classes.h"
#include "io/file_util.h"
#include "io/zip.h"
#include "kmodel/error.h"

namespace kmodel {
namespace {

constexpr uint64_t kMaxConfigBytes = uint64_t{256} << 20;
constexpr size_t kMaxNpyHead = 1 << 17;
constexpr int kMaxDepth = 200;  // JSON nesting we follow (RapidJSON parses deeper documents iteratively)

bool starts_with(const std::string& s, const char* p) { return s.rfind(p, 0) == 0; }

std::string describe_size(const json::Value& v) {
  if (v.IsString()) return std::to_string(v.GetStringLength()) + " chars";
  return "?";
}

bool looks_base64(const json::Value& v) {
  if (!v.IsString()) return false;
  const char* s = v.GetString();
  for (rapidjson::SizeType i = 0; i < v.GetStringLength(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (!(isalnum(c) || c == '+' || c == '/' || c == '=' || c == '\n' || c == '\r')) return false;
  }
  return v.GetStringLength() > 0;
}

// Keras 3 objects naming a module outside Keras, or a package-registered name, are custom objects.
bool keras3_custom(const json::Value& obj, std::string& why) {
  auto module = json::get_string(obj, "module");
  auto registered = json::get_string(obj, "registered_name");
  if (module && !module->empty() && !starts_with(*module, "keras") && !starts_with(*module, "tf_keras") &&
      !starts_with(*module, "tensorflow") && *module != "builtins" && !starts_with(*module, "numpy")) {
    why = "module '" + *module + "'";
    return true;
  }
  if (registered && registered->find('>') != std::string::npos && !starts_with(*registered, "keras")) {
    why = "registered_name '" + *registered + "'";
    return true;
  }
  return false;
}

// Describes the code a Lambda layer's `function` (or `output_shape`) carries.
std::string describe_function(const json::Value& cfg, const char* key, const char* type_key) {
  const json::Value* fn = json::member(cfg, key);
  if (!fn || fn->IsNull()) return "";
  std::string type = json::get_string(cfg, type_key).value_or("");
  if (fn->IsArray() && fn->Size() > 0 && (*fn)[0].IsString()) {
    const json::Value& code = (*fn)[0];
    return std::string("marshalled Python bytecode (") + (looks_base64(code) ? "base64" : "raw") + ", " +
           describe_size(code) + ")";
  }
  if (fn->IsObject()) {
    std::string cls = json::get_string(*fn, "class_name").value_or("");
    if (cls == "__lambda__") {
      const json::Value* c = json::member(*fn, "config");
      const json::Value* code = c ? json::member(*c, "code") : nullptr;
      return "Keras 3 __lambda__ marshalled Python bytecode (" + (code ? describe_size(*code) : std::string("?")) + ")";
    }
    std::string name = json::get_string(*fn, "config").value_or(json::get_string(*fn, "registered_name").value_or(cls));
    std::string module = json::get_string(*fn, "module").value_or("");
    return "Python function '" + (module.empty() ? name : module + "." + name) + "'";
  }
  if (fn->IsString()) {
    if (type == "lambda") return std::string("marshalled Python bytecode (") + (looks_base64(*fn) ? "base64" : "raw") +
                                 ", " + describe_size(*fn) + ")";
    std::string module = json::get_string(cfg, "module").value_or(json::get_string(cfg, "function_module").value_or(""));
    return "Python function '" + (module.empty() ? "" : module + ".") + fn->GetString() + "'";
  }
  return "function of unexpected JSON type";
}

class Scanner {
 public:
  explicit Scanner(std::vector<SecurityFinding>& out) : out_(out) {}

  // `as_layer`: the object sits where Keras expects a layer (model root, layers[], wrapper layer, cells).
  void walk(const json::Value& v, const std::string& loc, bool as_layer, int depth) {
    if (depth > kMaxDepth) return;
    if (v.IsArray()) {
      for (rapidjson::SizeType i = 0; i < v.Size(); ++i)
        walk(v[i], loc + "[" + std::to_string(i) + "]", false, depth + 1);
      return;
    }
    if (!v.IsObject()) return;
    std::string cls = json::get_string(v, "class_name").value_or("");
    const json::Value* cfg = json::member(v, "config");
    std::string here = loc;
    if (!cls.empty() && cfg && cfg->IsObject()) {
      if (auto name = json::get_string(*cfg, "name")) here = (as_layer && !loc.empty() ? loc + "/" : loc.empty() ? "" : loc + ":") + *name;
    }
    if (here.empty()) here = cls.empty() ? "<root>" : cls;
    bool skip_function = false;
    if (cls == "Lambda" && cfg && cfg->IsObject()) {
      std::string what = describe_function(*cfg, "function", "function_type");
      std::string shape = describe_function(*cfg, "output_shape", "output_shape_type");
      if (what.empty()) what = "no function recorded";
      if (!shape.empty() && shape.find("bytecode") != std::string::npos) what += "; output_shape: " + shape;
      add("lambda", here, "Lambda layer: " + what);
      skip_function = true;
    } else if (cls == "__lambda__") {
      const json::Value* code = cfg ? json::member(*cfg, "code") : nullptr;
      add("lambda", here, "Keras 3 __lambda__ marshalled Python bytecode (" +
                              (code ? describe_size(*code) : std::string("?")) + ")");
      return;
    } else if (!cls.empty()) {
      std::string why;
      if (keras3_custom(v, why)) {
        add("custom_object", here, "class '" + cls + "' (" + why + ")");
      } else if (as_layer && !is_builtin_layer_class(cls) && !is_code_layer_class(cls)) {
        add("custom_object", here, "layer class '" + cls + "' is not a Keras built-in");
      }
    }
    for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
      std::string key(it->name.GetString(), it->name.GetStringLength());
      if (&it->value == cfg) {
        walk_config(*cfg, here, skip_function, depth + 1);
      } else if (key != "class_name" && key != "module" && key != "registered_name") {
        walk(it->value, here + "." + key, false, depth + 1);
      }
    }
  }

 private:
  void walk_config(const json::Value& cfg, const std::string& here, bool skip_function, int depth) {
    if (!cfg.IsObject()) {
      walk(cfg, here, false, depth);
      return;
    }
    for (auto it = cfg.MemberBegin(); it != cfg.MemberEnd(); ++it) {
      std::string key(it->name.GetString(), it->name.GetStringLength());
      if (skip_function && (key == "function" || key == "output_shape")) continue;
      const json::Value& val = it->value;
      if (key == "layers" && val.IsArray()) {
        for (rapidjson::SizeType i = 0; i < val.Size(); ++i) walk(val[i], here, true, depth + 1);
      } else if ((key == "layer" || key == "forward_layer" || key == "backward_layer" || key == "cell") &&
                 val.IsObject()) {
        walk(val, here, true, depth + 1);
      } else if (key == "cell" && val.IsArray()) {
        for (rapidjson::SizeType i = 0; i < val.Size(); ++i) walk(val[i], here, true, depth + 1);
      } else if (key == "cells" && val.IsArray()) {
        for (rapidjson::SizeType i = 0; i < val.Size(); ++i) walk(val[i], here, true, depth + 1);
      } else {
        walk(val, here + "." + key, false, depth + 1);
      }
    }
  }

  void add(const char* kind, const std::string& loc, const std::string& detail) {
    for (const auto& f : out_)
      if (f.kind == kind && f.location == loc && f.detail == detail) return;
    out_.push_back({kind, loc, detail});
  }

  std::vector<SecurityFinding>& out_;
};

void scan_json_text(const std::string& text, const std::string& file, const std::string& root, bool as_layer,
                    std::vector<SecurityFinding>& out) {
  if (text.empty()) return;
  json::Document doc = json::parse(text, file);
  Scanner(out).walk(doc, root, as_layer, 0);
}

// Scans the npy members of an npz file for object dtypes (numpy loads those with pickle).
void scan_npz_file(const std::string& npz_path, const std::string& location, const std::string& tmpdir,
                   std::vector<SecurityFinding>& out) {
  io::ZipReader zr(npz_path);
  int n = 0;
  for (const auto& e : zr.entries()) {
    if (e.is_directory()) continue;
    std::string dest = tmpdir + "/member" + std::to_string(n++);
    zr.extract_to(e.name, dest);
    std::string head = io::read_head(dest, kMaxNpyHead);
    ::unlink(dest.c_str());
    std::string loc = location + ":" + e.name;
    if (head.size() < 10 || head.compare(0, 6, "\x93NUMPY") != 0) {
      // np.load(allow_pickle=True) unpickles anything that is not an npy array.
      if (head.size() >= 2 && static_cast<unsigned char>(head[0]) == 0x80)
        out.push_back({"pickle", loc, "member is a Python pickle stream (not an npy array)"});
      continue;
    }
    size_t descr = head.find("'descr'");
    if (descr == std::string::npos) descr = head.find("\"descr\"");
    if (descr == std::string::npos) continue;
    size_t q1 = head.find_first_of("'\"", descr + 7);
    size_t q2 = q1 == std::string::npos ? q1 : head.find(head[q1], q1 + 1);
    std::string dt = q2 == std::string::npos ? "" : head.substr(q1 + 1, q2 - q1 - 1);
    bool object = dt.find('O') != std::string::npos;
    // Structured dtypes are lists ([('a', 'O')]): look at the whole descr up to the next key.
    if (!object && q1 != std::string::npos && head.find('[', descr) < q1) {
      size_t end = head.find("'fortran_order'", descr);
      std::string list = head.substr(descr, end == std::string::npos ? std::string::npos : end - descr);
      object = list.find("'O'") != std::string::npos || list.find("'|O'") != std::string::npos;
    }
    if (object)
      out.push_back({"pickle", loc, "npy array of object dtype ('" + dt + "'): numpy unpickles it on load"});
  }
}

struct TempDir {
  std::string path;
  TempDir() {
    const char* base = getenv("TMPDIR");
    std::string templ = std::string(base && *base ? base : "/tmp") + "/kmodel-sec-XXXXXX";
    if (!mkdtemp(templ.data())) throw IoError(templ, "cannot create a temporary directory");
    path = templ;
  }
  ~TempDir() {
    // Only files we created (member*, weights.npz) live here.
    for (int i = 0; i < 4096; ++i) {
      std::string p = path + "/member" + std::to_string(i);
      if (::unlink(p.c_str()) != 0 && i > 0) break;
    }
    ::unlink((path + "/weights.npz").c_str());
    ::rmdir(path.c_str());
  }
};

bool has_zip_magic(const std::string& path) {
  std::string head = io::read_head(path, 4);
  return head.size() == 4 && head.compare(0, 4, "PK\x03\x04") == 0;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::vector<SecurityFinding> security_findings_json(const std::string& json_text, const std::string& file) {
  std::vector<SecurityFinding> out;
  scan_json_text(json_text, file, "", true, out);
  return out;
}

std::vector<SecurityFinding> security_findings(const Model& model) {
  std::vector<SecurityFinding> out;
  if (!model.model_config.empty()) scan_json_text(model.model_config, model.path, "", true, out);
  if (!model.training_config.empty())
    scan_json_text(model.training_config, model.path, "training_config", false, out);
  // Layers the reader knows without an architecture config (class names from other metadata).
  for (const auto& layer : model.layers) {
    if (layer.class_name.empty() || !model.model_config.empty()) continue;
    if (is_code_layer_class(layer.class_name))
      out.push_back({"lambda", layer.name, "Lambda layer (its code is not recorded in this artifact)"});
    else if (!is_builtin_layer_class(layer.class_name))
      out.push_back({"custom_object", layer.name, "layer class '" + layer.class_name + "' is not a Keras built-in"});
  }
  return out;
}

SecurityReport scan_security(const std::string& path, const ReadOptions& options) {
  SecurityReport report;
  report.path = path;
  const bool dir = io::is_directory(path);
  const bool zip = !dir && has_zip_magic(path);
  const bool keras_dir = dir && io::is_regular_file(io::join_path(path, "config.json"));
  if (zip && !ends_with(path, ".keras")) {
    io::ZipReader probe(path);
    if (!probe.has("config.json")) {
      // A standalone .npz.
      report.format = "npz";
      TempDir tmp;
      scan_npz_file(path, io::basename(path), tmp.path, report.findings);
      return report;
    }
  }
  if (zip || keras_dir) {
    report.format = format_name(Format::kKerasV3);
    TempDir tmp;
    if (zip) {
      io::ZipReader zr(path);
      if (!zr.has("config.json")) throw BadInputError(path, "zip entries", "archive holds no config.json");
      scan_json_text(zr.read("config.json", kMaxConfigBytes), path + ":config.json", "", true, report.findings);
      for (const auto& e : zr.entries()) {
        if (e.is_directory() || !ends_with(e.name, ".npz")) continue;
        std::string dest = tmp.path + "/weights.npz";
        zr.extract_to(e.name, dest);
        scan_npz_file(dest, e.name, tmp.path, report.findings);
        ::unlink(dest.c_str());
      }
    } else {
      std::string cfg = io::join_path(path, "config.json");
      scan_json_text(io::read_file(cfg, kMaxConfigBytes), cfg, "", true, report.findings);
      std::string npz = io::join_path(path, "model.weights.npz");
      if (io::is_regular_file(npz)) scan_npz_file(npz, "model.weights.npz", tmp.path, report.findings);
    }
    return report;
  }
  Model model = read(path, options);
  report.format = format_name(model.origin);
  report.findings = security_findings(model);
  return report;
}

std::string security_text(const SecurityReport& report) {
  std::ostringstream os;
  os << "Security scan of " << report.path << " (" << report.format << ")\n";
  if (report.findings.empty()) {
    os << "No code found: no Lambda layers, __lambda__ configs, custom objects or pickled arrays.\n";
    return os.str();
  }
  os << report.findings.size() << " item(s) that would run code in Keras (kmodel runs none of it):\n";
  for (const auto& f : report.findings) os << "  [" << f.kind << "] " << f.location << ": " << f.detail << "\n";
  return os.str();
}

std::string security_json(const SecurityReport& report) {
  json::Document doc(rapidjson::kObjectType);
  auto& a = doc.GetAllocator();
  auto str = [&](const std::string& s) { return json::Value(s.c_str(), static_cast<rapidjson::SizeType>(s.size()), a); };
  doc.AddMember("path", str(report.path), a);
  doc.AddMember("format", str(report.format), a);
  doc.AddMember("clean", report.clean(), a);
  json::Value items(rapidjson::kArrayType);
  for (const auto& f : report.findings) {
    json::Value item(rapidjson::kObjectType);
    item.AddMember("kind", str(f.kind), a);
    item.AddMember("location", str(f.location), a);
    item.AddMember("detail", str(f.detail), a);
    items.PushBack(item, a);
  }
  doc.AddMember("findings", items, a);
  return json::to_pretty_string(doc);
}

}  // namespace kmodel
