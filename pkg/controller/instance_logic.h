// SPDX-License-Identifier: Apache-2.0
// The per-instance decisions of the reconciler (DESIGN.md §4), as pure functions on one
// InstanceStatus: what a reboot outcome or an observation means, and when a deadline passed.
// The cloud's rules (what is evidence of a reboot, the failure reason of an error) come from the
// CloudProvider; the rules of proof (pkg/cloud/evidence.h) are cloud-neutral. No I/O, no clock
// reads; `now` and the facts are parameters. Thread-compatible.
#pragma once

#include <optional>
#include <string>

#include "pkg/api/types.h"
#include "pkg/cloud/evidence.h"
#include "pkg/cloud/provider.h"
#include "pkg/controller/events.h"

namespace rebootd::controller {

// How an instance is watched by the poller.
enum class WatchLevel {
  kNone,
  kNormal,  // at the poll interval: a baseline before the call, confirmation after
  kClose,   // at the close interval: a reboot could otherwise come and go unseen
};

// Runtime facts about an instance that are not persisted.
struct InstanceRuntime {
  bool in_flight = false;  // handed to the dispatcher, outcome not yet applied
  WatchLevel watched = WatchLevel::kNone;
  std::optional<SteadyTime> retry_after;  // do not dispatch before this
  // A wrong-state refusal: look at the instance before anything else (a dry run is then
  // decided by what is seen, as an emulated one is).
  bool recheck = false;
  // Since the intent: the observations' coverage, and when the call's outcome became known (or
  // the process restarted): the settle time counts from there.
  cloud::Coverage coverage;
  std::optional<SystemTime> resolve_from;
  // BaselineIsAmbiguous(status.baseline), once known (reset by MarkIntent).
  std::optional<bool> baseline_ambiguous;
  // The latest observation, for SoftFirst escalation and messages.
  std::optional<cloud::Sign> last_sign;
  bool last_stopping = false;
  std::string last_raw;
};

struct LogicOptions {
  // After a call's outcome (accepted, unknown, or a restart), how long an instance may still
  // show its baseline before that is taken as "nothing happened" (the transition after an
  // accepted call may not be visible at once; cloud-apis.md §1.11).
  Duration settle = std::chrono::seconds(15);
  // The shortest time a reboot keeps an instance visibly in progress (REBOOTING,
  // Stopping/Starting, a running reboot operation). Observations closer together than this
  // cannot miss a reboot (cloud::Coverage).
  Duration min_reboot = std::chrono::seconds(10);
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

// The settle time, the shortest reboot and the provider's rules, for one request.
struct LogicContext {
  const cloud::CloudProvider& provider;
  const LogicOptions& options;
  bool dry_run = false;
};

// Marks the intent: Requesting at `now` with the baseline (the fresh one, else the one already
// recorded), one more attempt, coverage from now on.
void MarkIntent(api::InstanceStatus& status, InstanceRuntime& runtime, SystemTime now,
                const LogicOptions& options);

// True when equal evidence later could not rule out a reboot (the baseline already shows a
// finished one, or has minute-precision times): the instance must be watched closely.
bool BaselineIsAmbiguous(const cloud::CloudProvider& provider, const std::string& baseline);

Next ApplyOutcome(const LogicContext& ctx, const RebootOutcome& outcome,
                  api::InstanceStatus& status, InstanceRuntime& runtime, SteadyTime steady_now);

Next ApplyObservation(const LogicContext& ctx, const ObservationEvent& event,
                      api::InstanceStatus& status, InstanceRuntime& runtime);

// The deadline of an unfinished instance: timeout after the reboot was accepted (or intended,
// or, for instances still waiting to start, after the run started).
SystemTime DeadlineOf(const api::InstanceStatus& status, SystemTime run_started,
                      int64_t timeout_seconds);

}  // namespace rebootd::controller
