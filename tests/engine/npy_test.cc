// io/npy: .npy parse/encode pairs, strict header checks against hostile input, .npz round trip,
// and predict's JSON / CSV array readers.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

#include <unistd.h>

#include "io/npy.h"
#include "kmodel/error.h"
#include "kmodel/predict.h"

using namespace kmodel;

namespace {
std::string npy_bytes(const std::string& header, const std::string& payload, char major = 1) {
  std::string out("\x93NUMPY", 6);
  out += major;
  out += '\0';
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  if (major != 1) out += std::string(2, '\0');
  return out + header + payload;
}
std::string temp_path(const std::string& name) {
  std::string p = std::string("/tmp/kmodel_npy_test_") + std::to_string(::getpid()) + "_" + name;
  std::remove(p.c_str());
  return p;
}
void write(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary);
  f << bytes;
}
}  // namespace

TEST_CASE("npy encode/parse round trip keeps dtype, shape and bytes", "[engine][npy]") {
  Tensor t;
  t.dtype = DType::kFloat32;
  t.shape = {2, 3};
  float v[6] = {1, 2, 3, 4, 5, -6.5f};
  t.data.resize(24);
  std::memcpy(t.data.data(), v, 24);
  std::string b = io::encode_npy(t);
  REQUIRE((b.size() - 24) % 64 == 0);  // header padded to 64 like numpy
  REQUIRE(b.find("'descr': '<f4'") != std::string::npos);
  Tensor r = io::parse_npy(b, "x.npy");
  REQUIRE(r.dtype == DType::kFloat32);
  REQUIRE(r.shape == Shape{2, 3});
  REQUIRE(r.data == t.data);
  Tensor one;
  one.dtype = DType::kInt64;
  one.shape = {1};
  one.data.assign(8, 0);
  one.data[0] = 7;
  std::string ob = io::encode_npy(one);
  REQUIRE(ob.find("'shape': (1,)") != std::string::npos);
  REQUIRE(io::parse_npy(ob, "o.npy").shape == Shape{1});
}

TEST_CASE("npy parser accepts numpy headers of every version and integer/half dtypes", "[engine][npy]") {
  std::string h = "{'descr': '<i2', 'fortran_order': False, 'shape': (2,), }          \n";
  Tensor t = io::parse_npy(npy_bytes(h, std::string("\x01\x00\xff\xff", 4)), "a.npy");
  REQUIRE(t.dtype == DType::kInt16);
  auto a = to_float_array(t);
  REQUIRE(a.values == std::vector<float>{1, -1});
  Tensor s = io::parse_npy(npy_bytes("{'descr': '<f2', 'fortran_order': False, 'shape': (), }\n", std::string("\x00\x3c", 2), 2), "s.npy");
  REQUIRE(s.shape.empty());
  REQUIRE(to_float_array(s).values[0] == 1.f);
  Tensor u8 = io::parse_npy(npy_bytes("{'descr': '|u1', 'fortran_order': False, 'shape': (1, 1)}\n", "\x09"), "u.npy");
  REQUIRE(u8.shape == Shape{1, 1});
}

TEST_CASE("npy parser refuses malformed and hostile input", "[engine][npy]") {
  const std::string good = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n";
  REQUIRE_THROWS_AS(io::parse_npy("not numpy at all", "x"), BadInputError);
  // payload too short / too long for the shape
  REQUIRE_THROWS_AS(io::parse_npy(npy_bytes(good, std::string(7, '\0')), "x"), BadInputError);
  REQUIRE_THROWS_AS(io::parse_npy(npy_bytes(good, std::string(9, '\0')), "x"), BadInputError);
  // huge declared shape must not allocate
  REQUIRE_THROWS_AS(io::parse_npy(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000, 1000000000), }\n", ""), "x"),
                    BadInputError);
  // header length beyond the file
  std::string trunc = npy_bytes(good, std::string(8, '\0'));
  trunc[8] = '\xff';
  trunc[9] = '\x7f';
  REQUIRE_THROWS_AS(io::parse_npy(trunc, "x"), BadInputError);
  // unknown key, missing key, big-endian, Fortran order, object dtype
  REQUIRE_THROWS_AS(io::parse_npy(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}\n", std::string(8, '\0')), "x"), BadInputError);
  REQUIRE_THROWS_AS(io::parse_npy(npy_bytes("{'descr': '<f4', 'shape': (2,), }\n", std::string(8, '\0')), "x"), BadInputError);
  REQUIRE_THROWS_AS(io::parse_npy(npy_bytes("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }\n", std::string(8, '\0')), "x"), UnsupportedError);
  REQUIRE_THROWS_AS(io::parse_npy(npy_bytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }\n", std::string(8, '\0')), "x"), UnsupportedError);
  REQUIRE_THROWS_AS(io::parse_npy(npy_bytes("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }\n", std::string(16, '\0')), "x"), UnsupportedError);
  REQUIRE_THROWS_AS(io::parse_npy(npy_bytes(good, std::string(8, '\0'), 9), "x"), UnsupportedError);
}

TEST_CASE("npz, JSON and CSV arrays for predict", "[engine][npy]") {
  SECTION("npz round trip through write_arrays/read_arrays, refusing to overwrite") {
    std::string p = temp_path("out.npz");
    std::vector<NamedArray> arrays{{"a", FloatArray{{2}, {1, 2}}}, {"b", FloatArray{{1, 2}, {3, 4}}}};
    write_arrays(arrays, p, false);
    auto back = read_arrays(p);
    REQUIRE(back.size() == 2);
    REQUIRE(back[0].first == "a");
    REQUIRE(back[1].second.shape == Shape{1, 2});
    REQUIRE(back[1].second.values == std::vector<float>{3, 4});
    REQUIRE_THROWS_AS(write_arrays(arrays, p, false), IoError);
    std::remove(p.c_str());
  }
  SECTION("JSON nested lists, named and unnamed; ragged lists refused") {
    std::string p = temp_path("in.json");
    write(p, "[[1, 2.5], [3, -4]]");
    auto a = read_arrays(p);
    REQUIRE(a.size() == 1);
    REQUIRE(a[0].second.shape == Shape{2, 2});
    REQUIRE(a[0].second.values == std::vector<float>{1, 2.5f, 3, -4});
    write(p, R"({"x": [[1], [2]], "y": [5]})");
    a = read_arrays(p);
    REQUIRE(a.size() == 2);
    REQUIRE(a[1].first == "y");
    write(p, "[[1, 2], [3]]");
    REQUIRE_THROWS_AS(read_arrays(p), BadInputError);
    std::remove(p.c_str());
  }
  SECTION("CSV with a header line; ragged rows refused") {
    std::string p = temp_path("in.csv");
    write(p, "a,b,c\n1,2,3\n4,5,6.5\n");
    auto a = read_arrays(p);
    REQUIRE(a[0].second.shape == Shape{2, 3});
    REQUIRE(a[0].second.values.back() == 6.5f);
    write(p, "1,2,3\n4,5\n");
    REQUIRE_THROWS_AS(read_arrays(p), BadInputError);
    std::remove(p.c_str());
  }
  SECTION("JSON output is a name -> nested list object") {
    std::string p = temp_path("out.json");
    write_arrays({{"dense", FloatArray{{1, 2}, {0.5f, -1}}}}, p, false);
    std::ifstream f(p);
    std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    REQUIRE(text == "{\"dense\": [[0.5,-1]]}\n");
    std::remove(p.c_str());
  }
}
