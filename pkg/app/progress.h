// SPDX-License-Identifier: Apache-2.0
// What the daemon reports about its runs every second: the gauges (instances by provider and
// state, requests by phase, instances past their deadline) and the progress lines on stdout.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "pkg/base/clock.h"
#include "pkg/controller/controller.h"
#include "pkg/metrics/metrics.h"

namespace rebootd::app {

// "2026-01-01T00:00:00.123Z", the log's JSON timestamp.
std::string FormatRfc3339Millis(SystemTime t);

// One progress line: "progress request=... done=5/8 ..." as text, or under --log-format json a
// JSON object in the log's shape (ts, level, logger "progress", msg) with typed fields. `rate`
// is instances finished per second since the previous line; the ETA is derived from it.
std::string ProgressLine(const controller::RequestProgress& p, double rate, SystemTime now,
                         bool json_format);

// Sets every gauge from a snapshot of all runs; series of every provider, state and phase are
// set (to 0 when none), so a finished run's series drop to 0 instead of keeping old values.
void PublishGauges(metrics::Metrics& metrics,
                   const std::vector<controller::RequestProgress>& progress);

// Progress lines of the requests in progress, with each request's rate since its previous line.
// Keeps one entry per request it has seen, dropped when the request is gone from the snapshot.
class ProgressReporter {
 public:
  explicit ProgressReporter(bool json_format) : json_format_(json_format) {}
  // The lines for requests that are Pending or InProgress and still desired.
  std::vector<std::string> Lines(const std::vector<controller::RequestProgress>& progress,
                                 SteadyTime now, SystemTime wall_now);
  // One final line per desired request (rate 0), whatever its phase: the --until-done summary.
  std::vector<std::string> FinalLines(const std::vector<controller::RequestProgress>& progress,
                                      SystemTime wall_now) const;
  size_t TrackedForTest() const { return last_done_.size(); }

 private:
  const bool json_format_;
  std::map<std::string, std::pair<SteadyTime, int>> last_done_;  // key -> (when, done then)
};

}  // namespace rebootd::app
