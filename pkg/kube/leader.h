// SPDX-License-Identifier: Apache-2.0
// LeaderElector: leader election on a coordination.k8s.io/v1 Lease, as client-go does it. A
// candidate takes the lease when it is free or expired; expiry is judged on the LOCAL steady
// clock (leaseDurationSeconds after this process last saw the record change), so clock skew
// between replicas does not matter. The leader renews every retry period and steps down when it
// could not renew for renew_deadline (< lease_duration, so it stops acting before anyone else
// may start). Release() clears the holder on shutdown so a successor need not wait.
// Step() is one attempt (tests drive it with a ManualClock); Run() loops Step() on the clock.
// Thread-safe.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>

#include "pkg/base/clock.h"
#include "pkg/kube/client.h"

namespace rebootd::kube {

struct LeaderElectionOptions {
  std::string namespace_ = "default";
  std::string name = "rebootd-leader";
  std::string identity;  // unique per process, e.g. hostname_uuid
  Duration lease_duration = std::chrono::seconds(15);
  Duration renew_deadline = std::chrono::seconds(10);
  Duration retry_period = std::chrono::seconds(2);
  // Called on every transition (true: became leader; false: lost or released). Called on the
  // thread that runs Step()/Run()/Release(); must not call back into the elector.
  std::function<void(bool leader)> on_change;
  // For logs: failed attempts (no secrets).
  std::function<void(const std::string& message)> on_problem;
};

class LeaderElector {
 public:
  // `client` and `clock` must outlive the elector.
  LeaderElector(LeaderElectionOptions options, Client& client, Clock& clock);

  // One acquire-or-renew attempt at clock.SteadyNow(); updates IsLeader() and calls on_change on
  // a transition. Returns IsLeader().
  bool Step();
  // Steps every retry_period until `stop`; then releases the lease if held.
  void Run(std::stop_token stop);
  // Gives the lease up (holder cleared) when held; calls on_change(false).
  void Release();
  bool IsLeader() const;
  // True while this process leads and its last successful renewal is less than renew_deadline
  // before `now`. Unlike IsLeader(), it turns false on time even while a renew call hangs
  // (Step() only notices when the call returns, up to the client's call timeout later): the
  // daemon checks it on its own loop so that it stops acting within the renew deadline.
  bool RenewedWithinDeadline(SteadyTime now) const;
  const std::string& identity() const { return options_.identity; }

 private:
  // True when this process holds the lease after the attempt.
  bool TryAcquireOrRenew(SteadyTime now);
  void SetLeader(bool leader);

  const LeaderElectionOptions options_;
  Client& client_;
  Clock& clock_;

  mutable std::mutex mu_;
  bool leader_ = false;                     // guarded by mu_
  std::optional<SteadyTime> last_renewed_;  // guarded by mu_
  std::string observed_record_;             // holder|renewTime|transitions; guarded by mu_
  SteadyTime observed_at_{};                // guarded by mu_
  std::string resource_version_;            // of the lease as last seen; guarded by mu_
};

// "HOSTNAME_UUID" for LeaderElectionOptions::identity.
std::string MakeIdentity(const std::string& hostname, const std::string& uuid);

}  // namespace rebootd::kube
