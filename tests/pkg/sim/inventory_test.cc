// SPDX-License-Identifier: Apache-2.0
// Inventory parsing, generated IDs and the rebootd-cloudsim flags.
#include <gtest/gtest.h>

#include <fstream>

#include "pkg/sim/inventory.h"
#include "pkg/sim/options.h"
#include "tests/support/support.h"

namespace rebootd::sim {
namespace {

TEST(SimInventory, ParsesYamlAndJson) {
  auto yaml = ParseInventory(R"(
tencent:
  - {id: ein-496721al, state: RUNNING}
  - {id: ein-438242bp, state: STOPPED}
  - id: ein-19828lyz
aliyun:
  - {id: i-bp67acfmxazb4ph0001, region: cn-hangzhou, state: Running}
  - {id: i-bp67acfmxazb4ph0002, region: cn-hangzhou, state: Locked}
  - {id: i-bp67acfmxazb4ph0003, region: cn-beijing, state: Stopped}
)");
  ASSERT_TRUE(yaml.has_value()) << yaml.error().message;
  ASSERT_EQ(yaml->tencent.size(), 3u);
  EXPECT_EQ(yaml->tencent[1].state, TencentInitialState::kStopped);
  EXPECT_EQ(yaml->tencent[2].state, TencentInitialState::kRunning);
  ASSERT_EQ(yaml->aliyun.size(), 3u);
  EXPECT_EQ(yaml->aliyun[1].state, AliyunInitialState::kLocked);
  EXPECT_EQ(yaml->aliyun[2].region, "cn-beijing");

  auto json =
      ParseInventory(R"({"tencent":[{"id":"ein-00000001","state":"RUNNING"}],"aliyun":[]})");
  ASSERT_TRUE(json.has_value()) << json.error().message;
  EXPECT_EQ(json->tencent.size(), 1u);
  EXPECT_TRUE(ParseInventory("").has_value());
}

TEST(SimInventory, HistoryFields) {
  auto inv = ParseInventory(R"(
tencent:
  - {id: ein-00000001, latestOperation: RebootInstances, latestOperationState: SUCCESS}
  - {id: ein-00000002, state: STOPPED, latestOperation: StopInstances, latestOperationState: FAILED}
aliyun:
  - {id: i-bp000001, region: cn-hangzhou, startTime: "2026-12-02T09:15Z"}
  - {id: i-bp000002, region: cn-hangzhou, startTime: "2026-12-02T09:15:20Z"}
)");
  ASSERT_TRUE(inv.has_value()) << inv.error().message;
  EXPECT_EQ(inv->tencent[0].latest_operation, "RebootInstances");
  EXPECT_EQ(inv->tencent[0].latest_operation_state, "SUCCESS");
  EXPECT_EQ(inv->tencent[1].latest_operation_state, "FAILED");
  SystemTime t;
  ASSERT_TRUE(ParseRfc3339("2026-12-02T09:15:00Z", &t));
  EXPECT_EQ(inv->aliyun[0].start_time, t);
  EXPECT_EQ(inv->aliyun[1].start_time, t + std::chrono::seconds(20));

  for (const char* bad : {
           "tencent: [{id: ein-00000001, latestOperation: Reboot-It, latestOperationState: "
           "SUCCESS}]",
           "tencent: [{id: ein-00000001, latestOperation: RebootInstances, "
           "latestOperationState: OPERATING}]",
           "tencent: [{id: ein-00000001, latestOperation: RebootInstances}]",
           "tencent: [{id: ein-00000001, latestOperationState: SUCCESS}]",
           "aliyun: [{id: i-bp000001, region: cn-hangzhou, startTime: yesterday}]",
       }) {
    auto r = ParseInventory(bad);
    EXPECT_FALSE(r.has_value()) << bad;
    if (!r) {
      EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    }
  }
  auto flags = ParseCloudsimFlags({"--listen", "127.0.0.1:0", "--history-fraction", "0.5"});
  ASSERT_TRUE(flags.has_value()) << flags.error().message;
  EXPECT_EQ(flags->sim.history_fraction, 0.5);
  EXPECT_FALSE(ParseCloudsimFlags({"--listen", "127.0.0.1:0", "--history-fraction", "2"}));
}

TEST(SimInventory, RejectsMalformed) {
  struct Case {
    const char* text;
    const char* expect;
  };
  for (const Case& c : {
           Case{"tencent: [{id: ein-abc, state: RUNNING, zone: x}]", "unknown field \"zone\""},
           Case{"tencent: [{id: ein-abc, state: Running}]", "not one of RUNNING, STOPPED"},
           Case{"tencent: [{id: i-abc}]", "not an ECM instance ID"},
           Case{"tencent: [{state: RUNNING}]", "missing field \"id\""},
           Case{"aliyun: [{id: i-abc, state: Running}]", "missing field \"region\""},
           Case{"aliyun: [{id: i-abc, region: r, state: Rebooting}]", "Running, Stopped, Locked"},
           Case{"aliyun: [{id: i-a, region: r}, {id: i-a, region: r}]", "duplicate"},
           Case{"gcp: []", "unknown field \"gcp\""},
           Case{"tencent: {id: ein-a}", "must be a list"},
           Case{"tencent: [unclosed", "inventory: "},
           Case{"- just a list", "must be a mapping"},
       }) {
    auto parsed = ParseInventory(c.text);
    ASSERT_FALSE(parsed.has_value()) << c.text;
    EXPECT_NE(parsed.error().message.find(c.expect), std::string::npos)
        << c.text << " -> " << parsed.error().message;
    EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument);
  }
}

TEST(SimInventory, LoadsFilesWithPathInErrors) {
  std::string dir = rebootd::testing::MakeTempDir("sim-inventory");
  std::string path = dir + "/inventory.yaml";
  std::ofstream(path) << "tencent:\n  - {id: ein-496721al, state: RUNNING}\n";
  auto loaded = LoadInventoryFile(path);
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->tencent.at(0).id, "ein-496721al");
  std::ofstream(path) << "tencent:\n  - {id: ein-BAD}\n";
  auto bad = LoadInventoryFile(path);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message.rfind(path + ": line 2", 0), 0u) << bad.error().message;
  EXPECT_FALSE(LoadInventoryFile(dir + "/missing.yaml").has_value());
}

TEST(SimInventory, GeneratedIds) {
  EXPECT_EQ(GeneratedTencentId(1), "ein-00000001");
  EXPECT_EQ(GeneratedTencentId(36), "ein-00000010");
  EXPECT_EQ(GeneratedTencentId(10000), "ein-000007ps");
  EXPECT_TRUE(IsValidTencentId(GeneratedTencentId(123456789)));
  EXPECT_EQ(GeneratedAliyunId(1), "i-sim0000000000000001");
  EXPECT_TRUE(IsValidAliyunId(GeneratedAliyunId(10000)));
  EXPECT_FALSE(IsValidTencentId("ein-"));
  EXPECT_FALSE(IsValidTencentId("ein-ABC"));
}

TEST(SimOptions, ParsesFlags) {
  auto flags = ParseCloudsimFlags({"--listen",
                                   "127.0.0.1:0",
                                   "--reboot-seconds=0.5",
                                   "--reboot-jitter",
                                   "0",
                                   "--seed",
                                   "9",
                                   "--fault",
                                   "error-after:RebootInstances=0.1",
                                   "--fault",
                                   "hang=0.01",
                                   "--rate-limit",
                                   "tencent.RebootInstances=5",
                                   "--tencent-instances",
                                   "10",
                                   "--aliyun-instances",
                                   "3",
                                   "--aliyun-region",
                                   "cn-beijing",
                                   "--allow-non-loopback",
                                   "--start-time-seconds",
                                   "--log-level",
                                   "debug"});
  ASSERT_TRUE(flags.has_value()) << flags.error().message;
  EXPECT_EQ(flags->sim.listen, "127.0.0.1:0");
  EXPECT_DOUBLE_EQ(flags->sim.reboot_seconds, 0.5);
  EXPECT_EQ(flags->sim.reboot_jitter, 0);
  EXPECT_EQ(flags->sim.seed, 9u);
  EXPECT_EQ(flags->sim.faults.size(), 2u);
  EXPECT_EQ(flags->sim.rate_limits.at("tencent.RebootInstances"), 5);
  EXPECT_EQ(flags->sim.tencent_instances, 10);
  EXPECT_EQ(flags->sim.aliyun_region, "cn-beijing");
  EXPECT_TRUE(flags->sim.allow_non_loopback);
  EXPECT_TRUE(flags->sim.start_time_with_seconds);
  EXPECT_EQ(flags->log_level, "debug");
  EXPECT_TRUE(ParseCloudsimFlags({"--help"})->help);
}

TEST(SimOptions, RejectsBadFlags) {
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {},
           {"--listen"},
           {"--listen", "127.0.0.1:0", "--bogus", "1"},
           {"--listen", "127.0.0.1:0", "--reboot-seconds", "0"},
           {"--listen", "127.0.0.1:0", "--reboot-jitter", "1"},
           {"--listen", "127.0.0.1:0", "--fault", "boom=1"},
           {"--listen", "127.0.0.1:0", "--rate-limit", "tencent=5"},
           {"--listen", "127.0.0.1:0", "--rate-limit", "tencent.RebootInstances=-1"},
           {"--listen", "127.0.0.1:0", "--tencent-instances", "many"},
           {"--listen", "127.0.0.1:0", "--inventory", "/nonexistent/inventory.yaml"},
           {"--listen", "127.0.0.1:0", "--log-level", "loud"},
           {"stray"},
       }) {
    EXPECT_FALSE(ParseCloudsimFlags(args).has_value()) << ::testing::PrintToString(args);
  }
  auto unknown = ParseCloudsimFlags({"--listen", "127.0.0.1:0", "--bogus", "1"});
  EXPECT_EQ(unknown.error().message, "unknown flag --bogus");
}

TEST(SimOptions, CreateRefusesNonLoopback) {
  ManualClock clock;
  SimOptions options;
  options.listen = "0.0.0.0:8080";
  EXPECT_FALSE(Simulator::Create(options, clock).has_value());
  options.allow_non_loopback = true;
  EXPECT_TRUE(Simulator::Create(options, clock).has_value());
  options.listen = "localhost:0";
  options.allow_non_loopback = false;
  EXPECT_TRUE(Simulator::Create(options, clock).has_value());
}

}  // namespace
}  // namespace rebootd::sim
