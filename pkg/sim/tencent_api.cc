// SPDX-License-Identifier: Apache-2.0
// Tencent ECM actions: RebootInstances and DescribeInstances (cloud-apis.md §2.5, §2.6).
#include <set>

#include "pkg/sim/engine.h"

namespace rebootd::sim {
namespace {

constexpr size_t kMaxRebootIds = 100;
constexpr size_t kMaxFilterValues = 5;
constexpr int64_t kMaxLimit = 100;
constexpr int64_t kDefaultLimit = 20;

ApiError Err(std::string code, std::string message) {
  return ApiError{200, std::move(code), std::move(message), false};
}

ActionResult Fail(std::string code, std::string message) {
  ActionResult result;
  result.error = Err(std::move(code), std::move(message));
  return result;
}

std::optional<ApiError> CheckKnownParams(const json::Value& params,
                                         std::initializer_list<std::string_view> known) {
  for (const auto& [key, value] : params.AsObject()) {
    bool ok = false;
    for (auto k : known) ok |= key == k;
    if (!ok) return Err("UnknownParameter", "The parameter `" + key + "` is not recognized.");
  }
  return std::nullopt;
}

// "The instance `a` ..." / "The instances `a`, `b` ...".
std::string InstancesMessage(const std::vector<std::string>& ids, std::string_view singular,
                             std::string_view plural) {
  std::string list;
  for (const auto& id : ids) {
    if (!list.empty()) list += ", ";
    list += "`" + id + "`";
  }
  if (ids.size() == 1) return "The instance " + list + " " + std::string(singular);
  return "The instances " + list + " " + std::string(plural);
}

const std::set<std::string>& KnownStates() {
  static const std::set<std::string> kStates = {"PENDING",   "LAUNCH_FAILED", "RUNNING",
                                                "STOPPED",   "STARTING",      "STOPPING",
                                                "REBOOTING", "SHUTDOWN",      "TERMINATING"};
  return kStates;
}

}  // namespace

ActionResult Engine::TencentRebootInstances(const json::Value& params, SteadyTime now,
                                            const std::string& /*request_id*/) {
  if (auto error = CheckKnownParams(params, {"InstanceIdSet", "StopType", "ForceReboot"})) {
    ActionResult result;
    result.error = error;
    return result;
  }
  const json::Value* ids_value = params.Find("InstanceIdSet");
  if (ids_value == nullptr || ids_value->is_null()) {
    return Fail("MissingParameter", "The request is missing a required parameter `InstanceIdSet`.");
  }
  if (!ids_value->is_array()) {
    return Fail("InvalidParameter", "The parameter `InstanceIdSet` must be an array of strings.");
  }
  std::vector<std::string> ids;
  std::set<std::string> seen;
  for (const auto& item : ids_value->AsArray()) {
    if (!item.is_string()) {
      return Fail("InvalidParameter", "The parameter `InstanceIdSet` must be an array of strings.");
    }
    if (!seen.insert(item.AsString()).second) {
      return Fail("InvalidParameterValue",
                  "The instance ID `" + item.AsString() + "` appears more than once.");
    }
    ids.push_back(item.AsString());
  }
  if (ids.empty()) {
    return Fail("InvalidParameterValue", "The parameter `InstanceIdSet` must not be empty.");
  }
  if (ids.size() > kMaxRebootIds) {
    return Fail("InvalidParameterValue.ParameterValueTooLarge",
                "The parameter `InstanceIdSet` holds " + std::to_string(ids.size()) +
                    " values; at most 100 are allowed.");
  }
  if (const json::Value* stop_type = params.Find("StopType")) {
    if (!stop_type->is_string()) {
      return Fail("InvalidParameter", "The parameter `StopType` must be a string.");
    }
    const std::string& value = stop_type->AsString();
    if (value != "SOFT" && value != "HARD" && value != "SOFT_FIRST") {
      return Fail("InvalidParameterValue", "The value `" + value +
                                               "` of `StopType` is not one of SOFT, HARD, "
                                               "SOFT_FIRST.");
    }
  }
  if (const json::Value* force = params.Find("ForceReboot")) {
    if (!force->is_bool()) {
      return Fail("InvalidParameter", "The parameter `ForceReboot` must be a boolean.");
    }
  }
  model_.Settle(now);
  std::vector<std::string> malformed, missing, busy, not_running;
  for (const auto& id : ids) {
    if (!IsValidTencentId(id)) {
      malformed.push_back(id);
      continue;
    }
    const TencentInstance* instance = model_.tencent().Find(id);
    if (instance == nullptr) {
      missing.push_back(id);
      continue;
    }
    std::string state = TencentStateOf(*instance, now);
    if (state == "REBOOTING") {
      busy.push_back(id);
    } else if (state != "RUNNING") {
      not_running.push_back(id);
    }
  }
  if (!malformed.empty()) {
    return Fail(
        "InvalidParameterValue.InvalidInstanceID",
        InstancesMessage(malformed, "is not a valid instance ID.", "are not valid instance IDs."));
  }
  if (!missing.empty()) {
    return Fail("ResourceNotFound.InstanceNotExist",
                InstancesMessage(missing, "does not exist.", "do not exist."));
  }
  if (!busy.empty()) {
    return Fail(
        "OperationDenied.InstanceOperationInProgress",
        InstancesMessage(busy, "has an operation in progress.", "have an operation in progress."));
  }
  if (!not_running.empty()) {
    return Fail("ResourceUnavailable.InstanceNotRunning",
                InstancesMessage(not_running, "is not running.", "are not running."));
  }
  for (const auto& id : ids) {
    model_.StartTencentReboot(*model_.tencent().Find(id), now, DrawRebootDuration());
  }
  ActionResult result;
  result.effect = true;
  result.batch_size = static_cast<int>(ids.size());
  return result;
}

ActionResult Engine::TencentDescribeInstances(const json::Value& params, SteadyTime now) {
  if (auto error = CheckKnownParams(
          params, {"Filters", "Offset", "Limit", "OrderByField", "OrderDirection"})) {
    ActionResult result;
    result.error = error;
    return result;
  }
  int64_t offset = 0;
  int64_t limit = kDefaultLimit;
  for (auto [name, target] : {std::pair<const char*, int64_t*>{"Offset", &offset},
                              std::pair<const char*, int64_t*>{"Limit", &limit}}) {
    const json::Value* value = params.Find(name);
    if (value == nullptr || value->is_null()) continue;
    if (!value->is_integer()) {
      return Fail("InvalidParameter",
                  std::string("The parameter `") + name + "` must be an integer.");
    }
    *target = value->AsInt();
  }
  if (offset < 0 || limit < 1 || limit > kMaxLimit) {
    return Fail("InvalidParameterValue.InvaildPageParam",
                "Offset must be >= 0 and Limit between 1 and 100 (got Offset " +
                    std::to_string(offset) + ", Limit " + std::to_string(limit) + ").");
  }
  // Filters: AND across filters, OR within one filter's values.
  std::vector<std::set<std::string>> id_filters;
  std::vector<std::set<std::string>> state_filters;
  if (const json::Value* filters = params.Find("Filters"); filters && !filters->is_null()) {
    if (!filters->is_array()) {
      return Fail("InvalidParameter", "The parameter `Filters` must be an array.");
    }
    for (const auto& filter : filters->AsArray()) {
      const json::Value* name = filter.Find("Name");
      const json::Value* values = filter.Find("Values");
      if (!filter.is_object() || name == nullptr || !name->is_string() || values == nullptr ||
          !values->is_array()) {
        return Fail("InvalidParameter",
                    "Each filter must be an object {\"Name\": string, \"Values\": [string]}.");
      }
      std::set<std::string> set;
      for (const auto& v : values->AsArray()) {
        if (!v.is_string()) {
          return Fail("InvalidParameter", "Filter values must be strings.");
        }
        set.insert(v.AsString());
      }
      const std::string& filter_name = name->AsString();
      if (filter_name != "instance-id" && filter_name != "instance-state") {
        return Fail("InvalidParameterValue.InvalidFilter",
                    "The filter `" + filter_name +
                        "` is not supported (the simulator supports instance-id and "
                        "instance-state).");
      }
      if (values->AsArray().empty()) {
        return Fail("InvalidParameterValue.InvalidFilter",
                    "The filter `" + filter_name + "` has no values.");
      }
      if (values->AsArray().size() > kMaxFilterValues) {
        return Fail("InvalidParameterValue.ParameterValueTooLarge",
                    "The filter `" + filter_name + "` holds " +
                        std::to_string(values->AsArray().size()) +
                        " values; at most 5 are allowed.");
      }
      if (filter_name == "instance-id") {
        for (const auto& id : set) {
          if (!IsValidTencentId(id)) {
            return Fail("InvalidParameterValue.InvalidInstanceID",
                        "The instance ID `" + id + "` is malformed.");
          }
        }
        id_filters.push_back(std::move(set));
      } else {
        for (const auto& state : set) {
          if (!KnownStates().count(state)) {
            return Fail("InvalidParameterValue.InvalidFilter",
                        "The instance-state value `" + state + "` is not an instance state.");
          }
        }
        state_filters.push_back(std::move(set));
      }
    }
  }
  model_.Settle(now);
  json::Value set = json::Value::MakeArray();
  int64_t total = 0;
  auto consider = [&](const TencentInstance& instance) {
    const std::string state = TencentStateOf(instance, now);
    for (const auto& f : id_filters) {
      if (!f.count(instance.id)) return;
    }
    for (const auto& f : state_filters) {
      if (!f.count(state)) return;
    }
    ++total;
    if (total <= offset || total > offset + limit) return;
    json::Value item = json::Value::MakeObject();
    item.Set("InstanceId", json::Value(instance.id));
    item.Set("InstanceName", json::Value(instance.name));
    item.Set("InstanceState", json::Value(state));
    item.Set("CreateTime", json::Value(FormatRfc3339(instance.create_time)));
    item.Set("LatestOperation", instance.latest_operation.empty()
                                    ? json::Value()
                                    : json::Value(instance.latest_operation));
    item.Set("LatestOperationState", instance.latest_operation_state.empty()
                                         ? json::Value()
                                         : json::Value(instance.latest_operation_state));
    // No LatestOperationRequestId: that is a CVM field; ECM's Instance does not have it.
    item.Set("RestrictState", json::Value("NORMAL"));
    item.Set("ExpireState", json::Value("NORMAL"));
    set.PushBack(std::move(item));
  };
  for (const auto& instance : model_.tencent().items()) consider(instance);
  ActionResult result;
  result.body.Set("TotalCount", json::Value(total));
  result.body.Set("InstanceSet", std::move(set));
  return result;
}

}  // namespace rebootd::sim
