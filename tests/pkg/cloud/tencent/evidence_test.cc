// SPDX-License-Identifier: Apache-2.0
// Tencent ECM evidence rules (pkg/cloud/tencent/evidence.h): DescribeInstances entry ->
// Observation, and baseline x observation -> Sign, table-driven.
#include "pkg/cloud/tencent/evidence.h"

#include <gtest/gtest.h>

namespace rebootd::cloud::tencent {
namespace {

Instance Entry(std::string state, std::string op = "", std::string op_state = "") {
  Instance i;
  i.id = "ein-00000001";
  i.state = std::move(state);
  i.latest_operation = std::move(op);
  i.latest_operation_state = std::move(op_state);
  i.restrict_state = "NORMAL";
  return i;
}

TEST(TencentEvidence, EvidenceTextNamesStateAndLastOperation) {
  EXPECT_EQ(EvidenceOf(Entry("RUNNING")), "RUNNING -");
  EXPECT_EQ(EvidenceOf(Entry("RUNNING", "RebootInstances", "SUCCESS")),
            "RUNNING RebootInstances:SUCCESS");
  EXPECT_EQ(EvidenceOf(Entry("REBOOTING", "RebootInstances", "OPERATING")),
            "REBOOTING RebootInstances:OPERATING");
  EXPECT_EQ(EvidenceOf(Entry("RUNNING", "StartInstances", "")), "RUNNING StartInstances:-");
}

TEST(TencentEvidence, PhasesFromStateAndOperation) {
  using P = Observation::Phase;
  struct Case {
    Instance entry;
    P phase;
    bool stopping;
  } cases[] = {
      {Entry("RUNNING"), P::kRunning, false},
      {Entry("RUNNING", "RebootInstances", "SUCCESS"), P::kRunning, false},
      // An operation still running on a RUNNING instance: no baseline may be taken now.
      {Entry("RUNNING", "ResetInstancesPassword", "OPERATING"), P::kTransitional, false},
      {Entry("REBOOTING", "RebootInstances", "OPERATING"), P::kTransitional, false},
      {Entry("STOPPING"), P::kTransitional, true},
      {Entry("STARTING"), P::kTransitional, false},
      {Entry("STOPPED"), P::kStopped, false},
      {Entry("SHUTDOWN"), P::kStopped, false},
      {Entry("PENDING"), P::kOther, false},
      {Entry("LAUNCH_FAILED"), P::kOther, false},
      {Entry("TERMINATING"), P::kOther, false},
  };
  for (const auto& c : cases) {
    Observation o = ObservationOf(c.entry);
    EXPECT_EQ(o.phase, c.phase) << c.entry.state << " " << c.entry.latest_operation_state;
    EXPECT_EQ(o.stopping, c.stopping) << c.entry.state;
    EXPECT_EQ(o.evidence, EvidenceOf(c.entry));
  }
  Instance isolated = Entry("RUNNING");
  isolated.restrict_state = "PROTECTIVELY_ISOLATED";
  EXPECT_TRUE(ObservationOf(isolated).security_locked);
}

TEST(TencentEvidence, SignsAgainstBaselines) {
  const std::string fresh = "RUNNING -";
  const std::string rebooted = "RUNNING RebootInstances:SUCCESS";
  const std::string failed = "RUNNING RebootInstances:FAILED";
  const std::string started = "RUNNING StartInstances:SUCCESS";
  struct Case {
    std::string baseline;
    Instance now;
    Sign want;
  } cases[] = {
      // A reboot in progress is evidence whatever the baseline.
      {fresh, Entry("REBOOTING", "RebootInstances", "OPERATING"), Sign::kInProgress},
      {rebooted, Entry("REBOOTING", "RebootInstances", "OPERATING"), Sign::kInProgress},
      {rebooted, Entry("RUNNING", "RebootInstances", "OPERATING"), Sign::kInProgress},
      // Moved the way a reboot moves it.
      {fresh, Entry("RUNNING", "RebootInstances", "SUCCESS"), Sign::kRebooted},
      {started, Entry("RUNNING", "RebootInstances", "SUCCESS"), Sign::kRebooted},
      {failed, Entry("RUNNING", "RebootInstances", "SUCCESS"), Sign::kRebooted},
      {fresh, Entry("RUNNING", "RebootInstances", "FAILED"), Sign::kRebootFailed},
      {rebooted, Entry("RUNNING", "RebootInstances", "FAILED"), Sign::kRebootFailed},
      // Unchanged: decisive unless the baseline already showed a finished reboot.
      {fresh, Entry("RUNNING"), Sign::kUnchanged},
      {started, Entry("RUNNING", "StartInstances", "SUCCESS"), Sign::kUnchanged},
      {rebooted, Entry("RUNNING", "RebootInstances", "SUCCESS"), Sign::kUnchangedMaybe},
      {failed, Entry("RUNNING", "RebootInstances", "FAILED"), Sign::kUnchangedMaybe},
      // Another operation overwrote the evidence: cannot decide from it.
      {fresh, Entry("RUNNING", "StartInstances", "SUCCESS"), Sign::kUnchangedMaybe},
      {rebooted, Entry("RUNNING", "ModifyInstancesAttribute", "SUCCESS"), Sign::kUnchangedMaybe},
      // Not running, not rebooting.
      {fresh, Entry("STOPPED", "StopInstances", "SUCCESS"), Sign::kNotRunning},
      {fresh, Entry("STOPPING", "StopInstances", "OPERATING"), Sign::kNotRunning},
      {fresh, Entry("TERMINATING"), Sign::kNotRunning},
      // No readable baseline (e.g. a record from an older rebootd): only what is seen counts.
      {"", Entry("RUNNING", "RebootInstances", "SUCCESS"), Sign::kUnchangedMaybe},
      // ... except an instance with no operation on record at all: a reboot, whenever it
      // happened, would have left RebootInstances as its last operation.
      {"", Entry("RUNNING"), Sign::kUnchanged},
      {"garbage", Entry("RUNNING"), Sign::kUnchanged},
      {"", Entry("RUNNING", "StartInstances", "SUCCESS"), Sign::kUnchangedMaybe},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(ReadSign(c.baseline, ObservationOf(c.now)), c.want)
        << "baseline \"" << c.baseline << "\" now \"" << EvidenceOf(c.now) << "\"";
  }
}

TEST(TencentEvidence, FailureReasons) {
  Error e;
  e.code = ErrorCode::kNotFound;
  e.provider_code = "ResourceNotFound.InstanceNotExist";
  EXPECT_EQ(FailureReason(e), "InstanceNotFound");
  e.code = ErrorCode::kFailedPrecondition;
  e.provider_code = "ResourceUnavailable.InstanceNotRunning";
  EXPECT_EQ(FailureReason(e), "NotRunning");
  e.code = ErrorCode::kInvalidArgument;
  e.provider_code = "InvalidParameterValue.InvalidInstanceID";
  EXPECT_EQ(FailureReason(e), "InvalidInstanceId");
  e.provider_code = "InvalidParameter";
  EXPECT_EQ(FailureReason(e), "InvalidRequest");
  e.code = ErrorCode::kUnauthenticated;
  e.provider_code = "AuthFailure.SignatureFailure";
  EXPECT_EQ(FailureReason(e), "Unauthenticated");
  e.code = ErrorCode::kPermissionDenied;
  e.provider_code = "UnauthorizedOperation";
  EXPECT_EQ(FailureReason(e), "PermissionDenied");
}

}  // namespace
}  // namespace rebootd::cloud::tencent
