// `kmodel save`: placeholder until its issue lands; says clearly that it is not available yet.
#include "commands/commands.h"
#include "kmodel/error.h"

namespace kmodel::app {

void register_save(CLI::App& app, GlobalOptions&) {
  auto* cmd = app.add_subcommand("save", "Assemble a model from an architecture and weights (not available yet)");
  cmd->allow_extras();
  cmd->callback([]() { throw UnsupportedError("", "", "'save' is not implemented yet"); });
}

}  // namespace kmodel::app
