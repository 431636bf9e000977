// SPDX-License-Identifier: Apache-2.0
// The per-instance decisions of the reconciler (DESIGN.md §4), as pure functions on one
// InstanceStatus: what a reboot outcome or an observation means, and when a deadline passed.
// No I/O, no clock reads; `now` and the facts are parameters. Thread-compatible.
#pragma once

#include <optional>
#include <string>

#include "pkg/api/types.h"
#include "pkg/cloud/provider.h"
#include "pkg/controller/events.h"

namespace rebootd::controller {

// Runtime facts about an instance that are not persisted.
struct InstanceRuntime {
  bool in_flight = false;    // handed to the dispatcher, outcome not yet applied
  bool check_state = false;  // a wrong-state refusal: observe before trying again
  bool resolving = false;    // Requesting after an ambiguous call or a restart: poll to decide
  std::optional<SteadyTime> retry_after;  // do not dispatch before this
  std::optional<cloud::Observation::Phase> last_phase;
};

struct LogicOptions {
  // A Requesting instance observed Running without evidence is judged "the call did not take
  // effect" only when the observation is at least this long after the intent (the transition
  // after an accepted call may not be visible at once; cloud-apis.md §1.11).
  Duration settle = std::chrono::seconds(15);
  // Pause before re-dispatching an instance after a wrong-state refusal.
  Duration wrong_state_retry = std::chrono::seconds(5);
};

// What the caller should do next with the instance after an update.
enum class Next {
  kNothing,   // keep as is
  kDispatch,  // (re-)send a reboot for it (it is Pending and may go)
  kWatch,     // make sure the poller watches it
  kFinished,  // it reached Succeeded or Failed: unwatch, record
};

// The reason for a terminal cloud error (CamelCase, used in status and events).
std::string ReasonFor(const Error& error);

// Evidence that the instance rebooted at or after `since` (DESIGN.md §4): Tencent
// LatestOperation RebootInstances with state SUCCESS; Aliyun StartTime at or after `since`
// (compared at minute precision, since StartTime may carry no seconds).
bool RebootedSince(cloud::Provider provider, const cloud::Observation& o, SystemTime since);

Next ApplyOutcome(cloud::Provider provider, const RebootOutcome& outcome,
                  api::InstanceStatus& status, InstanceRuntime& runtime, SteadyTime steady_now,
                  const LogicOptions& options);

Next ApplyObservation(cloud::Provider provider, bool dry_run, const ObservationEvent& event,
                      api::InstanceStatus& status, InstanceRuntime& runtime, SteadyTime steady_now,
                      const LogicOptions& options);

// The deadline of an unfinished instance: timeout after the reboot was accepted (or intended,
// or, for instances still waiting to start, after the run started).
SystemTime DeadlineOf(const api::InstanceStatus& status, SystemTime run_started,
                      int64_t timeout_seconds);

}  // namespace rebootd::controller
