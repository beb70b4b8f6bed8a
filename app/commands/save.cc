// `kmodel save --arch ARCH [--weights SRC] -o OUT`: assemble a full model from an architecture and
// weights from any artifact (by name or by order), or fresh weights from the initializers (--init).
#include <iostream>

#include "commands/commands.h"
#include "kmodel/assemble.h"
#include "kmodel/error.h"
#include "kmodel/formats.h"

namespace kmodel::app {

void register_save(CLI::App& app, GlobalOptions& global) {
  struct Args {
    std::string arch, weights, out, to, by = "name", weights_arch;
    bool skip_mismatch = false, allow_partial = false, force = false, json = false;
    int64_t init = -1;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("save", "Assemble a model from an architecture and weights, or fresh weights");
  cmd->add_option("--arch", args->arch, "Architecture: a JSON file or any artifact holding one")->required();
  cmd->add_option("--weights", args->weights, "Artifact to take the weights from (any format)");
  cmd->add_option("--weights-arch", args->weights_arch, "Architecture naming the variables of a checkpoint --weights");
  cmd->add_option("-o,--output", args->out, "Output path")->required();
  cmd->add_option("--to", args->to, "Output format: h5, json, checkpoint, savedmodel, keras (default: from -o)");
  cmd->add_option("--by", args->by, "Match weights by 'name' (default) or 'order'")->check(CLI::IsMember({"name", "order"}));
  cmd->add_flag("--skip-mismatch", args->skip_mismatch, "Skip weights whose shape does not fit (reported, fresh values)");
  cmd->add_flag("--allow-partial", args->allow_partial, "Accept missing weights (they get fresh values)");
  cmd->add_option("--init", args->init, "Seed for fresh weights from the config's initializers")->check(CLI::NonNegativeNumber);
  cmd->add_flag("-f,--force", args->force, "Replace an existing output");
  cmd->add_flag("--json", args->json, "Print the coverage report as JSON");
  cmd->callback([args, &global]() {
    Format format = Format::kUnknown;
    if (!args->to.empty()) {
      auto f = format_from_name(args->to);
      if (!f) throw UsageError("unknown --to format '" + args->to + "' (h5, json, checkpoint, savedmodel, keras)");
      format = *f;
    } else if (auto f = format_for_destination(args->out)) {
      format = *f;
    } else {
      throw UsageError("cannot tell the output format from '" + args->out + "'; name it .h5/.keras or pass --to");
    }
    Model arch = read(args->arch);
    if (!arch.has_architecture()) throw UsageError("'" + args->arch + "' holds no architecture (model config)");
    std::optional<Model> source;
    if (!args->weights.empty()) {
      ReadOptions ro;
      ro.arch_path = args->weights_arch;
      source = read(args->weights, ro);
      if (!source->has_weights()) throw UsageError("'" + args->weights + "' holds no weights");
    } else if (args->init < 0) {
      source = arch;  // re-save an artifact that holds both (or a model without weights at all)
    }
    AssembleOptions o;
    o.by = args->by == "order" ? MatchBy::kOrder : MatchBy::kName;
    o.skip_mismatch = args->skip_mismatch;
    o.allow_partial = args->allow_partial;
    if (args->init >= 0) o.init_seed = static_cast<uint64_t>(args->init);
    AssembleReport report;
    Model model = assemble_model(arch, source ? &*source : nullptr, o, report);
    if (args->weights.empty() && args->init < 0 && !arch.has_weights() && report.expected > 0)
      throw UsageError("no weights: pass --weights SRC or --init SEED ('" + args->arch + "' holds none, and its " +
                       "architecture expects " + std::to_string(report.expected) + ")");
    bool json = args->json || global.json;
    if (json) std::cout << report.json() << "\n";
    else if (global.verbosity >= 0 || !report.ok()) std::cout << report.text();
    if (!report.ok()) throw CommandExit{1};
    WriteOptions wo;
    wo.force = args->force;
    write(model, args->out, format, wo);
    if (!json && global.verbosity >= 0)
      std::cout << "wrote " << args->out << " (format " << format_name(format) << ", " << report.loaded.size()
                << " weights loaded, " << report.initialized.size() << " fresh)\n";
  });
}

}  // namespace kmodel::app
