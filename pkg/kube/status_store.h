// SPDX-License-Identifier: Apache-2.0
// KubeStatusStore: the StatusStore of Kubernetes mode. A run record IS the RebootRequest object:
// Save() writes record.request.status through the status subresource (PUT .../status) with the
// object's resourceVersion (and uid) as preconditions; on 409 it re-reads the object and retries,
// so Save() returns OK only once the server accepted the write (DESIGN.md §4: the intent is in
// status before the reboot call). Load() and List() read objects; those without a status (never
// started) come back with status nullopt. Delete() only forgets the cached resourceVersion: the
// status lives and dies with the object.
//
// Finalizer decision: rebootd adds NO finalizer. Deleting a RebootRequest mid-run means "issue no
// further reboots"; reboots already accepted cannot be recalled, and a finalizer would only keep
// the object (and block namespace deletion whenever rebootd is down or uninstalled) to hold a
// status nobody can read after the delete completes. Cancellation is reported instead as a
// Warning Event on the request (Events outlive the object) and in logs; Save() of a deleted
// object returns kNotFound, so no reboot can follow an intent that was not stored.
// Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "pkg/kube/client.h"
#include "pkg/store/status_store.h"

namespace rebootd::kube {

struct KubeStatusStoreOptions {
  std::string namespace_;        // "" = all namespaces (List)
  int max_conflict_retries = 5;  // re-read + retry rounds after 409 before kAborted
  // etcd refuses objects over 1.5 MiB by default, and 10,000 instances with every detail take
  // about 2.7 MB. Above this size the written status is compacted (see CompactStatus).
  size_t max_object_bytes = 1000000;
  // The size the API server refuses (etcd's default request limit, 1.5 MiB, answered as 500
  // "etcdserver: request is too large"). RoomBytes() is measured against 90% of it.
  size_t object_limit_bytes = 1572864;
};

// When `object` (a RebootRequest with `run` as its status) serialises to more than `max_bytes`,
// rewrites its status with api::StatusToJson(run, budget) so that it fits: finished instances are
// written compactly first; in-flight ones keep everything a restart needs (requestedAt,
// acceptedAt, attempts, requestId, escalation and transition flags); every instance keeps an
// entry. Adds the condition StatusCompacted=True. Returns 1 when compacted, 0 otherwise.
int CompactStatus(json::Value& object, const api::RebootRequestStatus& run, size_t max_bytes);

class KubeStatusStore final : public store::StatusStore {
 public:
  // `client` must outlive the store.
  KubeStatusStore(KubeStatusStoreOptions options, Client& client);

  // kNotFound is never returned: a missing object is nullopt.
  Result<std::optional<store::Record>> Load(const std::string& key) override;
  // Errors: kNotFound when the object is gone or was replaced by another with the same name (a
  // different uid): do not reboot, drop the run; kAborted after max_conflict_retries conflicts
  // (retry later); kUnavailable / kDeadlineExceeded (retry; do NOT make the cloud call);
  // kInvalidArgument / kPermissionDenied from the server (terminal until fixed).
  Status Save(const store::Record& record) override;
  Result<store::ListResult> List() override;
  Status Delete(const std::string& key) override;
  // object_limit_bytes * 0.9 minus the size of the last status written for `key`.
  std::optional<size_t> RoomBytes(const std::string& key) const override;

 private:
  const KubeStatusStoreOptions options_;
  Client& client_;
  mutable std::mutex mu_;
  std::map<std::string, std::string> versions_;  // key -> last known resourceVersion; mu_
  std::map<std::string, size_t> sizes_;          // key -> bytes of the last write; mu_
};

}  // namespace rebootd::kube
