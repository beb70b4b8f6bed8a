// Tests for the TensorBundle container: real TF bundles from the corpus (multi-shard, snappy-compressed
// index blocks), the writer for every dtype (read back by our reader, by raw libleveldb and by the
// independent Python reader), and hostile/corrupt inputs.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

#include <leveldb/env.h>
#include <leveldb/iterator.h>
#include <leveldb/options.h>
#include <leveldb/table.h>
#include <leveldb/table_builder.h>
#include <rapidjson/document.h>

#include "io/crc32c.h"
#include "io/tensor_bundle.h"
#include "kmodel/error.h"
#include "tensor_bundle.pb.h"

using namespace kmodel;
namespace fs = std::filesystem;

namespace {
const std::string kData = KMODEL_TESTDATA "/checkpoint";

std::string temp_dir(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("kmodel_bundle_test_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

std::vector<float> floats(const Tensor& t) {
  std::vector<float> v(t.data.size() / 4);
  std::memcpy(v.data(), t.data.data(), t.data.size());
  return v;
}

Tensor make(DType dtype, Shape shape, std::vector<uint8_t> bytes) {
  Tensor t;
  t.dtype = dtype;
  t.shape = std::move(shape);
  t.data = std::move(bytes);
  return t;
}

std::vector<uint8_t> seq_bytes(size_t n, uint8_t start) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(start + 7 * i);
  return v;
}

// Raw (key, value) pairs of a table, read with libleveldb directly.
std::vector<std::pair<std::string, std::string>> raw_table(const std::string& path) {
  leveldb::RandomAccessFile* f = nullptr;
  REQUIRE(leveldb::Env::Default()->NewRandomAccessFile(path, &f).ok());
  std::unique_ptr<leveldb::RandomAccessFile> file(f);
  leveldb::Table* t = nullptr;
  REQUIRE(leveldb::Table::Open(leveldb::Options(), file.get(), fs::file_size(path), &t).ok());
  std::unique_ptr<leveldb::Table> table(t);
  leveldb::ReadOptions ro;
  ro.verify_checksums = true;
  std::unique_ptr<leveldb::Iterator> it(table->NewIterator(ro));
  std::vector<std::pair<std::string, std::string>> out;
  for (it->SeekToFirst(); it->Valid(); it->Next()) out.emplace_back(it->key().ToString(), it->value().ToString());
  REQUIRE(it->status().ok());
  return out;
}

// Writes an index table holding the header and the given raw entries (keys must be sorted).
void write_raw_table(const std::string& path, const std::vector<std::pair<std::string, std::string>>& entries) {
  leveldb::WritableFile* f = nullptr;
  REQUIRE(leveldb::Env::Default()->NewWritableFile(path, &f).ok());
  std::unique_ptr<leveldb::WritableFile> file(f);
  leveldb::Options o;
  o.compression = leveldb::kNoCompression;
  leveldb::TableBuilder b(o, file.get());
  for (const auto& [k, v] : entries) b.Add(k, v);
  REQUIRE(b.Finish().ok());
  REQUIRE(file->Close().ok());
}

std::string run_capture(const std::string& cmd, int& status) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  status = ::pclose(p);
  return out;
}

void copy_dir(const std::string& from, const std::string& to) {
  fs::remove_all(to);
  fs::copy(from, to, fs::copy_options::recursive);
  for (auto& e : fs::recursive_directory_iterator(to))
    fs::permissions(e.path(), fs::perms::owner_write, fs::perm_options::add);
}

void flip_byte(const std::string& path, uint64_t offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char c;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x5a);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(&c, 1);
}

template <class F>
std::string bad_input_message(F&& f) {
  try {
    f();
  } catch (const BadInputError& e) {
    return e.what();
  }
  FAIL("expected BadInputError");
  return "";
}
}  // namespace

TEST_CASE("bundle: TF 2.2 two-shard checkpoint lists its entries and reads them", "[checkpoint][bundle]") {
  io::BundleReader r(kData + "/lso_ckpt_tf2_2/ckpt");
  CHECK(r.num_shards() == 2);
  REQUIRE(r.entries().size() == 11);
  CHECK(r.entries()[0].key == "_CHECKPOINTABLE_OBJECT_GRAPH");
  CHECK(r.entries()[0].dtype == DType::kString);
  CHECK(r.entries()[0].shape.empty());
  CHECK(r.entries()[0].shard_id == 0);
  CHECK(r.entries()[0].size == 1360);
  // FORMATS.md D.7: bias in shard 1 at offset 16, 8 bytes.
  const io::BundleEntry* bias = r.find("layer_with_weights-0/bias/.ATTRIBUTES/VARIABLE_VALUE");
  REQUIRE(bias);
  CHECK(bias->dtype == DType::kFloat32);
  CHECK(bias->shape == Shape{2});
  CHECK(bias->shard_id == 1);
  CHECK(bias->offset == 16);
  CHECK(bias->size == 8);
  CHECK(r.find("no/such/key") == nullptr);
  const io::BundleEntry* kernel = r.find("layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE");
  REQUIRE(kernel);
  CHECK(kernel->shape == Shape{2, 2});
  Tensor k = r.read(*kernel);
  auto kv = floats(k);
  REQUIRE(kv.size() == 4);
  CHECK(kv[0] == Approx(9.229684829711914));
  CHECK(kv[1] == Approx(10.901115417480469));
  CHECK(kv[2] == Approx(10.370762825012207));
  CHECK(kv[3] == Approx(9.757362365722656));
  const io::BundleEntry* iter = r.find("optimizer/base_optimizer/iter/.ATTRIBUTES/VARIABLE_VALUE");
  REQUIRE(iter);
  CHECK(iter->dtype == DType::kInt64);
  Tensor it = r.read(*iter);
  int64_t iv;
  std::memcpy(&iv, it.data.data(), 8);
  CHECK(iv == 1);
  // Lazy ref reads the same bytes.
  TensorRef ref = r.ref(*kernel);
  CHECK(ref.load().data == k.data);
  // The object graph string starts with the TrackableObjectGraph nodes field (tag 0x0a).
  Tensor g = r.read(r.entries()[0]);
  REQUIRE(g.strings.size() == 1);
  CHECK(g.strings[0].size() > 100);
  CHECK(static_cast<uint8_t>(g.strings[0][0]) == 0x0a);
}

TEST_CASE("bundle: snappy-compressed index blocks (TF Serving half_plus_two)", "[checkpoint][bundle]") {
  io::BundleReader r(kData + "/savedmodel_variables/serving_half_plus_two_tf2_cpu/variables");
  REQUIRE(r.entries().size() == 4);
  std::vector<std::string> keys;
  for (const auto& e : r.entries()) keys.push_back(e.key);
  CHECK(keys == std::vector<std::string>{"_CHECKPOINTABLE_OBJECT_GRAPH", "a/.ATTRIBUTES/VARIABLE_VALUE",
                                          "b/.ATTRIBUTES/VARIABLE_VALUE", "c/.ATTRIBUTES/VARIABLE_VALUE"});
  CHECK(floats(r.read(*r.find("a/.ATTRIBUTES/VARIABLE_VALUE")))[0] == 0.5f);
  CHECK(floats(r.read(*r.find("b/.ATTRIBUTES/VARIABLE_VALUE")))[0] == 2.0f);
  CHECK(floats(r.read(*r.find("c/.ATTRIBUTES/VARIABLE_VALUE")))[0] == 3.0f);
  io::BundleReader tf1(kData + "/savedmodel_variables/serving_half_plus_two_tf1_cpu/variables");
  REQUIRE(tf1.entries().size() == 5);
  CHECK(tf1.entries()[1].key == "a2");
  CHECK(floats(tf1.read(*tf1.find("c2")))[0] == 3.0f);
}

TEST_CASE("bundle: every corpus bundle reads with verified checksums", "[checkpoint][bundle]") {
  std::vector<std::string> prefixes = {kData + "/lso_ckpt_tf2_2/ckpt", kData + "/charity_tf2/weights.100.hd5f",
                                       kData + "/tfonnx_regression_tf1/model"};
  for (auto& d : fs::directory_iterator(kData + "/savedmodel_variables"))
    prefixes.push_back(d.path().string() + "/variables");
  CHECK(prefixes.size() == 14);
  for (const auto& p : prefixes) {
    INFO(p);
    io::BundleReader r(p);
    CHECK(!r.entries().empty());
    for (const auto& e : r.entries()) {
      Tensor t = r.read(e);
      if (e.dtype == DType::kString) CHECK(static_cast<int64_t>(t.strings.size()) == num_elements(e.shape));
      else CHECK(t.data.size() == e.size);
    }
  }
}

TEST_CASE("bundle: writer round-trips every dtype bit-exactly", "[checkpoint][bundle]") {
  std::string dir = temp_dir("alltypes");
  std::string prefix = dir + "/b";
  std::vector<std::pair<std::string, Tensor>> tensors = {
      {"f16", make(DType::kFloat16, {3}, {0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b})},
      {"bf16", make(DType::kBFloat16, {2}, {0x80, 0x3f, 0x00, 0x40})},
      {"f32", make(DType::kFloat32, {2, 3}, seq_bytes(24, 1))},
      {"f64", make(DType::kFloat64, {2}, seq_bytes(16, 3))},
      {"i8", make(DType::kInt8, {5}, seq_bytes(5, 200))},
      {"i16", make(DType::kInt16, {2}, seq_bytes(4, 9))},
      {"i32", make(DType::kInt32, {1, 1, 2}, seq_bytes(8, 11))},
      {"i64", make(DType::kInt64, {}, seq_bytes(8, 13))},
      {"u8", make(DType::kUInt8, {4}, seq_bytes(4, 250))},
      {"u16", make(DType::kUInt16, {1}, seq_bytes(2, 17))},
      {"u32", make(DType::kUInt32, {2}, seq_bytes(8, 19))},
      {"u64", make(DType::kUInt64, {1}, seq_bytes(8, 23))},
      {"bool", make(DType::kBool, {3}, {1, 0, 1})},
      {"c64", make(DType::kComplex64, {2}, seq_bytes(16, 29))},
      {"c128", make(DType::kComplex128, {1}, seq_bytes(16, 31))},
      {"empty", make(DType::kFloat32, {0, 3}, {})},
  };
  Tensor strings;
  strings.dtype = DType::kString;
  strings.shape = {4};
  strings.strings = {"hello", "", std::string(300, 'x'), std::string("a\0b", 3)};
  tensors.emplace_back("str", strings);
  {
    io::BundleWriter w(prefix);
    for (const auto& [k, t] : tensors) w.add(k, t);
    CHECK_THROWS_AS(w.add("f32", tensors[2].second), UsageError);
    CHECK_THROWS_AS(w.add("bad", make(DType::kFloat32, {3}, seq_bytes(8, 0))), UsageError);
    w.finish();
  }
  // Our reader: same dtypes, shapes, bytes.
  io::BundleReader r(prefix);
  CHECK(r.num_shards() == 1);
  REQUIRE(r.entries().size() == tensors.size());
  for (const auto& [k, t] : tensors) {
    INFO(k);
    const io::BundleEntry* e = r.find(k);
    REQUIRE(e);
    CHECK(e->dtype == t.dtype);
    CHECK(e->shape == t.shape);
    Tensor back = r.read(*e);
    CHECK(back.data == t.data);
    CHECK(back.strings == t.strings);
  }
  // Raw libleveldb view: header "" first with the exact bytes TF writes, keys sorted bytewise.
  auto raw = raw_table(prefix + ".index");
  REQUIRE(raw.size() == tensors.size() + 1);
  CHECK(raw[0].first.empty());
  CHECK(raw[0].second == std::string("\x08\x01\x1a\x02\x08\x01", 6));
  for (size_t i = 2; i < raw.size(); ++i) CHECK(raw[i - 1].first < raw[i].first);
  // Data file = concatenation in add order (f16 first at offset 0).
  CHECK(raw[1].first == "bf16");  // sorts first
  kmodel::tf::BundleEntryProto bf16;
  REQUIRE(bf16.ParseFromString(raw[1].second));
  CHECK(bf16.offset() == 6);  // written right after the 6 bytes of "f16"
  CHECK(bf16.dtype() == 14);  // DT_BFLOAT16
  CHECK(r.find("f16")->offset == 0);
  // The string payload follows FORMATS D.6: varint lengths, masked length crc, bytes.
  const io::BundleEntry* se = r.find("str");
  CHECK(se->size == 1 + 1 + 2 + 1 + 4 + 5 + 0 + 300 + 3);

  // Independent Python reader (no TF, no leveldb): same keys, dtypes, shapes and values.
  int status = 0;
  std::string out = run_capture("/usr/bin/python3 " KMODEL_SOURCE_DIR "/tests/tools/bundle_reader.py " + prefix +
                                    " --values",
                                status);
  REQUIRE(status == 0);
  rapidjson::Document doc;
  doc.Parse(out.c_str());
  REQUIRE(doc.IsObject());
  const auto& entries = doc["entries"];
  REQUIRE(entries.Size() == tensors.size());
  std::map<std::string, std::string> py_dtype;
  for (const auto& e : entries.GetArray()) py_dtype[e["key"].GetString()] = e["dtype"].GetString();
  CHECK(py_dtype["f16"] == "float16");
  CHECK(py_dtype["bf16"] == "bfloat16");
  CHECK(py_dtype["c128"] == "complex128");
  CHECK(py_dtype["str"] == "string");
  for (const auto& e : entries.GetArray()) {
    if (std::string(e["key"].GetString()) == "str") {
      REQUIRE(e["values"].Size() == 4);
      CHECK(std::string(e["values"][0].GetString()) == "68656c6c6f");
      CHECK(std::string(e["values"][3].GetString()) == "610062");
    }
    if (std::string(e["key"].GetString()) == "f16") {
      REQUIRE(e["values"].Size() == 3);
      CHECK(e["values"][0].GetDouble() == 1.0);
      CHECK(e["values"][1].GetDouble() == -2.0);
      CHECK(e["values"][2].GetDouble() == 65504.0);
    }
  }
  fs::remove_all(dir);
}

TEST_CASE("bundle: corrupt and hostile inputs are BadInputErrors naming file and key", "[checkpoint][bundle]") {
  std::string dir = temp_dir("bad");
  std::string src = kData + "/lso_ckpt_tf2_2";
  std::string ck = dir + "/c";
  auto fresh = [&]() { copy_dir(src, ck); };
  const std::string index = ck + "/ckpt.index";
  const std::string kernel_key = "layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE";

  SECTION("truncated index") {
    fresh();
    fs::resize_file(index, 30);
    CHECK_THAT(bad_input_message([&] { io::BundleReader r(ck + "/ckpt"); }), Catch::Contains("too short"));
    fresh();
    fs::resize_file(index, 800);
    CHECK_THAT(bad_input_message([&] { io::BundleReader r(ck + "/ckpt"); }), Catch::Contains("ckpt.index"));
  }
  SECTION("bad magic") {
    fresh();
    flip_byte(index, fs::file_size(index) - 1);
    CHECK_THAT(bad_input_message([&] { io::BundleReader r(ck + "/ckpt"); }), Catch::Contains("bad magic"));
  }
  SECTION("block checksum mismatch") {
    fresh();
    flip_byte(index, 60);  // inside the data block (a key byte)
    CHECK_THAT(bad_input_message([&] { io::BundleReader r(ck + "/ckpt"); }), Catch::Contains("checksum mismatch"));
    fresh();
    flip_byte(index, 775);  // inside the index block
    CHECK_THAT(bad_input_message([&] { io::BundleReader r(ck + "/ckpt"); }), Catch::Contains("checksum"));
  }
  SECTION("entry past end of shard") {
    fresh();
    fs::resize_file(ck + "/ckpt.data-00001-of-00002", 20);
    std::string m = bad_input_message([&] { io::BundleReader r(ck + "/ckpt"); });
    CHECK_THAT(m, Catch::Contains("ckpt.data-00001-of-00002"));
    CHECK_THAT(m, Catch::Contains("runs past the end of the shard"));
  }
  SECTION("missing shard") {
    fresh();
    fs::remove(ck + "/ckpt.data-00001-of-00002");
    std::string m = bad_input_message([&] { io::BundleReader r(ck + "/ckpt"); });
    CHECK_THAT(m, Catch::Contains("missing"));
    CHECK_THAT(m, Catch::Contains("ckpt.data-00001-of-00002"));
  }
  SECTION("tensor crc mismatch") {
    fresh();
    io::BundleReader before(ck + "/ckpt");
    uint64_t off = before.find(kernel_key)->offset;
    flip_byte(ck + "/ckpt.data-00001-of-00002", off + 1);
    io::BundleReader r(ck + "/ckpt");  // index is fine; only reading the tensor fails
    std::string m = bad_input_message([&] { r.read(*r.find(kernel_key)); });
    CHECK_THAT(m, Catch::Contains(kernel_key));
    CHECK_THAT(m, Catch::Contains("checksum mismatch"));
    CHECK_NOTHROW(r.read(*r.find("layer_with_weights-0/bias/.ATTRIBUTES/VARIABLE_VALUE")));
    // The string object graph is verified too.
    flip_byte(ck + "/ckpt.data-00000-of-00002", 200);
    CHECK_THROWS_AS(r.read(*r.find("_CHECKPOINTABLE_OBJECT_GRAPH")), BadInputError);
  }
  SECTION("shape overflow, shape/size disagreement, hostile string count") {
    fresh();
    auto raw = raw_table(index);
    auto rewrite = [&](const std::string& key, const std::function<void(kmodel::tf::BundleEntryProto&)>& edit) {
      auto copy = raw;
      for (auto& [k, v] : copy) {
        if (k != key) continue;
        kmodel::tf::BundleEntryProto p;
        REQUIRE(p.ParseFromString(v));
        edit(p);
        v = p.SerializeAsString();
      }
      write_raw_table(index, copy);
    };
    rewrite(kernel_key, [](kmodel::tf::BundleEntryProto& p) {
      p.mutable_shape()->clear_dim();
      p.mutable_shape()->add_dim()->set_size(int64_t{1} << 40);
      p.mutable_shape()->add_dim()->set_size(int64_t{1} << 40);
    });
    std::string m = bad_input_message([&] { io::BundleReader r(ck + "/ckpt"); });
    CHECK_THAT(m, Catch::Contains("too many elements"));
    CHECK_THAT(m, Catch::Contains(kernel_key));
    rewrite(kernel_key, [](kmodel::tf::BundleEntryProto& p) { p.mutable_shape()->mutable_dim(0)->set_size(3); });
    m = bad_input_message([&] { io::BundleReader r(ck + "/ckpt"); });
    CHECK_THAT(m, Catch::Contains("needs 24 bytes but the entry holds 16"));
    rewrite("_CHECKPOINTABLE_OBJECT_GRAPH",
            [](kmodel::tf::BundleEntryProto& p) { p.mutable_shape()->add_dim()->set_size(int64_t{1} << 50); });
    m = bad_input_message([&] { io::BundleReader r(ck + "/ckpt"); });
    CHECK_THAT(m, Catch::Contains("cannot fit"));
    rewrite(kernel_key, [](kmodel::tf::BundleEntryProto& p) { p.set_size(int64_t{1} << 60); });
    CHECK_THROWS_AS(io::BundleReader(ck + "/ckpt"), BadInputError);
    rewrite(kernel_key, [](kmodel::tf::BundleEntryProto& p) { p.set_shard_id(7); });
    CHECK_THAT(bad_input_message([&] { io::BundleReader r(ck + "/ckpt"); }), Catch::Contains("shard_id 7"));
  }
  SECTION("missing index is an IoError") {
    CHECK_THROWS_AS(io::BundleReader(dir + "/nothing"), IoError);
  }
  fs::remove_all(dir);
}

TEST_CASE("bundle: snappy-compressed index and data blocks written by libleveldb read back", "[checkpoint][bundle]") {
  // Many small data blocks make a large, compressible index block (restart interval 1).
  std::string dir = temp_dir("snappy");
  std::string prefix = dir + "/s";
  std::vector<std::string> keys;
  {
    io::BundleWriter w(prefix);
    for (int i = 0; i < 600; ++i) {
      char key[96];
      std::snprintf(key, sizeof key, "model/layer_with_weights-%04d/kernel/.ATTRIBUTES/VARIABLE_VALUE", i);
      keys.push_back(key);
      w.add(key, make(DType::kFloat32, {2}, seq_bytes(8, static_cast<uint8_t>(i))));
    }
    w.finish();
  }
  auto raw = raw_table(prefix + ".index");
  {
    leveldb::WritableFile* f = nullptr;
    REQUIRE(leveldb::Env::Default()->NewWritableFile(prefix + ".index", &f).ok());
    std::unique_ptr<leveldb::WritableFile> file(f);
    leveldb::Options o;
    o.compression = leveldb::kSnappyCompression;
    o.block_size = 256;
    leveldb::TableBuilder b(o, file.get());
    for (const auto& [k, v] : raw) b.Add(k, v);
    REQUIRE(b.Finish().ok());
    REQUIRE(file->Close().ok());
  }
  // The index block is compressed (trailer type byte 1 right before the 48-byte footer's trailer).
  std::ifstream in(prefix + ".index", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(static_cast<uint8_t>(bytes[bytes.size() - 48 - 5]) == 1);
  io::BundleReader r(prefix);
  REQUIRE(r.entries().size() == keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    CHECK(r.entries()[i].key == keys[i]);
    CHECK(r.read(r.entries()[i]).data == seq_bytes(8, static_cast<uint8_t>(i)));
  }
  // The independent reader agrees.
  int status = 0;
  std::string out = run_capture("/usr/bin/python3 " KMODEL_SOURCE_DIR "/tests/tools/bundle_reader.py " + prefix, status);
  CHECK(status == 0);
  CHECK(out.find(keys.back()) != std::string::npos);
  fs::remove_all(dir);
}
