// Pairing the weights of two Models (or a Model and an architecture's expected weights):
//  * by name: layer path + a canonical weight key that removes format-specific spelling
//    (":0" suffixes, the layer-name prefix of H5 weight names, RNN cell scopes "lstm_cell_41/",
//    "cell/", Keras 1 "<layer>_W" prefixes, Bidirectional "forward_lstm"/"forward_layer");
//  * by order: Keras set_weights semantics, the flat list of all weights layer by layer in the
//    IR's order (model.layers order, each layer's legacy order), so weightless layers do not
//    matter. Both sides must use the same convention, which every kmodel reader does.
#pragma once

#include <string>
#include <vector>

#include "kmodel/diff.h"  // MatchBy
#include "kmodel/model.h"

namespace kmodel {

// "a/b/c" -> {"a", "b", "c"} (empty components kept: "a//b" -> {"a", "", "b"}).
std::vector<std::string> split_path(const std::string& s);

// Canonical key of a weight below its layer: "kernel", "bias", "forward/kernel", "dense_1/kernel"
// (nested model), "W_i" (Keras 1). Works from Weight::attr when set, else from Weight::name.
std::string canonical_weight_key(const std::string& layer, const std::string& attr, const std::string& name);

// One weight of a model, flattened: its layer, its position, its canonical full key "layer/key".
struct FlatWeight {
  std::string layer;
  std::string key;        // "<layer>/<canonical key>", unique within the model ("#2" appended on clashes)
  const Weight* weight = nullptr;
  size_t index = 0;       // position in the flat list
};
// The flat list of a model's weights (layers in order, then top-level weights under layer "").
std::vector<FlatWeight> flatten_weights(const Model& model);
// The flat list of optimizer weights, keys "optimizer/<name without :0>".
std::vector<FlatWeight> flatten_optimizer(const Model& model);

struct WeightPair {
  const FlatWeight* a = nullptr;  // null: only in B
  const FlatWeight* b = nullptr;  // null: only in A
};

// Pairs two flat lists. By name: equal keys (pairs in A's order, then B-only keys). By order:
// positionally; the shorter list's tail is reported as only-in-A / only-in-B.
std::vector<WeightPair> match_flat(const std::vector<FlatWeight>& a, const std::vector<FlatWeight>& b, MatchBy by);

}  // namespace kmodel
