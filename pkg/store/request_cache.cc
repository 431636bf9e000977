// SPDX-License-Identifier: Apache-2.0
#include "pkg/store/request_cache.h"

#include <utility>

namespace rebootd::store {

bool RequestCache::Upsert(api::RebootRequest request) {
  request.status.reset();
  std::string key = request.Key();
  std::lock_guard lock(mu_);
  auto it = items_.find(key);
  auto snapshot = std::make_shared<const api::RebootRequest>(std::move(request));
  if (it == items_.end()) {
    items_.emplace(std::move(key), std::move(snapshot));
    return true;
  }
  const api::RebootRequest& old = *it->second;
  bool changed = old.spec != snapshot->spec || old.metadata.labels != snapshot->metadata.labels ||
                 old.metadata.generation != snapshot->metadata.generation;
  it->second = std::move(snapshot);
  return changed;
}

bool RequestCache::Delete(const std::string& key) {
  std::lock_guard lock(mu_);
  return items_.erase(key) > 0;
}

std::shared_ptr<const api::RebootRequest> RequestCache::Get(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = items_.find(key);
  if (it == items_.end()) return nullptr;
  return it->second;
}

std::vector<std::string> RequestCache::Keys() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> keys;
  keys.reserve(items_.size());
  for (const auto& [key, unused] : items_) keys.push_back(key);
  return keys;
}

size_t RequestCache::Size() const {
  std::lock_guard lock(mu_);
  return items_.size();
}

void RequestCache::MarkSynced() {
  std::lock_guard lock(mu_);
  synced_ = true;
}

bool RequestCache::Synced() const {
  std::lock_guard lock(mu_);
  return synced_;
}

}  // namespace rebootd::store
