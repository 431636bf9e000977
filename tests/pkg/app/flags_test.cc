// SPDX-License-Identifier: Apache-2.0
// ParseRunConfig: the leader-election flags (Lease name and timings) and their rules.
#include "pkg/app/flags.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace rebootd::app {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> Kube(std::vector<std::string> more) {
  std::vector<std::string> args = {"--source", "kubernetes"};
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

TEST(RunFlagsTest, LeaderElectionDefaultsAreControllerRuntimes) {
  auto c = ParseRunConfig(Kube({"--leader-elect"}));
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_TRUE(c->leader_elect);
  EXPECT_EQ(c->leader_election_id, "rebootd-leader");
  EXPECT_EQ(c->leader_election_lease_duration, 15s);
  EXPECT_EQ(c->leader_election_renew_deadline, 10s);
  EXPECT_EQ(c->leader_election_retry_period, 2s);
}

TEST(RunFlagsTest, LeaderElectionNameAndTimingsCanBeSet) {
  auto c = ParseRunConfig(
      Kube({"--leader-elect", "--leader-election-id", "rebootd-prod",
            "--leader-election-lease-duration", "30s", "--leader-election-renew-deadline", "20s",
            "--leader-election-retry-period", "500ms"}));
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->leader_election_id, "rebootd-prod");
  EXPECT_EQ(c->leader_election_lease_duration, 30s);
  EXPECT_EQ(c->leader_election_renew_deadline, 20s);
  EXPECT_EQ(c->leader_election_retry_period, 500ms);
}

TEST(RunFlagsTest, LeaderElectionRulesAreEnforced) {
  struct Case {
    std::vector<std::string> args;
    std::string message_part;
  };
  const std::vector<Case> cases = {
      // A renew deadline at or past the lease would let two leaders act at once.
      {Kube({"--leader-elect", "--leader-election-renew-deadline", "15s"}), "renew-deadline"},
      {Kube({"--leader-elect", "--leader-election-retry-period", "10s"}), "retry-period"},
      {Kube({"--leader-election-id", "x"}), "need --leader-elect"},
      {Kube({"--leader-elect", "--leader-election-id", "Not_A_Name"}), "DNS-1123"},
      {Kube({"--leader-elect", "--leader-election-lease-duration", "soon"}), ""},
      {Kube({"--leader-elect", "--leader-election-retry-period", "1ms"}), "between 100ms and 1h"},
      {Kube({"--leader-elect", "--leader-election-lease-duration", "2h"}), "between 100ms and 1h"},
      {{"--manifests", "x", "--leader-elect"}, "--source kubernetes"},
  };
  for (const Case& tc : cases) {
    std::string joined;
    for (const auto& a : tc.args) joined += a + " ";
    SCOPED_TRACE(joined);
    auto c = ParseRunConfig(tc.args);
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(c.error().message.find(tc.message_part), std::string::npos) << c.error().message;
  }
}

// Every numeric flag has bounds: out of them is a usage error that names the flag and the range
// (cmd/rebootd turns kInvalidArgument from ParseRunConfig into exit 2).
TEST(RunFlagsTest, NumericFlagsHaveBounds) {
  struct Case {
    std::vector<std::string> args;
    std::string message_part;
  };
  const std::vector<std::string> file = {"--manifests", "x"};
  auto With = [&](std::vector<std::string> more) {
    std::vector<std::string> args = file;
    args.insert(args.end(), more.begin(), more.end());
    return args;
  };
  const std::vector<Case> cases = {
      {With({"--rate-limit", "tencent.RebootInstances=1e-12"}), "between 0.001 and 1000"},
      {With({"--rate-limit", "tencent.RebootInstances=0.0001"}), "between 0.001 and 1000"},
      {With({"--rate-limit", "tencent.RebootInstances=1e308"}), "between 0.001 and 1000"},
      {With({"--poll-interval", "10ms"}), "--poll-interval must be between 100ms and 1h"},
      {With({"--poll-interval", "2h"}), "--poll-interval must be between 100ms and 1h"},
      {With({"--poll-interval", "99999999999999h"}), "invalid duration"},
      {With({"--min-reboot-duration", "1ms"}), "--min-reboot-duration must be between"},
      {With({"--min-reboot-duration", "11m"}), "--min-reboot-duration must be between"},
      {With({"--progress-interval", "1ms"}), "--progress-interval must be 0 (off) or between"},
      {With({"--progress-interval", "25h"}), "--progress-interval must be 0 (off) or between"},
      {With({"--simulate", "--sim-reboot-seconds", "0"}), "--sim-reboot-seconds must be"},
      {With({"--simulate", "--sim-reboot-seconds", "1e300"}), "--sim-reboot-seconds must be"},
      {With({"--simulate", "--sim-reboot-seconds", "nan"}), "--sim-reboot-seconds must be"},
  };
  for (const Case& tc : cases) {
    std::string joined;
    for (const auto& a : tc.args) joined += a + " ";
    SCOPED_TRACE(joined);
    auto c = ParseRunConfig(tc.args);
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(c.error().message.find(tc.message_part), std::string::npos) << c.error().message;
  }
  // The edges are accepted.
  for (auto args : {With({"--rate-limit", "tencent.RebootInstances=0.001"}),
                    With({"--rate-limit", "aliyun.RebootInstance=1000"}),
                    With({"--poll-interval", "100ms"}), With({"--poll-interval", "1h"}),
                    With({"--progress-interval", "0"}), With({"--progress-interval", "24h"})}) {
    EXPECT_TRUE(ParseRunConfig(args)) << args[2] << " " << args[3];
  }
}

}  // namespace
}  // namespace rebootd::app
