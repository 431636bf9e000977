// SPDX-License-Identifier: Apache-2.0
// ProcessCollector against a fake /proc tree (exact values) and against the real /proc.
#include "pkg/metrics/process_collector.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "tests/support/support.h"

namespace rebootd::metrics {
namespace {

namespace fs = std::filesystem;
using prometheus::MetricFamily;
using prometheus::MetricType;

void WriteFile(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

std::map<std::string, MetricFamily> ByName(const std::vector<MetricFamily>& families) {
  std::map<std::string, MetricFamily> out;
  for (const MetricFamily& family : families) out[family.name] = family;
  return out;
}

double Value(const MetricFamily& family) {
  EXPECT_EQ(family.metric.size(), 1u);
  return family.type == MetricType::Counter ? family.metric[0].counter.value
                                            : family.metric[0].gauge.value;
}

class FakeProcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = rebootd::testing::MakeTempDir("rebootd-proc");
    // proc(5) stat: pid (comm) state ppid ... ; the command name holds spaces and parentheses.
    // Fields 14/15 utime/stime = 250/150 ticks, 22 starttime = 12345 ticks, 23 vsize, 24 rss.
    std::string stat = "4242 (rebootd (x) y) S";
    for (int field = 4; field <= 52; ++field) {
      std::string value = "0";
      if (field == 14) value = "250";
      if (field == 15) value = "150";
      if (field == 22) value = "12345";
      if (field == 23) value = "104857600";
      if (field == 24) value = "512";
      stat += " " + value;
    }
    WriteFile(root_ / "self/stat", stat + "\n");
    WriteFile(root_ / "self/status",
              "Name:\trebootd\nVmPeak:\t  204800 kB\nVmRSS:\t    2048 kB\nThreads:\t4\n");
    WriteFile(root_ / "self/limits",
              "Limit                     Soft Limit           Hard Limit           Units     \n"
              "Max cpu time              unlimited            unlimited            seconds   \n"
              "Max open files            1024                 4096                 files     \n");
    WriteFile(root_ / "stat", "cpu  1 2 3 4\nbtime 1700000000\nprocesses 10\n");
    for (const char* fd : {"0", "1", "2"}) WriteFile(root_ / "self/fd" / fd, "");
  }
  void TearDown() override { fs::remove_all(root_); }

  fs::path root_;
};

TEST_F(FakeProcTest, ReadsTheStandardProcessMetrics) {
  ProcessCollector collector(root_.string(), 100);
  auto families = ByName(collector.Collect());
  ASSERT_EQ(families.size(), 6u);
  EXPECT_EQ(families["process_cpu_seconds_total"].type, MetricType::Counter);
  EXPECT_DOUBLE_EQ(Value(families["process_cpu_seconds_total"]), 4.0);
  EXPECT_EQ(families["process_resident_memory_bytes"].type, MetricType::Gauge);
  EXPECT_DOUBLE_EQ(Value(families["process_resident_memory_bytes"]), 2048.0 * 1024);
  EXPECT_DOUBLE_EQ(Value(families["process_virtual_memory_bytes"]), 104857600.0);
  EXPECT_DOUBLE_EQ(Value(families["process_start_time_seconds"]), 1700000000.0 + 123.45);
  EXPECT_DOUBLE_EQ(Value(families["process_open_fds"]), 3.0);
  EXPECT_DOUBLE_EQ(Value(families["process_max_fds"]), 1024.0);
  for (const auto& [name, family] : families) {
    EXPECT_FALSE(family.help.empty()) << name;
    EXPECT_TRUE(family.metric[0].label.empty()) << name;
  }
}

TEST_F(FakeProcTest, FallsBackToStatRssWithoutStatus) {
  fs::remove(root_ / "self/status");
  ProcessCollector collector(root_.string(), 100);
  auto families = ByName(collector.Collect());
  ASSERT_TRUE(families.contains("process_resident_memory_bytes"));
  EXPECT_GT(Value(families["process_resident_memory_bytes"]), 0);  // 512 pages
}

TEST(ProcessCollectorTest, MissingProcYieldsNothingAndDoesNotThrow) {
  ProcessCollector collector("/nonexistent-rebootd-proc", 100);
  EXPECT_TRUE(collector.Collect().empty());
}

TEST(ProcessCollectorTest, RealProcHasPlausibleValues) {
  ProcessCollector collector;
  auto families = ByName(collector.Collect());
  for (const char* name : {"process_cpu_seconds_total", "process_resident_memory_bytes",
                           "process_virtual_memory_bytes", "process_start_time_seconds",
                           "process_open_fds", "process_max_fds"}) {
    ASSERT_TRUE(families.contains(name)) << name;
  }
  EXPECT_GE(Value(families["process_cpu_seconds_total"]), 0);
  EXPECT_GT(Value(families["process_resident_memory_bytes"]), 1024 * 1024);
  EXPECT_GE(Value(families["process_virtual_memory_bytes"]),
            Value(families["process_resident_memory_bytes"]));
  EXPECT_GT(Value(families["process_start_time_seconds"]), 1.5e9);  // after 2017
  EXPECT_GE(Value(families["process_open_fds"]), 3);
}

}  // namespace
}  // namespace rebootd::metrics
