// SPDX-License-Identifier: Apache-2.0
// KubeSource: keeps the RequestCache in line with the RebootRequest custom resources
// (rebootrequests.rebootd.io/v1alpha1) of one namespace or of all: list, then watch from the
// list's resourceVersion with bookmarks; relist on 410 Gone; reconnect with jittered exponential
// backoff when a stream breaks; relist periodically (resync: every key is notified again).
// Objects that do not decode (pkg/api's JSON codec) are reported and kept out of the cache.
// Thread-safe; one background thread.
#pragma once

#include <functional>
#include <mutex>
#include <set>
#include <stop_token>
#include <string>
#include <thread>

#include "pkg/base/clock.h"
#include "pkg/base/random.h"
#include "pkg/kube/client.h"
#include "pkg/source/source.h"
#include "pkg/store/request_cache.h"

namespace rebootd::kube {

struct KubeSourceOptions {
  std::string namespace_;  // "" = all namespaces
  Duration resync = std::chrono::minutes(5);
  Duration backoff_initial = std::chrono::milliseconds(500);
  Duration backoff_max = std::chrono::seconds(30);
  int64_t watch_timeout_seconds = 300;  // each watch request ends after at most this
  // Objects per list page: each can be up to 1.5 MiB (etcd), and a page must fit the transport's
  // body limit (64 MiB, kube::TransportOptionsFor).
  int64_t page_size = 25;
  // Called (from the source's threads) for objects that do not decode and for list/watch
  // failures; for logs. Messages hold no secrets.
  std::function<void(const std::string& message)> on_problem;
};

class KubeSource final : public source::Source {
 public:
  // Every reference must outlive the source.
  KubeSource(KubeSourceOptions options, Client& client, store::RequestCache& cache,
             source::Notify notify, Clock& clock, Random& random);
  ~KubeSource() override;

  // Lists once (synchronously), marks the cache synced and starts watching. Errors: the list's
  // (kUnauthenticated, kPermissionDenied, kNotFound when the CRD is not installed, kUnavailable).
  Status Start() override;
  void Stop() override;

  // One list + cache update (what Start() and a relist do). For tests.
  Status RelistForTest() { return Relist(); }
  // One watch from the current resourceVersion until the stream ends; a 410 relists. For tests.
  Status WatchOnceForTest();
  std::string resource_version() const;

 private:
  Status Relist();
  Status WatchOnce(std::stop_token stop, int64_t timeout_seconds);
  void Loop(std::stop_token stop);
  void Problem(const std::string& message);
  // Applies one object; returns its key ("" when it did not decode).
  std::string Apply(const json::Value& object, bool notify_unchanged);

  const KubeSourceOptions options_;
  Client& client_;
  store::RequestCache& cache_;
  const source::Notify notify_;
  Clock& clock_;
  Random& random_;

  mutable std::mutex mu_;
  std::string resource_version_;  // guarded by mu_
  std::set<std::string> known_;   // keys this source put in the cache; guarded by mu_
  std::jthread thread_;
};

}  // namespace rebootd::kube
