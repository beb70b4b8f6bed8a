// Tests of io/zip: safe reading (hostile archives crafted at test time by a committed script),
// CRC verification, and the deterministic STORED writer.
#include "io/zip.h"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <unistd.h>
#include <string>

#include "io/file_util.h"
#include "kmodel/error.h"

namespace fs = std::filesystem;
using kmodel::BadInputError;
using kmodel::io::ZipReader;
using kmodel::io::ZipWriter;

namespace {
// Generates the crafted archives once per test run into a fresh temp dir.
const std::string& crafted_dir() {
  static std::string dir = [] {
    std::string d = (fs::temp_directory_path() / ("kmodel_zip_test_" + std::to_string(::getpid()))).string();
    fs::remove_all(d);
    std::string cmd = "/usr/bin/python3 " KMODEL_TESTDATA "/keras_v3/make_unsafe_zips.py " + d;
    REQUIRE(std::system(cmd.c_str()) == 0);
    return d;
  }();
  return dir;
}
std::string crafted(const std::string& name) { return crafted_dir() + "/" + name; }

std::string error_of(const std::string& path) {
  try {
    ZipReader r(path);
  } catch (const BadInputError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("zip reader lists and reads a real .keras archive", "[zip][keras_v3]") {
  ZipReader r(KMODEL_TESTDATA "/keras_v3/stock_rnn_model.keras");
  REQUIRE(r.entries().size() == 3);
  CHECK(r.entries()[0].name == "metadata.json");
  CHECK(r.entries()[1].name == "config.json");
  CHECK(r.entries()[2].name == "model.weights.h5");
  for (const auto& e : r.entries()) CHECK(e.method == 0);
  CHECK(r.entries()[2].size == 1046544);
  CHECK(r.entries()[2].crc == 0xaae8244au);
  std::string meta = r.read("metadata.json");
  CHECK(meta == R"({"keras_version": "3.4.1", "date_saved": "2024-08-17@03:19:00"})");
  CHECK_THROWS_AS(r.read("config.json", 100), BadInputError);  // over the caller's limit
  CHECK_THROWS_AS(r.read("nope.json"), BadInputError);
}

TEST_CASE("zip reader extracts with CRC check and never overwrites", "[zip][keras_v3]") {
  ZipReader r(KMODEL_TESTDATA "/keras_v3/stock_rnn_model.keras");
  std::string out = crafted_dir() + "/weights.h5";
  fs::remove(out);
  r.extract_to("model.weights.h5", out);
  CHECK(kmodel::io::file_size(out) == 1046544);
  std::string head = kmodel::io::read_head(out, 8);
  CHECK(head == std::string("\x89HDF\r\n\x1a\n", 8));
  CHECK_THROWS_AS(r.extract_to("model.weights.h5", out), kmodel::IoError);
}

TEST_CASE("zip reader accepts plain and deflated archives", "[zip][keras_v3]") {
  ZipReader ok(crafted("ok.zip"));
  REQUIRE(ok.entries().size() == 2);
  CHECK(ok.read("a.txt") == "hello");
  CHECK(ok.read("dir/b.bin").size() == 1024);
  ZipReader d(crafted("deflated.zip"));
  CHECK(d.entries()[0].method == 8);
  CHECK(d.read("a.txt").size() == 6000);
}

TEST_CASE("zip reader refuses hostile archives with a clear error", "[zip][keras_v3]") {
  CHECK_THAT(error_of(crafted("abs_path.zip")), Catch::Contains("absolute entry name"));
  CHECK_THAT(error_of(crafted("abs_path.zip")), Catch::Contains("/etc/passwd"));
  CHECK_THAT(error_of(crafted("dotdot.zip")), Catch::Contains("'..' component"));
  CHECK_THAT(error_of(crafted("backslash_dotdot.zip")), Catch::Contains("'..' component"));
  CHECK_THAT(error_of(crafted("duplicate.zip")), Catch::Contains("duplicate"));
  CHECK_THAT(error_of(crafted("huge_size.zip")), Catch::Contains("declared size"));
  CHECK_THAT(error_of(crafted("encrypted.zip")), Catch::Contains("encrypted"));
  CHECK_THAT(error_of(crafted("evil.keras")), Catch::Contains("../escape.txt"));
}

TEST_CASE("zip reader detects corrupt entry data by CRC", "[zip][keras_v3]") {
  ZipReader r(crafted("bad_crc.zip"));
  try {
    r.read("data.bin");
    FAIL("corrupt entry was read");
  } catch (const BadInputError& e) {
    CHECK_THAT(std::string(e.what()), Catch::Contains("CRC") || Catch::Contains("orrupt"));
  }
}

TEST_CASE("zip name safety rules", "[zip][keras_v3]") {
  using kmodel::io::unsafe_zip_name_reason;
  CHECK(unsafe_zip_name_reason("assets/vocab.txt").empty());
  CHECK(unsafe_zip_name_reason("a..b/c").empty());
  CHECK_FALSE(unsafe_zip_name_reason("..").empty());
  CHECK_FALSE(unsafe_zip_name_reason("a/../b").empty());
  CHECK_FALSE(unsafe_zip_name_reason("C:evil").empty());
  CHECK_FALSE(unsafe_zip_name_reason("").empty());
  CHECK(kmodel::io::zip_crc32("123456789", 9) == 0xCBF43926u);
}

TEST_CASE("zip writer writes stored entries in order with fixed timestamps", "[zip][keras_v3]") {
  std::string out = crafted_dir() + "/written.zip";
  std::string src = crafted_dir() + "/payload.bin";
  {
    std::ofstream f(src, std::ios::binary);
    for (int i = 0; i < 100000; ++i) f.put(static_cast<char>(i * 7));
  }
  {
    ZipWriter w(out);
    w.add("metadata.json", "{\"keras_version\": \"3.4.1\"}");
    w.add("config.json", "{}");
    w.add_file("model.weights.h5", src);
    CHECK_THROWS_AS(w.add("config.json", "x"), kmodel::UsageError);
    CHECK_THROWS_AS(w.add("../x", "x"), kmodel::UsageError);
    w.close();
  }
  ZipReader r(out);
  REQUIRE(r.entries().size() == 3);
  CHECK(r.entries()[0].name == "metadata.json");
  CHECK(r.entries()[1].name == "config.json");
  CHECK(r.entries()[2].name == "model.weights.h5");
  CHECK(r.read("model.weights.h5").size() == 100000);
  // Independent check with Python's zipfile: methods and timestamps.
  std::string cmd = "/usr/bin/python3 -c \"import zipfile,sys; z=zipfile.ZipFile(sys.argv[1]); "
                    "assert [i.filename for i in z.infolist()]==['metadata.json','config.json','model.weights.h5']; "
                    "assert all(i.compress_type==0 for i in z.infolist()); "
                    "assert all(i.date_time==(1980,1,1,0,0,0) for i in z.infolist()), [i.date_time for i in z.infolist()]; "
                    "assert z.testzip() is None\" " + out;
  CHECK(std::system(cmd.c_str()) == 0);
}
