// SPDX-License-Identifier: Apache-2.0
#include "pkg/app/progress.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

#include "pkg/json/json.h"

namespace rebootd::app {

std::string FormatRfc3339Millis(SystemTime t) {
  auto seconds = std::chrono::floor<std::chrono::seconds>(t);
  auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(t - seconds).count();
  std::string text = FormatRfc3339(seconds);
  char frac[8];
  std::snprintf(frac, sizeof frac, ".%03dZ", static_cast<int>(millis));
  text.pop_back();  // 'Z'
  return text + frac;
}

std::string ProgressLine(const controller::RequestProgress& p, double rate, SystemTime now,
                         bool json_format) {
  const auto& s = p.summary;
  int done = s.succeeded + s.failed;
  std::optional<int> eta;
  if (rate > 0 && done < s.total) eta = static_cast<int>((s.total - done) / rate + 0.5);
  double elapsed =
      p.started_at
          ? std::chrono::duration<double>((p.completed_at ? *p.completed_at : now) - *p.started_at)
                .count()
          : 0;
  const std::string provider(ProviderName(p.provider));
  const std::string phase(api::PhaseName(p.phase));
  if (json_format) {
    json::Value line = json::Value::MakeObject();
    line.Set("ts", FormatRfc3339Millis(now));
    line.Set("level", "info");
    line.Set("logger", "progress");
    line.Set("msg", "progress");
    line.Set("request", p.key);
    line.Set("provider", provider);
    line.Set("phase", phase);
    line.Set("done", done);
    line.Set("total", s.total);
    line.Set("succeeded", s.succeeded);
    line.Set("failed", s.failed);
    line.Set("rebooting", s.rebooting);
    line.Set("ratePerSecond", std::round(rate * 10) / 10);
    line.Set("elapsedSeconds", std::round(elapsed));
    line.Set("etaSeconds", eta ? json::Value(*eta) : json::Value());
    return line.Dump();
  }
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "progress request=%s provider=%s phase=%s done=%d/%d succeeded=%d failed=%d "
                "rebooting=%d rate=%.1f/s elapsed=%.0fs eta=%s",
                p.key.c_str(), provider.c_str(), phase.c_str(), done, s.total, s.succeeded,
                s.failed, s.rebooting, rate, elapsed,
                eta ? (std::to_string(*eta) + "s").c_str() : "-");
  return buf;
}

void PublishGauges(metrics::Metrics& metrics,
                   const std::vector<controller::RequestProgress>& progress) {
  std::map<std::pair<std::string, std::string>, double> by_state;
  std::map<std::string, double> by_phase;
  std::map<std::string, double> past_deadline;
  for (Provider p : kAllProviders) {
    const std::string name(ProviderName(p));
    for (auto s : {"Pending", "Requesting", "Rebooting", "Succeeded", "Failed"}) {
      by_state[{name, s}] = 0;
    }
    past_deadline[name] = 0;
  }
  for (auto ph : {"Pending", "InProgress", "Succeeded", "Failed"}) by_phase[ph] = 0;
  for (const auto& p : progress) {
    const std::string prov(ProviderName(p.provider));
    by_state[{prov, "Pending"}] += p.summary.pending;
    by_state[{prov, "Rebooting"}] += p.summary.rebooting;
    by_state[{prov, "Succeeded"}] += p.summary.succeeded;
    by_state[{prov, "Failed"}] += p.summary.failed;
    by_phase[std::string(api::PhaseName(p.phase))] += 1;
    past_deadline[prov] += p.past_deadline;
  }
  for (const auto& [k, v] : past_deadline) metrics.SetPastDeadline(k, v);
  for (const auto& [k, v] : by_state) metrics.SetInstances(k.first, k.second, v);
  for (const auto& [k, v] : by_phase) metrics.SetRequests(k, v);
}

std::vector<std::string> ProgressReporter::Lines(
    const std::vector<controller::RequestProgress>& progress, SteadyTime now, SystemTime wall_now) {
  std::vector<std::string> lines;
  for (const auto& p : progress) {
    if (!p.desired) continue;
    int done = p.summary.succeeded + p.summary.failed;
    auto& [t0, d0] = last_done_.try_emplace(p.key, now, done).first->second;
    double secs = std::chrono::duration<double>(now - t0).count();
    double rate = secs > 0 ? (done - d0) / secs : 0;
    if (p.phase == api::Phase::kInProgress || p.phase == api::Phase::kPending) {
      lines.push_back(ProgressLine(p, rate, wall_now, json_format_));
    }
    t0 = now;
    d0 = done;
  }
  // Requests that are gone (deleted, or removed from the manifests) need no rate.
  std::erase_if(last_done_, [&](const auto& e) {
    return std::none_of(progress.begin(), progress.end(),
                        [&](const auto& p) { return p.key == e.first; });
  });
  return lines;
}

std::vector<std::string> ProgressReporter::FinalLines(
    const std::vector<controller::RequestProgress>& progress, SystemTime wall_now) const {
  std::vector<std::string> lines;
  for (const auto& p : progress) {
    if (p.desired) lines.push_back(ProgressLine(p, 0, wall_now, json_format_));
  }
  return lines;
}

}  // namespace rebootd::app
