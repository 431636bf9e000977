// SPDX-License-Identifier: Apache-2.0
// Fault injection rules for the simulator: which fault, for which calls, how often. Parsing of
// the `--fault KIND[:ACTION]=PROBABILITY` flag and of the /_sim/faults JSON. The FaultInjector
// draws from an injected Random; it is not thread-safe (the simulator calls it under its lock).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pkg/base/random.h"
#include "pkg/base/result.h"
#include "pkg/json/json.h"

namespace rebootd::sim {

enum class FaultKind {
  kErrorBefore,  // "error-before": InternalError, no effect
  kErrorAfter,   // "error-after": the effect happens, then InternalError
  kUnavailable,  // "unavailable": HTTP 503, no effect
  kThrottle,     // "throttle": the provider's throttling error, no effect
  kReset,        // "reset": connection reset, no effect
  kResetAfter,   // "reset-after": the effect happens, then the connection is reset
  kHang,         // "hang": no answer, no effect
  kHangAfter,    // "hang-after": the effect happens, then no answer
  // "soft-stuck": changes the effect, not the answer. An Aliyun RebootInstance with
  // ForceStop=false is accepted as usual, but the guest OS ignores the ACPI shutdown: the
  // instance stays Stopping (StartTime unchanged) until a RebootInstance with ForceStop=true
  // arrives for it. Drawn separately from the answer faults (FaultInjector::DrawEffect), only
  // for calls it can apply to, so it combines with them.
  kSoftStuck,
};
std::string_view FaultKindName(FaultKind kind);
std::optional<FaultKind> ParseFaultKind(std::string_view name);
// True for the kinds that let the call take effect first.
bool IsAfterEffect(FaultKind kind);
// True for the kinds that change what a call does rather than how it is answered (soft-stuck).
bool IsEffectFault(FaultKind kind);

struct FaultRule {
  FaultKind kind = FaultKind::kErrorBefore;
  // "" = every action; "Action" = that action of either provider; "provider.Action" = one.
  std::string action;
  double probability = 0;  // in [0, 1]
  // soft-stuck only: the instance IDs the rule applies to ("" list = every instance).
  std::vector<std::string> instances = {};
};

// "KIND[:ACTION][@ID,ID...]=PROBABILITY", e.g. "error-after:RebootInstances=0.1",
// "hang:aliyun.RebootInstance=1", "reset=0.05", "soft-stuck:RebootInstance@i-a,i-b=1" (an
// instance list only for soft-stuck). kInvalidArgument with a clear message.
Result<FaultRule> ParseFaultFlag(std::string_view text);
// {"faults":[{"kind":"error-after","action":"RebootInstances","probability":0.1}]}; "action"
// optional; "instances" (array of IDs) optional, soft-stuck only. kInvalidArgument naming the
// bad entry.
Result<std::vector<FaultRule>> FaultsFromJson(const json::Value& value);
json::Value FaultsToJson(const std::vector<FaultRule>& rules);

// True when `rule` applies to a call of `action` on `provider` ("tencent" | "aliyun").
bool RuleMatches(const FaultRule& rule, std::string_view provider, std::string_view action);

class FaultInjector {
 public:
  void Set(std::vector<FaultRule> rules) { rules_ = std::move(rules); }
  const std::vector<FaultRule>& rules() const { return rules_; }
  // Tries the matching answer rules (not IsEffectFault) in order, one Uniform01() draw each (no
  // draw when none matches); returns the first that fires.
  std::optional<FaultKind> Draw(std::string_view provider, std::string_view action,
                                Random& random) const;
  // True when a matching rule of the effect kind `kind` whose instance list is empty or holds
  // `instance` fires (same drawing rules as Draw).
  bool DrawEffect(FaultKind kind, std::string_view provider, std::string_view action,
                  std::string_view instance, Random& random) const;

 private:
  std::vector<FaultRule> rules_;
};

}  // namespace rebootd::sim
