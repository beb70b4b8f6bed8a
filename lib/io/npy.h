// NumPy .npy / .npz reading and writing for predict inputs and outputs.
//
// Reading is strict: magic and version (1.0, 2.0, 3.0), a header dict with exactly 'descr',
// 'fortran_order' and 'shape', little-endian or byte-order-free dtypes among float16/32/64,
// (u)int8..64 and bool, C order only, and a payload whose size equals shape x itemsize and fits the
// file exactly. Header length is capped (kMaxNpyHeader). Writing produces version 1.0 headers
// padded to 64 bytes, as numpy does.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kmodel/tensor.h"

namespace kmodel::io {

constexpr size_t kMaxNpyHeader = 1 << 16;  // numpy itself refuses headers above 10 000 bytes to read safely

// Parses .npy bytes. `file` names the source in errors (BadInputError / UnsupportedError).
Tensor parse_npy(std::string_view bytes, const std::string& file);
// Reads a .npy file (size-checked against the file before allocation).
Tensor read_npy(const std::string& path);
// Encodes a numeric tensor as .npy bytes (v1.0).
std::string encode_npy(const Tensor& tensor);

// Reads every array of an .npz archive (stored or deflated), in archive order; names drop ".npy".
std::vector<std::pair<std::string, Tensor>> read_npz(const std::string& path);
// Writes an .npz (stored entries "<name>.npy") at `path` (the caller handles atomicity).
void write_npz(const std::vector<std::pair<std::string, Tensor>>& arrays, const std::string& path);

}  // namespace kmodel::io
