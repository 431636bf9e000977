// SPDX-License-Identifier: Apache-2.0
// CloudProvider: what the controller needs from a cloud, in cloud-neutral terms. One instance per
// (provider, account, region); implementations wrap the vendor clients (aliyun/, tencent/) or
// are in-memory fakes (fake/). Thread-safe: the dispatcher and the poller call concurrently.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "pkg/base/clock.h"
#include "pkg/base/result.h"
#include "pkg/cloud/credentials.h"

namespace rebootd::cloud {

enum class RebootMode { kSoft, kHard, kSoftFirst };

// What one observation of an instance says, in cloud-neutral terms. The cloud-specific facts a
// reboot changes travel as `evidence`, a short text only the provider that made it reads (see
// Read() below); the controller stores it as the instance's baseline and never parses it.
struct Observation {
  enum class Phase {
    kRunning,       // running, with no operation in progress: a reboot may be asked for
    kTransitional,  // a reboot, stop, start or other operation is in progress
    kStopped,       // stopped (STOPPED, SHUTDOWN / Stopped)
    kOther,         // PENDING, LAUNCH_FAILED, TERMINATING, Pending, anything unknown
  };
  std::string id;
  Phase phase = Phase::kOther;
  std::string raw_state;  // as the API said it, for messages (e.g. "REBOOTING", "Stopping")
  // On its way down: a shutdown that has not finished (SoftFirst escalates only such instances
  // or ones that show no sign of the soft reboot at all).
  bool stopping = false;
  bool security_locked = false;  // locked for security reasons: a reboot is refused
  std::vector<std::string> lock_reasons;
  // The provider's record of what a reboot changes (DESIGN.md §4), e.g. Tencent
  // "RUNNING RebootInstances:SUCCESS", Aliyun "Running 2026-12-02T16:15Z". Opaque to the
  // controller; at most a few dozen characters.
  std::string evidence;
  // When the observation was made: the describe call was sent at or after `from` and answered
  // at or before `until` (the provider's Clock; Clock::Now()).
  SystemTime from{};
  SystemTime until{};
};

// What one observation, read against the instance's baseline (the evidence of an observation
// made while it was running, before its reboot call), says about a reboot since the baseline.
enum class Sign {
  kInProgress,      // a reboot is visibly under way (REBOOTING, a running reboot operation;
                    // Stopping/Starting)
  kRebooted,        // running, and the evidence moved away from the baseline the way a finished
                    // reboot moves it (a new finished RebootInstances; a later StartTime)
  kRebootFailed,    // running, and the cloud reports that a reboot begun after the baseline failed
  kUnchanged,       // running with the baseline's evidence, which any finished reboot would
                    // have moved: no reboot happened since the baseline
  kUnchangedMaybe,  // running with evidence a finished reboot could also have left as it was
                    // (the baseline already showed a finished reboot; minute-precision times; an
                    // unrelated later operation): only an observed reboot in progress can tell
  kNotRunning,      // stopped, or in another state that is neither running nor a reboot
};
std::string_view SignName(Sign s);

// One describe call's worth of observations (Observe's sink).
struct ObservedChunk {
  // Observations the call returned; an account scan may return instances that were not asked
  // for (the caller ignores those it does not watch).
  std::vector<Observation> observations;
  // Asked-for IDs the provider has established do not exist.
  std::vector<std::string> absent;
};
// Called on the thread that runs Observe or on one of its helper threads, one call at a time
// (providers serialise it with SerialSink).
using ChunkSink = std::function<void(ObservedChunk)>;

// Wraps a sink so that calls from several threads reach it one at a time.
class SerialSink {
 public:
  explicit SerialSink(const ChunkSink& sink) : sink_(sink) {}
  void operator()(ObservedChunk chunk) {
    std::lock_guard lock(mu_);
    if (sink_) sink_(std::move(chunk));
  }

 private:
  const ChunkSink& sink_;
  std::mutex mu_;
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
  // scan of the account, see PollPlan) and hands each call's observations to `sink` as soon as
  // it is answered, so that a caller can act on the first pages of a long scan. Every asked-for
  // ID is either observed or reported absent once Observe returns OK. Blocks; stamps each
  // Observation's from/until. Errors: the describe calls' errors after their retries
  // (transient, throttled, auth); chunks delivered before the error stand.
  virtual Status Observe(const std::vector<std::string>& ids, std::stop_token stop,
                         const ChunkSink& sink) = 0;

  // Observe() collected: the observations of `ids` (absent IDs are missing from the result).
  Result<std::vector<Observation>> Describe(const std::vector<std::string>& ids,
                                            std::stop_token stop);

  // The evidence rules of this cloud (DESIGN.md §4): what `now` says about a reboot since
  // `baseline` (the `evidence` of an observation made while the instance was kRunning). Pure and
  // thread-safe; an empty or unreadable baseline reads as kUnchangedMaybe for a running instance.
  virtual Sign Read(std::string_view baseline, const Observation& now) const = 0;

  // The instance failure reason (CamelCase, for status and events) for a terminal error of a
  // reboot call: InstanceNotFound, InstanceLocked, InstanceExpired, NotRunning,
  // InvalidInstanceId, Unauthenticated, PermissionDenied, InvalidRequest or RebootFailed.
  virtual std::string FailureReason(const Error& error) const = 0;
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
