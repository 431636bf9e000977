// SPDX-License-Identifier: Apache-2.0
#include "pkg/cloud/evidence.h"

namespace rebootd::cloud {

std::string_view VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kYes:
      return "Yes";
    case Verdict::kNotYet:
      return "NotYet";
    case Verdict::kNo:
      return "No";
    case Verdict::kFailed:
      return "Failed";
    case Verdict::kCannotTell:
      return "CannotTell";
  }
  return "Unknown";
}

Verdict Judge(Sign sign, const WatchFacts& f) {
  switch (sign) {
    case Sign::kInProgress:
      return Verdict::kNotYet;
    case Sign::kRebooted:
      return Verdict::kYes;
    case Sign::kRebootFailed:
      return Verdict::kFailed;
    case Sign::kNotRunning:
      // Down after an accepted or seen reboot: it may still come back (until the deadline).
      // Down without either: the reboot cannot have been what stopped it.
      return f.accepted || f.seen_in_progress ? Verdict::kNotYet : Verdict::kFailed;
    case Sign::kUnchanged:
    case Sign::kUnchangedMaybe:
      break;
  }
  // Running, and the evidence did not move.
  if (f.seen_in_progress) return Verdict::kYes;  // seen rebooting since the call, running again
  if (!f.settled) return Verdict::kNotYet;
  if (sign == Sign::kUnchangedMaybe && !f.watched_closely) return Verdict::kCannotTell;
  // No reboot happened since the call. An accepted call is waited for until its deadline (the
  // cloud said it would reboot); an unanswered one did not take effect.
  return f.accepted ? Verdict::kNotYet : Verdict::kNo;
}

}  // namespace rebootd::cloud
