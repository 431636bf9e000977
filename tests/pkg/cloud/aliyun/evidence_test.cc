// SPDX-License-Identifier: Apache-2.0
// Alibaba ECS evidence rules (pkg/cloud/aliyun/evidence.h): DescribeInstances entry ->
// Observation, and baseline x observation -> Sign, table-driven.
#include "pkg/cloud/aliyun/evidence.h"

#include <gtest/gtest.h>

#include "pkg/http/transport.h"

namespace rebootd::cloud::aliyun {
namespace {

Instance Entry(std::string status, std::string start) {
  Instance i;
  i.id = "i-bp67acfmxazb4ph0001";
  i.status = std::move(status);
  i.start_time = std::move(start);
  return i;
}

TEST(AliyunEvidence, EvidenceTextIsStatusAndStartTimeAsWritten) {
  EXPECT_EQ(EvidenceOf(Entry("Running", "2026-12-02T09:15Z")), "Running 2026-12-02T09:15Z");
  EXPECT_EQ(EvidenceOf(Entry("Running", "")), "Running -");
  // With the cloud's time of the answer (its Date header).
  const SystemTime answered = *http::ParseHttpDate("Wed, 02 Dec 2026 16:42:05 GMT");
  EXPECT_EQ(EvidenceOf(Entry("Running", "2026-12-02T09:15Z"), answered),
            "Running 2026-12-02T09:15Z @2026-12-02T16:42:05Z");
}

TEST(AliyunEvidence, MinutePrecisionIsDecisiveWhenTheCloudAnsweredMinutesAfterTheStart) {
  auto now = [](std::string start) { return ObservationOf(Entry("Running", std::move(start))); };
  // Started yesterday, baseline answered today: any reboot since ends in a later minute.
  EXPECT_EQ(ReadSign("Running 2026-12-01T17:01Z @2026-12-02T16:42:05Z", now("2026-12-01T17:01Z")),
            Sign::kUnchanged);
  // Exactly two minutes after the start's minute: still decisive.
  EXPECT_EQ(ReadSign("Running 2026-12-02T16:40Z @2026-12-02T16:42:00Z", now("2026-12-02T16:40Z")),
            Sign::kUnchanged);
  // Started within the last two minutes (cloud time): a reboot may end in that same minute.
  EXPECT_EQ(ReadSign("Running 2026-12-02T16:41Z @2026-12-02T16:42:05Z", now("2026-12-02T16:41Z")),
            Sign::kUnchangedMaybe);
  EXPECT_EQ(ReadSign("Running 2026-12-02T16:40Z @2026-12-02T16:41:59Z", now("2026-12-02T16:40Z")),
            Sign::kUnchangedMaybe);
  // The observation's own cloud time plays no part; a later StartTime still proves a reboot.
  EXPECT_EQ(ReadSign("Running 2026-12-02T16:41Z @2026-12-02T16:42:05Z",
                     ObservationOf(Entry("Running", "2026-12-02T16:43Z"),
                                   *http::ParseHttpDate("Wed, 02 Dec 2026 16:43:30 GMT"))),
            Sign::kRebooted);
  // An unreadable cloud time makes the baseline unreadable, hence not decisive.
  EXPECT_EQ(ReadSign("Running 2026-12-01T17:01Z @noon", now("2026-12-01T17:01Z")),
            Sign::kUnchangedMaybe);
}

TEST(AliyunEvidence, PhasesAndLocks) {
  using P = Observation::Phase;
  EXPECT_EQ(ObservationOf(Entry("Running", "")).phase, P::kRunning);
  EXPECT_EQ(ObservationOf(Entry("Starting", "")).phase, P::kTransitional);
  EXPECT_FALSE(ObservationOf(Entry("Starting", "")).stopping);
  EXPECT_EQ(ObservationOf(Entry("Stopping", "")).phase, P::kTransitional);
  EXPECT_TRUE(ObservationOf(Entry("Stopping", "")).stopping);
  EXPECT_EQ(ObservationOf(Entry("Stopped", "")).phase, P::kStopped);
  EXPECT_EQ(ObservationOf(Entry("Pending", "")).phase, P::kOther);
  Instance locked = Entry("Stopped", "");
  locked.lock_reasons = {"financial", "security"};
  EXPECT_TRUE(ObservationOf(locked).security_locked);
  locked.lock_reasons = {"financial"};
  EXPECT_FALSE(ObservationOf(locked).security_locked);
}

TEST(AliyunEvidence, SignsCompareTheCloudsOwnTimesOnly) {
  const std::string minute = "Running 2026-12-02T09:15Z";
  const std::string second = "Running 2026-12-02T09:15:20Z";
  struct Case {
    std::string baseline;
    Instance now;
    Sign want;
  } cases[] = {
      {minute, Entry("Stopping", "2026-12-02T09:15Z"), Sign::kInProgress},
      {minute, Entry("Starting", "2026-12-02T09:15Z"), Sign::kInProgress},
      {minute, Entry("Running", "2026-12-02T09:16Z"), Sign::kRebooted},
      {second, Entry("Running", "2026-12-02T09:15:21Z"), Sign::kRebooted},
      {second, Entry("Running", "2026-12-02T09:16Z"), Sign::kRebooted},
      // Equal with seconds: a reboot since would have moved it.
      {second, Entry("Running", "2026-12-02T09:15:20Z"), Sign::kUnchanged},
      // Equal at minute precision: a reboot ending in the same minute leaves it as it was.
      {minute, Entry("Running", "2026-12-02T09:15Z"), Sign::kUnchangedMaybe},
      {second, Entry("Running", "2026-12-02T09:15Z"), Sign::kUnchangedMaybe},
      // Earlier than the baseline, absent, unreadable: cannot decide from it.
      {minute, Entry("Running", "2026-12-02T09:14Z"), Sign::kUnchangedMaybe},
      {minute, Entry("Running", ""), Sign::kUnchangedMaybe},
      {minute, Entry("Running", "yesterday"), Sign::kUnchangedMaybe},
      {"Running -", Entry("Running", "2026-12-02T09:16Z"), Sign::kUnchangedMaybe},
      {"", Entry("Running", "2026-12-02T09:16Z"), Sign::kUnchangedMaybe},
      {minute, Entry("Stopped", "2026-12-02T09:15Z"), Sign::kNotRunning},
      {minute, Entry("Pending", ""), Sign::kNotRunning},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(ReadSign(c.baseline, ObservationOf(c.now)), c.want)
        << "baseline \"" << c.baseline << "\" now \"" << EvidenceOf(c.now) << "\"";
  }
}

TEST(AliyunEvidence, FailureReasons) {
  Error e;
  e.code = ErrorCode::kNotFound;
  e.provider_code = "InvalidInstanceId.NotFound";
  EXPECT_EQ(FailureReason(e), "InstanceNotFound");
  e.code = ErrorCode::kPermissionDenied;
  e.provider_code = "InstanceLockedForSecurity";
  EXPECT_EQ(FailureReason(e), "InstanceLocked");
  e.provider_code = "InstanceExpiredOrInArrears";
  EXPECT_EQ(FailureReason(e), "InstanceExpired");
  e.code = ErrorCode::kFailedPrecondition;
  e.provider_code = "IncorrectInstanceStatus";
  EXPECT_EQ(FailureReason(e), "NotRunning");
  e.code = ErrorCode::kUnavailable;
  e.provider_code = "InternalError";
  EXPECT_EQ(FailureReason(e), "RebootFailed");
}

}  // namespace
}  // namespace rebootd::cloud::aliyun
