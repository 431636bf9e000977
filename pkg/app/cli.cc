// SPDX-License-Identifier: Apache-2.0
#include "pkg/app/cli.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "pkg/api/codec.h"
#include "pkg/app/daemon.h"
#include "pkg/app/flags.h"
#include "pkg/store/file_status_store.h"

namespace rebootd::app {
namespace {

constexpr const char* kUsage =
    "rebootd reboots Alibaba Cloud ECS and Tencent Cloud ECM instances safely at fleet scale.\n"
    "\n"
    "Usage:\n"
    "  rebootd run --manifests PATH [flags]   reconcile RebootRequests (see rebootd run --help)\n"
    "  rebootd validate FILE...               check manifests; exit 0 when valid, else 1\n"
    "  rebootd status [--state-dir DIR] [-o table|json]\n"
    "  rebootd version\n";

std::string Age(const std::optional<SystemTime>& t, SystemTime now) {
  if (!t) return "-";
  auto s = std::chrono::duration_cast<std::chrono::seconds>(now - *t).count();
  if (s < 0) s = 0;
  if (s < 120) return std::to_string(s) + "s";
  if (s < 7200) return std::to_string(s / 60) + "m";
  if (s < 172800) return std::to_string(s / 3600) + "h";
  return std::to_string(s / 86400) + "d";
}

}  // namespace

int Validate(const std::vector<std::string>& args) {
  if (args.empty()) {
    std::fprintf(stderr, "usage: rebootd validate FILE...\n");
    return 2;
  }
  bool ok = true;
  for (const auto& path : args) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "%s:0: cannot read the file\n", path.c_str());
      ok = false;
      continue;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    api::DecodeResult r = api::DecodeManifests(ss.str(), path);
    for (const auto& e : r.errors) std::fprintf(stderr, "%s\n", e.ToString().c_str());
    if (!r.errors.empty()) {
      ok = false;
    } else if (r.requests.empty()) {
      std::fprintf(stderr, "%s:0: no RebootRequest in this file\n", path.c_str());
      ok = false;
    } else {
      std::printf("%s: %zu RebootRequest(s) valid\n", path.c_str(), r.requests.size());
    }
  }
  return ok ? 0 : 1;
}

int StatusCommand(const std::vector<std::string>& args) {
  std::vector<FlagSpec> specs = {
      {"state-dir", false, false, "where run records are kept", "DIR"},
      {"output", false, false, "table (default) or json", "FORMAT"},
  };
  auto f = ParseFlags(args, specs);
  if (!f) {
    std::fprintf(stderr, "rebootd status: %s\n", f.error().message.c_str());
    return 2;
  }
  std::string output = f->Get("output", "table");
  if (output != "table" && output != "json") {
    std::fprintf(stderr, "rebootd status: -o must be table or json\n");
    return 2;
  }
  std::string dir = f->Get("state-dir", "/var/lib/rebootd");
  store::FileStatusStore st(dir);
  auto listed = st.List();
  if (!listed) {
    std::fprintf(stderr, "rebootd status: %s\n", listed.error().message.c_str());
    return 2;
  }
  for (const auto& p : listed->problems) {
    std::fprintf(stderr, "warning: %s\n", p.message.c_str());
  }
  if (output == "json") {
    json::Value list = json::Value::MakeObject();
    list.Set("apiVersion", "v1");
    list.Set("kind", "List");
    json::Value items = json::Value::MakeArray();
    for (const auto& r : listed->records) items.PushBack(api::ToJson(r.request));
    list.Set("items", std::move(items));
    std::printf("%s\n", list.DumpPretty().c_str());
    return 0;
  }
  SystemTime now = SystemClock::Instance().Now();
  std::printf("%-12s %-28s %-9s %-10s %-11s %9s %7s %6s %s\n", "NAMESPACE", "NAME", "PROVIDER",
              "MODE", "PHASE", "SUCCEEDED", "FAILED", "TOTAL", "AGE");
  for (const auto& r : listed->records) {
    const auto& req = r.request;
    if (!req.status) continue;
    const auto& s = req.status->summary;
    std::printf("%-12s %-28s %-9s %-10s %-11s %9d %7d %6d %s\n", req.metadata.namespace_.c_str(),
                req.metadata.name.c_str(), std::string(ProviderName(req.spec.provider)).c_str(),
                std::string(api::ModeName(req.spec.mode)).c_str(),
                std::string(api::PhaseName(req.status->phase)).c_str(), s.succeeded, s.failed,
                s.total, Age(req.status->started_at, now).c_str());
  }
  return 0;
}

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
    std::printf("%s", kUsage);
    return args.empty() ? 2 : 0;
  }
  std::string cmd = args[0];
  args.erase(args.begin());
  if (cmd == "version" || cmd == "--version") {
    std::printf("rebootd version %s\n", REBOOTD_VERSION);
    return 0;
  }
  if (cmd == "validate") return Validate(args);
  if (cmd == "status") return StatusCommand(args);
  if (cmd == "run") {
    for (const auto& a : args) {
      if (a == "--help" || a == "-h") {
        std::printf("Usage: rebootd run --manifests PATH [flags]\n\nFlags:\n%s",
                    FlagsHelp(RunFlagSpecs()).c_str());
        return 0;
      }
    }
    auto config = ParseRunConfig(args);
    if (!config) {
      std::fprintf(stderr, "rebootd run: %s\n", config.error().message.c_str());
      return 2;
    }
    return RunDaemon(*config);
  }
  std::fprintf(stderr, "rebootd: unknown command \"%s\"\n\n%s", cmd.c_str(), kUsage);
  return 2;
}

}  // namespace rebootd::app
