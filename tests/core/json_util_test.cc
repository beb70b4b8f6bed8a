// Tests for core/json_util: zeros with huge exponents (a RapidJSON 1.1 clz(0) path), saturating
// number-to-integer conversion, and the nesting bound.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include "core/json_util.h"
#include "kmodel/error.h"

using namespace kmodel;

TEST_CASE("json::parse reads zeros with any exponent as zero, and leaves strings alone", "[core][json]") {
  auto doc = json::parse(R"({"a": [0e50, -0.0E+99, 1e5, 0.5e-3, -0e-400, 0.000e1], "s": "0e50"})", "t.json");
  const auto& a = doc["a"];
  REQUIRE(a.Size() == 6);
  CHECK(a[0].GetDouble() == 0.0);
  CHECK(a[1].GetDouble() == 0.0);
  CHECK(std::signbit(a[1].GetDouble()));
  CHECK(a[2].GetDouble() == 100000.0);
  CHECK(a[3].GetDouble() == 0.0005);
  CHECK(a[4].GetDouble() == 0.0);
  CHECK(std::string(doc["s"].GetString()) == "0e50");
}

TEST_CASE("json::parse reads zeros with many fraction digits as the double zero", "[core][json]") {
  // 33 fraction digits: beyond RapidJSON's fast path, the second clz(0) route found by fuzz_json.
  auto doc = json::parse(R"([0.000000000000000000000000000000000, -0.00000000000000000000000000e-5, 0.0, 0, 1.00000000000000000000000000000001])", "t.json");
  REQUIRE(doc.Size() == 5);
  for (int i : {0, 1, 2}) {
    CHECK(doc[i].IsDouble());
    CHECK(doc[i].GetDouble() == 0.0);
  }
  CHECK(std::signbit(doc[1].GetDouble()));
  CHECK(doc[3].IsInt());
  CHECK(doc[4].GetDouble() == 1.0);
  // Invalid zero literals stay invalid.
  for (const char* bad : {"[0.e5]", "[00.0]", "[0.0e]", "[-.0]", "[0.00000000000000000000000000000000x]"})
    CHECK_THROWS_AS(json::parse(bad, "t.json"), BadInputError);
}

TEST_CASE("json::parse keeps error offsets when it blanks exponents", "[core][json]") {
  try {
    json::parse("[0e50, ]", "t.json");
    FAIL("no error");
  } catch (const BadInputError& e) {
    CHECK(std::string(e.what()).find("byte 7") != std::string::npos);
  }
}

TEST_CASE("json::to_int64 / to_int saturate instead of overflowing", "[core][json]") {
  CHECK(json::to_int64(1e300) == (int64_t{1} << 62));
  CHECK(json::to_int64(-1e300) == -(int64_t{1} << 62));
  CHECK(json::to_int64(-7.9) == -7);
  CHECK(json::to_int(1e12) == 2147483647);
  CHECK(json::to_int(-1e12) == -2147483647 - 1);
  auto doc = json::parse(R"({"n": 1e300, "m": 12.0, "f": 1.5})", "t.json");
  CHECK_FALSE(json::get_int(doc, "n").has_value());
  CHECK(json::get_int(doc, "m") == 12);
  CHECK_FALSE(json::get_int(doc, "f").has_value());
}
