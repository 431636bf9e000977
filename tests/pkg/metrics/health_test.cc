// SPDX-License-Identifier: Apache-2.0
// HealthServer over real loopback with plain-socket requests.
#include "pkg/metrics/health.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

#include "tests/pkg/metrics/raw_http.h"

namespace rebootd::metrics {
namespace {

using rawhttp::BusyPort;
using rawhttp::RawRequest;

TEST(HealthServerTest, LivenessAndReadinessFollowTheChecks) {
  std::atomic<bool> live{true};
  std::atomic<bool> ready{false};
  std::mutex mu;
  std::string reason = "cache not synced";
  HealthOptions options;
  options.bind_address = "127.0.0.1:0";
  options.live = [&] { return live.load(); };
  options.ready = [&] { return ready.load(); };
  options.not_ready_reason = [&] {
    std::lock_guard<std::mutex> lock(mu);
    return reason;
  };
  auto server = HealthServer::Start(options);
  ASSERT_TRUE(server.has_value()) << server.error().ToString();
  ASSERT_NE(*server, nullptr);
  int port = (*server)->Port();
  ASSERT_GT(port, 0);

  auto healthz = RawRequest(port, "GET", "/healthz");
  EXPECT_EQ(healthz.status, 200);
  EXPECT_EQ(healthz.body, "ok");
  auto readyz = RawRequest(port, "GET", "/readyz");
  EXPECT_EQ(readyz.status, 503);
  EXPECT_EQ(readyz.body, "cache not synced");

  {
    std::lock_guard<std::mutex> lock(mu);
    reason.clear();
  }
  EXPECT_EQ(RawRequest(port, "GET", "/readyz").body, "not ready");

  ready = true;
  readyz = RawRequest(port, "GET", "/readyz");
  EXPECT_EQ(readyz.status, 200);
  EXPECT_EQ(readyz.body, "ok");

  live = false;
  EXPECT_EQ(RawRequest(port, "GET", "/healthz").status, 503);
  EXPECT_EQ(RawRequest(port, "GET", "/readyz?verbose").status, 200);  // query ignored
}

TEST(HealthServerTest, NullChecksMeanHealthy) {
  HealthOptions options;
  options.bind_address = "127.0.0.1:0";
  auto server = HealthServer::Start(options);
  ASSERT_TRUE(server.has_value()) << server.error().ToString();
  EXPECT_EQ(RawRequest((*server)->Port(), "GET", "/healthz").status, 200);
  EXPECT_EQ(RawRequest((*server)->Port(), "GET", "/readyz").status, 200);
}

TEST(HealthServerTest, ThrowingCheckCountsAsFailing) {
  HealthOptions options;
  options.bind_address = "127.0.0.1:0";
  options.ready = []() -> bool { throw std::runtime_error("boom"); };
  auto server = HealthServer::Start(options);
  ASSERT_TRUE(server.has_value()) << server.error().ToString();
  EXPECT_EQ(RawRequest((*server)->Port(), "GET", "/readyz").status, 503);
}

TEST(HealthServerTest, OtherPathsAndMethodsAreRejected) {
  HealthOptions options;
  options.bind_address = "127.0.0.1:0";
  auto server = HealthServer::Start(options);
  ASSERT_TRUE(server.has_value()) << server.error().ToString();
  int port = (*server)->Port();
  EXPECT_EQ(RawRequest(port, "GET", "/metrics").status, 404);
  EXPECT_EQ(RawRequest(port, "GET", "/").status, 404);
  auto post = RawRequest(port, "POST", "/healthz");
  EXPECT_EQ(post.status, 405);
  EXPECT_NE(post.head.find("Allow: GET, HEAD"), std::string::npos) << post.head;
  auto head = RawRequest(port, "HEAD", "/healthz");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
}

TEST(HealthServerTest, ColonPortListensOnAllInterfaces) {
  HealthOptions options;
  options.bind_address = ":0";
  auto server = HealthServer::Start(options);
  ASSERT_TRUE(server.has_value()) << server.error().ToString();
  EXPECT_EQ((*server)->Address(), "0.0.0.0:" + std::to_string((*server)->Port()));
  EXPECT_EQ(RawRequest((*server)->Port(), "GET", "/healthz").status, 200);  // via loopback
}

TEST(HealthServerTest, ZeroDisables) {
  HealthOptions options;
  options.bind_address = "0";
  auto server = HealthServer::Start(options);
  ASSERT_TRUE(server.has_value());
  EXPECT_EQ(*server, nullptr);
}

TEST(HealthServerTest, BusyPortFailsCleanly) {
  BusyPort busy;
  ASSERT_GT(busy.port(), 0);
  HealthOptions options;
  options.bind_address = "127.0.0.1:" + std::to_string(busy.port());
  auto server = HealthServer::Start(options);
  ASSERT_FALSE(server.has_value());
  EXPECT_EQ(server.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(server.error().message.find(options.bind_address), std::string::npos)
      << server.error().message;
}

TEST(HealthServerTest, MalformedAddressIsInvalidArgument) {
  HealthOptions options;
  options.bind_address = "[::]:8081";
  auto server = HealthServer::Start(options);
  ASSERT_FALSE(server.has_value());
  EXPECT_EQ(server.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace rebootd::metrics
