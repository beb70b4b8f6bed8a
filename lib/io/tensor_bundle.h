// The TensorBundle container shared by TF checkpoints and SavedModel variables/: a LevelDB-format
// `.index` table (read and written through libleveldb's public table API) plus `.data-NNNNN-of-MMMMM`
// shards. See FORMATS.md section D. Readers are lazy: entries are parsed from the index, tensor bytes
// are read (and their masked CRC32C verified) only when asked.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kmodel/tensor.h"

namespace kmodel::io {

// TF DataType enum <-> DType ("DT_FLOAT" style names; DType::kInvalid / 0 when there is no counterpart).
std::string tf_dtype_name(int tf_dtype);
DType dtype_from_tf(int tf_dtype);
int tf_from_dtype(DType dtype);
// "<prefix>.data-00005-of-00010".
std::string bundle_shard_path(const std::string& prefix, int shard_id, int num_shards);
// True when the file ends with the LevelDB table magic number (content sniffing for .index files).
bool is_table_file(const std::string& path);

// Visits the entries of a LevelDB-format table file in key order (block checksums verified, block
// handles and Snappy sizes checked against the file size first); `visit` returns false to stop.
// Throws IoError / BadInputError naming the file. Used for legacy V1 checkpoints.
void for_each_table_entry(const std::string& path,
                          const std::function<bool(const std::string& key, std::string_view value)>& visit);

// One entry of the index (BundleEntryProto), keyed by its checkpoint key.
struct BundleEntry {
  std::string key;
  DType dtype = DType::kInvalid;
  int tf_dtype = 0;          // raw DataType enum value (kept when DType cannot express it)
  Shape shape;
  int shard_id = 0;
  uint64_t offset = 0;
  uint64_t size = 0;
  uint32_t masked_crc32c = 0;
  bool sliced = false;       // partitioned tensor (slices listed separately)
};

class BundleReader {
 public:
  // Opens "<prefix>.index" and checks the header. Throws IoError / BadInputError naming the file.
  explicit BundleReader(std::string prefix);
  ~BundleReader();

  const std::string& prefix() const { return prefix_; }
  int num_shards() const { return num_shards_; }
  // Entries sorted by key, the header entry excluded.
  const std::vector<BundleEntry>& entries() const { return entries_; }
  // nullptr when the key is absent.
  const BundleEntry* find(const std::string& key) const;
  // Reads one tensor (numeric bytes or DT_STRING elements) and verifies size and CRC.
  Tensor read(const BundleEntry& entry) const;
  // A lazy TensorRef whose load() calls read(entry); keeps this reader's state alive.
  TensorRef ref(const BundleEntry& entry) const;
  std::string shard_path(int shard_id) const;

  struct State;  // shared with the TensorRefs handed out (opaque)

 private:
  std::string prefix_;
  int num_shards_ = 1;
  std::vector<BundleEntry> entries_;
  std::shared_ptr<State> state_;
};

// Writes a single-shard bundle: "<prefix>.data-00000-of-00001" then "<prefix>.index".
// Tensors are streamed to the data file as they are added (data order = add order, as TF does);
// add() may be called in any key order; the index is sorted bytewise with the header "" first, no
// compression, no filter. Callers wanting atomic output pass a prefix inside a temporary directory.
class BundleWriter {
 public:
  explicit BundleWriter(std::string prefix);
  ~BundleWriter();
  void add(const std::string& key, const Tensor& tensor);
  // Writes the index (sorted keys, header first, no compression) and closes the files.
  void finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace kmodel::io
