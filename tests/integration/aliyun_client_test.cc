// SPDX-License-Identifier: Apache-2.0
// EcsClient (real V1 and ACS3 signing, CpprestTransport, SystemClock) against rebootd-cloudsim
// over loopback: every action with both signature methods, every error class, and the injected
// faults, each checked against the simulator's report.
#include <gtest/gtest.h>

#include <chrono>
#include <ostream>
#include <set>

#include "pkg/cloud/errors.h"
#include "pkg/sim/demo_credentials.h"
#include "tests/integration/harness.h"

namespace rebootd::cloud::aliyun {
std::string MethodName(SignatureMethod m) { return m == SignatureMethod::kRpcV1 ? "V1" : "ACS3"; }
// For ctest's names ("... # GetParam() = ACS3" instead of the enum's bytes); found by ADL.
void PrintTo(SignatureMethod m, std::ostream* os) { *os << MethodName(m); }
}  // namespace rebootd::cloud::aliyun

namespace rebootd::integration {
namespace {

using cloud::ErrorClass;
using cloud::aliyun::DescribeInstancesQuery;
using cloud::aliyun::SignatureMethod;
using sim::FaultKind;

using cloud::aliyun::MethodName;

class AliyunIntegration : public ::testing::TestWithParam<SignatureMethod> {};

INSTANTIATE_TEST_SUITE_P(BothSignatures, AliyunIntegration,
                         ::testing::Values(SignatureMethod::kRpcV1, SignatureMethod::kAcs3),
                         [](const auto& info) { return MethodName(info.param); });

std::string StatusOf(cloud::aliyun::EcsClient& ecs, const std::string& id) {
  auto page = ecs.DescribeInstanceStatus({id}, 1, 50);
  if (!page) return "<error " + page.error().ToString() + ">";
  for (const auto& s : page->statuses) {
    if (s.id == id) return s.status;
  }
  return "<absent>";
}

// ---- success of every action ----

TEST_P(AliyunIntegration, RebootThenPollUntilRunningWithANewStartTime) {
  Harness h;
  auto ecs = h.Ecs(GetParam());
  ASSERT_NE(ecs, nullptr);
  DescribeInstancesQuery query;
  query.ids = {"i-run1"};
  auto before = ecs->DescribeInstances(query);
  ASSERT_TRUE(before.has_value()) << before.error().ToString();
  ASSERT_EQ(before->instances.size(), 1u);
  ASSERT_TRUE(before->instances[0].start_time_parsed.has_value());

  auto r = ecs->RebootInstance("i-run1", /*force_stop=*/false, /*dry_run=*/false);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_FALSE(r->request_id.empty());
  EXPECT_FALSE(r->dry_run_passed);
  EXPECT_EQ(StatusOf(*ecs, "i-run1"), "Stopping");
  h.AdvanceSim(std::chrono::seconds(5));
  EXPECT_EQ(StatusOf(*ecs, "i-run1"), "Starting");
  h.AdvanceSim(std::chrono::seconds(6));
  EXPECT_EQ(StatusOf(*ecs, "i-run1"), "Running");

  auto after = ecs->DescribeInstances(query);
  ASSERT_TRUE(after.has_value()) << after.error().ToString();
  ASSERT_EQ(after->instances.size(), 1u);
  ASSERT_TRUE(after->instances[0].start_time_parsed.has_value());
  EXPECT_GT(*after->instances[0].start_time_parsed, *before->instances[0].start_time_parsed);

  EXPECT_EQ(h.AliyunAction("RebootInstance").ok, 1);
  EXPECT_EQ(h.AliyunAction("RebootInstance").effects, 1);
  EXPECT_EQ(h.AliyunAction("DescribeInstanceStatus").ok, 3);
  EXPECT_EQ(h.AliyunAction("DescribeInstances").ok, 2);
  EXPECT_EQ(h.AliyunReboots("i-run1"), 1);
  EXPECT_EQ(h.AliyunReboots("i-run2"), 0);
  EXPECT_EQ(h.sim().GetReport().aliyun.actions.at("RebootInstance").auth_failures, 0);
}

TEST_P(AliyunIntegration, ForceStopAndDryRun) {
  Harness h;
  auto ecs = h.Ecs(GetParam());
  auto dry = ecs->RebootInstance("i-run1", false, /*dry_run=*/true);
  ASSERT_TRUE(dry.has_value()) << dry.error().ToString();
  EXPECT_TRUE(dry->dry_run_passed);
  EXPECT_EQ(h.AliyunReboots("i-run1"), 0);
  EXPECT_EQ(StatusOf(*ecs, "i-run1"), "Running");
  // A dry run of a reboot that would fail reports the real failure.
  auto dry_stopped = ecs->RebootInstance("i-stop1", false, true);
  ASSERT_FALSE(dry_stopped.has_value());
  EXPECT_EQ(dry_stopped.error().provider_code, "IncorrectInstanceStatus");

  auto hard = ecs->RebootInstance("i-run2", /*force_stop=*/true, false);
  ASSERT_TRUE(hard.has_value()) << hard.error().ToString();
  EXPECT_EQ(h.AliyunReboots("i-run2"), 1);
  EXPECT_EQ(h.AliyunAction("RebootInstance").errors.at("DryRunOperation"), 1);
}

TEST_P(AliyunIntegration, DescribeInstanceStatusPagesOfFifty) {
  auto options = DefaultSimOptions();
  options.aliyun_instances = 120;
  Harness h(options);
  auto ecs = h.Ecs(GetParam());
  std::vector<std::string> ids;
  for (int i = 1; i <= 100; ++i) ids.push_back(sim::GeneratedAliyunId(i));
  ids[99] = "i-nothere";  // unknown IDs are omitted
  auto all = ecs->DescribeAllInstanceStatus(ids);
  ASSERT_TRUE(all.has_value()) << all.error().ToString();
  EXPECT_EQ(all->size(), 99u);
  EXPECT_EQ(h.AliyunAction("DescribeInstanceStatus").calls, 2);  // pages of 50

  // Without IDs: every instance of the region, paged (5 inventory + 120 generated).
  auto page3 = ecs->DescribeInstanceStatus({}, 3, 50);
  ASSERT_TRUE(page3.has_value()) << page3.error().ToString();
  EXPECT_EQ(page3->total_count, 125);
  EXPECT_EQ(page3->statuses.size(), 25u);
  EXPECT_EQ(page3->page_number, 3);
}

TEST_P(AliyunIntegration, DescribeInstancesNextTokenPagingStatusFilterAndLocks) {
  auto options = DefaultSimOptions();
  options.aliyun_instances = 120;
  Harness h(options);
  auto ecs = h.Ecs(GetParam());
  DescribeInstancesQuery query;
  query.max_results = 100;
  size_t seen = 0;
  int pages = 0;
  do {
    auto page = ecs->DescribeInstances(query);
    ASSERT_TRUE(page.has_value()) << page.error().ToString();
    seen += page->instances.size();
    query.next_token = page->next_token;
    ++pages;
  } while (!query.next_token.empty() && pages < 10);
  EXPECT_EQ(seen, 125u);
  EXPECT_EQ(pages, 2);

  DescribeInstancesQuery stopped;
  stopped.status = "Stopped";
  auto page = ecs->DescribeInstances(stopped);
  ASSERT_TRUE(page.has_value()) << page.error().ToString();
  // A security-locked instance reports Stopped too (cloud-apis.md §1.11: Locked -> Stopped).
  std::set<std::string> stopped_ids;
  for (const auto& i : page->instances) stopped_ids.insert(i.id);
  EXPECT_EQ(stopped_ids, (std::set<std::string>{"i-stop1", "i-lock1"}));

  DescribeInstancesQuery locked;
  locked.ids = {"i-lock1", "i-run1"};
  auto locks = ecs->DescribeInstances(locked);
  ASSERT_TRUE(locks.has_value()) << locks.error().ToString();
  ASSERT_EQ(locks->instances.size(), 2u);
  for (const auto& i : locks->instances) {
    if (i.id == "i-lock1") {
      EXPECT_EQ(i.lock_reasons, (std::vector<std::string>{"security"}));
    } else {
      EXPECT_TRUE(i.lock_reasons.empty());
    }
  }
}

TEST_P(AliyunIntegration, StsSecurityToken) {
  auto options = DefaultSimOptions();
  // STS tokens are base64 text: '+', '/' and '=' must survive both signature schemes.
  const cloud::Credentials sts{"STS.integrationkey0001",
                               "aliyun+sts/secret=", "CAIS+sts/token==value*~123"};
  const cloud::Credentials plain{"LTAIintegrationplain01", "aliyun-plain-secret", ""};
  options.aliyun_keys = {sts, plain};
  Harness h(options);
  struct Case {
    cloud::Credentials credentials;
    const char* code;  // "" = success
  };
  const Case cases[] = {
      {sts, ""},
      {plain, ""},
      {{sts.key_id, sts.secret, ""}, "MissingSecurityToken"},
      {{sts.key_id, sts.secret, "some-other-token"}, "InvalidSecurityToken.MismatchWithAccessKey"},
      {{plain.key_id, plain.secret, "unexpected-token"},
       "InvalidSecurityToken.MismatchWithAccessKey"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.code);
    auto ecs = h.Ecs(GetParam(), FastEcsOptions(), &c.credentials);
    auto r = ecs->DescribeInstanceStatus({"i-run1"}, 1, 10);
    if (std::string(c.code).empty()) {
      ASSERT_TRUE(r.has_value()) << r.error().ToString();
      ASSERT_EQ(r->statuses.size(), 1u);
      continue;
    }
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().provider_code, c.code);
    EXPECT_EQ(r.error().code, ErrorCode::kUnauthenticated);
    EXPECT_EQ(cloud::ClassOf(r.error()), ErrorClass::kTerminal);
    EXPECT_EQ(r.error().message.find(c.credentials.secret), std::string::npos);
    if (!c.credentials.token.empty()) {
      EXPECT_EQ(r.error().message.find(c.credentials.token), std::string::npos);
    }
  }
  EXPECT_EQ(h.AliyunAction("DescribeInstanceStatus").auth_failures, 3);
  EXPECT_EQ(h.AliyunAction("DescribeInstanceStatus").calls, 5);  // terminal: never retried
}

// ---- terminal ----

TEST_P(AliyunIntegration, WrongSecretAndUnknownKeyAreTerminalAuthFailures) {
  Harness h;
  const cloud::Credentials wrong{sim::kDemoAliyunAccessKeyId, "not-the-demo-secret", ""};
  const cloud::Credentials unknown{"LTAIunknownkey000000000", sim::kDemoAliyunAccessKeySecret, ""};
  for (const auto& [credentials, code] : {std::pair{wrong, "SignatureDoesNotMatch"},
                                          std::pair{unknown, "InvalidAccessKeyId.NotFound"}}) {
    SCOPED_TRACE(code);
    auto ecs = h.Ecs(GetParam(), FastEcsOptions(), &credentials);
    auto reboot = ecs->RebootInstance("i-run1", false, false);
    ASSERT_FALSE(reboot.has_value());
    EXPECT_EQ(reboot.error().provider_code, code);
    EXPECT_EQ(reboot.error().code, ErrorCode::kUnauthenticated);
    EXPECT_FALSE(reboot.error().ambiguous);
    EXPECT_EQ(reboot.error().message.find(credentials.secret), std::string::npos);
    EXPECT_EQ(reboot.error().message.find("string to sign"), std::string::npos);
    auto status = ecs->DescribeInstanceStatus({"i-run1"}, 1, 10);
    ASSERT_FALSE(status.has_value());
    EXPECT_EQ(status.error().provider_code, code);
  }
  EXPECT_EQ(h.AliyunReboots("i-run1"), 0);
  EXPECT_EQ(h.AliyunAction("RebootInstance").auth_failures, 2);
  EXPECT_EQ(h.AliyunAction("DescribeInstanceStatus").calls, 2);
}

TEST_P(AliyunIntegration, NotFoundLockedAndOtherRegionAreTerminal) {
  Harness h;
  auto ecs = h.Ecs(GetParam());
  struct Case {
    const char* id;
    const char* code;
    ErrorCode error_code;
  };
  const Case cases[] = {
      {"i-nothere", "InvalidInstanceId.NotFound", ErrorCode::kNotFound},
      {"i-bj1", "InvalidInstanceId.NotFound", ErrorCode::kNotFound},  // client is cn-hangzhou
      {"i-lock1", "InstanceLockedForSecurity", ErrorCode::kPermissionDenied},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.id);
    auto r = ecs->RebootInstance(c.id, false, false);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().provider_code, c.code);
    EXPECT_EQ(r.error().code, c.error_code);
    EXPECT_EQ(cloud::ClassOf(r.error()), ErrorClass::kTerminal);
    EXPECT_FALSE(r.error().ambiguous);
    EXPECT_FALSE(r.error().provider_request_id.empty());
  }
  EXPECT_EQ(h.sim().GetReport().aliyun.total_reboots, 0);
}

TEST_P(AliyunIntegration, OverLimitRequestsAreRejectedBeforeSending) {
  Harness h;
  auto ecs = h.Ecs(GetParam());
  std::vector<std::string> ids;
  for (int i = 1; i <= 101; ++i) ids.push_back(sim::GeneratedAliyunId(i));
  auto status = ecs->DescribeInstanceStatus(ids, 1, 50);
  ASSERT_FALSE(status.has_value());
  EXPECT_EQ(status.error().code, ErrorCode::kInvalidArgument);
  auto page = ecs->DescribeInstanceStatus({"i-run1"}, 1, 51);
  ASSERT_FALSE(page.has_value());
  EXPECT_EQ(page.error().code, ErrorCode::kInvalidArgument);
  DescribeInstancesQuery query;
  query.ids = ids;
  auto instances = ecs->DescribeInstances(query);
  ASSERT_FALSE(instances.has_value());
  EXPECT_EQ(instances.error().code, ErrorCode::kInvalidArgument);
  auto empty = ecs->RebootInstance("", false, false);
  ASSERT_FALSE(empty.has_value());
  EXPECT_EQ(empty.error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(h.Attempts().empty());
  EXPECT_EQ(h.sim().GetReport().ToJson().Find("totals")->Find("calls")->AsInt(), 0);
}

// ---- wrong state ----

TEST_P(AliyunIntegration, RebootOfStoppedOrRebootingInstanceIsWrongState) {
  Harness h;
  auto ecs = h.Ecs(GetParam());
  auto stopped = ecs->RebootInstance("i-stop1", false, false);
  ASSERT_FALSE(stopped.has_value());
  EXPECT_EQ(stopped.error().provider_code, "IncorrectInstanceStatus");
  EXPECT_EQ(stopped.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_EQ(cloud::ClassOf(stopped.error()), ErrorClass::kWrongState);
  EXPECT_FALSE(stopped.error().ambiguous);

  ASSERT_TRUE(ecs->RebootInstance("i-run1", false, false).has_value());
  // Stopping refuses another soft reboot, Starting any reboot. (A forced reboot while Stopping
  // is accepted: the SoftFirst escalation; see pkg/sim/aliyun_api.cc and
  // tests/pkg/sim/soft_stuck_test.cc.)
  for (int step = 0; step < 2; ++step) {  // Stopping, then Starting
    auto busy = ecs->RebootInstance("i-run1", /*force_stop=*/step == 1, false);
    ASSERT_FALSE(busy.has_value());
    EXPECT_EQ(busy.error().provider_code, "IncorrectInstanceStatus");
    EXPECT_EQ(cloud::ClassOf(busy.error()), ErrorClass::kWrongState);
    h.AdvanceSim(std::chrono::seconds(5));
  }
  EXPECT_EQ(h.AliyunReboots("i-run1"), 1);
  EXPECT_EQ(h.AliyunReboots("i-stop1"), 0);
}

// ---- throttled ----

TEST_P(AliyunIntegration, ThrottledDescribeIsRetriedAndSlowsTheSharedBucket) {
  auto options = DefaultSimOptions();
  options.rate_limits["aliyun.DescribeInstanceStatus"] = 1;
  Harness h(options);
  ratelimit::TokenBucketOptions bucket;
  bucket.rate_per_second = 50;
  bucket.throttle_pause = std::chrono::milliseconds(10);
  ratelimit::Limiter limiter(bucket, {}, SystemClock::Instance());
  auto ecs = h.Ecs(GetParam(), FastEcsOptions(), nullptr, &limiter);
  ASSERT_TRUE(ecs->DescribeInstanceStatus({"i-run1"}, 1, 10).has_value());
  h.on_attempt = [&](const cloud::CallRecord& r) {
    if (r.code == "Throttling.User") h.AdvanceSim(std::chrono::milliseconds(1001));
  };
  auto page = ecs->DescribeInstanceStatus({"i-run1"}, 1, 10);
  ASSERT_TRUE(page.has_value()) << page.error().ToString();
  EXPECT_EQ(h.AttemptCodes(), (std::vector<std::string>{"OK", "Throttling.User", "OK"}));
  EXPECT_EQ(h.AliyunAction("DescribeInstanceStatus").throttled, 1);
  EXPECT_LT(limiter.Bucket("aliyun.DescribeInstanceStatus").CurrentRate(), 50);
}

TEST_P(AliyunIntegration, ThrottledRebootIsRefusedNotAmbiguousAndNotRetried) {
  auto options = DefaultSimOptions();
  options.rate_limits["aliyun.RebootInstance"] = 1;
  Harness h(options);
  auto ecs = h.Ecs(GetParam());
  ASSERT_TRUE(ecs->RebootInstance("i-run1", false, false).has_value());
  auto r = ecs->RebootInstance("i-run2", false, false);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().provider_code, "Throttling.User");
  EXPECT_EQ(r.error().code, ErrorCode::kResourceExhausted);
  EXPECT_EQ(cloud::ClassOf(r.error()), ErrorClass::kThrottled);
  EXPECT_FALSE(r.error().ambiguous);
  EXPECT_EQ(h.AliyunAction("RebootInstance").calls, 2);
  EXPECT_EQ(h.AliyunAction("RebootInstance").throttled, 1);
  EXPECT_EQ(h.AliyunReboots("i-run2"), 0);
}

// ---- transient and injected faults ----

TEST_P(AliyunIntegration, TransientDescribeFailuresAreRetriedUntilTheyClear) {
  for (FaultKind kind : {FaultKind::kUnavailable, FaultKind::kErrorBefore, FaultKind::kReset}) {
    SCOPED_TRACE(std::string(sim::FaultKindName(kind)));
    Harness h;
    h.sim().SetFaults({Always(kind, "aliyun.DescribeInstances")});
    h.on_attempt = [&](const cloud::CallRecord& r) {
      if (r.code != "OK") h.sim().SetFaults({});
    };
    auto ecs = h.Ecs(GetParam());
    DescribeInstancesQuery query;
    query.ids = {"i-run1"};
    auto page = ecs->DescribeInstances(query);
    ASSERT_TRUE(page.has_value()) << page.error().ToString();
    ASSERT_EQ(page->instances.size(), 1u);
    const auto codes = h.AttemptCodes();
    ASSERT_EQ(codes.size(), 2u);
    EXPECT_NE(codes[0], "OK");
    EXPECT_EQ(codes[1], "OK");
  }
}

TEST_P(AliyunIntegration, PersistentTransientDescribeFailureGivesUpAsTransient) {
  Harness h;
  h.sim().SetFaults({Always(FaultKind::kUnavailable, "DescribeInstanceStatus")});
  auto ecs = h.Ecs(GetParam());
  auto r = ecs->DescribeInstanceStatus({"i-run1"}, 1, 10);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().provider_code, "ServiceUnavailable");
  EXPECT_EQ(r.error().http_status, 503);
  EXPECT_EQ(cloud::ClassOf(r.error()), ErrorClass::kTransient);
  EXPECT_EQ(h.AliyunAction("DescribeInstanceStatus").calls, 3);
}

struct RebootFault {
  FaultKind kind;
  bool effect;
  ErrorCode code;
  std::string attempt;
};

TEST_P(AliyunIntegration, RebootFaultsAreAmbiguousAndTheReportTellsWhetherTheyTookEffect) {
  const RebootFault faults[] = {
      {FaultKind::kErrorBefore, false, ErrorCode::kUnavailable, "InternalError"},
      {FaultKind::kUnavailable, false, ErrorCode::kUnavailable, "ServiceUnavailable"},
      {FaultKind::kReset, false, ErrorCode::kUnavailable, "ConnectionReset"},
      {FaultKind::kErrorAfter, true, ErrorCode::kUnavailable, "InternalError"},
      {FaultKind::kResetAfter, true, ErrorCode::kUnavailable, "ConnectionReset"},
  };
  for (const RebootFault& f : faults) {
    SCOPED_TRACE(std::string(sim::FaultKindName(f.kind)));
    Harness h;
    h.sim().SetFaults({Always(f.kind, "aliyun.RebootInstance")});
    auto ecs = h.Ecs(GetParam());
    auto r = ecs->RebootInstance("i-run1", false, false);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, f.code) << r.error().ToString();
    EXPECT_TRUE(r.error().ambiguous) << r.error().ToString();
    EXPECT_EQ(cloud::ClassOf(r.error()), ErrorClass::kTransient);
    EXPECT_EQ(h.AttemptCodes(), (std::vector<std::string>{f.attempt}));
    EXPECT_EQ(h.AliyunAction("RebootInstance").calls, 1);  // never re-sent
    EXPECT_EQ(h.AliyunReboots("i-run1"), f.effect ? 1 : 0);
    EXPECT_EQ(StatusOf(*ecs, "i-run1"), f.effect ? "Stopping" : "Running");
  }
}

TEST_P(AliyunIntegration, HangingRebootTimesOutAmbiguously) {
  for (FaultKind kind : {FaultKind::kHang, FaultKind::kHangAfter}) {
    SCOPED_TRACE(std::string(sim::FaultKindName(kind)));
    Harness h;
    h.sim().SetFaults({Always(kind, "aliyun.RebootInstance")});
    auto options = FastEcsOptions();
    options.reboot_timeout = std::chrono::milliseconds(400);
    auto ecs = h.Ecs(GetParam(), options);
    const auto start = std::chrono::steady_clock::now();
    auto r = ecs->RebootInstance("i-run1", false, false);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, ErrorCode::kDeadlineExceeded) << r.error().ToString();
    EXPECT_TRUE(r.error().ambiguous);
    EXPECT_EQ(h.AttemptCodes(), (std::vector<std::string>{"Timeout"}));
    EXPECT_LT(elapsed, std::chrono::seconds(4));
    EXPECT_EQ(h.AliyunReboots("i-run1"), kind == FaultKind::kHangAfter ? 1 : 0);
    // The transport recovers: the next call on the same client goes through.
    h.sim().SetFaults({});
    auto next = ecs->RebootInstance("i-run2", false, false);
    EXPECT_TRUE(next.has_value()) << next.error().ToString();
  }
}

TEST_P(AliyunIntegration, HangingDescribeIsRetriedThenTimesOut) {
  Harness h;
  h.sim().SetFaults({Always(FaultKind::kHang, "aliyun.DescribeInstanceStatus")});
  auto options = FastEcsOptions();
  options.describe_status_timeout = std::chrono::milliseconds(300);
  options.max_attempts = 2;
  auto ecs = h.Ecs(GetParam(), options);
  auto r = ecs->DescribeInstanceStatus({"i-run1"}, 1, 10);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kDeadlineExceeded);
  EXPECT_EQ(cloud::ClassOf(r.error()), ErrorClass::kTransient);
  EXPECT_EQ(h.AttemptCodes(), (std::vector<std::string>{"Timeout", "Timeout"}));
}

// A reset on a reused keep-alive connection: the transport may replay a read transparently.
// The replay carries the same SignatureNonce, which the service has already seen, so it must
// not turn a transient failure into a terminal SignatureNonceUsed.
TEST_P(AliyunIntegration, ResetOnAReusedConnectionStaysTransient) {
  for (FaultKind kind : {FaultKind::kReset, FaultKind::kResetAfter}) {
    SCOPED_TRACE(std::string(sim::FaultKindName(kind)));
    Harness h;
    auto ecs = h.Ecs(GetParam());
    DescribeInstancesQuery query;
    query.ids = {"i-run1"};
    ASSERT_TRUE(ecs->DescribeInstances(query).has_value());  // warms the connection up
    h.sim().SetFaults({Always(kind, "aliyun.DescribeInstances")});
    h.on_attempt = [&](const cloud::CallRecord& r) {
      if (r.code != "OK") h.sim().SetFaults({});
    };
    auto page = ecs->DescribeInstances(query);
    ASSERT_TRUE(page.has_value()) << page.error().ToString();
    EXPECT_EQ(h.AliyunAction("DescribeInstances").errors.count("SignatureNonceUsed"), 0u);
  }
}

// The simulator's clock runs 16 minutes ahead of ours: the 15-minute window refuses the call.
TEST_P(AliyunIntegration, SkewedClockIsATerminalAuthFailure) {
  Harness h;
  h.AdvanceSim(std::chrono::minutes(16));
  auto ecs = h.Ecs(GetParam());
  auto r = ecs->RebootInstance("i-run1", false, false);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().provider_code, "InvalidTimeStamp.Expired");
  EXPECT_EQ(r.error().code, ErrorCode::kUnauthenticated);
  EXPECT_FALSE(r.error().ambiguous);
  auto status = ecs->DescribeInstanceStatus({"i-run1"}, 1, 10);
  ASSERT_FALSE(status.has_value());
  EXPECT_EQ(h.AliyunAction("DescribeInstanceStatus").calls, 1);  // terminal: not retried
  EXPECT_EQ(h.AliyunReboots("i-run1"), 0);
}

// The client's region selects the instances: i-bj1 lives in cn-beijing.
TEST_P(AliyunIntegration, RegionScopesTheCalls) {
  Harness h;
  auto options = FastEcsOptions();
  options.region = "cn-beijing";
  auto ecs = h.Ecs(GetParam(), options);
  auto statuses = ecs->DescribeInstanceStatus({}, 1, 50);
  ASSERT_TRUE(statuses.has_value()) << statuses.error().ToString();
  ASSERT_EQ(statuses->statuses.size(), 1u);
  EXPECT_EQ(statuses->statuses[0].id, "i-bj1");
  ASSERT_TRUE(ecs->RebootInstance("i-bj1", false, false).has_value());
  auto other = ecs->RebootInstance("i-run1", false, false);  // a cn-hangzhou instance
  ASSERT_FALSE(other.has_value());
  EXPECT_EQ(other.error().provider_code, "InvalidInstanceId.NotFound");
  EXPECT_EQ(h.AliyunReboots("i-bj1"), 1);
  EXPECT_EQ(h.AliyunReboots("i-run1"), 0);
}

// The real service reports StartTime to the minute ("2017-12-10T04:04Z"); it still parses.
TEST_P(AliyunIntegration, MinutePrecisionStartTimeParses) {
  auto options = DefaultSimOptions();
  options.start_time_with_seconds = false;
  Harness h(options);
  auto ecs = h.Ecs(GetParam());
  DescribeInstancesQuery query;
  query.ids = {"i-run1"};
  auto page = ecs->DescribeInstances(query);
  ASSERT_TRUE(page.has_value()) << page.error().ToString();
  ASSERT_EQ(page->instances.size(), 1u);
  const auto& instance = page->instances[0];
  EXPECT_EQ(instance.start_time.size(), std::string("2026-01-01T00:00Z").size())
      << instance.start_time;
  ASSERT_TRUE(instance.start_time_parsed.has_value()) << instance.start_time;
  EXPECT_EQ(std::chrono::floor<std::chrono::minutes>(*instance.start_time_parsed),
            *instance.start_time_parsed);
}

}  // namespace
}  // namespace rebootd::integration
