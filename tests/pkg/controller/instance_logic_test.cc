// SPDX-License-Identifier: Apache-2.0
// The pure per-instance decisions around the Aliyun SoftFirst escalation (DESIGN.md §3-§4).
#include "pkg/controller/instance_logic.h"

#include <gtest/gtest.h>

namespace rebootd::controller {
namespace {

using api::InstanceState;
using std::chrono::minutes;
using std::chrono::seconds;

const SystemTime kT0 = SystemTime(std::chrono::hours(24 * 365 * 56));

// An instance whose soft reboot was accepted and whose escalation intent is written.
api::InstanceStatus EscalationIntent() {
  api::InstanceStatus s;
  s.id = "i-stuck1";
  s.state = InstanceState::kRequesting;
  s.escalated = true;
  s.attempts = 2;
  s.requested_at = kT0 + minutes(5);
  return s;
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

TEST(InstanceLogicEscalation, RefusedEscalationWaitsForTheSoftRebootWithoutAThirdCall) {
  api::InstanceStatus s = EscalationIntent();
  InstanceRuntime rt;
  rt.in_flight = true;
  Next next =
      ApplyOutcome(cloud::Provider::kAliyun, WrongState(true), s, rt, SteadyTime{}, LogicOptions{});
  EXPECT_EQ(next, Next::kWatch);
  EXPECT_EQ(s.state, InstanceState::kRebooting);  // not Pending: nothing is dispatched again
  EXPECT_EQ(s.reason, "EscalationRefused");
  EXPECT_EQ(s.accepted_at, s.requested_at);
  EXPECT_EQ(s.attempts, 2);
  EXPECT_FALSE(rt.check_state);
  EXPECT_FALSE(rt.retry_after.has_value());

  // The soft reboot finishes after all: running with a StartTime after the escalation intent.
  ObservationEvent ev;
  ev.id = s.id;
  ev.at = kT0 + minutes(7);
  cloud::Observation o;
  o.phase = cloud::Observation::Phase::kRunning;
  o.raw_state = "Running";
  o.start_time = kT0 + minutes(6);
  ev.observation = o;
  EXPECT_EQ(
      ApplyObservation(cloud::Provider::kAliyun, false, ev, s, rt, SteadyTime{}, LogicOptions{}),
      Next::kFinished);
  EXPECT_EQ(s.state, InstanceState::kSucceeded);
}

TEST(InstanceLogicEscalation, WrongStateOfAFirstCallStillRechecksAndRetries) {
  api::InstanceStatus s = EscalationIntent();
  s.escalated = false;
  s.attempts = 1;
  InstanceRuntime rt;
  EXPECT_EQ(ApplyOutcome(cloud::Provider::kAliyun, WrongState(false), s, rt, SteadyTime{},
                         LogicOptions{}),
            Next::kWatch);
  EXPECT_EQ(s.state, InstanceState::kPending);
  EXPECT_TRUE(rt.check_state);
  EXPECT_EQ(s.reason, "NotRunning");
}

TEST(InstanceLogicEscalation, AcceptedEscalationIsReportedAsEscalated) {
  api::InstanceStatus s = EscalationIntent();
  InstanceRuntime rt;
  RebootOutcome o;
  o.id = s.id;
  o.kind = RebootOutcome::Kind::kAccepted;
  o.force = true;
  o.request_id = "REQ-2";
  o.at = kT0 + minutes(5) + seconds(1);
  EXPECT_EQ(ApplyOutcome(cloud::Provider::kAliyun, o, s, rt, SteadyTime{}, LogicOptions{}),
            Next::kWatch);
  EXPECT_EQ(s.state, InstanceState::kRebooting);
  EXPECT_EQ(s.reason, "Escalated");
  EXPECT_EQ(s.request_id, "REQ-2");
  EXPECT_EQ(s.attempts, 2);
  // The forced reboot gets its own full timeout from its acceptance.
  EXPECT_EQ(DeadlineOf(s, kT0, 60), o.at + seconds(60));
}

}  // namespace
}  // namespace rebootd::controller
