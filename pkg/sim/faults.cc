// SPDX-License-Identifier: Apache-2.0
#include "pkg/sim/faults.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <utility>

namespace rebootd::sim {
namespace {

constexpr std::array<std::pair<FaultKind, std::string_view>, 9> kKinds = {{
    {FaultKind::kErrorBefore, "error-before"},
    {FaultKind::kErrorAfter, "error-after"},
    {FaultKind::kUnavailable, "unavailable"},
    {FaultKind::kThrottle, "throttle"},
    {FaultKind::kReset, "reset"},
    {FaultKind::kResetAfter, "reset-after"},
    {FaultKind::kHang, "hang"},
    {FaultKind::kHangAfter, "hang-after"},
    {FaultKind::kSoftStuck, "soft-stuck"},
}};

std::string KindList() {
  std::string out;
  for (const auto& [kind, name] : kKinds) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

Status CheckProbability(double p, std::string_view context) {
  if (!(p >= 0 && p <= 1)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     std::string(context) + ": probability must be between 0 and 1");
  }
  return OkStatus();
}

Status CheckAction(std::string_view action, std::string_view context) {
  for (char c : action) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_';
    if (!ok) {
      return MakeError(ErrorCode::kInvalidArgument,
                       std::string(context) + ": invalid action \"" + std::string(action) + "\"");
    }
  }
  auto dot = action.find('.');
  if (dot != std::string_view::npos) {
    auto provider = action.substr(0, dot);
    if (provider != "tencent" && provider != "aliyun") {
      return MakeError(ErrorCode::kInvalidArgument,
                       std::string(context) + ": provider must be tencent or aliyun in \"" +
                           std::string(action) + "\"");
    }
  }
  return OkStatus();
}

Status CheckInstances(const FaultRule& rule, std::string_view context) {
  if (!rule.instances.empty() && rule.kind != FaultKind::kSoftStuck) {
    return MakeError(ErrorCode::kInvalidArgument,
                     std::string(context) + ": an instance list is only supported for soft-stuck");
  }
  return OkStatus();
}

}  // namespace

std::string_view FaultKindName(FaultKind kind) {
  for (const auto& [k, name] : kKinds) {
    if (k == kind) return name;
  }
  return "unknown";
}

std::optional<FaultKind> ParseFaultKind(std::string_view name) {
  for (const auto& [kind, n] : kKinds) {
    if (n == name) return kind;
  }
  return std::nullopt;
}

bool IsAfterEffect(FaultKind kind) {
  return kind == FaultKind::kErrorAfter || kind == FaultKind::kResetAfter ||
         kind == FaultKind::kHangAfter;
}

bool IsEffectFault(FaultKind kind) { return kind == FaultKind::kSoftStuck; }

Result<FaultRule> ParseFaultFlag(std::string_view text) {
  std::string context = "--fault " + std::string(text);
  auto eq = text.rfind('=');
  if (eq == std::string_view::npos) {
    return MakeError(ErrorCode::kInvalidArgument,
                     context + ": expected KIND[:ACTION][@ID,...]=PROBABILITY");
  }
  std::string_view head = text.substr(0, eq);
  std::string value(text.substr(eq + 1));
  FaultRule rule;
  if (auto at = head.find('@'); at != std::string_view::npos) {
    std::string_view list = head.substr(at + 1);
    head = head.substr(0, at);
    while (true) {
      auto comma = list.find(',');
      std::string_view id = list.substr(0, comma);
      if (id.empty()) {
        return MakeError(ErrorCode::kInvalidArgument, context + ": empty instance ID after '@'");
      }
      rule.instances.emplace_back(id);
      if (comma == std::string_view::npos) break;
      list = list.substr(comma + 1);
    }
  }
  std::string_view kind_name = head;
  if (auto colon = head.find(':'); colon != std::string_view::npos) {
    kind_name = head.substr(0, colon);
    rule.action = std::string(head.substr(colon + 1));
    if (rule.action.empty()) {
      return MakeError(ErrorCode::kInvalidArgument, context + ": empty action after ':'");
    }
  }
  auto kind = ParseFaultKind(kind_name);
  if (!kind) {
    return MakeError(ErrorCode::kInvalidArgument, context + ": unknown fault kind \"" +
                                                      std::string(kind_name) + "\" (one of " +
                                                      KindList() + ")");
  }
  rule.kind = *kind;
  REBOOTD_RETURN_IF_ERROR(CheckInstances(rule, context));
  char* end = nullptr;
  rule.probability = value.empty() ? -1 : std::strtod(value.c_str(), &end);
  if (value.empty() || end != value.c_str() + value.size()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     context + ": probability \"" + value + "\" is not a number");
  }
  REBOOTD_RETURN_IF_ERROR(CheckProbability(rule.probability, context));
  REBOOTD_RETURN_IF_ERROR(CheckAction(rule.action, context));
  return rule;
}

Result<std::vector<FaultRule>> FaultsFromJson(const json::Value& value) {
  const json::Value* list = value.Find("faults");
  if (!value.is_object() || list == nullptr || !list->is_array()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "expected {\"faults\":[{\"kind\":...,\"action\":...,\"probability\":...}]}");
  }
  std::vector<FaultRule> rules;
  for (size_t i = 0; i < list->AsArray().size(); ++i) {
    const json::Value& entry = list->AsArray()[i];
    std::string context = "faults[" + std::to_string(i) + "]";
    if (!entry.is_object()) {
      return MakeError(ErrorCode::kInvalidArgument, context + ": must be an object");
    }
    for (const auto& [key, v] : entry.AsObject()) {
      if (key != "kind" && key != "action" && key != "probability" && key != "instances") {
        return MakeError(ErrorCode::kInvalidArgument,
                         context + ": unknown field \"" + key +
                             "\" (allowed: kind, action, probability, instances)");
      }
    }
    const json::Value* kind = entry.Find("kind");
    const json::Value* action = entry.Find("action");
    const json::Value* probability = entry.Find("probability");
    if (kind == nullptr || !kind->is_string()) {
      return MakeError(ErrorCode::kInvalidArgument, context + ".kind: required string");
    }
    auto parsed = ParseFaultKind(kind->AsString());
    if (!parsed) {
      return MakeError(ErrorCode::kInvalidArgument, context + ".kind: unknown fault kind \"" +
                                                        kind->AsString() + "\" (one of " +
                                                        KindList() + ")");
    }
    FaultRule rule;
    rule.kind = *parsed;
    if (action != nullptr && !action->is_null()) {
      if (!action->is_string()) {
        return MakeError(ErrorCode::kInvalidArgument, context + ".action: must be a string");
      }
      rule.action = action->AsString();
      REBOOTD_RETURN_IF_ERROR(CheckAction(rule.action, context + ".action"));
    }
    if (probability == nullptr || !probability->is_number()) {
      return MakeError(ErrorCode::kInvalidArgument, context + ".probability: required number");
    }
    rule.probability = probability->AsDouble();
    REBOOTD_RETURN_IF_ERROR(CheckProbability(rule.probability, context));
    if (const json::Value* instances = entry.Find("instances");
        instances != nullptr && !instances->is_null()) {
      if (!instances->is_array()) {
        return MakeError(ErrorCode::kInvalidArgument,
                         context + ".instances: must be an array of instance IDs");
      }
      for (const auto& id : instances->AsArray()) {
        if (!id.is_string() || id.AsString().empty()) {
          return MakeError(ErrorCode::kInvalidArgument,
                           context + ".instances: must be an array of instance IDs");
        }
        rule.instances.push_back(id.AsString());
      }
      REBOOTD_RETURN_IF_ERROR(CheckInstances(rule, context));
    }
    rules.push_back(std::move(rule));
  }
  return rules;
}

json::Value FaultsToJson(const std::vector<FaultRule>& rules) {
  json::Value list = json::Value::MakeArray();
  for (const auto& rule : rules) {
    json::Value entry = json::Value::MakeObject();
    entry.Set("kind", json::Value(FaultKindName(rule.kind)));
    entry.Set("action", json::Value(rule.action));
    entry.Set("probability", json::Value(rule.probability));
    if (!rule.instances.empty()) {
      json::Value ids = json::Value::MakeArray();
      for (const auto& id : rule.instances) ids.PushBack(json::Value(id));
      entry.Set("instances", std::move(ids));
    }
    list.PushBack(std::move(entry));
  }
  json::Value out = json::Value::MakeObject();
  out.Set("faults", std::move(list));
  return out;
}

bool RuleMatches(const FaultRule& rule, std::string_view provider, std::string_view action) {
  if (rule.action.empty()) return true;
  std::string_view want = rule.action;
  if (auto dot = want.find('.'); dot != std::string_view::npos) {
    if (want.substr(0, dot) != provider) return false;
    want = want.substr(dot + 1);
  }
  return want == action;
}

std::optional<FaultKind> FaultInjector::Draw(std::string_view provider, std::string_view action,
                                             Random& random) const {
  for (const auto& rule : rules_) {
    if (IsEffectFault(rule.kind) || !RuleMatches(rule, provider, action)) continue;
    if (rule.probability <= 0) continue;
    if (rule.probability >= 1 || random.Uniform01() < rule.probability) return rule.kind;
  }
  return std::nullopt;
}

bool FaultInjector::DrawEffect(FaultKind kind, std::string_view provider, std::string_view action,
                               std::string_view instance, Random& random) const {
  for (const auto& rule : rules_) {
    if (rule.kind != kind || !RuleMatches(rule, provider, action)) continue;
    if (!rule.instances.empty() &&
        std::find(rule.instances.begin(), rule.instances.end(), instance) == rule.instances.end()) {
      continue;
    }
    if (rule.probability <= 0) continue;
    if (rule.probability >= 1 || random.Uniform01() < rule.probability) return true;
  }
  return false;
}

}  // namespace rebootd::sim
