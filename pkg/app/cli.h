// SPDX-License-Identifier: Apache-2.0
// The rebootd command line: `run`, `validate`, `status`, `version`, `help`. Main() returns the
// process exit code; cmd/rebootd/main.cc only calls it.
#pragma once

#include <string>
#include <vector>

namespace rebootd::app {

int Main(int argc, char** argv);
// `rebootd validate FILE...`: 0 when every file holds only valid RebootRequests, else 1 with
// "FILE:LINE: field.path: message" lines on stderr; 2 for usage errors.
int Validate(const std::vector<std::string>& args);
// `rebootd status [--state-dir DIR] [-o table|json]`.
int StatusCommand(const std::vector<std::string>& args);

}  // namespace rebootd::app
