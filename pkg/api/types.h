// SPDX-License-Identifier: Apache-2.0
// The RebootRequest API (group rebootd.io, version v1alpha1; DESIGN.md §3): plain value types
// shared by the sources, the controller, the stores and the CLI. No I/O; not synchronised.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pkg/base/clock.h"
#include "pkg/base/provider.h"

namespace rebootd::api {

inline constexpr std::string_view kGroup = "rebootd.io";
inline constexpr std::string_view kVersion = "v1alpha1";
inline constexpr std::string_view kApiVersion = "rebootd.io/v1alpha1";
inline constexpr std::string_view kKind = "RebootRequest";
inline constexpr int kMaxInstances = 10000;
inline constexpr int64_t kDefaultTimeoutSeconds = 900;
inline constexpr int64_t kMaxTimeoutSeconds = 86400;

enum class Mode { kSoft, kHard, kSoftFirst };
std::string_view ModeName(Mode m);  // "Soft" | "Hard" | "SoftFirst"
std::optional<Mode> ParseMode(std::string_view s);

enum class Phase { kPending, kInProgress, kSucceeded, kFailed };
std::string_view PhaseName(Phase p);
std::optional<Phase> ParsePhase(std::string_view s);

// Per-instance state (DESIGN.md §4). Requesting = intent durably written, reboot call not yet
// known to be accepted.
enum class InstanceState { kPending, kRequesting, kRebooting, kSucceeded, kFailed };
std::string_view InstanceStateName(InstanceState s);
std::optional<InstanceState> ParseInstanceState(std::string_view s);
bool IsFinished(InstanceState s);

struct ObjectMeta {
  std::string name;
  std::string namespace_ = "default";
  std::string uid;
  std::string resource_version;
  int64_t generation = 1;
  std::optional<SystemTime> creation_timestamp;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
};

struct SecretRef {
  std::string name;
  friend bool operator==(const SecretRef&, const SecretRef&) = default;
};

struct RebootRequestSpec {
  Provider provider = Provider::kTencent;
  std::string region;
  std::vector<std::string> instance_ids;
  Mode mode = Mode::kSoft;
  bool dry_run = false;
  int64_t timeout_seconds = kDefaultTimeoutSeconds;
  std::optional<SecretRef> credentials_secret_ref;

  friend bool operator==(const RebootRequestSpec&, const RebootRequestSpec&) = default;
};

struct InstanceStatus {
  std::string id;
  InstanceState state = InstanceState::kPending;
  std::string reason;  // CamelCase, e.g. InstanceNotFound, NotRunning, Timeout, DryRunPassed
  std::string message;
  std::string request_id;  // the cloud's RequestId of the accepted reboot call
  int attempts = 0;        // reboot calls issued for this instance (escalation counts)
  std::optional<SystemTime> requested_at;  // intent written (Requesting)
  std::optional<SystemTime> accepted_at;   // reboot accepted (Rebooting)
  std::optional<SystemTime> completed_at;
  bool escalated = false;          // SoftFirst on Aliyun: the ForceStop call was made
  bool seen_transitional = false;  // a reboot was seen in progress after the intent
  // What the cloud showed for the instance just before the intent (the provider's evidence
  // text, e.g. "RUNNING RebootInstances:SUCCESS"): written durably with the intent, the
  // reference every later observation is judged against (DESIGN.md §4).
  std::string baseline;

  friend bool operator==(const InstanceStatus&, const InstanceStatus&) = default;
};

struct Summary {
  int total = 0;
  int pending = 0;
  int rebooting = 0;  // Requesting + Rebooting
  int succeeded = 0;
  int failed = 0;
  friend bool operator==(const Summary&, const Summary&) = default;
};

// metav1.Condition
struct Condition {
  std::string type;
  std::string status;  // "True" | "False" | "Unknown"
  std::string reason;
  std::string message;
  std::optional<SystemTime> last_transition_time;
  int64_t observed_generation = 0;
  friend bool operator==(const Condition&, const Condition&) = default;
};

struct RebootRequestStatus {
  Phase phase = Phase::kPending;
  int64_t observed_generation = 0;
  std::optional<SystemTime> started_at;
  std::optional<SystemTime> completed_at;
  Summary summary;
  std::vector<InstanceStatus> instances;
  std::vector<Condition> conditions;
  // Fingerprint of the spec the run started with; a different spec later is rejected.
  std::string spec_hash;

  friend bool operator==(const RebootRequestStatus&, const RebootRequestStatus&) = default;
};

struct RebootRequest {
  ObjectMeta metadata;
  RebootRequestSpec spec;
  std::optional<RebootRequestStatus> status;

  // "namespace/name": the work-queue key.
  std::string Key() const { return metadata.namespace_ + "/" + metadata.name; }
};

// Recomputes summary counts from the instance list.
Summary Summarize(const std::vector<InstanceStatus>& instances);
// A stable fingerprint of the spec fields that matter to a run (hex SHA-256 prefix).
std::string SpecHash(const RebootRequestSpec& spec);

}  // namespace rebootd::api
