// SPDX-License-Identifier: Apache-2.0
// Alibaba Cloud ECS's half of the proof of reboot (DESIGN.md §4): how a DescribeInstances entry
// becomes an Observation, and what counts as evidence of a reboot against a baseline. Pure
// functions, thread-safe.
//
// Evidence text: "<Status> <StartTime>[ @<cloud time>]" with StartTime as the API wrote it ("-"
// when absent) and the cloud's time of the answer (its HTTP Date header) when it sent one, e.g.
// "Running 2026-12-02T16:15Z @2026-12-02T16:42:05Z". Only the cloud's own times are compared
// with each other; never with the local clock.
//
// Phases: Running is kRunning; Starting and Stopping kTransitional (Stopping also sets
// `stopping`); Stopped kStopped; anything else kOther.
//
// Signs, for an observation read against a baseline taken while Running:
//   Stopping or Starting                                                     kInProgress
//   any other status than Running                                            kNotRunning
//   Running, StartTime later than the baseline's                             kRebooted
//   Running, StartTime equal to the baseline's, both with seconds            kUnchanged
//   Running, StartTime equal at minute precision (the API's usual form), and the baseline was
//     answered at least two minutes (cloud time) after that StartTime's minute: any reboot since
//     ends in a later minute (the margin covers skew between the cloud's own machines)
//                                                                            kUnchanged
//   Running, StartTime equal at minute precision otherwise (a reboot ending in the same minute as
//     the baseline's start leaves it as it was), earlier, absent or unreadable
//                                                                            kUnchangedMaybe
// That StartTime moves on a reboot is what the simulator models and what the controller relies
// on; the ECS documentation does not state it (cloud-apis.md §1.10, UNCONFIRMED). Where it does
// not move, only a reboot seen in progress (Stopping/Starting) proves one, and an unanswered
// call with an unchanged StartTime is sent again only when the instance was watched closely.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "pkg/base/result.h"
#include "pkg/cloud/aliyun/ecs_client.h"
#include "pkg/cloud/provider.h"

namespace rebootd::cloud::aliyun {

// The Observation of one DescribeInstances entry answered at `cloud_time` (the page's Date
// header, when known); from/until are left for the caller.
Observation ObservationOf(const Instance& instance,
                          std::optional<SystemTime> cloud_time = std::nullopt);
std::string EvidenceOf(const Instance& instance,
                       std::optional<SystemTime> cloud_time = std::nullopt);
Sign ReadSign(std::string_view baseline, const Observation& now);
// The failure reason for a terminal RebootInstance error (CloudProvider::FailureReason).
std::string FailureReason(const Error& error);

}  // namespace rebootd::cloud::aliyun
