// `kmodel diff-weights`: placeholder until its issue lands; says clearly that it is not available yet.
#include "commands/commands.h"
#include "kmodel/error.h"

namespace kmodel::app {

void register_diff_weights(CLI::App& app, GlobalOptions&) {
  auto* cmd = app.add_subcommand("diff-weights", "Compare the weights of two artifacts (not available yet)");
  cmd->allow_extras();
  cmd->callback([]() { throw UnsupportedError("", "", "'diff-weights' is not implemented yet"); });
}

}  // namespace kmodel::app
