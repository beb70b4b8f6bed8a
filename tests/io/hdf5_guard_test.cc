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
