// SPDX-License-Identifier: Apache-2.0
// ProcessCollector: the standard process_* metrics that Prometheus client libraries export
// (prometheus-cpp 1.0.1 has none), read from Linux /proc at each Collect(). Stateless after
// construction, so thread-safe. Collect() never throws; a value whose file cannot be read is left
// out of that scrape.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <string>
#include <vector>

namespace rebootd::metrics {

class ProcessCollector : public prometheus::Collectable {
 public:
  // Reads `proc_root`/self/{stat,status,fd,limits} and `proc_root`/stat (boot time).
  // `ticks_per_second` converts /proc clock ticks; 0 means sysconf(_SC_CLK_TCK). Tests pass a
  // fake proc tree and a fixed tick rate.
  explicit ProcessCollector(std::string proc_root = "/proc", long ticks_per_second = 0);

  // process_cpu_seconds_total (counter), process_resident_memory_bytes,
  // process_virtual_memory_bytes, process_start_time_seconds (Unix seconds), process_open_fds,
  // process_max_fds (gauges).
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  // Constant after construction.
  const std::string proc_root_;
  const double ticks_per_second_;
};

}  // namespace rebootd::metrics
