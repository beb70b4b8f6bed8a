// `kmodel predict`: placeholder until its issue lands; says clearly that it is not available yet.
#include "commands/commands.h"
#include "kmodel/error.h"

namespace kmodel::app {

void register_predict(CLI::App& app, GlobalOptions&) {
  auto* cmd = app.add_subcommand("predict", "Run a model on inputs (not available yet)");
  cmd->allow_extras();
  cmd->callback([]() { throw UnsupportedError("", "", "'predict' is not implemented yet"); });
}

}  // namespace kmodel::app
