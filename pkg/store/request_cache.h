// SPDX-License-Identifier: Apache-2.0
// RequestCache: the in-memory cache of DESIRED RebootRequests (metadata + spec), keyed
// "namespace/name" (api::RebootRequest::Key()). Sources write it; readers share immutable
// snapshots (a 10,000-ID request is not copied on every reconcile).
// Thread-safe: every method may be called from any thread.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "pkg/api/types.h"

namespace rebootd::store {

class RequestCache {
 public:
  RequestCache() = default;
  RequestCache(const RequestCache&) = delete;
  RequestCache& operator=(const RequestCache&) = delete;

  // Stores `request` (its status, if any, is dropped: status lives in the StatusStore). Returns
  // true when the key is new or when spec, labels or generation differ from the cached copy;
  // false otherwise. The stored copy is replaced either way, so fields that do not count as a
  // change (e.g. resourceVersion, annotations) are still kept current.
  bool Upsert(api::RebootRequest request);
  // Removes `key`. Returns true when it was present.
  bool Delete(const std::string& key);
  // The cached request (an immutable snapshot, still valid after later Upserts), or nullptr.
  std::shared_ptr<const api::RebootRequest> Get(const std::string& key) const;
  // All keys, sorted.
  std::vector<std::string> Keys() const;
  size_t Size() const;

  // Set by a source after its first full listing; readers must not treat an absent key as
  // "deleted" before Synced() is true.
  void MarkSynced();
  bool Synced() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<const api::RebootRequest>> items_;  // guarded by mu_
  bool synced_ = false;                                                     // guarded by mu_
};

}  // namespace rebootd::store
