// SPDX-License-Identifier: Apache-2.0
#include "pkg/sim/instances.h"

#include <algorithm>

namespace rebootd::sim {

std::string TencentStateOf(const TencentInstance& instance, SteadyTime now) {
  if (instance.rebooting && now < instance.reboot_end) return "REBOOTING";
  return instance.stopped ? "STOPPED" : "RUNNING";
}

std::string AliyunStatusOf(const AliyunInstance& instance, SteadyTime now) {
  if (instance.rebooting && instance.stuck) return "Stopping";
  if (instance.rebooting && now < instance.reboot_end) {
    // The first 20% of a reboot is the stop phase.
    auto stop_phase = (instance.reboot_end - instance.reboot_start) / 5;
    return now < instance.reboot_start + stop_phase ? "Stopping" : "Starting";
  }
  return instance.stopped || instance.locked ? "Stopped" : "Running";
}

Result<InstanceModel> InstanceModel::Build(const Inventory& inventory, SystemTime created) {
  InstanceModel model;
  SystemTime t = created;
  for (const auto& entry : inventory.tencent) {
    TencentInstance instance;
    instance.id = entry.id;
    instance.name = "sim-" + entry.id;
    instance.create_time = t;
    instance.stopped = entry.state == TencentInitialState::kStopped;
    instance.latest_operation = entry.latest_operation;
    instance.latest_operation_state = entry.latest_operation_state;
    t += std::chrono::seconds(1);
    if (!model.tencent_.Add(std::move(instance))) {
      return MakeError(ErrorCode::kInvalidArgument, "duplicate tencent instance ID " + entry.id);
    }
  }
  for (const auto& entry : inventory.aliyun) {
    AliyunInstance instance;
    instance.id = entry.id;
    instance.region = entry.region;
    instance.zone = entry.region + "-a";
    instance.creation_time = t;
    instance.start_time = entry.start_time.value_or(t);
    instance.stopped = entry.state == AliyunInitialState::kStopped;
    instance.locked = entry.state == AliyunInitialState::kLocked;
    t += std::chrono::seconds(1);
    if (!model.aliyun_.Add(std::move(instance))) {
      return MakeError(ErrorCode::kInvalidArgument, "duplicate aliyun instance ID " + entry.id);
    }
  }
  return model;
}

void InstanceModel::Settle(SteadyTime now) {
  if (rebooting_ == 0 || !next_end_ || now < *next_end_) return;
  std::optional<SteadyTime> next;
  size_t still = 0;
  for (auto& instance : tencent_.items()) {
    if (!instance.rebooting) continue;
    if (now >= instance.reboot_end) {
      instance.rebooting = false;
      instance.latest_operation_state = "SUCCESS";
    } else {
      ++still;
      next = next ? std::min(*next, instance.reboot_end) : instance.reboot_end;
    }
  }
  for (auto& instance : aliyun_.items()) {
    if (!instance.rebooting || instance.stuck) continue;
    if (now >= instance.reboot_end) {
      instance.rebooting = false;
      instance.start_time = instance.reboot_end_wall;
    } else {
      ++still;
      next = next ? std::min(*next, instance.reboot_end) : instance.reboot_end;
    }
  }
  rebooting_ = still;
  next_end_ = next;
}

void InstanceModel::StartTencentReboot(TencentInstance& instance, SteadyTime now,
                                       Duration duration) {
  instance.rebooting = true;
  instance.reboot_end = now + duration;
  instance.latest_operation = "RebootInstances";
  instance.latest_operation_state = "OPERATING";
  ++instance.reboots;
  ++rebooting_;
  next_end_ = next_end_ ? std::min(*next_end_, instance.reboot_end) : instance.reboot_end;
}

void InstanceModel::StartAliyunReboot(AliyunInstance& instance, SteadyTime now, SystemTime wall_now,
                                      Duration duration) {
  instance.rebooting = true;
  instance.reboot_start = now;
  instance.reboot_end = now + duration;
  instance.reboot_end_wall = wall_now + std::chrono::duration_cast<SystemTime::duration>(duration);
  ++instance.reboots;
  ++rebooting_;
  next_end_ = next_end_ ? std::min(*next_end_, instance.reboot_end) : instance.reboot_end;
}

void InstanceModel::StartStuckAliyunReboot(AliyunInstance& instance, SteadyTime now) {
  // Not counted in rebooting_ / next_end_: nothing finishes until ForceAliyunReboot.
  instance.rebooting = true;
  instance.stuck = true;
  instance.reboot_start = now;
  ++instance.reboots;
}

void InstanceModel::ForceAliyunReboot(AliyunInstance& instance, SteadyTime now, SystemTime wall_now,
                                      Duration duration) {
  if (instance.stuck || !instance.rebooting) ++rebooting_;
  instance.stuck = false;
  instance.rebooting = true;
  instance.reboot_start = now;
  instance.reboot_end = now + duration;
  instance.reboot_end_wall = wall_now + std::chrono::duration_cast<SystemTime::duration>(duration);
  // next_end_ stays a lower bound when an earlier end moved later; Settle recomputes it.
  next_end_ = next_end_ ? std::min(*next_end_, instance.reboot_end) : instance.reboot_end;
}

void InstanceModel::ResetRebootCounts() {
  for (auto& instance : tencent_.items()) instance.reboots = 0;
  for (auto& instance : aliyun_.items()) instance.reboots = 0;
}

}  // namespace rebootd::sim
