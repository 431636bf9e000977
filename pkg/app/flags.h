// SPDX-License-Identifier: Apache-2.0
// Command-line parsing for rebootd: a small flag parser (--name=value, --name value, boolean
// --name, repeatable flags) and the `rebootd run` configuration with its validation. Pure;
// no I/O.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pkg/base/clock.h"
#include "pkg/base/result.h"

namespace rebootd::app {

// Parses "500ms", "5s", "2m", "1h", "1m30s" or a plain number of seconds. kInvalidArgument
// otherwise (negative values too).
Result<Duration> ParseDuration(std::string_view text);
std::string FormatDuration(Duration d);

struct FlagSpec {
  std::string name;      // without dashes
  bool boolean = false;  // --name means true; --name=false allowed
  bool repeatable = false;
  std::string help;
  std::string value_name;  // for help, e.g. "PATH"
};

struct ParsedFlags {
  std::map<std::string, std::vector<std::string>> values;  // name -> values in order
  std::vector<std::string> positional;
  bool Has(const std::string& name) const { return values.count(name) > 0; }
  // The last value of a flag, or `fallback`.
  std::string Get(const std::string& name, std::string fallback = {}) const;
  bool GetBool(const std::string& name) const;
  const std::vector<std::string>& GetAll(const std::string& name) const;
};

// kInvalidArgument for unknown flags, missing values, repeated non-repeatable flags, and bad
// booleans, naming the flag. "-o" is accepted as an alias of "--output" when that is a spec.
Result<ParsedFlags> ParseFlags(const std::vector<std::string>& args,
                               const std::vector<FlagSpec>& specs);
std::string FlagsHelp(const std::vector<FlagSpec>& specs);

struct RunConfig {
  std::vector<std::string> manifests;
  std::string state_dir = "/var/lib/rebootd";
  bool until_done = false;
  bool simulate = false;
  std::string sim_inventory;        // --sim-inventory (with --simulate)
  double sim_reboot_seconds = 3.0;  // --sim-reboot-seconds (with --simulate)
  std::string source = "file";      // file | kubernetes
  std::string kubeconfig;
  std::string namespace_;
  std::string tencent_endpoint;
  std::string aliyun_endpoint;
  std::string aliyun_signature = "v1";   // v1 | acs3
  std::vector<std::string> rate_limits;  // PROVIDER.ACTION=N, validated
  Duration poll_interval = std::chrono::seconds(5);
  // --min-reboot-duration: the shortest time a reboot stays visible (cloud::Coverage).
  Duration min_reboot_duration = std::chrono::seconds(10);
  std::string metrics_bind_address = "127.0.0.1:8080";
  std::string health_probe_bind_address = "127.0.0.1:8081";
  bool leader_elect = false;
  std::string leader_election_namespace;
  // The Lease and its timings (controller-runtime's defaults). retry < renew deadline < lease.
  std::string leader_election_id = "rebootd-leader";
  Duration leader_election_lease_duration = std::chrono::seconds(15);
  Duration leader_election_renew_deadline = std::chrono::seconds(10);
  Duration leader_election_retry_period = std::chrono::seconds(2);
  std::string log_format = "text";
  std::string log_level = "info";
  Duration progress_interval = std::chrono::seconds(5);
  std::string ca_bundle;  // extra CA certificates for the cloud endpoints
};

std::vector<FlagSpec> RunFlagSpecs();
// Validates everything that can be checked without I/O. kInvalidArgument with a clear message.
Result<RunConfig> ParseRunConfig(const std::vector<std::string>& args);

}  // namespace rebootd::app
