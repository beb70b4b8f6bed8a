// Registration functions of the subcommands, one file each under app/commands/. No format logic here.
#pragma once

#include <CLI/CLI.hpp>

namespace kmodel::app {

// Flags shared by every subcommand.
struct GlobalOptions {
  bool json = false;     // machine-readable output on stdout
  int verbosity = 0;     // -v increments, -q sets to -1
};

// Thrown by a command to end the process with a given exit code after printing its own output
// (e.g. diff-weights found differences: exit 1).
struct CommandExit {
  int code;
};

void register_inspect(CLI::App& app, GlobalOptions& global);
void register_load(CLI::App& app, GlobalOptions& global);
void register_convert(CLI::App& app, GlobalOptions& global);
void register_save(CLI::App& app, GlobalOptions& global);
void register_diff_weights(CLI::App& app, GlobalOptions& global);
void register_predict(CLI::App& app, GlobalOptions& global);

}  // namespace kmodel::app
