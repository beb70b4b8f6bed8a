// Writing a TF2 object-based checkpoint as tf.keras `model.save_weights(prefix)` (TF format) does:
// <prefix>.data-00000-of-00001, <prefix>.index (with _CHECKPOINTABLE_OBJECT_GRAPH) and the
// `checkpoint` state file beside them. Everything is written into a temporary directory next to the
// destination, then moved into place (data, index, state file: a reader never sees an index whose data
// is missing). Existing checkpoint files are replaced only with --force; the `checkpoint` state file is
// always rewritten to name the new prefix, as TF does.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "core/object_graph.h"
#include "formats/checkpoint/checkpoint_format.h"
#include "formats/checkpoint/checkpoint_internal.h"
#include "io/atomic_output.h"
#include "io/file_util.h"
#include "io/tensor_bundle.h"
#include "kmodel/error.h"

namespace kmodel::formats::checkpoint {

namespace fs = std::filesystem;

std::string output_prefix(const std::string& destination) {
  std::string p = destination;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  if (p.empty()) throw UsageError("empty output path");
  if (io::is_directory(p)) return io::join_path(p, "ckpt");
  if (p.size() > 6 && p.compare(p.size() - 6, 6, ".index") == 0) p.resize(p.size() - 6);
  return p;
}

namespace {
std::string quote_text_proto(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\%03o", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

void write_text_file(const std::string& path, const std::string& text) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) throw IoError(path, std::string("cannot create: ") + std::strerror(errno));
  bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) throw IoError(path, "write failed");
}

void move_into_place(const std::string& from, const std::string& to) {
  std::error_code ec;
  fs::rename(from, to, ec);
  if (ec) throw IoError(to, "cannot move " + from + " into place: " + ec.message());
}
}  // namespace

void write(const Model& model, const std::string& path, const WriteOptions& options) {
  const std::string prefix = output_prefix(path);
  const std::string dir = io::dirname(prefix);
  const std::string base = io::basename(prefix);
  if (base.empty() || base == "." || base == "..") throw UsageError("invalid checkpoint prefix " + path);
  if (!io::is_directory(dir)) throw IoError(prefix, "output directory " + dir + " does not exist");
  const std::string index_path = prefix + ".index";
  const std::string data_path = io::bundle_shard_path(prefix, 0, 1);
  const std::string state_path = io::join_path(dir, "checkpoint");

  if (model.checkpoint && io::absolute_path(model.checkpoint->prefix) == io::absolute_path(prefix))
    throw IoError(prefix, "refusing to write over the input checkpoint");
  for (const auto& p : {index_path, data_path})
    if (io::path_exists(p) && !options.force)
      throw IoError(p, "output already exists (use --force to replace it)");
  if (io::is_directory(state_path)) throw IoError(state_path, "is a directory");

  bool with_optimizer = options.include_optimizer && !options.weights_only;
  objgraph::BuiltGraph built = objgraph::build_keras(model, with_optimizer, prefix);
  if (built.variables.empty())
    throw UnsupportedError(model.path, "", "the model has no weights to write as a checkpoint");

  // Staging directory beside the destination; removed by the destructor (never committed itself).
  io::AtomicOutput staging(prefix + ".kmodel-staging", io::AtomicOutput::Kind::kDirectory, true);
  const std::string temp_prefix = io::join_path(staging.temp_path(), base);
  {
    io::BundleWriter writer(temp_prefix);
    for (const auto& v : built.variables) {
      Tensor t = v.weight->tensor.load();  // one tensor in memory at a time
      writer.add(v.key, t);
    }
    Tensor graph;
    graph.dtype = DType::kString;
    graph.strings.push_back(objgraph::serialize(built.graph));
    writer.add("_CHECKPOINTABLE_OBJECT_GRAPH", graph);
    writer.finish();
  }
  const std::string temp_state = io::join_path(staging.temp_path(), "checkpoint");
  write_text_file(temp_state, "model_checkpoint_path: " + quote_text_proto(base) +
                                  "\nall_model_checkpoint_paths: " + quote_text_proto(base) + "\n");

  move_into_place(io::bundle_shard_path(temp_prefix, 0, 1), data_path);
  move_into_place(temp_prefix + ".index", index_path);
  move_into_place(temp_state, state_path);
}

}  // namespace kmodel::formats::checkpoint
