// `kmodel inspect --security`: lists everything in an artifact that would run code when Keras loads
// it, without executing or deserialising any of it:
//   - Lambda layers (marshalled Python bytecode: Keras 1 raw bytes, tf.keras base64 `function` lists,
//     Keras 3 `__lambda__` objects; or a named Python function),
//   - `__lambda__` objects anywhere else in a config (losses, activations, custom layer configs),
//   - custom objects: layer classes Keras does not ship, and Keras 3 objects whose `module` is not
//     Keras's / `registered_name` names a package ("Custom>Foo"),
//   - pickled arrays: npz weights (.keras `model.weights.npz`, standalone .npz) whose members have an
//     object dtype (numpy loads them with pickle).
// TFOpLambda / SlicingOpLambda are not code: they name a TensorFlow op.
#pragma once

#include <string>
#include <vector>

#include "kmodel/formats.h"
#include "kmodel/model.h"

namespace kmodel {

struct SecurityFinding {
  std::string kind;      // "lambda", "custom_object", "pickle"
  std::string location;  // layer path ("model/lambda_1"), config path, or archive entry
  std::string detail;    // what was found, e.g. "marshalled Python bytecode (base64, 612 chars)"
};

// Scans a model's architecture and training config (any Keras dialect).
std::vector<SecurityFinding> security_findings(const Model& model);
// Scans one Keras model/config JSON text; `where` prefixes locations ("config.json").
std::vector<SecurityFinding> security_findings_json(const std::string& json_text, const std::string& file);

struct SecurityReport {
  std::string path;
  std::string format;   // format_name() of the artifact, or "npz"
  std::vector<SecurityFinding> findings;
  bool clean() const { return findings.empty(); }
};
// Scans an artifact by path. .keras archives and directories are scanned entry by entry (config.json,
// npz weights) without the full reader, so artifacts the reader refuses (pickled npz) are still
// reported; other formats are read lazily (no tensor data). Throws kmodel::Error when unreadable.
SecurityReport scan_security(const std::string& path, const ReadOptions& options = {});

std::string security_text(const SecurityReport& report);
std::string security_json(const SecurityReport& report);

}  // namespace kmodel
