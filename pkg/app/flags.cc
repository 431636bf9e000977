// SPDX-License-Identifier: Apache-2.0
#include "pkg/app/flags.h"

#include <charconv>
#include <cmath>

#include "pkg/api/codec.h"
#include "pkg/ratelimit/limiter.h"

namespace rebootd::app {

Result<Duration> ParseDuration(std::string_view text) {
  auto bad = [&] {
    return MakeError(ErrorCode::kInvalidArgument,
                     "invalid duration \"" + std::string(text) +
                         "\" (use e.g. 500ms, 5s, 2m, 1h30m, or a number of seconds)");
  };
  if (text.empty()) return bad();
  double total_ns = 0;
  std::string_view s = text;
  bool any_unit = false;
  while (!s.empty()) {
    size_t i = 0;
    while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) ++i;
    if (i == 0) return bad();
    double v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + i, v);
    if (ec != std::errc() || p != s.data() + i) return bad();
    s.remove_prefix(i);
    size_t u = 0;
    while (u < s.size() && s[u] >= 'a' && s[u] <= 'z') ++u;
    std::string_view unit = s.substr(0, u);
    s.remove_prefix(u);
    double scale;
    if (unit.empty()) {
      if (any_unit || !s.empty()) return bad();
      scale = 1e9;
    } else if (unit == "ms") {
      scale = 1e6;
    } else if (unit == "s") {
      scale = 1e9;
    } else if (unit == "m") {
      scale = 60e9;
    } else if (unit == "h") {
      scale = 3600e9;
    } else {
      return bad();
    }
    any_unit = any_unit || !unit.empty();
    total_ns += v * scale;
  }
  if (!std::isfinite(total_ns) || total_ns > 1e18) return bad();
  return Duration(static_cast<Duration::rep>(total_ns));
}

std::string FormatDuration(Duration d) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  if (ms % 1000 != 0) return std::to_string(ms) + "ms";
  return std::to_string(ms / 1000) + "s";
}

std::string ParsedFlags::Get(const std::string& name, std::string fallback) const {
  auto it = values.find(name);
  return it == values.end() || it->second.empty() ? fallback : it->second.back();
}

bool ParsedFlags::GetBool(const std::string& name) const { return Get(name, "false") == "true"; }

const std::vector<std::string>& ParsedFlags::GetAll(const std::string& name) const {
  static const std::vector<std::string> kEmpty;
  auto it = values.find(name);
  return it == values.end() ? kEmpty : it->second;
}

Result<ParsedFlags> ParseFlags(const std::vector<std::string>& args,
                               const std::vector<FlagSpec>& specs) {
  ParsedFlags out;
  auto find = [&](std::string_view name) -> const FlagSpec* {
    for (const auto& s : specs)
      if (s.name == name) return &s;
    return nullptr;
  };
  for (size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i];
    if (a == "--") {
      for (++i; i < args.size(); ++i) out.positional.push_back(args[i]);
      break;
    }
    if (a == "-o" && find("output")) a = "--output";
    if (a.rfind("--", 0) != 0 || a.size() == 2) {
      if (!a.empty() && a[0] == '-' && a.size() > 1) {
        return MakeError(ErrorCode::kInvalidArgument, "unknown flag " + a);
      }
      out.positional.push_back(a);
      continue;
    }
    std::string name = a.substr(2);
    std::optional<std::string> value;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    const FlagSpec* spec = find(name);
    if (!spec) return MakeError(ErrorCode::kInvalidArgument, "unknown flag --" + name);
    if (spec->boolean) {
      std::string v = value.value_or("true");
      if (v != "true" && v != "false") {
        return MakeError(ErrorCode::kInvalidArgument,
                         "flag --" + name + " takes true or false, got \"" + v + "\"");
      }
      value = v;
    } else if (!value) {
      if (i + 1 >= args.size()) {
        return MakeError(ErrorCode::kInvalidArgument, "flag --" + name + " needs a value");
      }
      value = args[++i];
    }
    auto& vals = out.values[name];
    if (!vals.empty() && !spec->repeatable && !spec->boolean) {
      return MakeError(ErrorCode::kInvalidArgument, "flag --" + name + " given more than once");
    }
    vals.push_back(*value);
  }
  return out;
}

std::string FlagsHelp(const std::vector<FlagSpec>& specs) {
  std::string out;
  for (const auto& s : specs) {
    std::string left = "  --" + s.name;
    if (!s.boolean) left += " " + (s.value_name.empty() ? std::string("VALUE") : s.value_name);
    if (left.size() < 40)
      left.resize(40, ' ');
    else
      left += "  ";
    out += left + s.help + (s.repeatable ? " (repeatable)" : "") + "\n";
  }
  return out;
}

std::vector<FlagSpec> RunFlagSpecs() {
  return {
      {"manifests", false, true, "RebootRequest manifest file or directory to watch", "PATH"},
      {"state-dir", false, false, "where run records are kept (default /var/lib/rebootd)", "DIR"},
      {"until-done", true, false,
       "exit when every request is finished: 0 all Succeeded, 1 some Failed, 2 config error", ""},
      {"simulate", true, false,
       "run the cloud simulator in-process on loopback and use it for both providers", ""},
      {"sim-inventory", false, false,
       "with --simulate: the simulator's inventory (default: every manifest ID, running)", "FILE"},
      {"sim-reboot-seconds", false, false, "with --simulate: reboot duration (default 3)", "S"},
      {"source", false, false, "where RebootRequests come from: file (default) or kubernetes",
       "file|kubernetes"},
      {"kubeconfig", false, false, "kubeconfig for --source kubernetes", "PATH"},
      {"namespace", false, false, "only this namespace (--source kubernetes)", "NS"},
      {"tencent-endpoint", false, false,
       "Tencent ECM endpoint (default https://ecm.tencentcloudapi.com)", "URL"},
      {"aliyun-endpoint", false, false,
       "Alibaba ECS endpoint (default https://ecs.<region>.aliyuncs.com)", "URL"},
      {"aliyun-signature", false, false, "Aliyun signature: v1 (HMAC-SHA1 RPC) or acs3", "v1|acs3"},
      {"rate-limit", false, true, "calls per second, e.g. tencent.RebootInstances=20",
       "PROVIDER.ACTION=N"},
      {"poll-interval", false, false, "status poll interval (default 5s)", "DURATION"},
      {"min-reboot-duration", false, false,
       "shortest time a reboot keeps an instance visibly rebooting (default 10s; with "
       "--simulate: from the simulator's reboot time); instances whose proof depends on "
       "seeing a reboot are polled faster than this",
       "DURATION"},
      {"metrics-bind-address", false, false,
       "Prometheus /metrics address (default 127.0.0.1:8080; \"0\" disables; \":8080\" all)",
       "ADDR"},
      {"health-probe-bind-address", false, false,
       "/healthz and /readyz address (default 127.0.0.1:8081)", "ADDR"},
      {"leader-elect", true, false, "use a Lease so only one replica acts (kubernetes)", ""},
      {"leader-election-namespace", false, false, "namespace of the Lease", "NS"},
      {"leader-election-id", false, false, "name of the Lease (default rebootd-leader)", "NAME"},
      {"leader-election-lease-duration", false, false,
       "how long a Lease holds without renewal (default 15s)", "DURATION"},
      {"leader-election-renew-deadline", false, false,
       "a leader that cannot renew for this long stops (default 10s)", "DURATION"},
      {"leader-election-retry-period", false, false,
       "interval between acquire/renew attempts (default 2s)", "DURATION"},
      {"log-format", false, false, "text (default) or json", "text|json"},
      {"log-level", false, false, "e.g. info, debug, or info,cloud=debug", "LEVEL"},
      {"progress-interval", false, false, "progress line period (default 5s; 0 disables)",
       "DURATION"},
      {"ca-bundle", false, false, "extra CA certificates (PEM) for the cloud endpoints", "FILE"},
  };
}

namespace {

// A duration flag's value; a malformed one is an error that names the flag.
Result<Duration> FlagDuration(const ParsedFlags& f, const std::string& name) {
  auto d = ParseDuration(f.Get(name));
  if (!d) return MakeError(ErrorCode::kInvalidArgument, "--" + name + ": " + d.error().message);
  return *d;
}

}  // namespace

Result<RunConfig> ParseRunConfig(const std::vector<std::string>& args) {
  REBOOTD_ASSIGN_OR_RETURN(ParsedFlags f, ParseFlags(args, RunFlagSpecs()));
  if (!f.positional.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "unexpected argument \"" + f.positional[0] +
                                                      "\" (manifests go in --manifests)");
  }
  RunConfig c;
  c.manifests = f.GetAll("manifests");
  c.state_dir = f.Get("state-dir", c.state_dir);
  c.until_done = f.GetBool("until-done");
  c.simulate = f.GetBool("simulate");
  c.sim_inventory = f.Get("sim-inventory");
  if (f.Has("sim-reboot-seconds")) {
    std::string v = f.Get("sim-reboot-seconds");
    double d = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
    if (ec != std::errc() || p != v.data() + v.size() || !(d > 0) || d > 3600) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "--sim-reboot-seconds must be a number in (0, 3600], got \"" + v + "\"");
    }
    c.sim_reboot_seconds = d;
  }
  if ((!c.sim_inventory.empty() || f.Has("sim-reboot-seconds")) && !c.simulate) {
    return MakeError(ErrorCode::kInvalidArgument, "--sim-* flags need --simulate");
  }
  c.source = f.Get("source", c.source);
  if (c.source != "file" && c.source != "kubernetes") {
    return MakeError(ErrorCode::kInvalidArgument,
                     "--source must be file or kubernetes, got \"" + c.source + "\"");
  }
  if (c.source == "kubernetes" && !c.manifests.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "--manifests is for --source file; with --source kubernetes the requests "
                     "are RebootRequest objects in the cluster");
  }
  if (c.source == "file" && c.manifests.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "--manifests PATH is required with --source file");
  }
  c.kubeconfig = f.Get("kubeconfig");
  c.namespace_ = f.Get("namespace");
  if (c.source != "kubernetes" && (f.Has("kubeconfig") || f.Has("namespace"))) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "--kubeconfig and --namespace need --source kubernetes");
  }
  c.tencent_endpoint = f.Get("tencent-endpoint");
  c.aliyun_endpoint = f.Get("aliyun-endpoint");
  c.aliyun_signature = f.Get("aliyun-signature", c.aliyun_signature);
  if (c.aliyun_signature != "v1" && c.aliyun_signature != "acs3") {
    return MakeError(ErrorCode::kInvalidArgument, "--aliyun-signature must be v1 or acs3");
  }
  if (c.simulate && (!c.tencent_endpoint.empty() || !c.aliyun_endpoint.empty())) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "--simulate points both providers at the in-process simulator; do not "
                     "combine it with --tencent-endpoint/--aliyun-endpoint");
  }
  c.rate_limits = f.GetAll("rate-limit");
  REBOOTD_RETURN_IF_ERROR(ratelimit::Limiter::RatesFromFlags(c.rate_limits));
  if (f.Has("poll-interval")) {
    REBOOTD_ASSIGN_OR_RETURN(c.poll_interval, FlagDuration(f, "poll-interval"));
    if (c.poll_interval < std::chrono::milliseconds(100) ||
        c.poll_interval > std::chrono::hours(1)) {
      return MakeError(ErrorCode::kInvalidArgument, "--poll-interval must be between 100ms and 1h");
    }
  }
  if (f.Has("min-reboot-duration")) {
    Duration d;
    REBOOTD_ASSIGN_OR_RETURN(d, FlagDuration(f, "min-reboot-duration"));
    if (d < std::chrono::milliseconds(100) || d > std::chrono::minutes(10)) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "--min-reboot-duration must be between 100ms and 10m");
    }
    c.min_reboot_duration = d;
  } else if (c.simulate) {
    // The simulator's reboots last reboot_seconds x [0.7, 1.3]; keep a margin below the least.
    c.min_reboot_duration = std::chrono::duration_cast<Duration>(
        std::chrono::duration<double>(c.sim_reboot_seconds * 0.6));
  }
  c.metrics_bind_address = f.Get("metrics-bind-address", c.metrics_bind_address);
  c.health_probe_bind_address = f.Get("health-probe-bind-address", c.health_probe_bind_address);
  c.leader_elect = f.GetBool("leader-elect");
  c.leader_election_namespace = f.Get("leader-election-namespace");
  if ((c.leader_elect || !c.leader_election_namespace.empty()) && c.source != "kubernetes") {
    return MakeError(ErrorCode::kInvalidArgument,
                     "--leader-elect and --leader-election-namespace need --source kubernetes");
  }
  {
    bool any = false;
    if (f.Has("leader-election-id")) {
      any = true;
      c.leader_election_id = f.Get("leader-election-id");
      if (!api::IsDns1123Subdomain(c.leader_election_id)) {
        return MakeError(ErrorCode::kInvalidArgument,
                         "--leader-election-id must be a DNS-1123 subdomain name, got \"" +
                             c.leader_election_id + "\"");
      }
    }
    const std::pair<const char*, Duration*> timings[] = {
        {"leader-election-lease-duration", &c.leader_election_lease_duration},
        {"leader-election-renew-deadline", &c.leader_election_renew_deadline},
        {"leader-election-retry-period", &c.leader_election_retry_period},
    };
    for (const auto& [name, out] : timings) {
      if (!f.Has(name)) continue;
      any = true;
      REBOOTD_ASSIGN_OR_RETURN(*out, FlagDuration(f, name));
      if (*out < std::chrono::milliseconds(100) || *out > std::chrono::hours(1)) {
        return MakeError(ErrorCode::kInvalidArgument,
                         std::string("--") + name + " must be between 100ms and 1h");
      }
    }
    if (any && !c.leader_elect) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "--leader-election-* flags need --leader-elect");
    }
    // A leader must give up before its lease can pass to another replica, and must get more
    // than one attempt to renew before it gives up.
    if (!(c.leader_election_retry_period < c.leader_election_renew_deadline &&
          c.leader_election_renew_deadline < c.leader_election_lease_duration)) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "leader election timings must satisfy retry-period < renew-deadline < "
                       "lease-duration");
    }
  }
  c.log_format = f.Get("log-format", c.log_format);
  c.log_level = f.Get("log-level", c.log_level);
  if (f.Has("progress-interval")) {
    REBOOTD_ASSIGN_OR_RETURN(c.progress_interval, FlagDuration(f, "progress-interval"));
    if (c.progress_interval != Duration::zero() &&
        (c.progress_interval < std::chrono::milliseconds(100) ||
         c.progress_interval > std::chrono::hours(24))) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "--progress-interval must be 0 (off) or between 100ms and 24h");
    }
  }
  c.ca_bundle = f.Get("ca-bundle");
  return c;
}

}  // namespace rebootd::app
