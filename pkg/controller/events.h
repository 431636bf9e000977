// SPDX-License-Identifier: Apache-2.0
// Messages from the dispatcher and the poller back to the reconciler. Workers never touch
// status; they post these into the controller's inbox and enqueue the request's key.
#pragma once

#include <optional>
#include <string>

#include "pkg/base/clock.h"
#include "pkg/base/result.h"
#include "pkg/cloud/provider.h"

namespace rebootd::controller {

// The outcome of one reboot call, per instance.
struct RebootOutcome {
  enum class Kind {
    kAccepted,      // the call was accepted: the instance is rebooting
    kDryRunPassed,  // dry run: the service says the reboot would pass
    kRejected,      // a definite, terminal refusal: nothing happened; fail the instance
    kWrongState,    // refused because of the instance's state: nothing happened; re-check
    kAmbiguous,     // the call may or may not have taken effect: resolve by polling
    kNotSent,       // nothing was sent or nothing happened (stopped, throttled for too long)
  };
  std::string id;
  Kind kind = Kind::kNotSent;
  std::string request_id;
  Error error;  // for kRejected / kWrongState / kAmbiguous
  SystemTime at{};
  bool force = false;
  bool dry_run = false;
};

// One poll result for one instance, made between `at` and `until` (the describe call's send and
// answer; equal for an instance found absent).
struct ObservationEvent {
  std::string id;
  SystemTime at{};
  SystemTime until{};
  // nullopt: the instance does not exist (absent from a successful describe).
  std::optional<cloud::Observation> observation;
};

// A polling round that failed with an error the watching requests must know about (terminal:
// credentials refused or not allowed to describe): it says nothing about single instances.
struct PollFailure {
  Error error;
  SystemTime at{};
};

}  // namespace rebootd::controller
