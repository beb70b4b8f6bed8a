// Keras 1 weights as Keras 2+ holds them after loading a Keras 1 file. Keras' legacy loader
// (preprocess_weights_for_loading) concatenates the per-gate arrays of Keras 1 recurrent layers
// (LSTM: W/U/b for gates i, c, f, o; GRU: z, r, h) into kernel, recurrent_kernel and bias, and then
// assigns every layer's arrays by position to the variables its Keras 2 class creates. The .keras
// writer and diff-weights use this so that a Keras 1 file and its Keras 2/3 conversion compare as
// the same weights (concatenation is exact: the values are bit-identical).
#pragma once

#include <string>
#include <vector>

#include "kmodel/model.h"

namespace kmodel {

// LSTM (12 arrays) or GRU (9 arrays) per-gate weights of `layer` -> kernel, recurrent_kernel, bias
// (named "<layer>/<var>:0", attr "cell/<var>"), lazily concatenated along the last axis in Keras 2's
// gate order (LSTM i, f, c, o; GRU z, r, h). Empty when `ws` is not such a list (count or ranks).
std::vector<Weight> merge_keras1_rnn(const std::vector<const Weight*>& ws, const std::string& layer);

// A copy of a Keras 1 model (dialect kKeras1 with an architecture) whose layers hold their weights
// as Keras 2+ does after loading: per-gate RNN arrays merged (both halves of a Bidirectional too),
// then each layer's arrays renamed by position after the Keras 2/3 variables of its class ("W" ->
// "kernel", "running_std" -> "moving_variance", ...) when the counts match. Layers kmodel cannot
// map keep their weights as they are. Other models are returned unchanged. Each change is described
// in `notes` (may be nullptr).
Model keras2_weight_view(const Model& model, std::vector<std::string>* notes);

}  // namespace kmodel
