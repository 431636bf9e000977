// SPDX-License-Identifier: Apache-2.0
// MemoryStatusStore: an in-memory StatusStore for controller tests, with failure injection and a
// count of saves. Thread-safe.
#pragma once

#include <map>
#include <mutex>

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
    std::lock_guard lock(mu_);
    ++saves_;
    if (fail_saves_ > 0) {
      --fail_saves_;
      return MakeError(ErrorCode::kUnavailable, "disk full (injected)");
    }
    records_[record.request.Key()] = record;
    return OkStatus();
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
  mutable std::mutex mu_;
  std::map<std::string, store::Record> records_;
  int fail_saves_ = 0;
  int saves_ = 0;
};

}  // namespace rebootd::testing
