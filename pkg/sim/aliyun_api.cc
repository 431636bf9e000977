// SPDX-License-Identifier: Apache-2.0
// Aliyun ECS actions: RebootInstance, DescribeInstanceStatus, DescribeInstances
// (cloud-apis.md §1.6, §1.9, §1.10).
#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>

#include "pkg/sim/engine.h"

namespace rebootd::sim {
namespace {

constexpr size_t kMaxIds = 100;

ActionResult Fail(int status, std::string code, std::string message) {
  ActionResult result;
  result.error = ApiError{status, std::move(code), std::move(message), false};
  return result;
}

ActionResult Missing(std::string_view name) {
  return Fail(400, "MissingParameter",
              "The input parameter \"" + std::string(name) +
                  "\" that is mandatory for processing this request is not supplied.");
}

ActionResult Invalid(std::string message) {
  return Fail(400, "InvalidParameter", std::move(message));
}

const std::string* Get(const cloud::aliyun::Params& params, const std::string& name) {
  auto it = params.find(name);
  return it == params.end() || it->second.empty() ? nullptr : &it->second;
}

bool ParseInt(std::string_view text, int64_t* out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

// Absent -> fallback; "true"/"false" (any case) -> value; anything else -> nullopt.
std::optional<bool> ParseBool(const cloud::aliyun::Params& params, const std::string& name,
                              bool fallback) {
  const std::string* value = Get(params, name);
  if (value == nullptr) return fallback;
  std::string lower = *value;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "true") return true;
  if (lower == "false") return false;
  return std::nullopt;
}

// Reads an optional integer parameter into *out; false when present but not an integer.
bool IntParam(const cloud::aliyun::Params& params, const std::string& name, int64_t* out) {
  const std::string* value = Get(params, name);
  if (value == nullptr) return true;
  return ParseInt(*value, out);
}

}  // namespace

json::Value Engine::AliyunInstanceJson(const AliyunInstance& instance, SteadyTime now) const {
  json::Value item = json::Value::MakeObject();
  item.Set("InstanceId", json::Value(instance.id));
  item.Set("InstanceName", json::Value("sim-" + instance.id));
  item.Set("Status", json::Value(AliyunStatusOf(instance, now)));
  item.Set("StartTime", json::Value(FormatStartTime(instance.start_time)));
  item.Set("CreationTime", json::Value(FormatStartTime(instance.creation_time)));
  item.Set("ExpiredTime", json::Value("2099-12-31T15:59Z"));
  item.Set("RegionId", json::Value(instance.region));
  item.Set("ZoneId", json::Value(instance.zone));
  item.Set("InstanceChargeType", json::Value("PostPaid"));
  json::Value reasons = json::Value::MakeArray();
  if (instance.locked) {
    json::Value lock = json::Value::MakeObject();
    lock.Set("LockReason", json::Value("security"));
    reasons.PushBack(std::move(lock));
  }
  json::Value locks = json::Value::MakeObject();
  locks.Set("LockReason", std::move(reasons));
  item.Set("OperationLocks", std::move(locks));
  return item;
}

ActionResult Engine::AliyunRebootInstance(const cloud::aliyun::Params& params, SteadyTime now,
                                          SystemTime wall) {
  const std::string* id = Get(params, "InstanceId");
  if (id == nullptr) return Missing("InstanceId");
  auto force = ParseBool(params, "ForceStop", false);
  if (!force) return Invalid("The specified parameter \"ForceStop\" is not valid.");
  auto dry_run = ParseBool(params, "DryRun", false);
  if (!dry_run) return Invalid("The specified parameter \"DryRun\" is not valid.");
  const std::string* region = Get(params, "RegionId");
  model_.Settle(now);
  AliyunInstance* instance = model_.aliyun().Find(*id);
  if (instance == nullptr || (region != nullptr && *region != instance->region)) {
    return Fail(404, "InvalidInstanceId.NotFound", "The specified InstanceId does not exist.");
  }
  if (instance->locked) {
    return Fail(403, "InstanceLockedForSecurity",
                "The specified operation is denied as your instance is locked for security "
                "reasons.");
  }
  const std::string status = AliyunStatusOf(*instance, now);
  // ForceStop=true on a Stopping instance (a soft stop the OS ignores, or one still under way)
  // is accepted and cuts the stop short. The documentation only says "you can only restart
  // Running instances" and lists 403 IncorrectInstanceStatus (cloud-apis.md §1.6, reference/);
  // what real ECS answers to a forced restart while Stopping is UNCONFIRMED. The simulator
  // accepts it because that is what rebootd's SoftFirst escalation (DESIGN.md §3) relies on; if
  // real ECS refuses, the escalation would need StopInstance(ForceStop=true) + StartInstance.
  const bool force_stopping = *force && status == "Stopping";
  if (status != "Running" && !force_stopping) {
    return Fail(403, "IncorrectInstanceStatus",
                "The current status of the resource does not support this operation.");
  }
  if (*dry_run) {
    return Fail(400, "DryRunOperation", "Request validation has been passed with DryRun flag set.");
  }
  ActionResult result;
  result.effect = true;
  result.batch_size = 1;
  if (force_stopping) {
    model_.ForceAliyunReboot(*instance, now, wall, DrawRebootDuration());
  } else if (!*force && faults_.DrawEffect(FaultKind::kSoftStuck, kAliyunProvider, "RebootInstance",
                                           *id, random_)) {
    model_.StartStuckAliyunReboot(*instance, now);
    result.soft_stuck = true;
  } else {
    model_.StartAliyunReboot(*instance, now, wall, DrawRebootDuration());
  }
  return result;
}

ActionResult Engine::AliyunDescribeInstanceStatus(const cloud::aliyun::Params& params,
                                                  SteadyTime now) {
  const std::string* region = Get(params, "RegionId");
  if (region == nullptr) return Missing("RegionId");
  std::set<std::string> ids;
  bool filter_ids = false;
  for (const auto& [name, value] : params) {
    if (name.rfind("InstanceId.", 0) != 0) continue;
    int64_t index = 0;
    if (!ParseInt(std::string_view(name).substr(11), &index) || index < 1) {
      return Invalid("The specified parameter \"" + name + "\" is not valid.");
    }
    if (index > static_cast<int64_t>(kMaxIds)) {
      return Invalid("The parameter InstanceId.N accepts at most 100 values (N = 1..100).");
    }
    filter_ids = true;
    ids.insert(value);
  }
  int64_t page_number = 1;
  int64_t page_size = 10;
  if (!IntParam(params, "PageNumber", &page_number) || page_number < 1) {
    return Invalid("The specified parameter \"PageNumber\" is not valid (must be >= 1).");
  }
  if (!IntParam(params, "PageSize", &page_size) || page_size < 1 || page_size > 50) {
    return Invalid("The specified parameter \"PageSize\" is not valid (must be 1..50).");
  }
  const std::string* zone = Get(params, "ZoneId");
  model_.Settle(now);
  json::Value list = json::Value::MakeArray();
  int64_t total = 0;
  const int64_t first = (page_number - 1) * page_size;
  for (const auto& instance : model_.aliyun().items()) {
    if (instance.region != *region) continue;
    if (filter_ids && !ids.count(instance.id)) continue;
    if (zone != nullptr && instance.zone != *zone) continue;
    ++total;
    if (total <= first || total > first + page_size) continue;
    json::Value item = json::Value::MakeObject();
    item.Set("InstanceId", json::Value(instance.id));
    item.Set("Status", json::Value(AliyunStatusOf(instance, now)));
    list.PushBack(std::move(item));
  }
  json::Value statuses = json::Value::MakeObject();
  statuses.Set("InstanceStatus", std::move(list));
  ActionResult result;
  result.body.Set("InstanceStatuses", std::move(statuses));
  result.body.Set("TotalCount", json::Value(total));
  result.body.Set("PageNumber", json::Value(page_number));
  result.body.Set("PageSize", json::Value(page_size));
  return result;
}

ActionResult Engine::AliyunDescribeInstances(const cloud::aliyun::Params& params, SteadyTime now) {
  const std::string* region = Get(params, "RegionId");
  if (region == nullptr) return Missing("RegionId");
  std::set<std::string> ids;
  bool filter_ids = false;
  if (const std::string* text = Get(params, "InstanceIds")) {
    auto parsed = json::Parse(*text);
    bool ok = parsed && parsed->is_array();
    if (ok) {
      for (const auto& item : parsed->AsArray()) ok &= item.is_string();
    }
    if (!ok) {
      return Fail(400, "InvalidInstanceIds.Malformed",
                  "The specified parameter InstanceIds is not a JSON array of instance IDs.");
    }
    if (parsed->AsArray().size() > kMaxIds) {
      return Fail(400, "InvalidInstanceIds.Malformed",
                  "The amount of specified instances exceeds the limit (100).");
    }
    for (const auto& item : parsed->AsArray()) ids.insert(item.AsString());
    filter_ids = true;
  }
  const std::string* status = Get(params, "Status");
  if (status != nullptr) {
    static const std::set<std::string> kStatuses = {"Pending", "Running", "Starting", "Stopping",
                                                    "Stopped"};
    if (!kStatuses.count(*status)) {
      return Invalid("The specified parameter \"Status\" is not valid.");
    }
  }
  const std::string* zone = Get(params, "ZoneId");
  const bool token_paging = Get(params, "NextToken") != nullptr || Get(params, "MaxResults");
  int64_t page_number = 1;
  int64_t page_size = 10;
  int64_t first = 0;
  if (token_paging) {
    int64_t max_results = 10;
    if (!IntParam(params, "MaxResults", &max_results)) {
      return Invalid("The specified parameter \"MaxResults\" is not valid.");
    }
    page_size = std::clamp<int64_t>(max_results, 10, 100);
    if (const std::string* token = Get(params, "NextToken")) {
      if (token->rfind("simtoken-", 0) != 0 || !ParseInt(token->substr(9), &first) || first < 0) {
        return Invalid("The specified parameter \"NextToken\" is not valid.");
      }
    }
  } else {
    if (!IntParam(params, "PageNumber", &page_number) || page_number < 1) {
      return Invalid("The specified parameter \"PageNumber\" is not valid (must be >= 1).");
    }
    if (!IntParam(params, "PageSize", &page_size) || page_size < 1 || page_size > 100) {
      return Invalid("The specified parameter \"PageSize\" is not valid (must be 1..100).");
    }
    first = (page_number - 1) * page_size;
  }
  model_.Settle(now);
  json::Value list = json::Value::MakeArray();
  int64_t total = 0;
  for (const auto& instance : model_.aliyun().items()) {
    if (instance.region != *region) continue;
    if (filter_ids && !ids.count(instance.id)) continue;
    if (zone != nullptr && instance.zone != *zone) continue;
    if (status != nullptr && AliyunStatusOf(instance, now) != *status) continue;
    ++total;
    if (total <= first || total > first + page_size) continue;
    list.PushBack(AliyunInstanceJson(instance, now));
  }
  json::Value instances = json::Value::MakeObject();
  instances.Set("Instance", std::move(list));
  ActionResult result;
  result.body.Set("Instances", std::move(instances));
  result.body.Set("TotalCount", json::Value(total));
  result.body.Set("PageNumber", json::Value(page_number));
  result.body.Set("PageSize", json::Value(page_size));
  result.body.Set("NextToken", json::Value(first + page_size < total
                                               ? "simtoken-" + std::to_string(first + page_size)
                                               : std::string()));
  return result;
}

}  // namespace rebootd::sim
