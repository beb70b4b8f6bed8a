// Comparing the weights of two artifacts of any formats (`kmodel diff-weights`): weights are
// paired by canonical name or by order (see core/weight_matching.h), then compared one pair at a
// time (each tensor is loaded, compared and released, so memory stays near the two largest
// tensors) with numpy `allclose` semantics: |a - b| <= atol + rtol * |b|.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kmodel/model.h"

namespace kmodel {

// How two weight lists are paired: by canonical layer/weight name, or by position (Keras
// set_weights semantics: the flat list layer by layer; weightless layers do not count).
enum class MatchBy { kName, kOrder };

struct DiffOptions {
  MatchBy by = MatchBy::kName;
  double atol = 1e-8;   // numpy.allclose defaults
  double rtol = 1e-5;
  bool equal_nan = false;  // NaN == NaN at the same position counts as equal
  bool optimizer = false;  // compare optimizer state too
};

enum class WeightStatus { kEqual, kWithinTolerance, kDiffers, kShapeMismatch, kDTypeMismatch, kOnlyInA, kOnlyInB };
// "equal", "within_tolerance", "differs", "shape_mismatch", "dtype_mismatch", "only_in_a", "only_in_b".
std::string status_name(WeightStatus status);

struct WeightDiff {
  std::string key;          // canonical "layer/weight" key (A's when paired by order)
  std::string name_a, name_b;  // names as the artifacts store them ("" when absent)
  WeightStatus status = WeightStatus::kEqual;
  DType dtype_a = DType::kInvalid, dtype_b = DType::kInvalid;
  Shape shape_a, shape_b;
  double max_abs = 0;       // max |a - b| over finite pairs (0 when not compared)
  double max_rel = 0;       // max |a - b| / |b| (infinity when b == 0 and a != 0)
  int64_t mismatches = 0;   // elements failing the tolerance (NaN rules included)
  int64_t elements = 0;
  bool optimizer = false;   // an optimizer-state weight
};

struct DiffResult {
  std::string path_a, path_b;
  DiffOptions options;
  std::vector<WeightDiff> weights;
  // How the weights were read before pairing, e.g. "A: lstm_1: Keras 1 per-gate weights ... merged".
  std::vector<std::string> notes;
  size_t count(WeightStatus status) const;
  // True when every weight is equal or within tolerance (exit code 0).
  bool same() const;
};

// Compares the weights of two models. Throws kmodel::Error when a tensor cannot be read.
DiffResult diff_weights(const Model& a, const Model& b, const DiffOptions& options = {});
// One line per weight that is not equal (all with `all`), then the summary line.
std::string diff_text(const DiffResult& result, bool all = false);
std::string diff_summary(const DiffResult& result);
std::string diff_json(const DiffResult& result);

}  // namespace kmodel
