// SPDX-License-Identifier: Apache-2.0
#include "pkg/cloud/tencent/evidence.h"

#include "pkg/cloud/errors.h"

namespace rebootd::cloud::tencent {
namespace {

struct Parsed {
  std::string state;
  std::string operation;
  std::string operation_state;
};

std::string Dash(const std::string& s) { return s.empty() ? "-" : s; }
std::string Undash(std::string_view s) { return s == "-" ? std::string() : std::string(s); }

// Parses an evidence text; false when it is not of the form EvidenceOf makes.
bool Parse(std::string_view text, Parsed* out) {
  size_t space = text.find(' ');
  if (space == std::string_view::npos || space == 0) return false;
  out->state = std::string(text.substr(0, space));
  std::string_view op = text.substr(space + 1);
  if (op.empty()) return false;
  if (op == "-") {
    out->operation.clear();
    out->operation_state.clear();
    return true;
  }
  size_t colon = op.rfind(':');
  if (colon == std::string_view::npos) return false;
  out->operation = Undash(op.substr(0, colon));
  out->operation_state = Undash(op.substr(colon + 1));
  return true;
}

}  // namespace

std::string EvidenceOf(const Instance& i) {
  std::string text = Dash(i.state) + " ";
  if (i.latest_operation.empty() && i.latest_operation_state.empty()) return text + "-";
  return text + Dash(i.latest_operation) + ":" + Dash(i.latest_operation_state);
}

Observation ObservationOf(const Instance& i) {
  Observation o;
  o.id = i.id;
  o.raw_state = i.state;
  const bool operating = i.latest_operation_state == "OPERATING";
  if (i.state == "RUNNING" && !operating) {
    o.phase = Observation::Phase::kRunning;
  } else if (i.state == "RUNNING" || i.state == "REBOOTING" || i.state == "STARTING" ||
             i.state == "STOPPING") {
    o.phase = Observation::Phase::kTransitional;
    if (i.state == "RUNNING") o.raw_state = "RUNNING (" + i.latest_operation + " OPERATING)";
  } else if (i.state == "STOPPED" || i.state == "SHUTDOWN") {
    o.phase = Observation::Phase::kStopped;
  } else {
    o.phase = Observation::Phase::kOther;
  }
  o.stopping = i.state == "STOPPING";
  o.security_locked = i.restrict_state == "PROTECTIVELY_ISOLATED";
  if (!i.restrict_state.empty() && i.restrict_state != "NORMAL") {
    o.lock_reasons.push_back(i.restrict_state);
  }
  o.evidence = EvidenceOf(i);
  return o;
}

Sign ReadSign(std::string_view baseline, const Observation& now) {
  Parsed cur;
  if (!Parse(now.evidence, &cur)) {
    // Not made by EvidenceOf: judge by the phase alone.
    if (now.phase == Observation::Phase::kRunning) return Sign::kUnchangedMaybe;
    return now.raw_state == "REBOOTING" ? Sign::kInProgress : Sign::kNotRunning;
  }
  if (cur.state == "REBOOTING") return Sign::kInProgress;
  if (cur.operation == kRebootOperation && cur.operation_state == "OPERATING") {
    return Sign::kInProgress;
  }
  if (cur.state != "RUNNING") return Sign::kNotRunning;
  Parsed base;
  if (!Parse(baseline, &base)) {
    // No baseline (a record from an older rebootd): an instance with no operation on record
    // was never rebooted, since any reboot leaves RebootInstances as its last operation.
    return cur.operation.empty() ? Sign::kUnchanged : Sign::kUnchangedMaybe;
  }
  if (cur.operation == base.operation && cur.operation_state == base.operation_state) {
    return base.operation == kRebootOperation ? Sign::kUnchangedMaybe : Sign::kUnchanged;
  }
  if (cur.operation == kRebootOperation) {
    if (cur.operation_state == "SUCCESS") return Sign::kRebooted;
    if (cur.operation_state == "FAILED") return Sign::kRebootFailed;
  }
  return Sign::kUnchangedMaybe;
}

std::string FailureReason(const Error& e) {
  const std::string& c = e.provider_code;
  if (c == "ResourceNotFound.InstanceNotExist") return "InstanceNotFound";
  if (c == "ResourceUnavailable.InstanceNotRunning") return "NotRunning";
  if (c == "InvalidParameterValue.InvalidInstanceID") return "InvalidInstanceId";
  return ReasonForCode(e);
}

}  // namespace rebootd::cloud::tencent
