// SPDX-License-Identifier: Apache-2.0
// FakeProvider: an in-memory CloudProvider with the reboot state machine of either cloud and
// scripted faults, for deterministic controller tests on a ManualClock. Its observations and
// evidence rules are the real providers' (tencent/evidence.h, aliyun/evidence.h), made from the
// fields those clouds would return; an instance may carry an earlier reboot in its history.
// Thread-safe.
#pragma once

#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "pkg/base/clock.h"
#include "pkg/cloud/provider.h"

namespace rebootd::cloud::fake {

struct FakeOptions {
  Provider kind = Provider::kTencent;
  Duration reboot_duration = std::chrono::seconds(3);
  size_t max_batch = 100;  // 100 for Tencent, 1 for Aliyun
  // Aliyun StartTime with seconds ("2026-01-01T00:00:05Z") or, as the API usually writes it, at
  // minute precision ("2026-01-01T00:00Z").
  bool start_time_with_seconds = true;
};

// A scripted answer for the next reboot call.
struct ScriptedReboot {
  Error error;
  bool apply_effect = false;  // the reboot happens although the caller sees `error`
};

class FakeProvider final : public CloudProvider {
 public:
  FakeProvider(FakeOptions options, Clock& clock);

  enum class State { kRunning, kStopped, kLocked };
  // `rebooted_before`: the instance was rebooted before (Tencent: LatestOperation
  // RebootInstances SUCCESS; Aliyun: StartTime one hour ago instead of a day ago).
  void AddInstance(const std::string& id, State state = State::kRunning,
                   bool rebooted_before = false);
  // Fails the next reboot calls, in order.
  void ScriptReboot(ScriptedReboot s);
  // Makes Describe fail `n` times with `e`.
  void FailDescribes(int n, Error e);

  int RebootsOf(const std::string& id) const;  // effective reboots of an instance
  int RebootCalls() const;                     // calls received (including failed ones)
  std::vector<size_t> BatchSizes() const;
  int DescribeCalls() const;
  bool LastForce(const std::string& id) const;

  // CloudProvider
  Provider kind() const override { return options_.kind; }
  std::string scope() const override { return "fake"; }
  size_t MaxRebootBatch() const override { return options_.max_batch; }
  bool SupportsDryRun() const override { return options_.kind == Provider::kAliyun; }
  Result<RebootAccepted> Reboot(const RebootCall& call, std::stop_token stop) override;
  Status Observe(const std::vector<std::string>& ids, std::stop_token stop,
                 const ChunkSink& sink) override;
  Sign Read(std::string_view baseline, const Observation& now) const override;
  std::string FailureReason(const Error& error) const override;

 private:
  struct Instance {
    State state = State::kRunning;
    std::optional<SystemTime> reboot_started;
    SystemTime start_time{};
    int reboots = 0;
    bool last_force = false;
    std::string latest_operation;  // Tencent LatestOperation ("" or "RebootInstances")
  };
  Observation ObserveLocked(const std::string& id, const Instance& inst) const;

  const FakeOptions options_;
  Clock& clock_;
  mutable std::mutex mu_;
  std::map<std::string, Instance> instances_;  // guarded by mu_
  std::deque<ScriptedReboot> script_;          // guarded by mu_
  int describe_failures_ = 0;                  // guarded by mu_
  Error describe_error_;                       // guarded by mu_
  int reboot_calls_ = 0;                       // guarded by mu_
  int describe_calls_ = 0;                     // guarded by mu_
  std::vector<size_t> batch_sizes_;            // guarded by mu_
  int next_request_ = 1;                       // guarded by mu_
};

}  // namespace rebootd::cloud::fake
