// SPDX-License-Identifier: Apache-2.0
// Engine: the simulator's state and request handling behind sim::Simulator (internal header).
// Every public method takes mu_; the on_call callback runs outside it. Thread-safe.
#pragma once

#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "pkg/base/clock.h"
#include "pkg/base/random.h"
#include "pkg/cloud/aliyun/signer.h"
#include "pkg/http/server.h"
#include "pkg/json/json.h"
#include "pkg/sim/auth.h"
#include "pkg/sim/faults.h"
#include "pkg/sim/instances.h"
#include "pkg/sim/simulator.h"

namespace rebootd::sim {

inline constexpr const char* kTencentProvider = "tencent";
inline constexpr const char* kAliyunProvider = "aliyun";
inline constexpr const char* kOtherAction = "_other";
inline constexpr const char* kTencentVersion = "2019-07-19";
inline constexpr const char* kAliyunVersion = "2014-05-26";
inline constexpr int kDefaultRateLimit = 20;

// Known actions per provider ("tencent.RebootInstances", ...), the rate-limit keys.
const std::vector<std::string>& KnownActionKeys();
bool IsKnownAction(std::string_view provider, std::string_view action);

// What an action produced: an error, or a result object (without RequestId).
struct ActionResult {
  std::optional<ApiError> error;
  json::Value body = json::Value::MakeObject();
  bool effect = false;      // instances started rebooting (or a stuck stop was forced)
  int batch_size = 0;       // instances rebooted by this call
  bool soft_stuck = false;  // the soft-stuck fault applied to this call
};

// Rate-window bookkeeping over ascending steady times. Calls are stamped when they arrive, before
// the engine lock is taken, so a call may be recorded after a later one; windows are therefore
// evaluated around the stamp, not only at the newest entry.
// The number of calls in the busiest window (x - 1 s, x] that contains `t`, counting `t` and the
// times in `sorted` (every such window ends at t or at a recorded time in (t, t + 1 s)).
int64_t BusiestWindowWith(const std::deque<SteadyTime>& sorted, SteadyTime t);
// Inserts `t` keeping `sorted` ascending; drops entries more than 2 s older than the newest.
void InsertSorted(std::deque<SteadyTime>& sorted, SteadyTime t);

class Engine {
 public:
  Engine(const SimOptions& options, Clock& clock, InstanceModel model, KeyStore tencent_keys,
         KeyStore aliyun_keys);

  http::ServerResponse Handle(const http::ServerRequest& request);
  // The simulator's wall-clock time.
  SystemTime Now() const { return clock_.Now(); }

  Report GetReport() const;
  json::Value InstancesJson() const;
  void SetFaults(std::vector<FaultRule> faults);
  std::vector<FaultRule> Faults() const;
  void ResetReport();
  std::optional<std::string> InstanceState(cloud::Provider provider, const std::string& id) const;
  int64_t RebootCount(cloud::Provider provider, const std::string& id) const;

 private:
  struct ActionState {
    ActionReport report;
    std::deque<SteadyTime> arrivals;  // all calls of the last 2 s, ascending
    std::deque<SteadyTime> accepted;  // calls that passed the rate limiter in the last 2 s
  };

  http::ServerResponse HandleControl(const http::ServerRequest& request);
  // `arrived`: when the call reached the simulator (rate accounting uses it, not lock time).
  http::ServerResponse HandleTencent(const http::ServerRequest& request, SteadyTime arrived,
                                     CallRecord* record);
  http::ServerResponse HandleAliyun(const http::ServerRequest& request, bool acs3,
                                    SteadyTime arrived, CallRecord* record);

  // Tencent actions (tencent_api.cc).
  ActionResult TencentRebootInstances(const json::Value& params, SteadyTime now,
                                      const std::string& request_id);
  ActionResult TencentDescribeInstances(const json::Value& params, SteadyTime now);
  // Aliyun actions (aliyun_api.cc).
  ActionResult AliyunRebootInstance(const cloud::aliyun::Params& params, SteadyTime now,
                                    SystemTime wall);
  ActionResult AliyunDescribeInstanceStatus(const cloud::aliyun::Params& params, SteadyTime now);
  ActionResult AliyunDescribeInstances(const cloud::aliyun::Params& params, SteadyTime now);
  json::Value AliyunInstanceJson(const AliyunInstance& instance, SteadyTime now) const;

  ActionState& Stats(std::string_view provider, std::string_view action);
  void RecordArrival(ActionState& state, SteadyTime arrived);
  // True when the call must be throttled; otherwise counts it as accepted.
  bool Throttle(ActionState& state, SteadyTime arrived);
  Duration DrawRebootDuration();
  std::string NewRequestId(bool upper);
  std::string FormatStartTime(SystemTime t) const;
  Report BuildReport() const;

  // Constant after construction.
  Clock& clock_;
  double reboot_seconds_;
  double reboot_jitter_;
  bool start_time_with_seconds_;
  std::map<std::string, int> rate_limits_;
  KeyStore tencent_keys_;
  KeyStore aliyun_keys_;
  std::function<void(const CallRecord&)> on_call_;

  mutable std::mutex mu_;
  SeededRandom random_;  // guarded by mu_
  // guarded by mu_; mutable because readers fold finished reboots in (Settle).
  mutable InstanceModel model_;
  NonceCache nonces_;                                                // guarded by mu_
  FaultInjector faults_;                                             // guarded by mu_
  std::map<std::string, std::map<std::string, ActionState>> stats_;  // guarded by mu_
  // Aliyun RebootInstance calls per InstanceId as sent, in arrival order; at most
  // kMaxLoggedRebootCalls in all (then no more are logged). Guarded by mu_.
  std::map<std::string, std::vector<AliyunRebootCall>> aliyun_reboot_calls_;
  size_t logged_reboot_calls_ = 0;  // guarded by mu_
};

}  // namespace rebootd::sim
