// kmodel's command-line entry: CLI11 wiring, global flags, and the mapping of errors to exit codes.
#include <cstdio>
#include <iostream>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "commands/commands.h"
#include "kmodel/error.h"

int main(int argc, char** argv) {
  using kmodel::ExitCode;
  auto logger = spdlog::stderr_color_mt("kmodel");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("kmodel: %l: %v");
  spdlog::set_level(spdlog::level::warn);

  CLI::App app{"kmodel: read, write, convert, inspect, diff and run Keras model artifacts"};
  app.set_version_flag("--version", std::string("kmodel ") + KMODEL_VERSION);
  app.require_subcommand(1);
  kmodel::app::GlobalOptions global;
  app.add_flag("--json", global.json, "Print machine-readable JSON on stdout");
  app.add_flag_function("-v,--verbose", [&](int64_t n) { global.verbosity = static_cast<int>(n); },
                        "More log output on stderr (repeat for more)");
  app.add_flag_function("-q,--quiet", [&](int64_t) { global.verbosity = -1; }, "Only errors on stderr");
  app.parse_complete_callback([&]() {
    if (global.verbosity < 0) spdlog::set_level(spdlog::level::err);
    else if (global.verbosity == 1) spdlog::set_level(spdlog::level::info);
    else if (global.verbosity >= 2) spdlog::set_level(spdlog::level::debug);
  });

  kmodel::app::register_inspect(app, global);
  kmodel::app::register_load(app, global);
  kmodel::app::register_convert(app, global);
  kmodel::app::register_save(app, global);
  kmodel::app::register_diff_weights(app, global);
  kmodel::app::register_predict(app, global);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : static_cast<int>(ExitCode::kUsage);
  } catch (const kmodel::app::CommandExit& e) {
    return e.code;
  } catch (const kmodel::Error& e) {
    std::fflush(stdout);
    std::cerr << "kmodel: error: " << e.what() << std::endl;
    return static_cast<int>(e.code());
  } catch (const std::bad_alloc&) {
    std::cerr << "kmodel: error: out of memory" << std::endl;
    return static_cast<int>(ExitCode::kBadInput);
  } catch (const std::exception& e) {
    std::cerr << "kmodel: error: " << e.what() << std::endl;
    return static_cast<int>(ExitCode::kBadInput);
  }
  return 0;
}
