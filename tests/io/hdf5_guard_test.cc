// io/hdf5_guard: libhdf5 crashes on corrupt files are contained in a probe process and reported as
// BadInputError; good files pass; files libhdf5 merely refuses are left to the caller's open.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

#include "io/hdf5.h"
#include "io/hdf5_guard.h"
#include "kmodel/error.h"

#include <stdlib.h>
#include <unistd.h>

namespace {
std::string temp_h5() {
  char templ[] = "/tmp/kmodel-guard-test-XXXXXX.h5";
  int fd = mkstemps(templ, 3);
  REQUIRE(fd >= 0);
  close(fd);
  return templ;
}
const std::string kGood = std::string(KMODEL_TESTDATA) + "/h5/fml_keras_3layer_h5__keras_3layer.h5";
const std::string kCrash = std::string(KMODEL_TESTDATA) + "/regressions/h5_vlen_attr_global_heap_segv.h5";
const std::string kHang = std::string(KMODEL_TESTDATA) + "/regressions/h5_vlen_attr_global_heap_hang.h5";
}  // namespace

TEST_CASE("hdf5_guard: a good file passes and opens", "[io][hdf5_guard]") {
  REQUIRE_NOTHROW(kmodel::io::h5::guard_hdf5_file(kGood));
  auto f = kmodel::io::h5::open_file_readonly(kGood);
  REQUIRE(f.valid());
}

TEST_CASE("hdf5_guard: a file that crashes libhdf5 is refused as bad input", "[io][hdf5_guard]") {
  try {
    kmodel::io::h5::guard_hdf5_file(kCrash);
    FAIL("guard accepted a file on which libhdf5 crashes");
  } catch (const kmodel::BadInputError& e) {
    REQUIRE(std::string(e.what()).find("libhdf5 crashed") != std::string::npos);
    REQUIRE(e.file() == kCrash);
  }
  // The refusal is remembered: the second call does not fork again but throws the same error.
  REQUIRE_THROWS_AS(kmodel::io::h5::guard_hdf5_file(kCrash), kmodel::BadInputError);
  REQUIRE_THROWS_AS(kmodel::io::h5::open_file_readonly(kCrash), kmodel::BadInputError);
}

TEST_CASE("hdf5_guard: non-HDF5 and missing files are left to the caller", "[io][hdf5_guard]") {
  std::string path = temp_h5();
  { std::ofstream(path) << "not hdf5"; }
  REQUIRE_NOTHROW(kmodel::io::h5::guard_hdf5_file(path));
  REQUIRE_THROWS_AS(kmodel::io::h5::open_file_readonly(path), kmodel::BadInputError);
  std::remove(path.c_str());
  REQUIRE_NOTHROW(kmodel::io::h5::guard_hdf5_file(path + ".missing"));
}

TEST_CASE("hdf5_guard: a probe with a zero data budget still walks metadata", "[io][hdf5_guard]") {
  kmodel::io::h5::GuardLimits limits;
  limits.data_budget_bytes = 0;
  // The crash is in an attribute read (metadata), so it is caught without reading any data.
  std::string copy = temp_h5();
  {
    std::ifstream in(kCrash, std::ios::binary);
    std::ofstream out(copy, std::ios::binary);
    out << in.rdbuf();
  }
  REQUIRE_THROWS_AS(kmodel::io::h5::guard_hdf5_file(copy, limits), kmodel::BadInputError);
  std::remove(copy.c_str());
}

TEST_CASE("hdf5_guard: a file on which libhdf5 never returns is refused at the timeout", "[io][hdf5_guard]") {
  kmodel::io::h5::GuardLimits limits;
  limits.timeout_ms = 400;
  auto start = std::chrono::steady_clock::now();
  try {
    kmodel::io::h5::guard_hdf5_file(kHang, limits);
    FAIL("guard accepted a file on which libhdf5 loops");
  } catch (const kmodel::BadInputError& e) {
    REQUIRE(std::string(e.what()).find("did not finish reading its metadata in 400 ms") != std::string::npos);
  }
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  REQUIRE(ms >= 400);
  REQUIRE(ms < 5000);  // the probe was killed, not waited for
}

TEST_CASE("hdf5: attributes declaring more elements than the file holds are recognised", "[io][hdf5]") {
  using kmodel::io::h5::attribute_exceeds_file;
  hid_t vlen_str = H5Tcopy(H5T_C_S1);
  H5Tset_size(vlen_str, H5T_VARIABLE);
  hid_t fixed_str = H5Tcopy(H5T_C_S1);
  H5Tset_size(fixed_str, 64);
  // A vlen element takes at least 8 bytes on disk, a fixed string its size.
  REQUIRE_FALSE(attribute_exceeds_file(vlen_str, 1, 11861));
  REQUIRE_FALSE(attribute_exceeds_file(vlen_str, 1482, 11861));
  REQUIRE(attribute_exceeds_file(vlen_str, 1483, 11861));
  REQUIRE_FALSE(attribute_exceeds_file(fixed_str, 185, 11861));
  REQUIRE(attribute_exceeds_file(fixed_str, 186, 11861));
  REQUIRE(attribute_exceeds_file(H5T_NATIVE_FLOAT, hssize_t{1} << 40, uint64_t{1} << 30));
  // Unknown file size or an empty attribute: no verdict.
  REQUIRE_FALSE(attribute_exceeds_file(vlen_str, 1000000, 0));
  REQUIRE_FALSE(attribute_exceeds_file(vlen_str, 0, 10));
  H5Tclose(vlen_str);
  H5Tclose(fixed_str);
}
