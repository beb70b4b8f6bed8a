// Builds the one-line message of kmodel::Error: "<file>: <where>: <what>".
#include "kmodel/error.h"

namespace kmodel {
namespace {
std::string compose(const std::string& file, const std::string& where, const std::string& what) {
  std::string msg;
  if (!file.empty()) msg += file + ": ";
  if (!where.empty()) msg += where + ": ";
  msg += what;
  return msg;
}
}  // namespace

Error::Error(ExitCode code, std::string file, std::string where, const std::string& what)
    : std::runtime_error(compose(file, where, what)),
      code_(code), file_(std::move(file)), where_(std::move(where)), detail_(what) {}

}  // namespace kmodel
