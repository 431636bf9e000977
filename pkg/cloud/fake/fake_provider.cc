// SPDX-License-Identifier: Apache-2.0
#include "pkg/cloud/fake/fake_provider.h"

#include <algorithm>

namespace rebootd::cloud::fake {

FakeProvider::FakeProvider(FakeOptions options, Clock& clock) : options_(options), clock_(clock) {}

void FakeProvider::AddInstance(const std::string& id, State state) {
  std::lock_guard lock(mu_);
  Instance inst;
  inst.state = state;
  inst.start_time = clock_.Now() - std::chrono::hours(24);
  instances_[id] = inst;
}

void FakeProvider::ScriptReboot(ScriptedReboot s) {
  std::lock_guard lock(mu_);
  script_.push_back(std::move(s));
}

void FakeProvider::FailDescribes(int n, Error e) {
  std::lock_guard lock(mu_);
  describe_failures_ = n;
  describe_error_ = std::move(e);
}

int FakeProvider::RebootsOf(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = instances_.find(id);
  return it == instances_.end() ? 0 : it->second.reboots;
}

int FakeProvider::RebootCalls() const {
  std::lock_guard lock(mu_);
  return reboot_calls_;
}

std::vector<size_t> FakeProvider::BatchSizes() const {
  std::lock_guard lock(mu_);
  return batch_sizes_;
}

int FakeProvider::DescribeCalls() const {
  std::lock_guard lock(mu_);
  return describe_calls_;
}

bool FakeProvider::LastForce(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = instances_.find(id);
  return it != instances_.end() && it->second.last_force;
}

Result<RebootAccepted> FakeProvider::Reboot(const RebootCall& call, std::stop_token) {
  std::lock_guard lock(mu_);
  ++reboot_calls_;
  batch_sizes_.push_back(call.ids.size());
  SystemTime now = clock_.Now();
  std::optional<ScriptedReboot> scripted;
  if (!script_.empty()) {
    scripted = std::move(script_.front());
    script_.pop_front();
  }
  // Validation is all-or-nothing, as on Tencent.
  std::vector<std::string> missing, not_running, locked;
  for (const auto& id : call.ids) {
    auto it = instances_.find(id);
    if (it == instances_.end()) {
      missing.push_back(id);
      continue;
    }
    const Instance& inst = it->second;
    bool busy = inst.reboot_started && now < *inst.reboot_started + options_.reboot_duration;
    if (inst.state == State::kLocked) {
      locked.push_back(id);
    } else if (inst.state != State::kRunning || busy) {
      not_running.push_back(id);
    }
  }
  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& id : v) s += (s.empty() ? "" : ", ") + id;
    return s;
  };
  if (!missing.empty()) {
    Error e{ErrorCode::kNotFound,
            "instances do not exist: " + join(missing),
            "ResourceNotFound.InstanceNotExist",
            "fake-req",
            200,
            false};
    return MakeError(e);
  }
  if (!locked.empty()) {
    Error e{ErrorCode::kPermissionDenied,
            "instances are locked: " + join(locked),
            "InstanceLockedForSecurity",
            "fake-req",
            403,
            false};
    return MakeError(e);
  }
  if (!not_running.empty()) {
    Error e{ErrorCode::kFailedPrecondition,
            "instances not running: " + join(not_running),
            "ResourceUnavailable.InstanceNotRunning",
            "fake-req",
            200,
            false};
    return MakeError(e);
  }
  if (call.dry_run) {
    if (scripted) return MakeError(scripted->error);
    return RebootAccepted{"fake-dry-" + std::to_string(next_request_++), true};
  }
  if (!scripted || scripted->apply_effect) {
    for (const auto& id : call.ids) {
      Instance& inst = instances_[id];
      inst.reboot_started = now;
      inst.reboots += 1;
      inst.last_force = call.force;
      inst.operated = true;
    }
  }
  if (scripted) return MakeError(scripted->error);
  return RebootAccepted{"fake-" + std::to_string(next_request_++), false};
}

Observation FakeProvider::ObserveLocked(const std::string& id, const Instance& inst) const {
  Observation o;
  o.id = id;
  SystemTime now = clock_.Now();
  bool tencent = options_.kind == Provider::kTencent;
  if (inst.state == State::kStopped || inst.state == State::kLocked) {
    o.phase = Observation::Phase::kStopped;
    o.raw_state = tencent ? "STOPPED" : "Stopped";
    o.security_locked = inst.state == State::kLocked;
    if (o.security_locked) o.lock_reasons = {"security"};
  } else if (inst.reboot_started && now < *inst.reboot_started + options_.reboot_duration) {
    o.phase = Observation::Phase::kTransitional;
    o.raw_state = tencent ? "REBOOTING" : "Starting";
  } else {
    o.phase = Observation::Phase::kRunning;
    o.raw_state = tencent ? "RUNNING" : "Running";
  }
  SystemTime start = inst.start_time;
  if (inst.reboot_started && now >= *inst.reboot_started + options_.reboot_duration) {
    start = *inst.reboot_started + options_.reboot_duration;
  }
  if (!tencent) o.start_time = start;
  if (tencent && inst.operated) {
    o.latest_operation = "RebootInstances";
    o.latest_operation_state =
        o.phase == Observation::Phase::kTransitional ? "OPERATING" : "SUCCESS";
  }
  return o;
}

Result<std::vector<Observation>> FakeProvider::Describe(const std::vector<std::string>& ids,
                                                        std::stop_token) {
  std::lock_guard lock(mu_);
  ++describe_calls_;
  if (describe_failures_ > 0) {
    --describe_failures_;
    return MakeError(describe_error_);
  }
  std::vector<Observation> out;
  for (const auto& id : ids) {
    auto it = instances_.find(id);
    if (it != instances_.end()) out.push_back(ObserveLocked(id, it->second));
  }
  return out;
}

}  // namespace rebootd::cloud::fake
