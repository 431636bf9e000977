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
};
std::string_view FaultKindName(FaultKind kind);
std::optional<FaultKind> ParseFaultKind(std::string_view name);
// True for the kinds that let the call take effect first.
bool IsAfterEffect(FaultKind kind);

struct FaultRule {
  FaultKind kind = FaultKind::kErrorBefore;
  // "" = every action; "Action" = that action of either provider; "provider.Action" = one.
  std::string action;
  double probability = 0;  // in [0, 1]
};

// "KIND[:ACTION]=PROBABILITY", e.g. "error-after:RebootInstances=0.1",
// "hang:aliyun.RebootInstance=1", "reset=0.05". kInvalidArgument with a clear message.
Result<FaultRule> ParseFaultFlag(std::string_view text);
// {"faults":[{"kind":"error-after","action":"RebootInstances","probability":0.1}]}; "action"
// optional. kInvalidArgument naming the bad entry.
Result<std::vector<FaultRule>> FaultsFromJson(const json::Value& value);
json::Value FaultsToJson(const std::vector<FaultRule>& rules);

// True when `rule` applies to a call of `action` on `provider` ("tencent" | "aliyun").
bool RuleMatches(const FaultRule& rule, std::string_view provider, std::string_view action);

class FaultInjector {
 public:
  void Set(std::vector<FaultRule> rules) { rules_ = std::move(rules); }
  const std::vector<FaultRule>& rules() const { return rules_; }
  // Tries the matching rules in order, one Uniform01() draw each (no draw when none matches);
  // returns the first that fires.
  std::optional<FaultKind> Draw(std::string_view provider, std::string_view action,
                                Random& random) const;

 private:
  std::vector<FaultRule> rules_;
};

}  // namespace rebootd::sim
