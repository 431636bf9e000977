// SPDX-License-Identifier: Apache-2.0
#include "pkg/sim/options.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <optional>

namespace rebootd::sim {
namespace {

Result<int64_t> ParseInteger(const std::string& flag, const std::string& value, int64_t min,
                             int64_t max) {
  int64_t out = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), out);
  if (value.empty() || ec != std::errc() || ptr != value.data() + value.size() || out < min ||
      out > max) {
    return MakeError(ErrorCode::kInvalidArgument,
                     flag + ": \"" + value + "\" is not an integer between " + std::to_string(min) +
                         " and " + std::to_string(max));
  }
  return out;
}

Result<double> ParseNumber(const std::string& flag, const std::string& value) {
  char* end = nullptr;
  double out = value.empty() ? 0 : std::strtod(value.c_str(), &end);
  if (value.empty() || end != value.c_str() + value.size() || !std::isfinite(out)) {
    return MakeError(ErrorCode::kInvalidArgument, flag + ": \"" + value + "\" is not a number");
  }
  return out;
}

}  // namespace

std::string CloudsimUsage() {
  return "usage: rebootd-cloudsim --listen ADDR [--inventory FILE] [--tencent-instances N]\n"
         "         [--aliyun-instances N] [--aliyun-region R] [--reboot-seconds S]\n"
         "         [--reboot-jitter J] [--seed N] [--history-fraction F]\n"
         "         [--fault KIND[:ACTION][@IDS]=P]...\n"
         "         [--rate-limit PROVIDER.ACTION=N]... [--start-time-seconds]\n"
         "         [--allow-non-loopback] [--log-level LEVEL]\n"
         "Simulates Tencent Cloud ECM and Alibaba Cloud ECS on one HTTP port (loopback only\n"
         "unless --allow-non-loopback). --history-fraction gives that fraction of the generated\n"
         "instances an earlier finished reboot (ECM LatestOperation RebootInstances SUCCESS; ECS\n"
         "StartTime 20 s before the start). Fault kinds: error-before, error-after, unavailable,\n"
         "throttle, reset, reset-after, hang, hang-after, and soft-stuck (an Aliyun\n"
         "RebootInstance with ForceStop=false is accepted but the instance stays Stopping until\n"
         "a ForceStop=true call; e.g. --fault soft-stuck:RebootInstance=1, or only for some\n"
         "instances: --fault soft-stuck:RebootInstance@i-a,i-b=1). Rate-limit keys:\n"
         "tencent.RebootInstances, tencent.DescribeInstances, aliyun.RebootInstance,\n"
         "aliyun.DescribeInstanceStatus, aliyun.DescribeInstances (default 20/s, 0 = off).\n"
         "Keys: TENCENTCLOUD_SECRET_ID/_KEY/_TOKEN and ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET/\n"
         "_SECURITY_TOKEN; with none set, the demo pairs documented in the README.\n";
}

Result<std::pair<std::string, int>> ParseRateLimitFlag(std::string_view text) {
  std::string context = "--rate-limit " + std::string(text);
  auto eq = text.find('=');
  auto dot = text.find('.');
  if (eq == std::string_view::npos || dot == std::string_view::npos || dot > eq || dot == 0 ||
      dot + 1 == eq) {
    return MakeError(ErrorCode::kInvalidArgument, context +
                                                      ": expected PROVIDER.ACTION=PER_SECOND, e.g. "
                                                      "tencent.RebootInstances=20");
  }
  REBOOTD_ASSIGN_OR_RETURN(int64_t n,
                           ParseInteger(context, std::string(text.substr(eq + 1)), 0, 1000000));
  return std::make_pair(std::string(text.substr(0, eq)), static_cast<int>(n));
}

Result<CloudsimFlags> ParseCloudsimFlags(const std::vector<std::string>& args) {
  CloudsimFlags flags;
  bool have_listen = false;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    if (arg == "-h" || arg == "--help") {
      flags.help = true;
      return flags;
    }
    if (arg.rfind("--", 0) != 0) {
      return MakeError(ErrorCode::kInvalidArgument, "unexpected argument \"" + arg + "\"");
    }
    std::optional<std::string> inline_value;
    if (auto eq = arg.find('='); eq != std::string::npos) {
      inline_value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    }
    auto boolean = [&](bool* target) -> Status {
      if (inline_value && *inline_value != "true" && *inline_value != "false") {
        return MakeError(ErrorCode::kInvalidArgument, arg + ": expected true or false");
      }
      *target = !inline_value || *inline_value == "true";
      return OkStatus();
    };
    if (arg == "--allow-non-loopback") {
      REBOOTD_RETURN_IF_ERROR(boolean(&flags.sim.allow_non_loopback));
      continue;
    }
    if (arg == "--start-time-seconds") {
      REBOOTD_RETURN_IF_ERROR(boolean(&flags.sim.start_time_with_seconds));
      continue;
    }
    static const char* kValueFlags[] = {
        "--listen",        "--inventory",      "--tencent-instances", "--aliyun-instances",
        "--aliyun-region", "--reboot-seconds", "--reboot-jitter",     "--seed",
        "--fault",         "--rate-limit",     "--log-level",         "--history-fraction"};
    bool known = false;
    for (const char* name : kValueFlags) known |= arg == name;
    if (!known) return MakeError(ErrorCode::kInvalidArgument, "unknown flag " + arg);
    std::string value;
    if (inline_value) {
      value = *inline_value;
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return MakeError(ErrorCode::kInvalidArgument, arg + ": missing value");
    }
    if (arg == "--listen") {
      if (value.empty()) return MakeError(ErrorCode::kInvalidArgument, "--listen: empty address");
      flags.sim.listen = value;
      have_listen = true;
    } else if (arg == "--inventory") {
      flags.inventory_path = value;
    } else if (arg == "--tencent-instances") {
      REBOOTD_ASSIGN_OR_RETURN(int64_t n, ParseInteger(arg, value, 0, 1000000));
      flags.sim.tencent_instances = static_cast<int>(n);
    } else if (arg == "--aliyun-instances") {
      REBOOTD_ASSIGN_OR_RETURN(int64_t n, ParseInteger(arg, value, 0, 1000000));
      flags.sim.aliyun_instances = static_cast<int>(n);
    } else if (arg == "--aliyun-region") {
      if (value.empty()) {
        return MakeError(ErrorCode::kInvalidArgument, "--aliyun-region: empty region");
      }
      flags.sim.aliyun_region = value;
    } else if (arg == "--reboot-seconds") {
      REBOOTD_ASSIGN_OR_RETURN(double s, ParseNumber(arg, value));
      if (!(s > 0 && s <= 86400)) {
        return MakeError(ErrorCode::kInvalidArgument, arg + ": must be in (0, 86400]");
      }
      flags.sim.reboot_seconds = s;
    } else if (arg == "--reboot-jitter") {
      REBOOTD_ASSIGN_OR_RETURN(double j, ParseNumber(arg, value));
      if (!(j >= 0 && j < 1)) {
        return MakeError(ErrorCode::kInvalidArgument, arg + ": must be in [0, 1)");
      }
      flags.sim.reboot_jitter = j;
    } else if (arg == "--history-fraction") {
      REBOOTD_ASSIGN_OR_RETURN(double h, ParseNumber(arg, value));
      if (!(h >= 0 && h <= 1)) {
        return MakeError(ErrorCode::kInvalidArgument, arg + ": must be in [0, 1]");
      }
      flags.sim.history_fraction = h;
    } else if (arg == "--seed") {
      REBOOTD_ASSIGN_OR_RETURN(int64_t n, ParseInteger(arg, value, 0, INT64_MAX));
      flags.sim.seed = static_cast<uint64_t>(n);
    } else if (arg == "--fault") {
      REBOOTD_ASSIGN_OR_RETURN(FaultRule rule, ParseFaultFlag(value));
      flags.sim.faults.push_back(std::move(rule));
    } else if (arg == "--rate-limit") {
      REBOOTD_ASSIGN_OR_RETURN(auto limit, ParseRateLimitFlag(value));
      flags.sim.rate_limits[limit.first] = limit.second;
    } else if (arg == "--log-level") {
      static const char* kLevels[] = {"trace", "debug", "info", "warn", "error", "off"};
      bool ok = false;
      for (const char* level : kLevels) ok |= value == level;
      if (!ok) {
        return MakeError(ErrorCode::kInvalidArgument, "--log-level: \"" + value +
                                                          "\" is not one of trace, debug, info, "
                                                          "warn, error, off");
      }
      flags.log_level = value;
    } else {
      return MakeError(ErrorCode::kInvalidArgument, "unknown flag " + arg);
    }
  }
  if (!have_listen) {
    return MakeError(ErrorCode::kInvalidArgument, "--listen is required (e.g. 127.0.0.1:0)");
  }
  if (!flags.inventory_path.empty()) {
    REBOOTD_ASSIGN_OR_RETURN(flags.sim.inventory, LoadInventoryFile(flags.inventory_path));
  }
  return flags;
}

}  // namespace rebootd::sim
