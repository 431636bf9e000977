// SPDX-License-Identifier: Apache-2.0
// CloudProvider: what the controller needs from a cloud, in cloud-neutral terms. One instance per
// (provider, account, region); implementations wrap the vendor clients (aliyun/, tencent/) or
// are in-memory fakes (fake/). Thread-safe: the dispatcher and the poller call concurrently.
#pragma once

#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "pkg/base/clock.h"
#include "pkg/base/result.h"
#include "pkg/cloud/credentials.h"

namespace rebootd::cloud {

enum class RebootMode { kSoft, kHard, kSoftFirst };

// What one observation of an instance says.
struct Observation {
  enum class Phase {
    kRunning,       // RUNNING / Running
    kTransitional,  // REBOOTING, STARTING, STOPPING / Starting, Stopping: a reboot in progress
    kStopped,       // STOPPED, SHUTDOWN / Stopped
    kOther,         // PENDING, LAUNCH_FAILED, TERMINATING, Pending, anything unknown
  };
  std::string id;
  Phase phase = Phase::kOther;
  std::string raw_state;         // as the API said it
  bool security_locked = false;  // Aliyun OperationLocks contains "security"
  std::vector<std::string> lock_reasons;
  // Evidence of a reboot (DESIGN.md §4):
  std::optional<SystemTime> start_time;  // Aliyun StartTime (may have minute precision)
  std::string latest_operation;          // Tencent LatestOperation, e.g. "RebootInstances"
  std::string latest_operation_state;    // Tencent LatestOperationState, e.g. "SUCCESS"
};

struct RebootCall {
  std::vector<std::string> ids;  // 1..MaxRebootBatch()
  RebootMode mode = RebootMode::kSoft;
  // Aliyun: ForceStop=true (Hard, or the SoftFirst escalation). Ignored by Tencent, which
  // maps the mode to StopType.
  bool force = false;
  bool dry_run = false;  // only when SupportsDryRun()
};

struct RebootAccepted {
  std::string request_id;
  bool dry_run_passed = false;
};

class CloudProvider {
 public:
  virtual ~CloudProvider() = default;

  virtual Provider kind() const = 0;
  // A label for logs and bucket scoping, e.g. "tencent" or "aliyun/cn-hangzhou". No secrets.
  virtual std::string scope() const = 0;
  // Most IDs one reboot call may carry: 100 (Tencent ECM), 1 (Aliyun ECS).
  virtual size_t MaxRebootBatch() const = 0;
  // True when the API has a dry-run flag for reboots (Aliyun); otherwise the controller emulates
  // a dry run by describing instances.
  virtual bool SupportsDryRun() const = 0;

  // Makes exactly ONE reboot call for `call.ids`. NOT IDEMPOTENT. Blocks while waiting for the
  // rate limiter and for the answer. Errors are the vendor client's (see its header):
  //  kResourceExhausted: throttled, nothing happened; retry later.
  //  kFailedPrecondition: some instance is in the wrong state; nothing happened (a Tencent batch
  //    is all-or-nothing); re-check the instances.
  //  kNotFound / kInvalidArgument / kPermissionDenied / kUnauthenticated: terminal; for a
  //    batch, nothing happened and Error::message may name the offending IDs.
  //  ambiguous == true (timeout, reset, 5xx): the reboot may have happened; poll, never re-send.
  //  kCancelled: stopped while waiting for the rate limiter; nothing sent.
  virtual Result<RebootAccepted> Reboot(const RebootCall& call, std::stop_token stop) = 0;

  // Observes `ids` with as few API calls as possible (the provider picks per-ID queries or a
  // scan of the account, see PollPlan). IDs that do not exist are absent from the result.
  // Errors: the describe calls' errors after their retries (transient, throttled, auth).
  virtual Result<std::vector<Observation>> Describe(const std::vector<std::string>& ids,
                                                    std::stop_token stop) = 0;
};

// The polling plans (DESIGN.md §5) and their cost in API calls.
enum class PollPlan { kPerId, kAccountScan };
struct PollChoice {
  PollPlan plan;
  int64_t calls;
};
// Picks the cheaper plan for observing `ids` instances: per-ID queries carrying `per_call` IDs
// each, or a scan of `account_total` instances in pages of `page_size` (account_total < 0 means
// unknown, which rules the scan out). Ties go to kPerId.
PollChoice ChoosePollPlan(int64_t ids, int64_t per_call, int64_t account_total, int64_t page_size);

}  // namespace rebootd::cloud
