// SPDX-License-Identifier: Apache-2.0
#include "pkg/api/types.h"

#include "pkg/crypto/crypto.h"

namespace rebootd::api {

std::string_view ModeName(Mode m) {
  switch (m) {
    case Mode::kSoft:
      return "Soft";
    case Mode::kHard:
      return "Hard";
    case Mode::kSoftFirst:
      return "SoftFirst";
  }
  return "Soft";
}

std::optional<Mode> ParseMode(std::string_view s) {
  if (s == "Soft") return Mode::kSoft;
  if (s == "Hard") return Mode::kHard;
  if (s == "SoftFirst") return Mode::kSoftFirst;
  return std::nullopt;
}

std::string_view PhaseName(Phase p) {
  switch (p) {
    case Phase::kPending:
      return "Pending";
    case Phase::kInProgress:
      return "InProgress";
    case Phase::kSucceeded:
      return "Succeeded";
    case Phase::kFailed:
      return "Failed";
  }
  return "Pending";
}

std::optional<Phase> ParsePhase(std::string_view s) {
  if (s == "Pending") return Phase::kPending;
  if (s == "InProgress") return Phase::kInProgress;
  if (s == "Succeeded") return Phase::kSucceeded;
  if (s == "Failed") return Phase::kFailed;
  return std::nullopt;
}

std::string_view InstanceStateName(InstanceState s) {
  switch (s) {
    case InstanceState::kPending:
      return "Pending";
    case InstanceState::kRequesting:
      return "Requesting";
    case InstanceState::kRebooting:
      return "Rebooting";
    case InstanceState::kSucceeded:
      return "Succeeded";
    case InstanceState::kFailed:
      return "Failed";
  }
  return "Pending";
}

std::optional<InstanceState> ParseInstanceState(std::string_view s) {
  if (s == "Pending") return InstanceState::kPending;
  if (s == "Requesting") return InstanceState::kRequesting;
  if (s == "Rebooting") return InstanceState::kRebooting;
  if (s == "Succeeded") return InstanceState::kSucceeded;
  if (s == "Failed") return InstanceState::kFailed;
  return std::nullopt;
}

bool IsFinished(InstanceState s) {
  return s == InstanceState::kSucceeded || s == InstanceState::kFailed;
}

Summary Summarize(const std::vector<InstanceStatus>& instances) {
  Summary s;
  s.total = static_cast<int>(instances.size());
  for (const auto& i : instances) {
    switch (i.state) {
      case InstanceState::kPending:
        ++s.pending;
        break;
      case InstanceState::kRequesting:
      case InstanceState::kRebooting:
        ++s.rebooting;
        break;
      case InstanceState::kSucceeded:
        ++s.succeeded;
        break;
      case InstanceState::kFailed:
        ++s.failed;
        break;
    }
  }
  return s;
}

std::string SpecHash(const RebootRequestSpec& spec) {
  std::string canon;
  canon += ProviderName(spec.provider);
  canon += '\n' + spec.region + '\n';
  canon += ModeName(spec.mode);
  canon += spec.dry_run ? "\ndry\n" : "\nreal\n";
  canon += std::to_string(spec.timeout_seconds) + '\n';
  canon += spec.credentials_secret_ref ? spec.credentials_secret_ref->name : "";
  for (const auto& id : spec.instance_ids) canon += '\n' + id;
  return crypto::Sha256Hex(canon).substr(0, 16);
}

}  // namespace rebootd::api
