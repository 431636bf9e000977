// SPDX-License-Identifier: Apache-2.0
#include "pkg/controller/instance_logic.h"

namespace rebootd::controller {

using api::InstanceState;
using Phase = cloud::Observation::Phase;

std::string ReasonFor(const Error& e) {
  const std::string& c = e.provider_code;
  if (c == "InvalidInstanceId.NotFound" || c == "ResourceNotFound.InstanceNotExist" ||
      e.code == ErrorCode::kNotFound)
    return "InstanceNotFound";
  if (c == "InstanceLockedForSecurity") return "InstanceLocked";
  if (c == "InstanceExpiredOrInArrears") return "InstanceExpired";
  if (c == "IncorrectInstanceStatus" || c == "ResourceUnavailable.InstanceNotRunning")
    return "NotRunning";
  if (c == "InvalidParameterValue.InvalidInstanceID") return "InvalidInstanceId";
  if (e.code == ErrorCode::kUnauthenticated) return "Unauthenticated";
  if (e.code == ErrorCode::kPermissionDenied) return "PermissionDenied";
  if (e.code == ErrorCode::kInvalidArgument) return "InvalidRequest";
  return "RebootFailed";
}

bool RebootedSince(cloud::Provider provider, const cloud::Observation& o, SystemTime since) {
  if (provider == cloud::Provider::kTencent) {
    return o.latest_operation == "RebootInstances" && o.latest_operation_state == "SUCCESS";
  }
  if (!o.start_time) return false;
  // StartTime may come with minute precision ("2017-12-10T04:04Z"): then compare minutes.
  auto secs = std::chrono::floor<std::chrono::seconds>(*o.start_time);
  bool minute_precision = secs == std::chrono::floor<std::chrono::minutes>(secs);
  if (minute_precision) return *o.start_time >= std::chrono::floor<std::chrono::minutes>(since);
  return *o.start_time >= since;
}

namespace {

void Finish(api::InstanceStatus& s, InstanceState state, std::string reason, std::string message,
            SystemTime at) {
  s.state = state;
  s.reason = std::move(reason);
  s.message = std::move(message);
  s.completed_at = at;
}

}  // namespace

Next ApplyOutcome(cloud::Provider /*provider*/, const RebootOutcome& o, api::InstanceStatus& s,
                  InstanceRuntime& rt, SteadyTime steady_now, const LogicOptions& options) {
  rt.in_flight = false;
  if (api::IsFinished(s.state)) return Next::kNothing;
  using K = RebootOutcome::Kind;
  switch (o.kind) {
    case K::kAccepted:
      s.state = InstanceState::kRebooting;
      s.request_id = o.request_id;
      s.accepted_at = o.at;
      s.reason = o.force && s.escalated ? "Escalated" : "RebootAccepted";
      s.message.clear();
      rt.resolving = false;
      return Next::kWatch;
    case K::kDryRunPassed:
      Finish(s, InstanceState::kSucceeded, "DryRunPassed",
             "the reboot would be accepted (dry run; nothing was rebooted)", o.at);
      return Next::kFinished;
    case K::kRejected:
      Finish(s, InstanceState::kFailed, ReasonFor(o.error), o.error.message, o.at);
      return Next::kFinished;
    case K::kWrongState:
      if (o.force && s.escalated) {
        // The SoftFirst escalation was refused (e.g. the instance is Starting or Stopped by
        // now). The soft reboot before it stands: wait for it to finish until the deadline and
        // never send a third call (DESIGN.md §4). Evidence counts from the escalation intent.
        s.state = InstanceState::kRebooting;
        s.accepted_at = s.requested_at;
        s.reason = "EscalationRefused";
        s.message = o.error.message;
        rt.resolving = false;
        return Next::kWatch;
      }
      // Nothing happened; find out what state the instance is in before trying again.
      s.state = InstanceState::kPending;
      s.reason = ReasonFor(o.error);
      s.message = o.error.message;
      rt.check_state = true;
      rt.retry_after = steady_now + options.wrong_state_retry;
      return Next::kWatch;
    case K::kAmbiguous:
      // The call may have taken effect: never re-send blindly; the poller decides.
      s.reason = "Unconfirmed";
      s.message = "reboot call outcome unknown (" + o.error.ToString() + "); checking the instance";
      rt.resolving = true;
      return Next::kWatch;
    case K::kNotSent:
      s.state = InstanceState::kPending;
      rt.retry_after = steady_now + options.wrong_state_retry;
      return o.dry_run ? Next::kDispatch : Next::kDispatch;
  }
  return Next::kNothing;
}

Next ApplyObservation(cloud::Provider provider, bool dry_run, const ObservationEvent& ev,
                      api::InstanceStatus& s, InstanceRuntime& rt, SteadyTime steady_now,
                      const LogicOptions& options) {
  if (api::IsFinished(s.state) || rt.in_flight) return Next::kNothing;
  // Observations older than the intent say nothing about our call.
  if (s.requested_at && ev.at < *s.requested_at) return Next::kNothing;
  if (!ev.observation) {
    Finish(s, InstanceState::kFailed, "InstanceNotFound",
           "the instance does not exist (not returned by the describe call)", ev.at);
    return Next::kFinished;
  }
  const cloud::Observation& o = *ev.observation;
  rt.last_phase = o.phase;
  switch (s.state) {
    case InstanceState::kPending: {
      if (o.security_locked) {
        Finish(s, InstanceState::kFailed, "InstanceLocked",
               "the instance is locked for security reasons and cannot be rebooted", ev.at);
        return Next::kFinished;
      }
      if (dry_run) {
        if (o.phase == Phase::kRunning) {
          Finish(s, InstanceState::kSucceeded, "DryRunPassed",
                 "the instance exists and is running (dry run; nothing was rebooted)", ev.at);
          return Next::kFinished;
        }
        if (o.phase == Phase::kStopped || o.phase == Phase::kOther) {
          Finish(s, InstanceState::kFailed, "NotRunning",
                 "the instance is " + o.raw_state + "; only running instances can be rebooted",
                 ev.at);
          return Next::kFinished;
        }
        return Next::kWatch;  // transitional: wait
      }
      if (!rt.check_state) return Next::kNothing;
      if (o.phase == Phase::kRunning) {
        rt.check_state = false;
        return Next::kDispatch;
      }
      if (o.phase == Phase::kStopped || o.phase == Phase::kOther) {
        Finish(s, InstanceState::kFailed, "NotRunning",
               "the instance is " + o.raw_state + "; only running instances can be rebooted",
               ev.at);
        return Next::kFinished;
      }
      return Next::kWatch;  // transitional: wait for it (until the deadline)
    }
    case InstanceState::kRequesting: {
      // Resolving an ambiguous call or a restart (DESIGN.md §4).
      if (o.phase == Phase::kTransitional) {
        s.state = InstanceState::kRebooting;
        s.seen_transitional = true;
        s.accepted_at = s.requested_at;
        s.reason = "RebootConfirmed";
        s.message = "the instance is " + o.raw_state + " after the reboot call";
        rt.resolving = false;
        return Next::kWatch;
      }
      if (o.phase == Phase::kRunning) {
        if (s.requested_at && RebootedSince(provider, o, *s.requested_at)) {
          s.accepted_at = s.requested_at;
          Finish(s, InstanceState::kSucceeded, "Rebooted",
                 "running again; the reboot was confirmed from the instance's last operation",
                 ev.at);
          return Next::kFinished;
        }
        if (s.requested_at && ev.at - *s.requested_at >= options.settle) {
          // The call did not take effect: it may be sent (again).
          s.state = InstanceState::kPending;
          s.reason = "RebootNotApplied";
          s.message = "the earlier reboot call did not take effect; retrying";
          rt.resolving = false;
          return Next::kDispatch;
        }
        return Next::kWatch;
      }
      if (o.phase == Phase::kStopped) {
        Finish(s, InstanceState::kFailed, "NotRunning", "the instance is " + o.raw_state, ev.at);
        return Next::kFinished;
      }
      return Next::kWatch;
    }
    case InstanceState::kRebooting: {
      if (o.phase == Phase::kTransitional) {
        s.seen_transitional = true;
        return Next::kWatch;
      }
      if (o.phase == Phase::kRunning) {
        // Evidence counts only from observations made after the call was accepted (an
        // earlier one may show a previous reboot's traces).
        SystemTime since = s.requested_at ? *s.requested_at : ev.at;
        bool after_accept = s.accepted_at && ev.at >= *s.accepted_at;
        if (s.seen_transitional || (after_accept && RebootedSince(provider, o, since))) {
          Finish(s, InstanceState::kSucceeded, "Rebooted", "running again after the reboot", ev.at);
          return Next::kFinished;
        }
      }
      return Next::kWatch;
    }
    default:
      return Next::kNothing;
  }
  (void)steady_now;
}

SystemTime DeadlineOf(const api::InstanceStatus& s, SystemTime run_started,
                      int64_t timeout_seconds) {
  SystemTime base = run_started;
  if (s.accepted_at) {
    base = *s.accepted_at;
  } else if (s.requested_at) {
    base = *s.requested_at;
  }
  return base + std::chrono::seconds(timeout_seconds);
}

}  // namespace rebootd::controller
