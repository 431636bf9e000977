// SPDX-License-Identifier: Apache-2.0
#include "pkg/cloud/fake/fake_provider.h"

#include <algorithm>

#include "pkg/cloud/aliyun/evidence.h"
#include "pkg/cloud/tencent/evidence.h"

namespace rebootd::cloud::fake {

FakeProvider::FakeProvider(FakeOptions options, Clock& clock) : options_(options), clock_(clock) {}

void FakeProvider::AddInstance(const std::string& id, State state, bool rebooted_before) {
  std::lock_guard lock(mu_);
  Instance inst;
  inst.state = state;
  inst.start_time =
      clock_.Now() - (rebooted_before ? std::chrono::hours(1) : std::chrono::hours(24));
  if (rebooted_before) inst.latest_operation = "RebootInstances";
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
      inst.latest_operation = "RebootInstances";
    }
  }
  if (scripted) return MakeError(scripted->error);
  return RebootAccepted{"fake-" + std::to_string(next_request_++), false};
}

Observation FakeProvider::ObserveLocked(const std::string& id, const Instance& inst) const {
  SystemTime now = clock_.Now();
  const bool rebooting =
      inst.reboot_started && now < *inst.reboot_started + options_.reboot_duration;
  const bool stopped = inst.state == State::kStopped || inst.state == State::kLocked;
  Observation o;
  if (options_.kind == Provider::kTencent) {
    tencent::Instance t;
    t.id = id;
    t.state = stopped ? "STOPPED" : rebooting ? "REBOOTING" : "RUNNING";
    t.latest_operation = inst.latest_operation;
    if (!inst.latest_operation.empty())
      t.latest_operation_state = rebooting ? "OPERATING" : "SUCCESS";
    t.restrict_state = inst.state == State::kLocked ? "PROTECTIVELY_ISOLATED" : "NORMAL";
    o = tencent::ObservationOf(t);
  } else {
    aliyun::Instance a;
    a.id = id;
    a.status = stopped ? "Stopped" : rebooting ? "Starting" : "Running";
    SystemTime start = inst.start_time;
    if (inst.reboot_started && !rebooting) start = *inst.reboot_started + options_.reboot_duration;
    a.start_time = FormatRfc3339(start);
    if (!options_.start_time_with_seconds) a.start_time = a.start_time.substr(0, 16) + "Z";
    if (inst.state == State::kLocked) a.lock_reasons = {"security"};
    o = aliyun::ObservationOf(a);
  }
  o.from = now;
  o.until = now;
  return o;
}

Status FakeProvider::Observe(const std::vector<std::string>& ids, std::stop_token,
                             const ChunkSink& sink) {
  ObservedChunk chunk;
  {
    std::lock_guard lock(mu_);
    ++describe_calls_;
    if (describe_failures_ > 0) {
      --describe_failures_;
      return MakeError(describe_error_);
    }
    for (const auto& id : ids) {
      auto it = instances_.find(id);
      if (it == instances_.end()) {
        chunk.absent.push_back(id);
      } else {
        chunk.observations.push_back(ObserveLocked(id, it->second));
      }
    }
  }
  if (sink) sink(std::move(chunk));
  return OkStatus();
}

Sign FakeProvider::Read(std::string_view baseline, const Observation& now) const {
  return options_.kind == Provider::kTencent ? tencent::ReadSign(baseline, now)
                                             : aliyun::ReadSign(baseline, now);
}

std::string FakeProvider::FailureReason(const Error& error) const {
  return options_.kind == Provider::kTencent ? tencent::FailureReason(error)
                                             : aliyun::FailureReason(error);
}

}  // namespace rebootd::cloud::fake
