// SPDX-License-Identifier: Apache-2.0
// Command-line flags of `rebootd-cloudsim`, parsed into SimOptions so that the main stays thin.
// Pure functions (ParseCloudsimFlags reads the inventory file named by --inventory).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pkg/base/result.h"
#include "pkg/sim/simulator.h"

namespace rebootd::sim {

struct CloudsimFlags {
  SimOptions sim;
  std::string inventory_path;      // "" when none
  std::string log_level = "info";  // trace | debug | info | warn | error | off
  bool help = false;
};

// Parses the arguments after argv[0]. Flags take "--flag VALUE" or "--flag=VALUE":
//   --listen ADDR (required; HOST:PORT, port 0 = any free port)   --allow-non-loopback
//   --inventory FILE   --tencent-instances N   --aliyun-instances N   --aliyun-region R
//   --reboot-seconds S   --reboot-jitter J   --seed N   --start-time-seconds
//   --fault KIND[:ACTION][@ID,...]=P (repeatable)   --rate-limit PROVIDER.ACTION=N (repeatable)
//   --log-level LEVEL   -h | --help
// kInvalidArgument with a message naming the flag for anything wrong.
Result<CloudsimFlags> ParseCloudsimFlags(const std::vector<std::string>& args);
std::string CloudsimUsage();

// "tencent.RebootInstances=20" -> {"tencent.RebootInstances", 20} (same syntax as rebootd's
// --rate-limit). kInvalidArgument for another form or a negative / non-integer number.
Result<std::pair<std::string, int>> ParseRateLimitFlag(std::string_view text);

}  // namespace rebootd::sim
