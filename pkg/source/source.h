// SPDX-License-Identifier: Apache-2.0
// Source: something that keeps the store::RequestCache in line with where desired
// RebootRequests live (a manifest folder, a Kubernetes custom resource), and tells the
// controller which keys it touched.
#pragma once

#include <functional>
#include <string>

#include "pkg/base/result.h"

namespace rebootd::source {

// Called by a source AFTER it updated the RequestCache for `key` ("namespace/name"): the request
// was added, changed or deleted (Get() then returns nullopt). Called from the source's own
// threads (or the thread that called Start()/Rescan()); must be quick and thread-safe (typically
// a work-queue Add) and must not call back into the source.
using Notify = std::function<void(const std::string& key)>;

class Source {
 public:
  virtual ~Source();
  // Loads everything once, synchronously, marks the cache synced, then keeps watching in the
  // background. An error means the source cannot run (configuration): do not retry.
  [[nodiscard]] virtual Status Start() = 0;
  // Stops watching; returns once background work has ended. Idempotent; safe without Start().
  virtual void Stop() = 0;
};

}  // namespace rebootd::source
