// Assembling a complete Model from parts (`kmodel save`): an architecture (any Model holding a
// model_config), weights from another Model (by canonical name or by order), and fresh weights
// from the config's initializers. The expected weights come from core/layer_shapes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kmodel/diff.h"  // MatchBy
#include "kmodel/model.h"

namespace kmodel {

// Builds a complete Model from an architecture (any Model with a model_config) and weights taken
// from `source` (any Model with weights), using the weights each layer of the architecture
// expects (core/layer_shapes): by canonical name or by order, with shape checks, optional
// skipping of shape mismatches, and fresh weights from the config's initializers (--init).

struct AssembleOptions {
  MatchBy by = MatchBy::kName;
  bool skip_mismatch = false;  // shape mismatches are skipped (reported; the weight gets fresh values)
  bool allow_partial = false;  // missing weights are acceptable (they get fresh values)
  // Seed for fresh weights: with no source every weight is initialized; with a source, missing and
  // skipped weights are (seed 0 when not given).
  std::optional<uint64_t> init_seed;
};

struct AssembleReport {
  size_t expected = 0;                      // weights the architecture expects (known layers)
  size_t source_weights = 0;                // weights offered by the source
  std::vector<std::string> loaded;          // "layer/key <- source name"
  std::vector<std::string> initialized;     // keys given fresh weights from their initializers
  std::vector<std::string> missing;         // expected keys the source did not provide
  std::vector<std::string> skipped;         // shape mismatches skipped: "key: expected (..), source (..)"
  std::vector<std::string> mismatched;      // shape mismatches (an error without --skip-mismatch)
  std::vector<std::string> unexpected;      // source keys that matched nothing
  std::vector<std::string> unknown_layers;  // layers whose class kmodel does not know (weights taken by layer name)
  std::string error;                        // why the result must not be written ("" when fine)
  std::string hint;                         // an explanation for the zero-weights case (nested-model trap)
  bool ok() const { return error.empty(); }
  std::string text() const;                 // human report, one line per category and per weight
  std::string json() const;
};

// Assembles `arch_model` (its model_config) with weights from `source` (may be null with --init).
// Never throws for coverage problems: they end up in report.error. Throws kmodel::Error for
// unusable inputs (no architecture, unknown initializers with --init, unreadable configs).
Model assemble_model(const Model& arch_model, const Model* source, const AssembleOptions& options,
                     AssembleReport& report);

}  // namespace kmodel
