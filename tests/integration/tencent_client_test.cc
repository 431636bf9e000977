// SPDX-License-Identifier: Apache-2.0
// EcmClient (real TC3 signing, CpprestTransport, SystemClock) against rebootd-cloudsim over
// loopback: every action, every error class, and the injected faults, each checked against the
// simulator's report.
#include <gtest/gtest.h>

#include <chrono>

#include "pkg/cloud/errors.h"
#include "pkg/cloud/tencent/errors.h"
#include "pkg/sim/demo_credentials.h"
#include "tests/integration/harness.h"

namespace rebootd::integration {
namespace {

using cloud::ErrorClass;
using cloud::tencent::Filter;
using cloud::tencent::StopType;
using sim::FaultKind;

std::vector<std::string> Ids(const cloud::tencent::InstancesPage& page) {
  std::vector<std::string> ids;
  for (const auto& i : page.instances) ids.push_back(i.id);
  return ids;
}

std::string StateOf(const cloud::tencent::InstancesPage& page, const std::string& id) {
  for (const auto& i : page.instances) {
    if (i.id == id) return i.state;
  }
  return "<absent>";
}

// ---- success of every action ----

TEST(TencentIntegration, RebootInstancesThenDescribeSeesRebootingThenRunning) {
  Harness h;
  auto ecm = h.Ecm();
  ASSERT_NE(ecm, nullptr);
  auto request_id = ecm->RebootInstances({"ein-running1", "ein-running2"}, StopType::kSoft, false);
  ASSERT_TRUE(request_id.has_value()) << request_id.error().ToString();
  EXPECT_FALSE(request_id->empty());

  auto page =
      ecm->DescribeInstances({Filter{"instance-id", {"ein-running1", "ein-running2"}}}, 0, 100);
  ASSERT_TRUE(page.has_value()) << page.error().ToString();
  ASSERT_EQ(page->instances.size(), 2u);
  for (const auto& i : page->instances) {
    EXPECT_EQ(i.state, "REBOOTING") << i.id;
    EXPECT_EQ(i.latest_operation, "RebootInstances");
    EXPECT_EQ(i.latest_operation_state, "OPERATING");
  }
  h.AdvanceSim(std::chrono::seconds(11));
  page = ecm->DescribeInstances({Filter{"instance-id", {"ein-running1", "ein-running2"}}}, 0, 100);
  ASSERT_TRUE(page.has_value()) << page.error().ToString();
  for (const auto& i : page->instances) {
    EXPECT_EQ(i.state, "RUNNING") << i.id;
    EXPECT_EQ(i.latest_operation_state, "SUCCESS");
  }

  const auto reboot = h.TencentAction("RebootInstances");
  EXPECT_EQ(reboot.calls, 1);
  EXPECT_EQ(reboot.ok, 1);
  EXPECT_EQ(reboot.effects, 1);
  EXPECT_EQ(reboot.batch_sizes.at(2), 1);
  EXPECT_EQ(h.TencentAction("DescribeInstances").ok, 2);
  EXPECT_EQ(h.TencentReboots("ein-running1"), 1);
  EXPECT_EQ(h.TencentReboots("ein-running2"), 1);
  EXPECT_EQ(h.TencentReboots("ein-running3"), 0);
  EXPECT_EQ(h.AttemptCodes(), (std::vector<std::string>{"OK", "OK", "OK"}));
}

TEST(TencentIntegration, EveryStopTypeAndForceRebootIsAccepted) {
  Harness h;
  auto options = FastEcmOptions();
  options.region = "ap-guangzhou";  // sent as X-TC-Region (not signed, ignored by ECM)
  auto ecm = h.Ecm(options);
  ASSERT_TRUE(ecm->RebootInstances({"ein-running1"}, StopType::kSoft, false).has_value());
  ASSERT_TRUE(ecm->RebootInstances({"ein-running2"}, StopType::kHard, true).has_value());
  ASSERT_TRUE(ecm->RebootInstances({"ein-running3"}, StopType::kSoftFirst, false).has_value());
  EXPECT_EQ(h.TencentAction("RebootInstances").effects, 3);
  EXPECT_EQ(h.sim().GetReport().tencent.total_reboots, 3);
}

TEST(TencentIntegration, RebootsOneHundredIdsInOneCall) {
  auto options = DefaultSimOptions();
  options.tencent_instances = 100;
  Harness h(options);
  std::vector<std::string> ids;
  for (int i = 1; i <= 100; ++i) ids.push_back(sim::GeneratedTencentId(i));
  auto ecm = h.Ecm();
  auto r = ecm->RebootInstances(ids, StopType::kSoft, false);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  const auto report = h.sim().GetReport();
  EXPECT_EQ(report.tencent.actions.at("RebootInstances").batch_sizes.at(100), 1);
  EXPECT_EQ(report.tencent.total_reboots, 100);
  EXPECT_TRUE(report.tencent.rebooted_more_than_once.empty());
}

TEST(TencentIntegration, DescribeByInstanceStateAndPaging) {
  auto options = DefaultSimOptions();
  options.tencent_instances = 230;
  Harness h(options);
  auto ecm = h.Ecm();
  // instance-state filter: the one stopped instance.
  auto stopped = ecm->DescribeInstances({Filter{"instance-state", {"STOPPED"}}}, 0, 100);
  ASSERT_TRUE(stopped.has_value()) << stopped.error().ToString();
  EXPECT_EQ(stopped->total_count, 1);
  EXPECT_EQ(Ids(*stopped), (std::vector<std::string>{"ein-stopped1"}));

  // Offset/Limit paging over the whole account (4 inventory + 230 generated).
  std::vector<std::string> all;
  int64_t total = -1;
  for (int64_t offset = 0; total < 0 || offset < total; offset += 100) {
    auto page = ecm->DescribeInstances({}, offset, 100);
    ASSERT_TRUE(page.has_value()) << page.error().ToString();
    total = page->total_count;
    for (auto& id : Ids(*page)) all.push_back(id);
  }
  EXPECT_EQ(total, 234);
  EXPECT_EQ(all.size(), 234u);
  EXPECT_EQ(h.TencentAction("DescribeInstances").calls, 1 + 3);

  // instance-id filter with the maximum of 5 values; unknown IDs are simply absent. Combined
  // with instance-state (AND across filters).
  auto some = ecm->DescribeInstances(
      {Filter{"instance-id",
              {"ein-running1", "ein-running2", "ein-stopped1", "ein-nothere1", "ein-00000001"}},
       Filter{"instance-state", {"RUNNING"}}},
      0, 100);
  ASSERT_TRUE(some.has_value()) << some.error().ToString();
  EXPECT_EQ(Ids(*some), (std::vector<std::string>{"ein-running1", "ein-running2", "ein-00000001"}));
}

// ---- terminal ----

TEST(TencentIntegration, OverLimitRequestsAreRejectedBeforeSending) {
  Harness h;
  auto ecm = h.Ecm();
  std::vector<std::string> ids;
  for (int i = 1; i <= 101; ++i) ids.push_back(sim::GeneratedTencentId(i));
  auto r = ecm->RebootInstances(ids, StopType::kSoft, false);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_FALSE(r.error().ambiguous);
  EXPECT_EQ(cloud::ClassOf(r.error()), ErrorClass::kTerminal);

  for (const auto& bad :
       {std::vector<std::string>{}, std::vector<std::string>{"ein-running1", "ein-running1"}}) {
    auto refused = ecm->RebootInstances(bad, StopType::kSoft, false);
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  }

  auto d = ecm->DescribeInstances(
      {Filter{"instance-id", {"ein-a1", "ein-a2", "ein-a3", "ein-a4", "ein-a5", "ein-a6"}}}, 0,
      100);
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().code, ErrorCode::kInvalidArgument);
  auto page = ecm->DescribeInstances({}, 0, 101);
  ASSERT_FALSE(page.has_value());
  EXPECT_EQ(page.error().code, ErrorCode::kInvalidArgument);

  // Nothing reached the simulator.
  EXPECT_EQ(h.sim().GetReport().ToJson().Find("totals")->Find("calls")->AsInt(), 0);
  EXPECT_TRUE(h.Attempts().empty());
}

TEST(TencentIntegration, NonexistentIdFailsTheWholeBatchAndIsNamed) {
  Harness h;
  auto ecm = h.Ecm();
  auto r = ecm->RebootInstances({"ein-running1", "ein-missing9", "ein-running2"}, StopType::kSoft,
                                false);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(r.error().provider_code, "ResourceNotFound.InstanceNotExist");
  EXPECT_FALSE(r.error().ambiguous);
  EXPECT_FALSE(r.error().provider_request_id.empty());
  EXPECT_EQ(cloud::tencent::ExtractInstanceIds(r.error().message),
            (std::vector<std::string>{"ein-missing9"}));
  EXPECT_EQ(h.sim().GetReport().tencent.total_reboots, 0);  // all-or-nothing

  auto malformed = ecm->RebootInstances({"ein-BAD"}, StopType::kSoft, false);
  ASSERT_FALSE(malformed.has_value());
  EXPECT_EQ(malformed.error().provider_code, "InvalidParameterValue.InvalidInstanceID");
  EXPECT_EQ(malformed.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(cloud::ClassOf(malformed.error()), ErrorClass::kTerminal);
}

TEST(TencentIntegration, WrongSecretUnknownKeyAndTokensAreAuthFailures) {
  auto options = DefaultSimOptions();
  const cloud::Credentials good{"AKIDintegration0000000000000000000001", "tencent-good-secret", ""};
  const cloud::Credentials temp{"AKIDintegrationtemp00000000000000000002",
                                "tencent+temp/secret=", "tencent+session/token==abc"};
  options.tencent_keys = {good, temp};
  Harness h(options);

  struct Case {
    cloud::Credentials credentials;
    const char* code;  // "" = success
  };
  const Case cases[] = {
      {good, ""},
      {temp, ""},
      {{good.key_id, "wrong-secret-value", ""}, "AuthFailure.SignatureFailure"},
      {{"AKIDunknown000000000000000000000000", good.secret, ""}, "AuthFailure.SecretIdNotFound"},
      {{temp.key_id, temp.secret, "another-token-xyz"}, "AuthFailure.TokenFailure"},
      {{temp.key_id, temp.secret, ""}, "AuthFailure.TokenFailure"},
      {{good.key_id, good.secret, "unexpected-token"}, "AuthFailure.TokenFailure"},
  };
  int failures = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.code);
    auto ecm = h.Ecm(FastEcmOptions(), &c.credentials);
    auto r = ecm->DescribeInstances({Filter{"instance-id", {"ein-running1"}}}, 0, 10);
    if (std::string(c.code).empty()) {
      ASSERT_TRUE(r.has_value()) << r.error().ToString();
      EXPECT_EQ(Ids(*r), (std::vector<std::string>{"ein-running1"}));
      continue;
    }
    ++failures;
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().provider_code, c.code);
    EXPECT_EQ(r.error().code, ErrorCode::kUnauthenticated);
    EXPECT_EQ(cloud::ClassOf(r.error()), ErrorClass::kTerminal);
    // Terminal: exactly one attempt, and no secret in what the caller sees.
    EXPECT_EQ(r.error().message.find(c.credentials.secret), std::string::npos);
    if (!c.credentials.token.empty()) {
      EXPECT_EQ(r.error().message.find(c.credentials.token), std::string::npos);
    }
    // A reboot with the same credentials is refused before any effect.
    auto reboot = ecm->RebootInstances({"ein-running3"}, StopType::kSoft, false);
    ASSERT_FALSE(reboot.has_value());
    EXPECT_EQ(reboot.error().code, ErrorCode::kUnauthenticated);
    EXPECT_FALSE(reboot.error().ambiguous);
  }
  EXPECT_EQ(h.TencentAction("DescribeInstances").auth_failures, failures);
  EXPECT_EQ(h.TencentAction("DescribeInstances").calls, 7);  // terminal: never retried
  EXPECT_EQ(h.TencentReboots("ein-running3"), 0);
}

// ---- wrong state ----

TEST(TencentIntegration, RebootOfStoppedOrRebootingInstanceIsWrongState) {
  Harness h;
  auto ecm = h.Ecm();
  auto stopped = ecm->RebootInstances({"ein-stopped1"}, StopType::kSoft, false);
  ASSERT_FALSE(stopped.has_value());
  EXPECT_EQ(stopped.error().provider_code, "ResourceUnavailable.InstanceNotRunning");
  EXPECT_EQ(stopped.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_EQ(cloud::ClassOf(stopped.error()), ErrorClass::kWrongState);
  EXPECT_FALSE(stopped.error().ambiguous);

  ASSERT_TRUE(ecm->RebootInstances({"ein-running1"}, StopType::kSoft, false).has_value());
  auto busy = ecm->RebootInstances({"ein-running1"}, StopType::kSoft, false);
  ASSERT_FALSE(busy.has_value());
  EXPECT_EQ(busy.error().provider_code, "OperationDenied.InstanceOperationInProgress");
  EXPECT_EQ(busy.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_EQ(cloud::ClassOf(busy.error()), ErrorClass::kWrongState);
  EXPECT_EQ(cloud::tencent::ExtractInstanceIds(busy.error().message),
            (std::vector<std::string>{"ein-running1"}));
  EXPECT_EQ(h.TencentReboots("ein-running1"), 1);
  EXPECT_EQ(h.TencentReboots("ein-stopped1"), 0);
}

// ---- throttled ----

TEST(TencentIntegration, ThrottledDescribeIsRetriedAndSlowsTheSharedBucket) {
  auto options = DefaultSimOptions();
  options.rate_limits["tencent.DescribeInstances"] = 1;
  Harness h(options);
  ratelimit::TokenBucketOptions bucket;
  bucket.rate_per_second = 50;
  bucket.throttle_pause = std::chrono::milliseconds(10);
  ratelimit::Limiter limiter(bucket, {}, SystemClock::Instance());
  auto ecm = h.Ecm(FastEcmOptions(), nullptr, &limiter);
  const std::vector<Filter> filters = {Filter{"instance-id", {"ein-running1"}}};
  ASSERT_TRUE(ecm->DescribeInstances(filters, 0, 10).has_value());

  // The simulator's 1-second window only moves when its clock does: move it once the client
  // has been throttled, and the client's own retry goes through.
  h.on_attempt = [&](const cloud::CallRecord& r) {
    if (r.code == "RequestLimitExceeded") h.AdvanceSim(std::chrono::milliseconds(1001));
  };
  auto page = ecm->DescribeInstances(filters, 0, 10);
  ASSERT_TRUE(page.has_value()) << page.error().ToString();
  EXPECT_EQ(h.AttemptCodes(), (std::vector<std::string>{"OK", "RequestLimitExceeded", "OK"}));
  EXPECT_EQ(h.Attempts().back().attempt, 2);
  const auto report = h.TencentAction("DescribeInstances");
  EXPECT_EQ(report.throttled, 1);
  EXPECT_EQ(report.ok, 2);
  EXPECT_LT(limiter.Bucket("tencent.DescribeInstances").CurrentRate(), 50);
}

TEST(TencentIntegration, ThrottledEveryTimeGivesUpAsThrottled) {
  auto options = DefaultSimOptions();
  options.rate_limits["tencent.DescribeInstances"] = 1;
  Harness h(options);
  auto ecm = h.Ecm();
  ASSERT_TRUE(ecm->DescribeInstances({}, 0, 10).has_value());
  auto r = ecm->DescribeInstances({}, 0, 10);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kResourceExhausted);
  EXPECT_EQ(r.error().provider_code, "RequestLimitExceeded");
  EXPECT_EQ(cloud::ClassOf(r.error()), ErrorClass::kThrottled);
  EXPECT_EQ(h.TencentAction("DescribeInstances").throttled, 3);  // max_attempts
}

TEST(TencentIntegration, ThrottledRebootIsRefusedNotAmbiguousAndNotRetried) {
  auto options = DefaultSimOptions();
  options.rate_limits["tencent.RebootInstances"] = 1;
  Harness h(options);
  auto ecm = h.Ecm();
  ASSERT_TRUE(ecm->RebootInstances({"ein-running1"}, StopType::kSoft, false).has_value());
  auto r = ecm->RebootInstances({"ein-running2"}, StopType::kSoft, false);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kResourceExhausted);
  EXPECT_FALSE(r.error().ambiguous);
  EXPECT_EQ(h.TencentAction("RebootInstances").calls, 2);
  EXPECT_EQ(h.TencentReboots("ein-running2"), 0);
  // An injected throttle fault looks the same to the client.
  h.AdvanceSim(std::chrono::seconds(2));
  h.sim().SetFaults({Always(FaultKind::kThrottle, "tencent.RebootInstances")});
  auto injected = ecm->RebootInstances({"ein-running3"}, StopType::kSoft, false);
  ASSERT_FALSE(injected.has_value());
  EXPECT_EQ(injected.error().code, ErrorCode::kResourceExhausted);
  EXPECT_EQ(h.TencentReboots("ein-running3"), 0);
}

// ---- transient and injected faults ----

TEST(TencentIntegration, TransientDescribeFailuresAreRetriedUntilTheyClear) {
  for (FaultKind kind : {FaultKind::kUnavailable, FaultKind::kErrorBefore, FaultKind::kReset}) {
    SCOPED_TRACE(std::string(sim::FaultKindName(kind)));
    Harness h;
    h.sim().SetFaults({Always(kind, "tencent.DescribeInstances")});
    h.on_attempt = [&](const cloud::CallRecord& r) {
      if (r.code != "OK") h.sim().SetFaults({});  // the fault clears after one failure
    };
    auto ecm = h.Ecm();
    auto page = ecm->DescribeInstances({Filter{"instance-id", {"ein-running1"}}}, 0, 10);
    ASSERT_TRUE(page.has_value()) << page.error().ToString();
    EXPECT_EQ(Ids(*page), (std::vector<std::string>{"ein-running1"}));
    const auto codes = h.AttemptCodes();
    ASSERT_EQ(codes.size(), 2u);
    EXPECT_NE(codes[0], "OK");
    EXPECT_EQ(codes[1], "OK");
    EXPECT_EQ(h.TencentAction("DescribeInstances").faults.at(std::string(sim::FaultKindName(kind))),
              1);
  }
}

TEST(TencentIntegration, PersistentTransientDescribeFailureGivesUpAsTransient) {
  Harness h;
  h.sim().SetFaults({Always(FaultKind::kErrorBefore, "DescribeInstances")});
  auto ecm = h.Ecm();
  auto r = ecm->DescribeInstances({}, 0, 10);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().provider_code, "InternalError");
  EXPECT_EQ(cloud::ClassOf(r.error()), ErrorClass::kTransient);
  EXPECT_EQ(h.TencentAction("DescribeInstances").calls, 3);
}

struct RebootFault {
  FaultKind kind;
  bool effect;          // the simulator carried the reboot out
  ErrorCode code;       // what the client reports
  std::string attempt;  // the attempt's record code
};

TEST(TencentIntegration, RebootFaultsAreAmbiguousAndTheReportTellsWhetherTheyTookEffect) {
  const RebootFault faults[] = {
      {FaultKind::kErrorBefore, false, ErrorCode::kUnavailable, "InternalError"},
      {FaultKind::kUnavailable, false, ErrorCode::kUnavailable, "HTTP5xx"},
      {FaultKind::kReset, false, ErrorCode::kUnavailable, "ConnectionReset"},
      {FaultKind::kErrorAfter, true, ErrorCode::kUnavailable, "InternalError"},
      {FaultKind::kResetAfter, true, ErrorCode::kUnavailable, "ConnectionReset"},
  };
  for (const RebootFault& f : faults) {
    SCOPED_TRACE(std::string(sim::FaultKindName(f.kind)));
    Harness h;
    h.sim().SetFaults({Always(f.kind, "tencent.RebootInstances")});
    auto ecm = h.Ecm();
    auto r = ecm->RebootInstances({"ein-running1", "ein-running2"}, StopType::kSoft, false);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, f.code) << r.error().ToString();
    EXPECT_TRUE(r.error().ambiguous) << r.error().ToString();
    EXPECT_EQ(cloud::ClassOf(r.error()), ErrorClass::kTransient);
    EXPECT_EQ(h.AttemptCodes(), (std::vector<std::string>{f.attempt}));
    EXPECT_EQ(h.TencentAction("RebootInstances").calls, 1);  // never re-sent
    const int64_t expected = f.effect ? 1 : 0;
    EXPECT_EQ(h.TencentReboots("ein-running1"), expected);
    EXPECT_EQ(h.TencentReboots("ein-running2"), expected);

    // Resolving the ambiguity by polling: the state says whether the call took effect.
    auto page =
        ecm->DescribeInstances({Filter{"instance-id", {"ein-running1", "ein-running2"}}}, 0, 10);
    ASSERT_TRUE(page.has_value()) << page.error().ToString();
    EXPECT_EQ(StateOf(*page, "ein-running1"), f.effect ? "REBOOTING" : "RUNNING");
  }
}

TEST(TencentIntegration, HangingRebootTimesOutAmbiguously) {
  for (FaultKind kind : {FaultKind::kHang, FaultKind::kHangAfter}) {
    SCOPED_TRACE(std::string(sim::FaultKindName(kind)));
    Harness h;
    h.sim().SetFaults({Always(kind, "tencent.RebootInstances")});
    auto options = FastEcmOptions();
    options.timeout = std::chrono::milliseconds(400);
    auto ecm = h.Ecm(options);
    const auto start = std::chrono::steady_clock::now();
    auto r = ecm->RebootInstances({"ein-running1"}, StopType::kSoft, false);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, ErrorCode::kDeadlineExceeded) << r.error().ToString();
    EXPECT_TRUE(r.error().ambiguous);
    EXPECT_EQ(h.AttemptCodes(), (std::vector<std::string>{"Timeout"}));
    EXPECT_LT(elapsed, std::chrono::seconds(4));
    EXPECT_EQ(h.TencentReboots("ein-running1"), kind == FaultKind::kHangAfter ? 1 : 0);
    // The transport recovers: the next call on the same client goes through.
    h.sim().SetFaults({});
    auto next = ecm->RebootInstances({"ein-running2"}, StopType::kSoft, false);
    EXPECT_TRUE(next.has_value()) << next.error().ToString();
  }
}

TEST(TencentIntegration, HangingDescribeIsRetriedThenTimesOut) {
  Harness h;
  h.sim().SetFaults({Always(FaultKind::kHang, "tencent.DescribeInstances")});
  auto options = FastEcmOptions();
  options.timeout = std::chrono::milliseconds(300);
  options.max_attempts = 2;
  auto ecm = h.Ecm(options);
  auto r = ecm->DescribeInstances({}, 0, 10);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kDeadlineExceeded);
  EXPECT_EQ(cloud::ClassOf(r.error()), ErrorClass::kTransient);
  EXPECT_EQ(h.AttemptCodes(), (std::vector<std::string>{"Timeout", "Timeout"}));
}

TEST(TencentIntegration, ResetOnAReusedConnectionStaysTransient) {
  for (FaultKind kind : {FaultKind::kReset, FaultKind::kResetAfter}) {
    SCOPED_TRACE(std::string(sim::FaultKindName(kind)));
    Harness h;
    auto ecm = h.Ecm();
    ASSERT_TRUE(ecm->DescribeInstances({}, 0, 10).has_value());  // warms the connection up
    h.sim().SetFaults({Always(kind, "tencent.DescribeInstances")});
    h.on_attempt = [&](const cloud::CallRecord& r) {
      if (r.code != "OK") h.sim().SetFaults({});
    };
    auto page = ecm->DescribeInstances({}, 0, 10);
    ASSERT_TRUE(page.has_value()) << page.error().ToString();
  }
}

// The simulator's clock runs 6 minutes ahead of ours: the 5-minute window refuses the call.
TEST(TencentIntegration, SkewedClockIsATerminalAuthFailure) {
  Harness h;
  h.AdvanceSim(std::chrono::minutes(6));
  auto ecm = h.Ecm();
  auto r = ecm->RebootInstances({"ein-running1"}, StopType::kSoft, false);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().provider_code, "AuthFailure.SignatureExpire");
  EXPECT_EQ(r.error().code, ErrorCode::kUnauthenticated);
  EXPECT_FALSE(r.error().ambiguous);
  EXPECT_EQ(h.TencentReboots("ein-running1"), 0);
}

}  // namespace
}  // namespace rebootd::integration
