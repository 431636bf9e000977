// SPDX-License-Identifier: Apache-2.0
// Transport-level outcomes the simulator does not produce: a loopback http::Server that answers
// like a broken proxy or gateway (HTML pages, truncated JSON, XML, empty bodies) in front of our
// real clients. Reboots must come back as ambiguous errors (poll, never re-send) where the call
// may have been carried out, reads must be retried, and nothing may crash.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>

#include "pkg/cloud/errors.h"
#include "pkg/http/server.h"
#include "pkg/sim/demo_credentials.h"
#include "tests/integration/harness.h"

namespace rebootd::integration {
namespace {

using cloud::ErrorClass;

struct Answer {
  const char* name;
  int status;
  const char* content_type;
  const char* body;
  // Expected for a reboot: code, ambiguity, record code. Reads: same code after max_attempts.
  ErrorCode code;
  bool reboot_ambiguous;
  bool read_retried;
};

const Answer kAnswers[] = {
    {"html_200", 200, "text/html", "<html><body>Welcome to nginx!</body></html>",
     ErrorCode::kInternal, true, true},
    {"truncated_json_200", 200, "application/json", R"({"Response":{"RequestId":"abc)",
     ErrorCode::kInternal, true, true},
    {"empty_200", 200, "application/json", "", ErrorCode::kInternal, true, true},
    {"xml_200", 200, "text/xml",
     "<?xml version=\"1.0\"?><RebootInstanceResponse><RequestId>X</RequestId>"
     "</RebootInstanceResponse>",
     ErrorCode::kInternal, true, true},
    {"html_502", 502, "text/html", "<html><body><h1>502 Bad Gateway</h1></body></html>",
     ErrorCode::kUnavailable, true, true},
    {"html_504", 504, "text/html", "<html>504 Gateway Time-out</html>", ErrorCode::kUnavailable,
     true, true},
};

class StandIn {
 public:
  explicit StandIn(const Answer& answer)
      : server_(http::ServerOptions{}, [this, answer](const http::ServerRequest&) {
          ++calls_;
          http::ServerResponse response;
          response.status = answer.status;
          response.headers.Set("Content-Type", answer.content_type);
          response.body = answer.body;
          return response;
        }) {
    auto started = server_.Start();
    EXPECT_TRUE(started.has_value()) << (started ? "" : started.error().message);
  }
  std::string url() const { return server_.BaseUrl(); }
  int calls() const { return calls_.load(); }

 private:
  std::atomic<int> calls_{0};
  http::Server server_;
};

TEST(MalformedAnswers, TencentRebootsAreAmbiguousAndReadsRetried) {
  for (const Answer& a : kAnswers) {
    SCOPED_TRACE(a.name);
    StandIn stand_in(a);
    http::CpprestTransport transport;
    SeededRandom random(1);
    auto options = FastEcmOptions();
    options.endpoint = stand_in.url();
    auto ecm = cloud::tencent::EcmClient::Create(options, sim::DemoTencentCredentials(), transport,
                                                 SystemClock::Instance(), random, nullptr);
    ASSERT_TRUE(ecm.has_value());
    auto reboot = (*ecm)->RebootInstances({"ein-running1"}, cloud::tencent::StopType::kSoft, false);
    ASSERT_FALSE(reboot.has_value());
    // Non-200 statuses are gateway failures for ECM (its API errors come with HTTP 200).
    EXPECT_EQ(reboot.error().code, a.status == 200 ? ErrorCode::kInternal : ErrorCode::kUnavailable)
        << reboot.error().ToString();
    EXPECT_EQ(reboot.error().ambiguous, a.reboot_ambiguous);
    EXPECT_EQ(stand_in.calls(), 1);
    auto read = (*ecm)->DescribeInstances({}, 0, 10);
    ASSERT_FALSE(read.has_value());
    EXPECT_EQ(cloud::ClassOf(read.error()), ErrorClass::kTransient);
    EXPECT_EQ(stand_in.calls(), 1 + (a.read_retried ? options.max_attempts : 1));
  }
}

TEST(MalformedAnswers, AliyunRebootsAreAmbiguousAndReadsRetried) {
  for (const Answer& a : kAnswers) {
    SCOPED_TRACE(a.name);
    StandIn stand_in(a);
    http::CpprestTransport transport;
    SeededRandom random(1);
    auto options = FastEcsOptions();
    options.endpoint = stand_in.url();
    auto ecs = cloud::aliyun::EcsClient::Create(options, sim::DemoAliyunCredentials(), transport,
                                                SystemClock::Instance(), random, nullptr);
    ASSERT_TRUE(ecs.has_value());
    auto reboot = (*ecs)->RebootInstance("i-run1", false, false);
    ASSERT_FALSE(reboot.has_value());
    EXPECT_EQ(reboot.error().code, a.code) << reboot.error().ToString();
    EXPECT_EQ(reboot.error().ambiguous, a.reboot_ambiguous);
    EXPECT_EQ(stand_in.calls(), 1);
    auto read = (*ecs)->DescribeInstanceStatus({"i-run1"}, 1, 10);
    ASSERT_FALSE(read.has_value());
    EXPECT_EQ(cloud::ClassOf(read.error()), ErrorClass::kTransient);
    EXPECT_EQ(stand_in.calls(), 1 + (a.read_retried ? options.max_attempts : 1));
  }
}

// A 4xx page without an error code (a WAF or proxy refusing the request): the request did not
// reach ECS, so a reboot is not ambiguous.
TEST(MalformedAnswers, AliyunHtml403IsNotAmbiguous) {
  const Answer forbidden{"html_403",           403,   "text/html", "<html>403 Forbidden</html>",
                         ErrorCode::kInternal, false, true};
  StandIn stand_in(forbidden);
  http::CpprestTransport transport;
  SeededRandom random(1);
  auto options = FastEcsOptions();
  options.endpoint = stand_in.url();
  auto ecs = cloud::aliyun::EcsClient::Create(options, sim::DemoAliyunCredentials(), transport,
                                              SystemClock::Instance(), random, nullptr);
  ASSERT_TRUE(ecs.has_value());
  auto reboot = (*ecs)->RebootInstance("i-run1", false, false);
  ASSERT_FALSE(reboot.has_value());
  EXPECT_FALSE(reboot.error().ambiguous);
  EXPECT_EQ(reboot.error().http_status, 403);
}

TEST(MalformedAnswers, NothingListeningIsNotAmbiguous) {
  std::string url;
  {
    StandIn stand_in(kAnswers[0]);
    url = stand_in.url();
  }  // stopped: the port is closed now
  http::CpprestTransport transport;
  SeededRandom random(1);
  auto options = FastEcmOptions();
  options.endpoint = url;
  auto ecm = cloud::tencent::EcmClient::Create(options, sim::DemoTencentCredentials(), transport,
                                               SystemClock::Instance(), random, nullptr);
  ASSERT_TRUE(ecm.has_value());
  auto reboot = (*ecm)->RebootInstances({"ein-running1"}, cloud::tencent::StopType::kSoft, false);
  ASSERT_FALSE(reboot.has_value());
  EXPECT_EQ(reboot.error().code, ErrorCode::kUnavailable);
  EXPECT_FALSE(reboot.error().ambiguous) << reboot.error().ToString();
}

}  // namespace
}  // namespace rebootd::integration
