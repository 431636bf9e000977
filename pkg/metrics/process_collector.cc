// SPDX-License-Identifier: Apache-2.0
#include "pkg/metrics/process_collector.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace rebootd::metrics {
namespace {

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::optional<double> ParseNumber(std::string_view text) {
  uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr == text.data()) return std::nullopt;
  return static_cast<double>(value);
}

// The value of "Key:<spaces>VALUE ..." in a /proc key-value file (status, stat).
std::optional<std::string_view> FindField(std::string_view text, std::string_view key) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    if (line.starts_with(key)) {
      line.remove_prefix(key.size());
      size_t begin = line.find_first_not_of(" \t");
      if (begin != std::string_view::npos) return line.substr(begin);
    }
    pos = end + 1;
  }
  return std::nullopt;
}

// Fields of /proc/<pid>/stat after the command name, which is parenthesised and may itself hold
// spaces and parentheses, so the split starts after the last ')'. Element 0 is field 3 (state).
std::vector<std::string_view> StatFields(std::string_view stat) {
  std::vector<std::string_view> fields;
  size_t close = stat.rfind(')');
  if (close == std::string_view::npos) return fields;
  std::string_view rest = stat.substr(close + 1);
  while (!rest.empty()) {
    size_t begin = rest.find_first_not_of(" \n");
    if (begin == std::string_view::npos) break;
    rest.remove_prefix(begin);
    size_t end = rest.find_first_of(" \n");
    fields.push_back(rest.substr(0, end));
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end);
  }
  return fields;
}

// Field number `n` (1-based, as in proc(5)) of a stat line split by StatFields.
std::optional<double> StatField(const std::vector<std::string_view>& fields, size_t n) {
  if (n < 3 || n - 3 >= fields.size()) return std::nullopt;
  return ParseNumber(fields[n - 3]);
}

prometheus::MetricFamily Single(std::string name, std::string help, prometheus::MetricType type,
                                double value) {
  prometheus::MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = type;
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  family.metric.push_back(std::move(metric));
  return family;
}

}  // namespace

ProcessCollector::ProcessCollector(std::string proc_root, long ticks_per_second)
    : proc_root_(std::move(proc_root)),
      ticks_per_second_(static_cast<double>(
          ticks_per_second > 0 ? ticks_per_second : std::max(1L, ::sysconf(_SC_CLK_TCK)))) {}

std::vector<prometheus::MetricFamily> ProcessCollector::Collect() const {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> out;
  try {
    std::optional<std::string> stat = ReadFile(proc_root_ + "/self/stat");
    std::vector<std::string_view> fields;
    if (stat) fields = StatFields(*stat);

    auto utime = StatField(fields, 14);
    auto stime = StatField(fields, 15);
    if (utime && stime) {
      out.push_back(Single("process_cpu_seconds_total",
                           "Total user and system CPU time spent in seconds.", MetricType::Counter,
                           (*utime + *stime) / ticks_per_second_));
    }

    std::optional<double> rss_bytes;
    if (auto status = ReadFile(proc_root_ + "/self/status")) {
      if (auto rss = FindField(*status, "VmRSS:")) {
        if (auto kib = ParseNumber(*rss)) rss_bytes = *kib * 1024;
      }
    }
    if (!rss_bytes) {
      if (auto pages = StatField(fields, 24)) {
        rss_bytes = *pages * static_cast<double>(std::max(1L, ::sysconf(_SC_PAGESIZE)));
      }
    }
    if (rss_bytes) {
      out.push_back(Single("process_resident_memory_bytes", "Resident memory size in bytes.",
                           MetricType::Gauge, *rss_bytes));
    }

    if (auto vsize = StatField(fields, 23)) {
      out.push_back(Single("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                           MetricType::Gauge, *vsize));
    }

    // Start time: field 22 counts clock ticks since boot; /proc/stat's btime is the boot time.
    if (auto start_ticks = StatField(fields, 22)) {
      if (auto system_stat = ReadFile(proc_root_ + "/stat")) {
        if (auto btime_text = FindField(*system_stat, "btime ")) {
          if (auto btime = ParseNumber(*btime_text)) {
            out.push_back(Single("process_start_time_seconds",
                                 "Start time of the process since unix epoch in seconds.",
                                 MetricType::Gauge, *btime + *start_ticks / ticks_per_second_));
          }
        }
      }
    }

    std::error_code ec;
    std::filesystem::directory_iterator it(proc_root_ + "/self/fd", ec);
    if (!ec) {
      double fds = 0;
      for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
        if (ec) break;
        ++fds;
      }
      if (!ec) {
        out.push_back(
            Single("process_open_fds", "Number of open file descriptors.", MetricType::Gauge, fds));
      }
    }

    if (auto limits = ReadFile(proc_root_ + "/self/limits")) {
      if (auto max_files = FindField(*limits, "Max open files")) {
        if (auto soft = ParseNumber(*max_files)) {  // "unlimited" is left out
          out.push_back(Single("process_max_fds", "Maximum number of open file descriptors.",
                               MetricType::Gauge, *soft));
        }
      }
    }
  } catch (...) {
    // Only allocation can fail here; a scrape then gets what was collected so far.
  }
  return out;
}

}  // namespace rebootd::metrics
