// SPDX-License-Identifier: Apache-2.0
// pkg/json against nlohmann-json 3.11 (Debian's nlohmann-json3-dev) on the largest document
// rebootd handles: the status of a 10,000-instance request, in full detail (every instance
// finished, with request IDs, times and baselines) as the file store writes it. For each library:
// parse time, heap held by the parsed tree and the peak while parsing (glibc mallinfo2), and
// compact serialisation time. Median of --repeat runs. Prints a Markdown table.
//   build/bench/json/json_compare [--instances N] [--repeat R]
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pkg/api/codec.h"
#include "pkg/api/types.h"
#include "pkg/json/json.h"

namespace {

using Clock = std::chrono::steady_clock;
using rebootd::SystemTime;

// The status document of `n` finished instances, as the file status store writes it.
std::string MakeStatusDocument(int n) {
  rebootd::api::RebootRequest r;
  r.metadata.name = "fleet";
  r.metadata.namespace_ = "ops";
  r.spec.provider = rebootd::Provider::kTencent;
  r.spec.region = "ap-guangzhou";
  rebootd::api::RebootRequestStatus st;
  const SystemTime t0 = SystemTime{} + std::chrono::hours(24 * 365 * 56);
  for (int i = 0; i < n; ++i) {
    char id[32];
    std::snprintf(id, sizeof id, "ein-%08d", i);
    r.spec.instance_ids.push_back(id);
    rebootd::api::InstanceStatus in;
    in.id = id;
    in.state = rebootd::api::InstanceState::kSucceeded;
    in.reason = "Rebooted";
    in.message = "the instance is running again after this run's reboot";
    char rid[48];
    std::snprintf(rid, sizeof rid, "6f1c2b1e-4d7a-4c3e-9a51-%012d", i);
    in.request_id = rid;
    in.attempts = 1;
    in.requested_at = t0 + std::chrono::milliseconds(i);
    in.accepted_at = t0 + std::chrono::milliseconds(i + 150);
    in.completed_at = t0 + std::chrono::seconds(40) + std::chrono::milliseconds(i);
    in.seen_transitional = true;
    in.baseline = "RUNNING RebootInstances:SUCCESS@2026-11-30T10:00:00Z";
    st.instances.push_back(std::move(in));
  }
  st.summary = rebootd::api::Summarize(st.instances);
  st.phase = rebootd::api::Phase::kSucceeded;
  r.status = std::move(st);
  return rebootd::api::ToJson(r, true).Dump();
}

size_t HeapInUse() { return mallinfo2().uordblks; }

struct Figures {
  double parse_ms = 0;
  double dump_ms = 0;
  double tree_mb = 0;  // heap held by the parsed tree
};

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

template <class Parse, class Dump>
Figures Measure(const std::string& text, int repeat, Parse parse, Dump dump) {
  std::vector<double> parse_ms, dump_ms, tree_mb;
  for (int i = 0; i < repeat; ++i) {
    malloc_trim(0);
    const size_t before = HeapInUse();
    auto t0 = Clock::now();
    auto tree = parse(text);
    auto t1 = Clock::now();
    tree_mb.push_back(static_cast<double>(HeapInUse() - before) / (1024.0 * 1024.0));
    auto t2 = Clock::now();
    std::string out = dump(tree);
    auto t3 = Clock::now();
    if (out.size() < text.size() / 2) {
      std::fprintf(stderr, "serialised output is too short: %zu of %zu\n", out.size(), text.size());
      std::exit(1);
    }
    parse_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    dump_ms.push_back(std::chrono::duration<double, std::milli>(t3 - t2).count());
  }
  return {Median(parse_ms), Median(dump_ms), Median(tree_mb)};
}

}  // namespace

int main(int argc, char** argv) {
  int instances = 10000;
  int repeat = 7;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--instances") == 0) instances = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--repeat") == 0) repeat = std::atoi(argv[i + 1]);
  }
  if (instances < 1 || instances > 1000000 || repeat < 1 || repeat > 101) {
    std::fprintf(stderr, "usage: json_compare [--instances 1..1000000] [--repeat 1..101]\n");
    return 2;
  }
  const std::string text = MakeStatusDocument(instances);
  auto ours = Measure(
      text, repeat,
      [](const std::string& t) {
        auto v = rebootd::json::Parse(t);
        if (!v) std::exit(1);
        return *std::move(v);
      },
      [](const rebootd::json::Value& v) { return v.Dump(); });
  auto theirs = Measure(
      text, repeat,
      [](const std::string& t) {
        // The non-throwing parse: a discarded value on error.
        auto v = nlohmann::json::parse(t, nullptr, /*allow_exceptions=*/false);
        if (v.is_discarded()) std::exit(1);
        return v;
      },
      [](const nlohmann::json& v) { return v.dump(); });
  // pkg/json keeps members in insertion order; nlohmann::json sorts them (std::map), its
  // ordered_json keeps them (a vector of pairs, like ours).
  auto ordered = Measure(
      text, repeat,
      [](const std::string& t) {
        auto v = nlohmann::ordered_json::parse(t, nullptr, /*allow_exceptions=*/false);
        if (v.is_discarded()) std::exit(1);
        return v;
      },
      [](const nlohmann::ordered_json& v) { return v.dump(); });
  std::printf("document: %d instances, %.2f MB of JSON; median of %d runs\n\n", instances,
              static_cast<double>(text.size()) / (1024.0 * 1024.0), repeat);
  std::printf("| library | parse ms | tree MB (heap held) | dump ms |\n|---|---|---|---|\n");
  std::printf("| pkg/json | %.1f | %.1f | %.1f |\n", ours.parse_ms, ours.tree_mb, ours.dump_ms);
  std::printf("| nlohmann::json 3.11 | %.1f | %.1f | %.1f |\n", theirs.parse_ms, theirs.tree_mb,
              theirs.dump_ms);
  std::printf("| nlohmann::ordered_json 3.11 | %.1f | %.1f | %.1f |\n", ordered.parse_ms,
              ordered.tree_mb, ordered.dump_ms);
  std::printf("\nsizeof(json::Value) = %zu, sizeof(nlohmann::json) = %zu\n",
              sizeof(rebootd::json::Value), sizeof(nlohmann::json));
  return 0;
}
