// `kmodel predict MODEL -i x.npy [-i name=a.npy ...] [-o y.npy|.npz|.json] [--batch-size N]`:
// compiles the model with kmodel's own engine and runs it; no format or math logic here.
#include <algorithm>
#include <chrono>
#include <ctime>
#include <iostream>
#include <map>

#include <spdlog/spdlog.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "commands/commands.h"
#include "kmodel/error.h"
#include "kmodel/formats.h"
#include "kmodel/predict.h"

namespace kmodel::app {
namespace {

FloatArray slice_rows(const FloatArray& a, int64_t from, int64_t to) {
  FloatArray s;
  s.shape = a.shape;
  s.shape[0] = to - from;
  const int64_t per = a.shape[0] ? static_cast<int64_t>(a.values.size()) / a.shape[0] : 0;
  s.values.assign(a.values.begin() + from * per, a.values.begin() + to * per);
  return s;
}

// Runs rows [from, to) of every input; all rows are passed in place (no copy).
std::vector<FloatArray> run_rows(const Predictor& p, const std::vector<FloatArray>& inputs, int64_t from, int64_t to) {
  if (!inputs.empty() && from == 0 && to == inputs[0].shape[0]) return p.run(inputs);
  std::vector<FloatArray> batch;
  for (const auto& in : inputs) batch.push_back(slice_rows(in, from, to));
  return p.run(batch);
}

}  // namespace

void register_predict(CLI::App& app, GlobalOptions& global) {
  struct Args {
    std::string model, output, weights;
    std::vector<std::string> inputs;
    int64_t batch_size = 0;
    int bench = 0;
    bool force = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("predict", "Run a model on inputs with kmodel's native engine");
  cmd->add_option("model", args->model, "Model artifact (H5, JSON + --weights, SavedModel, .keras)")->required();
  cmd->add_option("-i,--input", args->inputs,
                  "Input file (.npy, .npz, .json, .csv); several as name=path, one per model input")
      ->required();
  cmd->add_option("-o,--output", args->output, "Output file (.npy, .npz, .json); default: a table on stdout");
  cmd->add_option("--weights", args->weights, "Weights for an architecture-only model");
  cmd->add_option("--batch-size", args->batch_size, "Run the inputs in batches of this many rows");
  cmd->add_flag("-f,--force", args->force, "Replace an existing output");
  cmd->add_option("--bench", args->bench,
                  "Also time N extra runs of the whole input (after one warm-up) and print the mean to stderr");
  cmd->callback([args, &global]() {
    if (args->batch_size < 0) throw UsageError("--batch-size must be positive");
#if defined(__GLIBC__)
    // Layer outputs are large, short-lived buffers: keep freed memory in the heap instead of
    // returning it to the kernel after every layer (saves page faults and kernel zeroing per run).
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
    ReadOptions ro;
    ro.weights_path = args->weights;
    Model model = read(args->model, ro);
    Predictor predictor(model);
    const auto& decl = predictor.inputs();

    // Collect named arrays from the -i options.
    std::map<std::string, FloatArray> named;
    std::vector<FloatArray> positional;
    bool user_named = false;  // a name=path was given: names must match model inputs
    for (const std::string& spec : args->inputs) {
      std::string name, path = spec;
      auto eq = spec.find('=');
      if (eq != std::string::npos && eq > 0) {
        name = spec.substr(0, eq);
        path = spec.substr(eq + 1);
        user_named = true;
      }
      for (auto& [entry, array] : read_arrays(path)) {
        std::string key = !name.empty() ? name : entry;
        if (key.empty()) positional.push_back(std::move(array));
        else if (!named.emplace(key, std::move(array)).second) throw UsageError("input \"" + key + "\" given twice");
      }
    }
    std::vector<FloatArray> inputs;
    for (size_t i = 0; i < decl.size(); ++i) {
      auto it = named.find(decl[i].name);
      if (it != named.end()) {
        inputs.push_back(std::move(it->second));
        named.erase(it);
      } else if (!user_named && decl.size() == 1 && named.size() == 1 && positional.empty()) {  // one npz entry
        inputs.push_back(std::move(named.begin()->second));
        named.clear();
      } else if (!positional.empty()) {
        inputs.push_back(std::move(positional.front()));
        positional.erase(positional.begin());
      } else {
        std::string names;
        for (const auto& d : decl) names += (names.empty() ? "" : ", ") + d.name;
        throw UsageError("no array for model input \"" + decl[i].name + "\" (model inputs: " + names +
                         "); pass -i " + decl[i].name + "=FILE");
      }
    }
    if (!named.empty() || !positional.empty()) {
      std::string extra = named.empty() ? "unnamed array" : "\"" + named.begin()->first + "\"";
      throw UsageError("input " + extra + " matches no model input");
    }
    for (size_t i = 0; i < inputs.size(); ++i)
      if (inputs[i].shape.empty()) throw UsageError("input \"" + decl[i].name + "\" is a scalar; predict needs a batch");
    const int64_t rows = inputs[0].shape[0];
    for (size_t i = 1; i < inputs.size(); ++i)
      if (inputs[i].shape[0] != rows)
        throw UsageError("inputs have different batch sizes: " + std::to_string(rows) + " and " +
                         std::to_string(inputs[i].shape[0]));
    const int64_t bs = args->batch_size > 0 ? args->batch_size : std::max<int64_t>(rows, 1);
    std::vector<FloatArray> results;
    for (int64_t r0 = 0; r0 < rows || (rows == 0 && r0 == 0); r0 += bs) {
      const int64_t r1 = std::min(rows, r0 + bs);
      std::vector<FloatArray> out = run_rows(predictor, inputs, r0, r1);
      if (results.empty()) {
        results = std::move(out);
      } else {
        for (size_t k = 0; k < out.size(); ++k) {
          results[k].shape[0] += out[k].shape[0];
          results[k].values.insert(results[k].values.end(), out[k].values.begin(), out[k].values.end());
        }
      }
      if (rows == 0) break;
    }
    if (args->bench > 0) {
      // Wall time, and process CPU time (immune to preemption on a loaded machine).
      auto cpu_ms = [] {
        timespec ts{};
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
      };
      double best = 1e30, total = 0, cpu_best = 1e30, cpu_total = 0;
      for (int i = 0; i < args->bench; ++i) {
        const double c0 = cpu_ms();
        auto t0 = std::chrono::steady_clock::now();
        for (int64_t r0 = 0; r0 < rows; r0 += bs)
          (void)run_rows(predictor, inputs, r0, std::min(rows, r0 + bs));
        double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        const double cpu = cpu_ms() - c0;
        total += ms;
        best = std::min(best, ms);
        cpu_total += cpu;
        cpu_best = std::min(cpu_best, cpu);
      }
      std::cerr << "bench: " << args->bench << " runs of " << rows << " rows, mean " << total / args->bench
                << " ms, min " << best << " ms; cpu mean " << cpu_total / args->bench << " ms, cpu min " << cpu_best
                << " ms\n";
    }
    std::vector<NamedArray> named_out;
    for (size_t k = 0; k < results.size(); ++k)
      named_out.emplace_back(k < predictor.outputs().size() ? predictor.outputs()[k].name : "output_" + std::to_string(k),
                             std::move(results[k]));
    if (args->output.empty()) {
      std::cout << format_arrays(named_out);
      return;
    }
    write_arrays(named_out, args->output, args->force);
    if (global.json)
      std::cout << "{\"output\":\"" << args->output << "\",\"arrays\":" << named_out.size() << "}\n";
    else if (global.verbosity >= 0)
      std::cout << "wrote " << args->output << " (" << named_out.size() << " output"
                << (named_out.size() == 1 ? "" : "s") << ", " << rows << " rows)\n";
  });
}

}  // namespace kmodel::app
