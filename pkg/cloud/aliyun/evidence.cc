// SPDX-License-Identifier: Apache-2.0
#include "pkg/cloud/aliyun/evidence.h"

#include <algorithm>

#include "pkg/cloud/errors.h"

namespace rebootd::cloud::aliyun {
namespace {

struct Parsed {
  std::string status;
  std::string start;                     // raw; "" when absent
  std::optional<SystemTime> cloud_time;  // when the cloud answered
};

bool Parse(std::string_view text, Parsed* out) {
  size_t space = text.find(' ');
  if (space == std::string_view::npos || space == 0 || space + 1 >= text.size()) return false;
  out->status = std::string(text.substr(0, space));
  std::string_view rest = text.substr(space + 1);
  out->cloud_time.reset();
  if (size_t at = rest.find(" @"); at != std::string_view::npos) {
    SystemTime t;
    if (!ParseRfc3339(rest.substr(at + 2), &t)) return false;
    out->cloud_time = t;
    rest = rest.substr(0, at);
  }
  out->start = rest == "-" ? std::string() : std::string(rest);
  return !rest.empty();
}

// "YYYY-MM-DDThh:mmZ" carries no seconds.
bool HasSeconds(std::string_view t) { return std::count(t.begin(), t.end(), ':') >= 2; }

}  // namespace

std::string EvidenceOf(const Instance& i, std::optional<SystemTime> cloud_time) {
  return (i.status.empty() ? std::string("-") : i.status) + " " +
         (i.start_time.empty() ? std::string("-") : i.start_time) +
         (cloud_time ? " @" + FormatRfc3339(*cloud_time) : std::string());
}

Observation ObservationOf(const Instance& i, std::optional<SystemTime> cloud_time) {
  Observation o;
  o.id = i.id;
  o.raw_state = i.status;
  if (i.status == "Running") {
    o.phase = Observation::Phase::kRunning;
  } else if (i.status == "Starting" || i.status == "Stopping") {
    o.phase = Observation::Phase::kTransitional;
  } else if (i.status == "Stopped") {
    o.phase = Observation::Phase::kStopped;
  } else {
    o.phase = Observation::Phase::kOther;
  }
  o.stopping = i.status == "Stopping";
  o.lock_reasons = i.lock_reasons;
  o.security_locked =
      std::find(i.lock_reasons.begin(), i.lock_reasons.end(), "security") != i.lock_reasons.end();
  o.evidence = EvidenceOf(i, cloud_time);
  return o;
}

Sign ReadSign(std::string_view baseline, const Observation& now) {
  Parsed cur;
  if (!Parse(now.evidence, &cur)) {
    if (now.phase == Observation::Phase::kRunning) return Sign::kUnchangedMaybe;
    return now.phase == Observation::Phase::kTransitional ? Sign::kInProgress : Sign::kNotRunning;
  }
  if (cur.status == "Stopping" || cur.status == "Starting") return Sign::kInProgress;
  if (cur.status != "Running") return Sign::kNotRunning;
  Parsed base;
  SystemTime before, after;
  if (!Parse(baseline, &base) || base.start.empty() || cur.start.empty() ||
      !ParseRfc3339(base.start, &before) || !ParseRfc3339(cur.start, &after)) {
    return Sign::kUnchangedMaybe;
  }
  if (after > before) return Sign::kRebooted;
  if (after == before && HasSeconds(base.start) && HasSeconds(cur.start)) return Sign::kUnchanged;
  if (after == before && base.cloud_time &&
      *base.cloud_time >=
          std::chrono::floor<std::chrono::minutes>(before) + std::chrono::minutes(2)) {
    return Sign::kUnchanged;
  }
  return Sign::kUnchangedMaybe;
}

std::string FailureReason(const Error& e) {
  const std::string& c = e.provider_code;
  if (c == "InvalidInstanceId.NotFound") return "InstanceNotFound";
  if (c == "InstanceLockedForSecurity") return "InstanceLocked";
  if (c == "InstanceExpiredOrInArrears") return "InstanceExpired";
  if (c == "IncorrectInstanceStatus") return "NotRunning";
  return ReasonForCode(e);
}

}  // namespace rebootd::cloud::aliyun
