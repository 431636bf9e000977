// SPDX-License-Identifier: Apache-2.0
// Tencent Cloud ECM's half of the proof of reboot (DESIGN.md §4): how a DescribeInstances entry
// becomes an Observation, and what counts as evidence of a reboot against a baseline. Pure
// functions, thread-safe.
//
// Evidence text: "<InstanceState> <LatestOperation>:<LatestOperationState>", with "-" for an
// absent operation or state, e.g. "RUNNING RebootInstances:SUCCESS", "RUNNING -".
//
// Phases: RUNNING with no operation in progress is kRunning (a baseline may be taken);
// RUNNING while LatestOperationState is OPERATING, REBOOTING, STARTING and STOPPING are
// kTransitional; STOPPED and SHUTDOWN kStopped; anything else kOther.
//
// Signs, for an observation read against a baseline taken while RUNNING:
//   REBOOTING, or LatestOperation RebootInstances with state OPERATING       kInProgress
//   any other state than RUNNING                                             kNotRunning
//   RUNNING, last operation and its state as in the baseline:
//     the baseline's last operation was RebootInstances (finished)           kUnchangedMaybe
//     otherwise (no operation, or another one)                               kUnchanged
//   RUNNING, last operation changed to RebootInstances SUCCESS               kRebooted
//   RUNNING, last operation changed to RebootInstances FAILED                kRebootFailed
//   RUNNING, last operation changed to something else (an operation after ours may have
//     overwritten the evidence)                                            kUnchangedMaybe
//   RUNNING, no readable baseline: no operation on record at all             kUnchanged
//                                  (a reboot would have left RebootInstances), else kUnchangedMaybe
// ECM's Instance has no LatestOperationRequestId (that is a CVM field), so a baseline that
// already shows a finished RebootInstances cannot tell a new one from the old one: only a reboot
// seen in progress can (cloud-apis.md §2.6).
#pragma once

#include <string>
#include <string_view>

#include "pkg/base/result.h"
#include "pkg/cloud/provider.h"
#include "pkg/cloud/tencent/ecm_client.h"

namespace rebootd::cloud::tencent {

inline constexpr std::string_view kRebootOperation = "RebootInstances";

// The Observation of one DescribeInstances entry (from/until are left for the caller).
Observation ObservationOf(const Instance& instance);
// The evidence text of an entry.
std::string EvidenceOf(const Instance& instance);
Sign ReadSign(std::string_view baseline, const Observation& now);
// The failure reason for a terminal RebootInstances error (CloudProvider::FailureReason).
std::string FailureReason(const Error& error);

}  // namespace rebootd::cloud::tencent
