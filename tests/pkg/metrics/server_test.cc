// SPDX-License-Identifier: Apache-2.0
// MetricsServer over real loopback: a plain-socket GET /metrics, port 0, busy ports.
#include "pkg/metrics/server.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>

#include "pkg/metrics/metrics.h"
#include "tests/pkg/metrics/raw_http.h"

namespace rebootd::metrics {
namespace {

using rawhttp::BusyPort;
using rawhttp::RawRequest;

TEST(MetricsServerTest, ServesTheRegistryAndProcessMetricsOnLoopback) {
  auto registry = std::make_shared<prometheus::Registry>();
  Metrics metrics(*registry, "9.8.7-test");
  metrics.SetLeader(true);
  metrics.ObserveCall(cloud::CallRecord{
      "tencent", "RebootInstances", "OK", std::chrono::milliseconds(50), {}, 3, 200, 1});
  auto server = MetricsServer::Start("127.0.0.1:0", registry);
  ASSERT_TRUE(server.has_value()) << server.error().ToString();
  ASSERT_NE(*server, nullptr);
  ASSERT_GT((*server)->Port(), 0);
  EXPECT_EQ((*server)->Address(), "127.0.0.1:" + std::to_string((*server)->Port()));

  auto response = RawRequest((*server)->Port(), "GET", "/metrics");
  ASSERT_EQ(response.status, 200) << response.head;
  EXPECT_NE(response.head.find("text/plain"), std::string::npos) << response.head;
  const std::string& body = response.body;
  EXPECT_NE(body.find("rebootd_build_info{version=\"9.8.7-test\"} 1"), std::string::npos) << body;
  EXPECT_NE(body.find("rebootd_leader 1"), std::string::npos);
  EXPECT_NE(body.find("# TYPE rebootd_reboot_batch_size histogram"), std::string::npos);
  EXPECT_NE(body.find("rebootd_cloud_api_requests_total{"), std::string::npos);
  EXPECT_NE(body.find("# TYPE process_resident_memory_bytes gauge"), std::string::npos);
  EXPECT_NE(body.find("process_resident_memory_bytes "), std::string::npos);
  EXPECT_NE(body.find("# TYPE process_cpu_seconds_total counter"), std::string::npos);

  // Updates show up on the next scrape.
  metrics.SetLeader(false);
  response = RawRequest((*server)->Port(), "GET", "/metrics");
  EXPECT_NE(response.body.find("rebootd_leader 0"), std::string::npos);
}

TEST(MetricsServerTest, ZeroDisablesServing) {
  auto server = MetricsServer::Start("0", std::make_shared<prometheus::Registry>());
  ASSERT_TRUE(server.has_value());
  EXPECT_EQ(*server, nullptr);
}

TEST(MetricsServerTest, BusyPortFailsCleanlyNamingTheAddress) {
  BusyPort busy;
  ASSERT_GT(busy.port(), 0);
  std::string address = "127.0.0.1:" + std::to_string(busy.port());
  auto server = MetricsServer::Start(address, std::make_shared<prometheus::Registry>());
  ASSERT_FALSE(server.has_value());
  EXPECT_EQ(server.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(server.error().message.find(address), std::string::npos) << server.error().message;
}

TEST(MetricsServerTest, SecondServerOnTheSamePortFails) {
  auto registry = std::make_shared<prometheus::Registry>();
  auto first = MetricsServer::Start("127.0.0.1:0", registry);
  ASSERT_TRUE(first.has_value()) << first.error().ToString();
  auto second = MetricsServer::Start("127.0.0.1:" + std::to_string((*first)->Port()), registry);
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().code, ErrorCode::kUnavailable);
  // The first one still serves.
  EXPECT_EQ(RawRequest((*first)->Port(), "GET", "/metrics").status, 200);
}

TEST(MetricsServerTest, RejectsBadInput) {
  auto bad_address = MetricsServer::Start("8080", std::make_shared<prometheus::Registry>());
  ASSERT_FALSE(bad_address.has_value());
  EXPECT_EQ(bad_address.error().code, ErrorCode::kInvalidArgument);
  auto no_registry = MetricsServer::Start("127.0.0.1:0", nullptr);
  ASSERT_FALSE(no_registry.has_value());
  EXPECT_EQ(no_registry.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace rebootd::metrics
