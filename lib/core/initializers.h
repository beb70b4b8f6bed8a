// Fresh weights from Keras initializer configs (`kmodel save --init SEED`).
//
// Supported: glorot/he/lecun uniform and normal, RandomUniform, RandomNormal, TruncatedNormal,
// VarianceScaling, Orthogonal, Zeros, Ones, Constant, Identity; Keras 1 names ("uniform",
// "normal", "zero", "one", "orthogonal", "identity", "glorot_uniform"...); and kmodel's
// "kmodel>UnitForgetBias" (an LSTM bias: base initializer, with the forget-gate quarter set to 1).
// Fans follow Keras: rank 2 (in, out); rank > 2 receptive field = product of all but the last two
// dims; rank 1: fan_in = fan_out = n; rank 0: 1.
//
// RNG (documented, reproducible on every platform, not bit-compatible with Keras/TF): a
// std::mt19937_64 seeded with splitmix64(seed) XOR fnv1a64(stream), where `stream` names the
// weight ("dense_1/kernel") so each weight has its own sequence independent of the others.
// Uniform doubles take the top 53 bits of one draw; normals come from Box-Muller on two uniforms;
// truncated normals redraw values more than 2 stddev from the mean (as Keras). Orthogonal:
// QR (Householder, Eigen) of a normal (rows = prod(shape[:-1]), cols = shape[-1]) matrix, columns
// sign-corrected by diag(R), transposed when rows < cols, times gain. When the config itself
// carries a non-null "seed", that seed replaces the global one for that weight.
#pragma once

#include <cstdint>
#include <string>

#include "kmodel/tensor.h"

namespace kmodel {

// Makes a tensor of `shape` and `dtype` (float16/32/64; integer dtypes only for constant
// initializers). Throws UnsupportedError naming `where` for initializers kmodel does not know,
// UsageError when the shape has unknown (-1) dims.
Tensor initialize_weight(const std::string& initializer_json, const Shape& shape, DType dtype, uint64_t seed,
                         const std::string& stream, const std::string& where = "");

}  // namespace kmodel
