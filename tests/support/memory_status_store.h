// SPDX-License-Identifier: Apache-2.0
// MemoryStatusStore: an in-memory StatusStore for controller tests, with failure injection, a
// count of saves and, optionally, an object size limit like the API server's (a record whose
// status, compacted as the Kubernetes store compacts it, is over the limit is refused).
// Thread-safe.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>

#include "pkg/api/codec.h"
#include "pkg/store/status_store.h"

namespace rebootd::testing {

class MemoryStatusStore final : public store::StatusStore {
 public:
  Result<std::optional<store::Record>> Load(const std::string& key) override {
    std::lock_guard lock(mu_);
    auto it = records_.find(key);
    if (it == records_.end()) return std::optional<store::Record>();
    return std::optional<store::Record>(it->second);
  }
  Status Save(const store::Record& record) override {
    std::unique_lock lock(mu_);
    ++saves_;
    held_ += hold_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return !hold_; });
    if (fail_saves_ > 0) {
      --fail_saves_;
      return MakeError(ErrorCode::kUnavailable, "disk full (injected)");
    }
    if (size_limit_ > 0) {
      const size_t size = SizeOf(record);
      if (size > size_limit_) {
        ++refused_;
        return MakeError(ErrorCode::kUnavailable, "etcdserver: request is too large (injected)");
      }
      sizes_[record.request.Key()] = size;
    }
    if (record.request.status) {
      int in_flight = 0;
      for (const auto& i : record.request.status->instances) {
        in_flight +=
            i.state == api::InstanceState::kRequesting || i.state == api::InstanceState::kRebooting;
      }
      max_in_flight_ = std::max(max_in_flight_, in_flight);
    }
    records_[record.request.Key()] = record;
    return OkStatus();
  }
  std::optional<size_t> RoomBytes(const std::string& key) const override {
    std::lock_guard lock(mu_);
    auto it = sizes_.find(key);
    if (size_limit_ == 0 || it == sizes_.end()) return std::nullopt;
    const size_t target = size_limit_ / 10 * 9;
    return it->second >= target ? 0 : target - it->second;
  }
  // Refuses records over `bytes` from now on (0: no limit).
  void SetSizeLimit(size_t bytes) {
    std::lock_guard lock(mu_);
    size_limit_ = bytes;
  }
  int Refused() const {
    std::lock_guard lock(mu_);
    return refused_;
  }
  // The most instances in flight (Requesting or Rebooting) in any record saved.
  int MaxInFlight() const {
    std::lock_guard lock(mu_);
    return max_in_flight_;
  }
  Result<store::ListResult> List() override {
    std::lock_guard lock(mu_);
    store::ListResult out;
    for (const auto& [k, r] : records_) out.records.push_back(r);
    return out;
  }
  Status Delete(const std::string& key) override {
    std::lock_guard lock(mu_);
    records_.erase(key);
    return OkStatus();
  }
  // While held, Save() blocks (a hanging disk or API server) until Release().
  void Hold() {
    std::lock_guard lock(mu_);
    hold_ = true;
  }
  void Release() {
    std::lock_guard lock(mu_);
    hold_ = false;
    cv_.notify_all();
  }
  // Waits until a Save() is blocked by Hold(); false after `timeout`.
  bool WaitHeld(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return held_ > 0; });
  }
  void FailNextSaves(int n) {
    std::lock_guard lock(mu_);
    fail_saves_ = n;
  }
  int Saves() const {
    std::lock_guard lock(mu_);
    return saves_;
  }
  std::optional<store::Record> Get(const std::string& key) const {
    std::lock_guard lock(mu_);
    auto it = records_.find(key);
    if (it == records_.end()) return std::nullopt;
    return it->second;
  }
  void Put(store::Record r) {
    std::lock_guard lock(mu_);
    records_[r.request.Key()] = std::move(r);
  }

 private:
  // The object as written: the spec, and the status compacted by the codec the way
  // kube::CompactStatus does when it is over 60% of the limit.
  size_t SizeOf(const store::Record& record) const {
    json::Value object = api::ToJson(record.request, /*include_status=*/false);
    if (record.request.status) {
      object.Set("status", api::StatusToJson(*record.request.status, size_limit_ / 10 * 6));
    }
    return object.Dump().size();
  }

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool hold_ = false;
  int held_ = 0;
  std::map<std::string, store::Record> records_;
  std::map<std::string, size_t> sizes_;
  size_t size_limit_ = 0;
  int refused_ = 0;
  int max_in_flight_ = 0;
  int fail_saves_ = 0;
  int saves_ = 0;
};

}  // namespace rebootd::testing
