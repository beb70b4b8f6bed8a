// `kmodel diff-weights A B`: are these two artifacts (any formats) the same model weights?
// Exit 0: every weight equal or within tolerance; 1: differences; >1: error (h5diff's convention).
#include <iostream>

#include "commands/commands.h"
#include "kmodel/diff.h"
#include "kmodel/error.h"
#include "kmodel/formats.h"

namespace kmodel::app {

void register_diff_weights(CLI::App& app, GlobalOptions& global) {
  struct Args {
    std::string a, b, by = "name", arch, arch_a, arch_b, weights_a, weights_b;
    DiffOptions options;
    bool json = false, all = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("diff-weights", "Compare the weights of two artifacts (any formats)");
  cmd->add_option("a", args->a, "First artifact")->required();
  cmd->add_option("b", args->b, "Second artifact")->required();
  cmd->add_option("--by", args->by, "Pair weights by 'name' (layer + weight name, default) or 'order' (set_weights order)")
      ->check(CLI::IsMember({"name", "order"}));
  cmd->add_option("--atol", args->options.atol, "Absolute tolerance (numpy allclose; default 1e-8)");
  cmd->add_option("--rtol", args->options.rtol, "Relative tolerance (numpy allclose; default 1e-5)");
  cmd->add_flag("--equal-nan", args->options.equal_nan, "NaNs at the same position compare equal");
  cmd->add_flag("--optimizer", args->options.optimizer, "Compare optimizer state too (paired by order)");
  cmd->add_flag("--all", args->all, "List equal weights too");
  cmd->add_flag("--json", args->json, "Print one JSON document");
  cmd->add_option("--arch", args->arch, "Architecture naming the variables of checkpoint inputs (both)");
  cmd->add_option("--arch-a", args->arch_a, "Architecture for A (a checkpoint)");
  cmd->add_option("--arch-b", args->arch_b, "Architecture for B (a checkpoint)");
  cmd->add_option("--weights-a", args->weights_a, "Weights to attach to A when A is a JSON architecture");
  cmd->add_option("--weights-b", args->weights_b, "Weights to attach to B when B is a JSON architecture");
  cmd->callback([args, &global]() {
    if (args->options.atol < 0 || args->options.rtol < 0) throw UsageError("--atol and --rtol must be >= 0");
    args->options.by = args->by == "order" ? MatchBy::kOrder : MatchBy::kName;
    ReadOptions ra, rb;
    ra.arch_path = args->arch_a.empty() ? args->arch : args->arch_a;
    rb.arch_path = args->arch_b.empty() ? args->arch : args->arch_b;
    ra.weights_path = args->weights_a;
    rb.weights_path = args->weights_b;
    Model a = read(args->a, ra);
    Model b = read(args->b, rb);
    if (!a.has_weights() && !b.has_weights())
      throw UsageError("neither '" + args->a + "' nor '" + args->b +
                       "' holds weights (a JSON architecture needs --weights-a/--weights-b)");
    DiffResult r = diff_weights(a, b, args->options);
    if (args->json || global.json) std::cout << diff_json(r) << "\n";
    else if (global.verbosity < 0) std::cout << diff_summary(r) << "\n";
    else std::cout << diff_text(r, args->all);
    if (!r.same()) throw CommandExit{1};
  });
}

}  // namespace kmodel::app
