// SPDX-License-Identifier: Apache-2.0
#include "pkg/controller/instance_logic.h"

namespace rebootd::controller {

using api::InstanceState;
using cloud::Sign;
using cloud::Verdict;
using Phase = cloud::Observation::Phase;

namespace {

void Finish(api::InstanceStatus& s, InstanceState state, std::string reason, std::string message,
            SystemTime at) {
  s.state = state;
  s.reason = std::move(reason);
  s.message = std::move(message);
  s.completed_at = at;
}

std::string Seconds(Duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(d).count()) + "s";
}

// Why a running instance with unmoved evidence cannot prove or disprove a reboot.
std::string UnverifiedMessage(const api::InstanceStatus& s, const InstanceRuntime& rt,
                              const cloud::Observation& o, const LogicOptions& options) {
  std::string call =
      s.state == InstanceState::kRebooting
          ? "the reboot call was accepted" +
                (s.request_id.empty() ? std::string() : " (RequestId " + s.request_id + ")")
          : "the outcome of the reboot call is unknown";
  return call + ", but the instance runs with the evidence it showed before the call (" +
         (s.baseline.empty() ? std::string("none recorded") : s.baseline) + ", now " + o.evidence +
         "), which a reboot by this run could also have left as it was, and it " +
         "was not watched closely enough since the call to have seen one (a gap of " +
         Seconds(rt.coverage.max_gap()) + " between observations; a reboot can take as little as " +
         Seconds(options.min_reboot) + "); it is not rebooted again";
}

}  // namespace

void MarkIntent(api::InstanceStatus& s, InstanceRuntime& rt, SystemTime now,
                const LogicOptions& options) {
  s.state = InstanceState::kRequesting;
  s.requested_at = now;
  s.accepted_at.reset();
  s.seen_transitional = false;
  s.attempts += 1;
  rt.coverage = cloud::Coverage(now, options.min_reboot);
  rt.resolve_from.reset();
  rt.baseline_ambiguous.reset();
}

bool BaselineIsAmbiguous(const cloud::CloudProvider& provider, const std::string& baseline) {
  cloud::Observation same;
  same.phase = Phase::kRunning;
  same.evidence = baseline;
  return provider.Read(baseline, same) != Sign::kUnchanged;
}

Next ApplyOutcome(const LogicContext& ctx, const RebootOutcome& o, api::InstanceStatus& s,
                  InstanceRuntime& rt, SteadyTime steady_now) {
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
      rt.resolve_from = o.at;
      return Next::kWatch;
    case K::kDryRunPassed:
      Finish(s, InstanceState::kSucceeded, "DryRunPassed",
             "the reboot would be accepted (dry run; nothing was rebooted)", o.at);
      return Next::kFinished;
    case K::kRejected:
      Finish(s, InstanceState::kFailed, ctx.provider.FailureReason(o.error), o.error.message, o.at);
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
        rt.resolve_from = o.at;
        return Next::kWatch;
      }
      // Nothing happened; a new baseline is needed before trying again (what was seen after
      // the intent was not this run's doing).
      s.state = InstanceState::kPending;
      s.reason = ctx.provider.FailureReason(o.error);
      s.message = o.error.message;
      s.seen_transitional = false;
      s.baseline.clear();
      rt.recheck = true;
      rt.retry_after = steady_now + ctx.options.wrong_state_retry;
      return Next::kWatch;
    case K::kAmbiguous:
      // The call may have taken effect: never re-send blindly; observations decide.
      s.reason = "Unconfirmed";
      s.message = "reboot call outcome unknown (" + o.error.ToString() + "); checking the instance";
      rt.resolve_from = o.at;
      return Next::kWatch;
    case K::kNotSent:
      // Nothing was sent: back to Pending with the same baseline (an escalation goes out again
      // as the forced call it was).
      s.state = InstanceState::kPending;
      if (s.attempts > 0) s.attempts -= 1;
      rt.retry_after = steady_now + ctx.options.wrong_state_retry;
      return Next::kDispatch;
  }
  return Next::kNothing;
}

Next ApplyObservation(const LogicContext& ctx, const ObservationEvent& ev, api::InstanceStatus& s,
                      InstanceRuntime& rt) {
  if (api::IsFinished(s.state)) return Next::kNothing;
  const bool after_intent = s.state != InstanceState::kPending;
  // Observations older than the intent say nothing about our call.
  if (after_intent && s.requested_at && ev.at < *s.requested_at) return Next::kNothing;
  if (!ev.observation) {
    if (rt.in_flight) return Next::kNothing;  // its call's outcome decides first
    Finish(s, InstanceState::kFailed, "InstanceNotFound",
           "instance " + s.id + " does not exist (not returned by the describe call)", ev.until);
    return Next::kFinished;
  }
  const cloud::Observation& o = *ev.observation;
  rt.last_raw = o.raw_state;
  rt.last_stopping = o.stopping;

  if (!after_intent) {
    rt.last_sign.reset();
    if (o.security_locked) {
      Finish(s, InstanceState::kFailed, "InstanceLocked",
             "the instance is locked for security reasons and cannot be rebooted", ev.until);
      return Next::kFinished;
    }
    if (o.phase == Phase::kStopped || o.phase == Phase::kOther) {
      Finish(s, InstanceState::kFailed, "NotRunning",
             "the instance is " + o.raw_state + "; only running instances can be rebooted",
             ev.until);
      return Next::kFinished;
    }
    // Pending instances keep in `baseline` the evidence of the latest observation that found
    // them running with no operation in progress: the baseline of their next intent (written
    // with it). An escalation that was not sent keeps the soft call's baseline.
    if (o.phase == Phase::kTransitional) {
      if (!s.escalated) s.baseline.clear();  // not a moment to take one: wait (until the deadline)
      return Next::kWatch;
    }
    if (ctx.dry_run) {
      Finish(s, InstanceState::kSucceeded, "DryRunPassed",
             "the instance exists and is running (dry run; nothing was rebooted)", ev.until);
      return Next::kFinished;
    }
    if (!s.escalated) s.baseline = o.evidence;
    rt.recheck = false;
    return Next::kDispatch;
  }

  // Requesting or Rebooting: what does this observation say about our call?
  rt.coverage.Observed(ev.at, ev.until);
  const Sign sign = ctx.provider.Read(s.baseline, o);
  rt.last_sign = sign;
  if (sign == Sign::kInProgress) s.seen_transitional = true;
  if (rt.in_flight) return Next::kNothing;  // the call's outcome comes first
  cloud::WatchFacts facts;
  facts.accepted = s.state == InstanceState::kRebooting;
  facts.seen_in_progress = s.seen_transitional;
  facts.settled = rt.resolve_from && ev.at - *rt.resolve_from >= ctx.options.settle;
  facts.watched_closely = rt.coverage.Unbroken();
  switch (cloud::Judge(sign, facts)) {
    case Verdict::kYes:
      if (!s.accepted_at) s.accepted_at = s.requested_at;
      // Short messages (no allocation, and a 10,000-instance status stays small): the proof.
      Finish(s, InstanceState::kSucceeded, "Rebooted",
             sign == Sign::kRebooted ? "evidence moved" : "seen rebooting", ev.until);
      return Next::kFinished;
    case Verdict::kNotYet:
      if (s.state == InstanceState::kRequesting && s.seen_transitional) {
        s.state = InstanceState::kRebooting;
        s.accepted_at = s.requested_at;
        s.reason = "RebootConfirmed";
        s.message = "the instance was seen " + o.raw_state + " after the reboot call";
      }
      return Next::kWatch;
    case Verdict::kNo:
      // The call did not take effect (nothing moved, and nothing could have come and gone
      // unseen): it may be sent again, from the same baseline.
      s.state = InstanceState::kPending;
      s.reason = "RebootNotApplied";
      s.message = "the earlier reboot call did not take effect; retrying";
      return Next::kDispatch;
    case Verdict::kFailed:
      if (sign == Sign::kRebootFailed) {
        Finish(s, InstanceState::kFailed, "RebootFailed",
               "the cloud reports that the reboot failed (" + o.evidence + ")", ev.until);
      } else {
        Finish(s, InstanceState::kFailed, "NotRunning", "the instance is " + o.raw_state, ev.until);
      }
      return Next::kFinished;
    case Verdict::kCannotTell:
      Finish(s, InstanceState::kFailed, "RebootUnverified",
             UnverifiedMessage(s, rt, o, ctx.options), ev.until);
      return Next::kFinished;
  }
  return Next::kNothing;
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
