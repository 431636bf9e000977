// SPDX-License-Identifier: Apache-2.0
// Integration harness: the real simulator (pkg/sim) serving on a loopback port, and our real
// clients (EcsClient / EcmClient over CpprestTransport, on the SystemClock) pointed at it.
//
// By default the simulator runs on a ManualClock that starts at the current wall time: client
// signatures (signed with the real time) verify, while the simulator's rate-limit windows and
// reboot state machines only move when a test calls AdvanceSim(). That keeps throttling and
// reboot completion deterministic. `real_time = true` runs the simulator on the SystemClock too.
// Every HTTP attempt of a client is recorded; `on_attempt` lets a test react between attempts
// (e.g. clear a fault so that the client's retry succeeds).
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "pkg/base/clock.h"
#include "pkg/base/random.h"
#include "pkg/cloud/aliyun/ecs_client.h"
#include "pkg/cloud/call.h"
#include "pkg/cloud/credentials.h"
#include "pkg/cloud/tencent/ecm_client.h"
#include "pkg/http/cpprest_transport.h"
#include "pkg/ratelimit/limiter.h"
#include "pkg/sim/simulator.h"

namespace rebootd::integration {

// Tencent: ein-running1..3 (RUNNING), ein-stopped1 (STOPPED).
// Aliyun (cn-hangzhou): i-run1..3 (Running), i-stop1 (Stopped), i-lock1 (locked for security);
// (cn-beijing): i-bj1 (Running).
sim::Inventory DefaultInventory();
// DefaultInventory(), reboots of exactly 10 s, seed 11, default rate limits.
sim::SimOptions DefaultSimOptions();

// Short backoffs so that retries do not slow the suite down.
cloud::aliyun::EcsClientOptions FastEcsOptions();
cloud::tencent::EcmClientOptions FastEcmOptions();

class Harness {
 public:
  explicit Harness(sim::SimOptions options = DefaultSimOptions(), bool real_time = false);
  ~Harness();

  sim::Simulator& sim() { return *sim_; }
  std::string endpoint() const { return sim_->BaseUrl(); }
  // Moves the simulator's clock (both its wall and steady time). Only without real_time.
  void AdvanceSim(Duration d);

  // Clients with the demo keys (or `credentials` when given), pointed at the simulator.
  std::unique_ptr<cloud::aliyun::EcsClient> Ecs(
      cloud::aliyun::SignatureMethod method = cloud::aliyun::SignatureMethod::kRpcV1,
      cloud::aliyun::EcsClientOptions options = FastEcsOptions(),
      const cloud::Credentials* credentials = nullptr, ratelimit::Limiter* limiter = nullptr);
  std::unique_ptr<cloud::tencent::EcmClient> Ecm(
      cloud::tencent::EcmClientOptions options = FastEcmOptions(),
      const cloud::Credentials* credentials = nullptr, ratelimit::Limiter* limiter = nullptr);

  // Every HTTP attempt the clients made, in order.
  std::vector<cloud::CallRecord> Attempts() const;
  std::vector<std::string> AttemptCodes() const;
  // Called after each attempt is recorded, on the client's thread.
  std::function<void(const cloud::CallRecord&)> on_attempt;

  // Report shortcuts.
  sim::ActionReport TencentAction(const std::string& action) const;
  sim::ActionReport AliyunAction(const std::string& action) const;
  int64_t TencentReboots(const std::string& id) const;
  int64_t AliyunReboots(const std::string& id) const;

  http::CpprestTransport& transport() { return transport_; }

 private:
  void Record(const cloud::CallRecord& record);

  bool real_time_;
  ManualClock sim_clock_;
  std::unique_ptr<sim::Simulator> sim_;
  http::CpprestTransport transport_;
  SeededRandom random_{20260101};

  mutable std::mutex mu_;
  std::vector<cloud::CallRecord> attempts_;  // guarded by mu_
};

// A fault rule with probability 1 (every matching call).
sim::FaultRule Always(sim::FaultKind kind, std::string action);

}  // namespace rebootd::integration
