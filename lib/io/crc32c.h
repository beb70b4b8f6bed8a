// CRC-32C (Castagnoli) and the LevelDB/TensorBundle masking used for stored checksums.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kmodel::io {

// Extends `crc` (the CRC of earlier bytes; 0 for none) over data[0, n).
uint32_t crc32c_extend(uint32_t crc, const void* data, size_t n);
inline uint32_t crc32c(const void* data, size_t n) { return crc32c_extend(0, data, n); }

// Masking applied to stored CRCs: rotate right 15 and add a constant (FORMATS.md D.3).
constexpr uint32_t kCrcMaskDelta = 0xa282ead8u;
inline uint32_t crc32c_mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + kCrcMaskDelta; }
inline uint32_t crc32c_unmask(uint32_t masked) {
  uint32_t rot = masked - kCrcMaskDelta;
  return (rot >> 17) | (rot << 15);
}

}  // namespace kmodel::io
