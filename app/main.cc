// kmodel's command-line entry: CLI11 wiring, global flags, and the mapping of errors to exit codes.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include <google/protobuf/stubs/logging.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "commands/commands.h"
#include "kmodel/error.h"

// Ends the process after an error was reported. Temporary outputs were already removed while the
// exception unwound (AtomicOutput); library teardown is skipped because libhdf5's atexit handler
// segfaults closing a file whose close failed (e.g. a write past ulimit -f or a full disk).
[[noreturn]] static void exit_after_error(int code) {
  std::fflush(nullptr);
  std::_Exit(code);
}

int main(int argc, char** argv) {
  using kmodel::ExitCode;
  // Past a file size limit (ulimit -f) write() must fail with EFBIG so the error path removes the
  // temporary output; the default SIGXFSZ action would kill the process and leave it behind.
  std::signal(SIGXFSZ, SIG_IGN);
  // libprotobuf logs parse complaints (e.g. invalid UTF-8 in a string field) to stderr itself; errors
  // must stay one line, so its messages go to the debug log and the reader's own error is reported.
  google::protobuf::SetLogHandler([](google::protobuf::LogLevel, const char*, int, const std::string& message) {
    spdlog::debug("protobuf: {}", message);
  });
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
    exit_after_error(static_cast<int>(e.code()));
  } catch (const std::bad_alloc&) {
    std::cerr << "kmodel: error: out of memory" << std::endl;
    exit_after_error(static_cast<int>(ExitCode::kBadInput));
  } catch (const std::exception& e) {
    std::cerr << "kmodel: error: " << e.what() << std::endl;
    exit_after_error(static_cast<int>(ExitCode::kBadInput));
  }
  return 0;
}
