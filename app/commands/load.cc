// `kmodel load PATH`: read everything, verify every tensor and the config, print the summary.
// Exit 0 only when the model is consistent; 1 with the list of problems otherwise.
#include <iostream>

#include "commands/commands.h"
#include "kmodel/formats.h"
#include "kmodel/report.h"

namespace kmodel::app {

void register_load(CLI::App& app, GlobalOptions& global) {
  struct Args {
    std::string path, arch, weights;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("load", "Read an artifact completely and validate it (exit 1 if invalid)");
  cmd->add_option("path", args->path, "Model artifact")->required();
  cmd->add_option("--arch", args->arch, "Architecture used to name checkpoint variables");
  cmd->add_option("--weights", args->weights, "Weights to attach to a JSON architecture");
  cmd->add_flag("--json", args->json, "Print the result as JSON");
  cmd->callback([args, &global]() {
    ReadOptions ro;
    ro.arch_path = args->arch;
    ro.weights_path = args->weights;
    Model model = read(args->path, ro);
    Validation v = validate(model);
    if (args->json || global.json) {
      std::cout << "{\"path\":" << '"' << args->path << '"' << ",\"ok\":" << (v.ok() ? "true" : "false")
                << ",\"weights_checked\":" << v.weights_checked << ",\"bytes_read\":" << v.bytes_read
                << ",\"problems\":[";
      for (size_t i = 0; i < v.problems.size(); ++i) {
        if (i) std::cout << ",";
        std::string p;
        for (char c : v.problems[i]) {
          if (c == '"' || c == '\\') p += '\\';
          p += c;
        }
        std::cout << '"' << p << '"';
      }
      std::cout << "]}\n";
    } else {
      std::cout << summary_text(model);
      for (const auto& n : v.notes) std::cout << "note: " << n << "\n";
      for (const auto& p : v.problems) std::cout << "problem: " << p << "\n";
      std::cout << (v.ok() ? "OK: " : "FAILED: ") << args->path << ": " << v.weights_checked
                << " weights verified (" << v.bytes_read << " bytes)"
                << (v.ok() ? "" : ", " + std::to_string(v.problems.size()) + " problem(s)") << "\n";
    }
    if (!v.ok()) throw CommandExit{1};
  });
}

}  // namespace kmodel::app
