// SPDX-License-Identifier: Apache-2.0
// The pure per-instance decisions (DESIGN.md §4): proof of reboot per provider, baseline x
// call outcome x observations, table-driven; Pending checks; the Aliyun SoftFirst escalation.
// The evidence rules are the real providers' (through FakeProvider::Read).
#include "pkg/controller/instance_logic.h"

#include <gtest/gtest.h>

#include "pkg/cloud/aliyun/evidence.h"
#include "pkg/cloud/fake/fake_provider.h"
#include "pkg/cloud/tencent/evidence.h"

namespace rebootd::controller {
namespace {

using api::InstanceState;
using cloud::Provider;
using std::chrono::minutes;
using std::chrono::seconds;

const SystemTime kT0 = SystemTime(std::chrono::hours(24 * 365 * 56));

cloud::Observation Tencent(std::string state, std::string op = "", std::string op_state = "") {
  cloud::tencent::Instance i;
  i.id = "ein-00000001";
  i.state = std::move(state);
  i.latest_operation = std::move(op);
  i.latest_operation_state = std::move(op_state);
  i.restrict_state = "NORMAL";
  return cloud::tencent::ObservationOf(i);
}

cloud::Observation Aliyun(std::string status, std::string start) {
  cloud::aliyun::Instance i;
  i.id = "ein-00000001";
  i.status = std::move(status);
  i.start_time = std::move(start);
  return cloud::aliyun::ObservationOf(i);
}

// One instance, its runtime and the rules of one provider.
class Instance {
 public:
  explicit Instance(Provider kind)
      : provider_(cloud::fake::FakeOptions{kind, seconds(3), 100, true}, clock_),
        ctx_{provider_, options_, false} {
    options_.settle = seconds(15);
    options_.min_reboot = seconds(10);
    s.id = "ein-00000001";
  }

  // A Pending observation (the baseline), then the intent at kT0.
  void IntentWith(const cloud::Observation& baseline) {
    EXPECT_EQ(Observe(kT0 - seconds(1), baseline), Next::kDispatch);
    MarkIntent(s, rt, kT0, options_);
    rt.in_flight = true;
  }
  Next Outcome(RebootOutcome::Kind kind, Duration after) {
    RebootOutcome o;
    o.id = s.id;
    o.kind = kind;
    o.at = kT0 + after;
    o.request_id = kind == RebootOutcome::Kind::kAccepted ? "REQ-1" : "";
    if (kind == RebootOutcome::Kind::kAmbiguous) {
      o.error.code = ErrorCode::kDeadlineExceeded;
      o.error.message = "timed out";
      o.error.ambiguous = true;
    }
    return ApplyOutcome(ctx_, o, s, rt, SteadyTime{});
  }
  // An observation made at `at` (a describe call answered at once).
  Next Observe(SystemTime at, const cloud::Observation& o) {
    ObservationEvent ev;
    ev.id = s.id;
    ev.at = at;
    ev.until = at;
    ev.observation = o;
    return ApplyObservation(ctx_, ev, s, rt);
  }
  Next ObserveAfter(Duration d, const cloud::Observation& o) { return Observe(kT0 + d, o); }
  Next Apply(const RebootOutcome& o) { return ApplyOutcome(ctx_, o, s, rt, SteadyTime{}); }
  Next Apply(const ObservationEvent& ev) { return ApplyObservation(ctx_, ev, s, rt); }

  api::InstanceStatus s;
  InstanceRuntime rt;

 private:
  ManualClock clock_;
  LogicOptions options_;
  cloud::fake::FakeProvider provider_;
  LogicContext ctx_;
};

// ---- Tencent ----

const cloud::Observation kFresh = Tencent("RUNNING");
const cloud::Observation kHistory = Tencent("RUNNING", "RebootInstances", "SUCCESS");
const cloud::Observation kRebooting = Tencent("REBOOTING", "RebootInstances", "OPERATING");

TEST(ProofTencent, AcceptedCallOnAFreshInstanceSucceedsWhenTheLastOperationMoves) {
  Instance i(Provider::kTencent);
  i.IntentWith(kFresh);
  EXPECT_EQ(i.s.baseline, "RUNNING -");
  EXPECT_EQ(i.Outcome(RebootOutcome::Kind::kAccepted, seconds(1)), Next::kWatch);
  // A poll just after an accepted call can still show the previous state: not proof.
  EXPECT_EQ(i.ObserveAfter(seconds(1), kFresh), Next::kWatch);
  EXPECT_EQ(i.s.state, InstanceState::kRebooting);
  EXPECT_EQ(i.ObserveAfter(seconds(6), kHistory), Next::kFinished);
  EXPECT_EQ(i.s.state, InstanceState::kSucceeded);
  EXPECT_EQ(i.s.reason, "Rebooted");
}

// The bug this issue is about: an instance whose history already shows a finished reboot.
TEST(ProofTencent, AnEarlierRebootInTheHistoryIsNeverTakenForThisOne) {
  Instance i(Provider::kTencent);
  i.IntentWith(kHistory);
  i.Outcome(RebootOutcome::Kind::kAccepted, seconds(1));
  EXPECT_EQ(i.ObserveAfter(seconds(2), kHistory), Next::kWatch);
  EXPECT_EQ(i.s.state, InstanceState::kRebooting);  // not Succeeded
  // Seen rebooting, then running with the same evidence: now it is proven.
  EXPECT_EQ(i.ObserveAfter(seconds(4), kRebooting), Next::kWatch);
  EXPECT_TRUE(i.s.seen_transitional);
  EXPECT_EQ(i.ObserveAfter(seconds(8), kHistory), Next::kFinished);
  EXPECT_EQ(i.s.state, InstanceState::kSucceeded);
}

TEST(ProofTencent, AcceptedButNeverSeenWithAGapInTheWatchIsUnverified) {
  Instance i(Provider::kTencent);
  i.IntentWith(kHistory);
  i.Outcome(RebootOutcome::Kind::kAccepted, seconds(1));
  EXPECT_EQ(i.ObserveAfter(seconds(3), kHistory), Next::kWatch);
  // 17 s without a look (the reboot could have come and gone), then the same evidence.
  EXPECT_EQ(i.ObserveAfter(seconds(20), kHistory), Next::kFinished);
  EXPECT_EQ(i.s.state, InstanceState::kFailed);
  EXPECT_EQ(i.s.reason, "RebootUnverified");
  EXPECT_NE(i.s.message.find("RebootInstances:SUCCESS"), std::string::npos) << i.s.message;
  EXPECT_NE(i.s.message.find("not rebooted again"), std::string::npos) << i.s.message;
}

TEST(ProofTencent, AcceptedAndWatchedCloselyWithNothingSeenWaitsForTheDeadline) {
  Instance i(Provider::kTencent);
  i.IntentWith(kHistory);
  i.Outcome(RebootOutcome::Kind::kAccepted, seconds(1));
  for (int t = 3; t <= 60; t += 3) {
    EXPECT_EQ(i.ObserveAfter(seconds(t), kHistory), Next::kWatch) << t;
  }
  EXPECT_EQ(i.s.state, InstanceState::kRebooting);  // the Timeout at the deadline decides
}

struct UnansweredCase {
  const char* name;
  cloud::Observation baseline;
  std::vector<std::pair<int, cloud::Observation>> observations;  // seconds after the intent
  InstanceState state;
  const char* reason;
  Next last;
};

TEST(ProofTencent, UnansweredCalls) {
  const UnansweredCase cases[] = {
      {"history, watched closely, nothing moved: not applied, may be sent again",
       kHistory,
       {{2, kHistory},
        {5, kHistory},
        {8, kHistory},
        {11, kHistory},
        {14, kHistory},
        {17, kHistory}},
       InstanceState::kPending,
       "RebootNotApplied",
       Next::kDispatch},
      {"history, a long gap (an outage): cannot tell, no new call",
       kHistory,
       {{2, kHistory}, {30, kHistory}},
       InstanceState::kFailed,
       "RebootUnverified",
       Next::kFinished},
      {"history, seen rebooting: proven",
       kHistory,
       {{2, kRebooting}, {40, kHistory}},
       InstanceState::kSucceeded,
       "Rebooted",
       Next::kFinished},
      {"fresh, a long gap, nothing moved: decisive, not applied",
       kFresh,
       {{30, kFresh}},
       InstanceState::kPending,
       "RebootNotApplied",
       Next::kDispatch},
      {"fresh, the last operation moved: proven",
       kFresh,
       {{30, kHistory}},
       InstanceState::kSucceeded,
       "Rebooted",
       Next::kFinished},
      {"fresh, still unchanged before the settle time: wait",
       kFresh,
       {{3, kFresh}, {9, kFresh}},
       InstanceState::kRequesting,
       "Unconfirmed",
       Next::kWatch},
      {"the reboot failed",
       kFresh,
       {{10, Tencent("RUNNING", "RebootInstances", "FAILED")}},
       InstanceState::kFailed,
       "RebootFailed",
       Next::kFinished},
      {"stopped meanwhile, never seen rebooting",
       kFresh,
       {{5, Tencent("STOPPED", "StopInstances", "SUCCESS")}},
       InstanceState::kFailed,
       "NotRunning",
       Next::kFinished},
  };
  for (const auto& c : cases) {
    Instance i(Provider::kTencent);
    i.IntentWith(c.baseline);
    ASSERT_EQ(i.Outcome(RebootOutcome::Kind::kAmbiguous, seconds(1)), Next::kWatch) << c.name;
    Next last = Next::kNothing;
    for (const auto& [t, o] : c.observations) last = i.ObserveAfter(seconds(t), o);
    EXPECT_EQ(i.s.state, c.state) << c.name;
    EXPECT_EQ(i.s.reason, c.reason) << c.name << ": " << i.s.message;
    EXPECT_EQ(last, c.last) << c.name;
  }
}

TEST(ProofTencent, ObservationsWhileTheCallIsInFlightCountButDecideNothing) {
  Instance i(Provider::kTencent);
  i.IntentWith(kHistory);
  // The call hangs; meanwhile the instance is seen rebooting.
  EXPECT_EQ(i.ObserveAfter(seconds(2), kRebooting), Next::kNothing);
  EXPECT_EQ(i.s.state, InstanceState::kRequesting);
  EXPECT_TRUE(i.s.seen_transitional);
  i.Outcome(RebootOutcome::Kind::kAmbiguous, seconds(30));
  EXPECT_EQ(i.ObserveAfter(seconds(31), kHistory), Next::kFinished);
  EXPECT_EQ(i.s.state, InstanceState::kSucceeded);
}

TEST(ProofTencent, AWrongStateRefusalForgetsWhatWasSeenAndTheBaseline) {
  Instance i(Provider::kTencent);
  i.IntentWith(kHistory);
  i.ObserveAfter(seconds(1), kRebooting);  // someone else's reboot
  RebootOutcome o;
  o.id = i.s.id;
  o.kind = RebootOutcome::Kind::kWrongState;
  o.at = kT0 + seconds(2);
  o.error.code = ErrorCode::kFailedPrecondition;
  o.error.provider_code = "OperationDenied.InstanceOperationInProgress";
  EXPECT_EQ(i.Apply(o), Next::kWatch);
  EXPECT_EQ(i.s.state, InstanceState::kPending);
  EXPECT_FALSE(i.s.seen_transitional);
  EXPECT_TRUE(i.s.baseline.empty());
}

TEST(ProofTencent, ObservationsFromBeforeTheIntentAreIgnored) {
  Instance i(Provider::kTencent);
  i.IntentWith(kFresh);
  i.Outcome(RebootOutcome::Kind::kAmbiguous, seconds(1));
  EXPECT_EQ(i.Observe(kT0 - seconds(1), kHistory), Next::kNothing);
  EXPECT_EQ(i.s.state, InstanceState::kRequesting);
}

// ---- Aliyun ----

TEST(ProofAliyun, StartTimes) {
  struct Case {
    const char* name;
    std::string baseline_start;
    RebootOutcome::Kind outcome;
    std::vector<std::pair<int, cloud::Observation>> observations;
    InstanceState state;
    const char* reason;
  } cases[] = {
      {"accepted, a later StartTime",
       "2026-12-02T09:15Z",
       RebootOutcome::Kind::kAccepted,
       {{2, Aliyun("Running", "2026-12-02T09:15Z")}, {70, Aliyun("Running", "2026-12-02T09:16Z")}},
       InstanceState::kSucceeded,
       "Rebooted"},
      {"accepted, seen Starting, then the same minute",
       "2026-12-02T09:15Z",
       RebootOutcome::Kind::kAccepted,
       {{2, Aliyun("Starting", "2026-12-02T09:15Z")}, {5, Aliyun("Running", "2026-12-02T09:15Z")}},
       InstanceState::kSucceeded,
       "Rebooted"},
      {"unanswered, the same minute after a gap: cannot tell",
       "2026-12-02T09:15Z",
       RebootOutcome::Kind::kAmbiguous,
       {{40, Aliyun("Running", "2026-12-02T09:15Z")}},
       InstanceState::kFailed,
       "RebootUnverified"},
      {"unanswered, the same second after a gap: decisive",
       "2026-12-02T09:15:20Z",
       RebootOutcome::Kind::kAmbiguous,
       {{40, Aliyun("Running", "2026-12-02T09:15:20Z")}},
       InstanceState::kPending,
       "RebootNotApplied"},
      {"unanswered, the same minute, watched closely",
       "2026-12-02T09:15Z",
       RebootOutcome::Kind::kAmbiguous,
       {{3, Aliyun("Running", "2026-12-02T09:15Z")},
        {9, Aliyun("Running", "2026-12-02T09:15Z")},
        {17, Aliyun("Running", "2026-12-02T09:15Z")}},
       InstanceState::kPending,
       "RebootNotApplied"},
  };
  for (const auto& c : cases) {
    Instance i(Provider::kAliyun);
    i.IntentWith(Aliyun("Running", c.baseline_start));
    i.Outcome(c.outcome, seconds(1));
    for (const auto& [t, o] : c.observations) i.ObserveAfter(seconds(t), o);
    EXPECT_EQ(i.s.state, c.state) << c.name;
    EXPECT_EQ(i.s.reason, c.reason) << c.name << ": " << i.s.message;
  }
}

// ---- Before the call ----

TEST(PendingChecks, BaselineOrAReasonBeforeAnyCall) {
  {
    Instance i(Provider::kTencent);
    EXPECT_EQ(i.Observe(kT0, kHistory), Next::kDispatch);
    EXPECT_EQ(i.s.baseline, "RUNNING RebootInstances:SUCCESS");
    EXPECT_EQ(i.Observe(kT0 + seconds(5), kRebooting), Next::kWatch);  // someone else's
    EXPECT_TRUE(i.s.baseline.empty());
    EXPECT_EQ(i.s.state, InstanceState::kPending);
  }
  {
    Instance i(Provider::kTencent);
    EXPECT_EQ(i.Observe(kT0, Tencent("STOPPED")), Next::kFinished);
    EXPECT_EQ(i.s.reason, "NotRunning");
  }
  {
    Instance i(Provider::kAliyun);
    cloud::aliyun::Instance locked;
    locked.id = "ein-00000001";
    locked.status = "Stopped";
    locked.lock_reasons = {"security"};
    EXPECT_EQ(i.Observe(kT0, cloud::aliyun::ObservationOf(locked)), Next::kFinished);
    EXPECT_EQ(i.s.reason, "InstanceLocked");
  }
  {
    Instance i(Provider::kTencent);
    ObservationEvent absent;
    absent.id = i.s.id;
    absent.at = absent.until = kT0;
    EXPECT_EQ(i.Apply(absent), Next::kFinished);
    EXPECT_EQ(i.s.reason, "InstanceNotFound");
  }
}

// ---- SoftFirst escalation (Aliyun) ----

// An instance whose soft reboot was accepted and whose escalation intent is written.
class Escalation : public ::testing::Test {
 protected:
  Escalation() : provider_(Options(), clock_), ctx_{provider_, options_, false} {
    s_.id = "i-stuck1";
    s_.state = InstanceState::kRequesting;
    s_.escalated = true;
    s_.attempts = 2;
    s_.requested_at = kT0 + minutes(5);
    s_.baseline = "Running 2026-12-02T09:15:20Z";
  }
  static cloud::fake::FakeOptions Options() {
    cloud::fake::FakeOptions o;
    o.kind = Provider::kAliyun;
    o.max_batch = 1;
    return o;
  }
  RebootOutcome WrongState(bool force) {
    RebootOutcome o;
    o.id = "i-stuck1";
    o.kind = RebootOutcome::Kind::kWrongState;
    o.force = force;
    o.at = kT0 + minutes(5);
    o.error.code = ErrorCode::kFailedPrecondition;
    o.error.provider_code = "IncorrectInstanceStatus";
    o.error.message = "The current status of the resource does not support this operation.";
    return o;
  }

  ManualClock clock_;
  LogicOptions options_;
  cloud::fake::FakeProvider provider_;
  LogicContext ctx_;
  api::InstanceStatus s_;
  InstanceRuntime rt_;
};

TEST_F(Escalation, RefusedEscalationWaitsForTheSoftRebootWithoutAThirdCall) {
  rt_.in_flight = true;
  EXPECT_EQ(ApplyOutcome(ctx_, WrongState(true), s_, rt_, SteadyTime{}), Next::kWatch);
  EXPECT_EQ(s_.state, InstanceState::kRebooting);  // not Pending: nothing is dispatched again
  EXPECT_EQ(s_.reason, "EscalationRefused");
  EXPECT_EQ(s_.accepted_at, s_.requested_at);
  EXPECT_EQ(s_.attempts, 2);
  EXPECT_FALSE(rt_.retry_after.has_value());

  // The soft reboot finishes after all: running with a StartTime later than the baseline.
  ObservationEvent ev;
  ev.id = s_.id;
  ev.at = ev.until = kT0 + minutes(7);
  cloud::aliyun::Instance a;
  a.id = s_.id;
  a.status = "Running";
  a.start_time = "2026-12-02T09:21:00Z";
  ev.observation = cloud::aliyun::ObservationOf(a);
  EXPECT_EQ(ApplyObservation(ctx_, ev, s_, rt_), Next::kFinished);
  EXPECT_EQ(s_.state, InstanceState::kSucceeded);
}

TEST_F(Escalation, WrongStateOfAFirstCallStillRechecksAndRetries) {
  s_.escalated = false;
  s_.attempts = 1;
  EXPECT_EQ(ApplyOutcome(ctx_, WrongState(false), s_, rt_, SteadyTime{}), Next::kWatch);
  EXPECT_EQ(s_.state, InstanceState::kPending);
  EXPECT_TRUE(s_.baseline.empty());  // a new baseline is taken before the next call
  EXPECT_TRUE(rt_.retry_after.has_value());
  EXPECT_EQ(s_.reason, "NotRunning");
}

TEST_F(Escalation, AcceptedEscalationIsReportedAsEscalated) {
  RebootOutcome o;
  o.id = s_.id;
  o.kind = RebootOutcome::Kind::kAccepted;
  o.force = true;
  o.request_id = "REQ-2";
  o.at = kT0 + minutes(5) + seconds(1);
  EXPECT_EQ(ApplyOutcome(ctx_, o, s_, rt_, SteadyTime{}), Next::kWatch);
  EXPECT_EQ(s_.state, InstanceState::kRebooting);
  EXPECT_EQ(s_.reason, "Escalated");
  EXPECT_EQ(s_.request_id, "REQ-2");
  EXPECT_EQ(s_.attempts, 2);
  // The forced reboot gets its own full timeout from its acceptance.
  EXPECT_EQ(DeadlineOf(s_, kT0, 60), o.at + seconds(60));
}

TEST_F(Escalation, AnEscalationThatWasNotSentGoesBackWithItsBaseline) {
  RebootOutcome o;
  o.id = s_.id;
  o.kind = RebootOutcome::Kind::kNotSent;
  o.force = true;
  o.at = kT0 + minutes(5);
  EXPECT_EQ(ApplyOutcome(ctx_, o, s_, rt_, SteadyTime{}), Next::kDispatch);
  EXPECT_EQ(s_.state, InstanceState::kPending);
  EXPECT_EQ(s_.attempts, 1);  // the call was not made
  EXPECT_FALSE(s_.baseline.empty());
}

}  // namespace
}  // namespace rebootd::controller
