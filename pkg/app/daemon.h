// SPDX-License-Identifier: Apache-2.0
// The composition root of `rebootd run`: builds the real dependencies (sources, stores, cloud
// providers, metrics, logs, the simulator for --simulate) from a RunConfig, runs the controller,
// handles SIGINT/SIGTERM, prints progress, and returns the process exit code.
#pragma once

#include "pkg/app/flags.h"

namespace rebootd::app {

// Exit codes: 0 (stopped by a signal, or --until-done and every request Succeeded), 1
// (--until-done and some request Failed), 2 (usage or configuration error).
int RunDaemon(const RunConfig& config);

}  // namespace rebootd::app
