// SPDX-License-Identifier: Apache-2.0
// Proof of reboot (DESIGN.md §4), the cloud-neutral half: given what the provider read from one
// observation (Sign, see provider.h) and what the caller knows about how the instance was
// watched since its reboot call, did this run reboot it? Yes, no, not yet, or cannot tell.
// Also the coverage bookkeeping that "watched closely" stands on. Pure; thread-compatible.
//
// The rules, in order:
//  - a reboot seen in progress after the call, then the instance running again: yes;
//  - the evidence moved the way a reboot moves it: yes; the cloud reports the reboot failed: fail;
//  - running, evidence unchanged, before the settle time: not yet (an accepted call may not show
//    for a while; cloud-apis.md §1.11);
//  - after the settle time, evidence a reboot would have moved (kUnchanged): no reboot happened;
//    an unanswered call did not take effect and may be sent again; an accepted one is waited for
//    until its deadline;
//  - after the settle time, evidence a reboot could have left unchanged (kUnchangedMaybe): no
//    only if the instance was watched closely since the call (every gap between observations
//    shorter than the shortest reboot, so a reboot could not have come and gone unseen);
//    otherwise it cannot be told, and the instance is never called again on a guess.
#pragma once

#include <optional>
#include <string_view>

#include "pkg/base/clock.h"
#include "pkg/cloud/provider.h"

namespace rebootd::cloud {

enum class Verdict {
  kYes,         // this run rebooted the instance and it runs again: Succeeded
  kNotYet,      // keep watching (until the deadline)
  kNo,          // the call did not take effect; it may be sent (again)
  kFailed,      // the reboot failed, or the instance is not running and was not rebooted
  kCannotTell,  // the evidence cannot decide either way: Failed/RebootUnverified, no new call
};
std::string_view VerdictName(Verdict v);

// What the caller knows about the watch since the reboot call.
struct WatchFacts {
  bool accepted = false;          // the cloud accepted the call (a RequestId came back)
  bool seen_in_progress = false;  // a reboot was seen in progress after the intent
  bool settled = false;           // the settle time has passed since the call's outcome
  bool watched_closely = false;   // Coverage::Unbroken() since the intent
};

Verdict Judge(Sign sign, const WatchFacts& facts);

// Coverage: whether a reboot could have started and finished between two observations. A reboot
// keeps the instance visibly in progress for at least `min_reboot` (a property of the cloud;
// `rebootd run --min-reboot-duration`), so when consecutive observations since `since` (the
// intent) are each less than that apart, measured from the earliest moment the earlier one can
// have been made to the latest moment the later one can have been made, none went unseen.
class Coverage {
 public:
  Coverage() = default;
  Coverage(SystemTime since, Duration min_reboot)
      : last_(since), min_reboot_(min_reboot), broken_(false) {}
  // Records one observation (its from/until stamps), in the order they were made. The caller
  // passes only observations made after `since`.
  void Observed(SystemTime from, SystemTime until) {
    Duration gap = until - last_;
    if (gap > max_gap_) max_gap_ = gap;
    if (gap >= min_reboot_) broken_ = true;
    if (from > last_) last_ = from;
  }
  // True when every gap so far was shorter than the shortest reboot.
  bool Unbroken() const { return !broken_; }
  // The longest gap seen (for messages).
  Duration max_gap() const { return max_gap_; }

 private:
  SystemTime last_{};
  Duration min_reboot_{0};
  Duration max_gap_{0};
  bool broken_ = true;  // a default-constructed Coverage covers nothing
};

}  // namespace rebootd::cloud
