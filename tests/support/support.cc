// SPDX-License-Identifier: Apache-2.0
#include "tests/support/support.h"

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace rebootd::testing {

std::string SourceDir() {
  const char* v = std::getenv("REBOOTD_SOURCE_DIR");
  return v && *v ? v : REBOOTD_SOURCE_DIR_DEFAULT;
}

std::string BinaryDir() {
  const char* v = std::getenv("REBOOTD_BINARY_DIR");
  return v && *v ? v : REBOOTD_BINARY_DIR_DEFAULT;
}

std::string MakeTempDir(const std::string& prefix) {
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp ? tmp : "/tmp") + "/" + prefix + "-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  return tmpl;
}

}  // namespace rebootd::testing
