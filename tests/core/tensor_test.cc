// Tests for the dtype table, shape arithmetic and CRC32C.
#include <catch2/catch.hpp>

#include "io/crc32c.h"
#include "kmodel/error.h"
#include "kmodel/tensor.h"

using namespace kmodel;

TEST_CASE("dtype names and sizes round-trip", "[core]") {
  CHECK(dtype_size(DType::kFloat32) == 4);
  CHECK(dtype_size(DType::kBFloat16) == 2);
  CHECK(dtype_size(DType::kComplex128) == 16);
  CHECK(dtype_name(DType::kInt64) == "int64");
  CHECK(dtype_from_name("float16") == DType::kFloat16);
  CHECK(dtype_from_name("DT_FLOAT") == DType::kFloat32);
  CHECK_FALSE(dtype_from_name("float7").has_value());
}

TEST_CASE("num_elements rejects overflow and negative dims", "[core]") {
  CHECK(num_elements({}) == 1);
  CHECK(num_elements({3, 4, 0}) == 0);
  CHECK(num_elements({2, 3, 4}) == 24);
  CHECK_THROWS_AS(num_elements({int64_t{1} << 40, int64_t{1} << 40}), BadInputError);
  CHECK_THROWS_AS(num_elements({-1, 3}), BadInputError);
  CHECK(shape_str({3}) == "(3,)");
  CHECK(shape_str({2, 5}) == "(2, 5)");
}

TEST_CASE("crc32c matches the standard check value and masks round-trip", "[io]") {
  CHECK(io::crc32c("123456789", 9) == 0xE3069283u);
  CHECK(io::crc32c("", 0) == 0u);
  uint32_t c = io::crc32c("hello world", 11);
  CHECK(io::crc32c_unmask(io::crc32c_mask(c)) == c);
  // Extending in pieces equals one pass.
  CHECK(io::crc32c_extend(io::crc32c("hello ", 6), "world", 5) == c);
}
