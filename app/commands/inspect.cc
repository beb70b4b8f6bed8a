// `kmodel inspect PATH`: read lazily and print the report (text or --json). No tensor data unless --stats.
#include <iostream>

#include "commands/commands.h"
#include "kmodel/formats.h"
#include "kmodel/report.h"
#include "kmodel/security.h"

namespace kmodel::app {

void register_inspect(CLI::App& app, GlobalOptions& global) {
  struct Args {
    std::string path, arch, weights;
    InspectOptions options;
    bool json = false;
    bool security = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("inspect", "Show what an artifact holds: layers, weights, configs, variables");
  cmd->add_option("path", args->path, "Model artifact (H5, JSON, checkpoint, SavedModel dir, .keras)")->required();
  cmd->add_option("--arch", args->arch, "Architecture used to name checkpoint variables");
  cmd->add_option("--weights", args->weights, "Weights to attach to a JSON architecture");
  cmd->add_flag("--json", args->json, "Print one JSON document");
  cmd->add_flag("--tree", args->options.tree, "Print the whole object graph");
  cmd->add_flag("--stats", args->options.stats, "Read tensors and print min/max/mean/std");
  cmd->add_flag("--security", args->security,
                "List what would run code in Keras (Lambda bytecode, custom objects, pickled npz); exit 1 if any");
  cmd->callback([args, &global]() {
    ReadOptions ro;
    ro.arch_path = args->arch;
    ro.weights_path = args->weights;
    if (args->security) {
      SecurityReport report = scan_security(args->path, ro);
      std::cout << (args->json || global.json ? security_json(report) + "\n" : security_text(report));
      if (!report.clean()) throw CommandExit{1};
      return;
    }
    Model model = read(args->path, ro);
    if (args->json || global.json) std::cout << inspect_json(model, args->options) << "\n";
    else std::cout << inspect_text(model, args->options);
  });
}

}  // namespace kmodel::app
