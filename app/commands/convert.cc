// `kmodel convert SRC DST`: read any artifact, write it in the format given by --to or DST's name.
#include <iostream>

#include <spdlog/spdlog.h>

#include "commands/commands.h"
#include "kmodel/error.h"
#include "kmodel/formats.h"

namespace kmodel::app {

void register_convert(CLI::App& app, GlobalOptions& global) {
  struct Args {
    std::string src, dst, to, arch, weights;
    bool weights_only = false, force = false, no_optimizer = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("convert", "Convert an artifact to another format");
  cmd->add_option("src", args->src, "Input artifact")->required();
  cmd->add_option("dst", args->dst, "Output path")->required();
  cmd->add_option("--to", args->to, "Output format: h5, json, checkpoint, savedmodel, keras");
  cmd->add_option("--arch", args->arch, "Architecture for a checkpoint input");
  cmd->add_option("--weights", args->weights, "Weights to attach to a JSON architecture input");
  cmd->add_flag("--weights-only", args->weights_only, "Write weights only (H5: save_weights layout)");
  cmd->add_flag("--no-optimizer", args->no_optimizer, "Leave optimizer state out");
  cmd->add_flag("-f,--force", args->force, "Replace an existing output");
  cmd->callback([args, &global]() {
    Format format = Format::kUnknown;
    std::string how;
    if (!args->to.empty()) {
      auto f = format_from_name(args->to);
      if (!f) throw UsageError("unknown --to format '" + args->to + "' (h5, json, checkpoint, savedmodel, keras)");
      format = *f;
      how = "from --to";
    } else if (auto f = format_for_destination(args->dst)) {
      format = *f;
      how = "from the destination name";
    } else {
      throw UsageError("cannot tell the output format from '" + args->dst +
                       "'; name it .h5/.json/.keras or pass --to (h5, json, checkpoint, savedmodel, keras)");
    }
    ReadOptions ro;
    ro.arch_path = args->arch;
    ro.weights_path = args->weights;
    Model model = read(args->src, ro);
    WriteOptions wo;
    wo.force = args->force;
    wo.weights_only = args->weights_only;
    wo.include_optimizer = !args->no_optimizer;
    write(model, args->dst, format, wo);
    size_t count = 0;
    uint64_t bytes = 0;
    for (const Weight* w : model.all_weights()) {
      ++count;
      bytes += w->tensor.byte_size();
    }
    if (!global.json && global.verbosity >= 0)
      std::cout << "wrote " << args->dst << " (format " << format_name(format) << " " << how << ", "
                << (args->weights_only ? "weights only, " : "") << count << " weights, " << bytes
                << " bytes)\n";
    else if (global.json)
      std::cout << "{\"output\":\"" << args->dst << "\",\"format\":\"" << format_name(format)
                << "\",\"weights\":" << count << ",\"bytes\":" << bytes << "}\n";
  });
}

}  // namespace kmodel::app
