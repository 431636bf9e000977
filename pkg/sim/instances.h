// SPDX-License-Identifier: Apache-2.0
// The simulator's instance model: one table per provider in inventory order, with reboot state
// machines evaluated lazily against a steady time (no timers). Settle(now) folds finished reboots
// into the stored state; every reader calls it first. Not thread-safe (the simulator locks).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "pkg/base/clock.h"
#include "pkg/sim/inventory.h"

namespace rebootd::sim {

struct TencentInstance {
  std::string id;
  std::string name;
  SystemTime create_time;
  bool stopped = false;
  // Reboot in progress while `rebooting` and steady now < reboot_end.
  bool rebooting = false;
  SteadyTime reboot_end{};
  std::string latest_operation;        // "" until the first operation (or the inventory's)
  std::string latest_operation_state;  // "OPERATING" | "SUCCESS" | "FAILED"
  int64_t reboots = 0;
};

struct AliyunInstance {
  std::string id;
  std::string region;
  std::string zone;  // region + "-a"
  SystemTime creation_time;
  SystemTime start_time;  // last time it started running
  bool stopped = false;
  bool locked = false;  // OperationLocks: security (the instance is then Stopped)
  bool rebooting = false;
  // A soft reboot whose stop never completes (fault soft-stuck): Stopping, with no reboot_end,
  // until ForceAliyunReboot.
  bool stuck = false;
  SteadyTime reboot_start{};
  SteadyTime reboot_end{};
  SystemTime reboot_end_wall;  // becomes start_time when the reboot completes
  int64_t reboots = 0;
};

// "RUNNING" | "STOPPED" | "REBOOTING".
std::string TencentStateOf(const TencentInstance& instance, SteadyTime now);
// "Running" | "Stopped" | "Stopping" (first 20% of a reboot, or stuck) | "Starting".
std::string AliyunStatusOf(const AliyunInstance& instance, SteadyTime now);

template <class T>
class InstanceTable {
 public:
  // False when the id already exists.
  bool Add(T instance) {
    if (index_.count(instance.id)) return false;
    index_.emplace(instance.id, items_.size());
    items_.push_back(std::move(instance));
    return true;
  }
  T* Find(const std::string& id) {
    auto it = index_.find(id);
    return it == index_.end() ? nullptr : &items_[it->second];
  }
  const T* Find(const std::string& id) const {
    auto it = index_.find(id);
    return it == index_.end() ? nullptr : &items_[it->second];
  }
  std::vector<T>& items() { return items_; }
  const std::vector<T>& items() const { return items_; }

 private:
  std::vector<T> items_;
  std::unordered_map<std::string, size_t> index_;
};

class InstanceModel {
 public:
  // Builds the tables from the inventory; `created` is the CreateTime of the first instance (the
  // next ones follow one second apart, so creation order is inventory order).
  static Result<InstanceModel> Build(const Inventory& inventory, SystemTime created);

  // Folds reboots that finished at or before `now` into the stored state.
  void Settle(SteadyTime now);

  // Starts a reboot: REBOOTING / Stopping now, running again after `duration`. `wall_now` and
  // `now` are the same instant on the two clocks.
  void StartTencentReboot(TencentInstance& instance, SteadyTime now, Duration duration);
  void StartAliyunReboot(AliyunInstance& instance, SteadyTime now, SystemTime wall_now,
                         Duration duration);
  // Starts a soft reboot that hangs in Stopping (counted as a reboot; StartTime unchanged).
  void StartStuckAliyunReboot(AliyunInstance& instance, SteadyTime now);
  // A forced reboot of an instance that is Stopping (stuck or not): the stop is cut short and
  // the instance restarts from now (Stopping -> Starting -> Running after `duration`). The
  // reboot already counted stays one reboot.
  void ForceAliyunReboot(AliyunInstance& instance, SteadyTime now, SystemTime wall_now,
                         Duration duration);
  void ResetRebootCounts();

  InstanceTable<TencentInstance>& tencent() { return tencent_; }
  const InstanceTable<TencentInstance>& tencent() const { return tencent_; }
  InstanceTable<AliyunInstance>& aliyun() { return aliyun_; }
  const InstanceTable<AliyunInstance>& aliyun() const { return aliyun_; }

 private:
  InstanceTable<TencentInstance> tencent_;
  InstanceTable<AliyunInstance> aliyun_;
  // Earliest reboot end among in-progress reboots, to make Settle() cheap when nothing is due.
  std::optional<SteadyTime> next_end_;
  size_t rebooting_ = 0;
};

}  // namespace rebootd::sim
