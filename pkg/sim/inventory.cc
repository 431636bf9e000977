// SPDX-License-Identifier: Apache-2.0
#include "pkg/sim/inventory.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <set>
#include <sstream>

namespace rebootd::sim {
namespace {

bool IsLowerAlnum(std::string_view s) {
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

bool IsLetters(std::string_view s) {
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) return false;
  }
  return true;
}

std::string Where(const YAML::Node& node) {
  if (node.Mark().is_null()) return "";
  return "line " + std::to_string(node.Mark().line + 1) + ": ";
}

Result<std::string> ScalarField(const YAML::Node& entry, const char* key, bool required,
                                const std::string& context) {
  YAML::Node value = entry[key];
  if (!value) {
    if (required) {
      return MakeError(ErrorCode::kInvalidArgument,
                       Where(entry) + context + ": missing field \"" + key + "\"");
    }
    return std::string();
  }
  if (!value.IsScalar()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     Where(value) + context + "." + key + ": must be a string");
  }
  return value.Scalar();
}

Status CheckKeys(const YAML::Node& entry, const std::set<std::string>& allowed,
                 const std::string& context) {
  for (const auto& item : entry) {
    std::string key = item.first.IsScalar() ? item.first.Scalar() : "?";
    if (!allowed.count(key)) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      return MakeError(
          ErrorCode::kInvalidArgument,
          Where(item.first) + context + ": unknown field \"" + key + "\" (allowed: " + list + ")");
    }
  }
  return OkStatus();
}

Result<Inventory> ParseNode(const YAML::Node& root) {
  Inventory inventory;
  if (!root || root.IsNull()) return inventory;
  if (!root.IsMap()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     Where(root) + "inventory: must be a mapping with keys tencent and aliyun");
  }
  REBOOTD_RETURN_IF_ERROR(CheckKeys(root, {"aliyun", "tencent"}, "inventory"));
  std::set<std::string> seen;
  if (YAML::Node list = root["tencent"]; list && !list.IsNull()) {
    if (!list.IsSequence()) {
      return MakeError(ErrorCode::kInvalidArgument, Where(list) + "tencent: must be a list");
    }
    for (size_t i = 0; i < list.size(); ++i) {
      const YAML::Node entry = list[i];
      std::string context = "tencent[" + std::to_string(i) + "]";
      if (!entry.IsMap()) {
        return MakeError(ErrorCode::kInvalidArgument,
                         Where(entry) + context + ": must be a mapping {id, state}");
      }
      REBOOTD_RETURN_IF_ERROR(
          CheckKeys(entry, {"id", "state", "latestOperation", "latestOperationState"}, context));
      REBOOTD_ASSIGN_OR_RETURN(std::string id, ScalarField(entry, "id", true, context));
      REBOOTD_ASSIGN_OR_RETURN(std::string state, ScalarField(entry, "state", false, context));
      REBOOTD_ASSIGN_OR_RETURN(std::string op,
                               ScalarField(entry, "latestOperation", false, context));
      REBOOTD_ASSIGN_OR_RETURN(std::string op_state,
                               ScalarField(entry, "latestOperationState", false, context));
      if (!IsValidTencentId(id)) {
        return MakeError(ErrorCode::kInvalidArgument,
                         Where(entry) + context + ".id: \"" + id +
                             "\" is not an ECM instance ID (ein- followed by 1-32 of [a-z0-9])");
      }
      TencentEntry out(id);
      out.latest_operation = op;
      out.latest_operation_state = op_state;
      if (!IsLetters(op)) {
        return MakeError(ErrorCode::kInvalidArgument,
                         Where(entry) + context + ".latestOperation: \"" + op +
                             "\" is not an operation name (letters only, e.g. RebootInstances)");
      }
      if (!op_state.empty() && op_state != "SUCCESS" && op_state != "FAILED") {
        return MakeError(ErrorCode::kInvalidArgument, Where(entry) + context +
                                                          ".latestOperationState: \"" + op_state +
                                                          "\" is not one of SUCCESS, FAILED");
      }
      if (op.empty() != op_state.empty()) {
        return MakeError(
            ErrorCode::kInvalidArgument,
            Where(entry) + context + ": latestOperation and latestOperationState go together");
      }
      if (state.empty() || state == "RUNNING") {
        out.state = TencentInitialState::kRunning;
      } else if (state == "STOPPED") {
        out.state = TencentInitialState::kStopped;
      } else {
        return MakeError(
            ErrorCode::kInvalidArgument,
            Where(entry) + context + ".state: \"" + state + "\" is not one of RUNNING, STOPPED");
      }
      if (!seen.insert(id).second) {
        return MakeError(ErrorCode::kInvalidArgument,
                         Where(entry) + context + ".id: duplicate instance ID " + id);
      }
      inventory.tencent.push_back(std::move(out));
    }
  }
  if (YAML::Node list = root["aliyun"]; list && !list.IsNull()) {
    if (!list.IsSequence()) {
      return MakeError(ErrorCode::kInvalidArgument, Where(list) + "aliyun: must be a list");
    }
    for (size_t i = 0; i < list.size(); ++i) {
      const YAML::Node entry = list[i];
      std::string context = "aliyun[" + std::to_string(i) + "]";
      if (!entry.IsMap()) {
        return MakeError(ErrorCode::kInvalidArgument,
                         Where(entry) + context + ": must be a mapping {id, region, state}");
      }
      REBOOTD_RETURN_IF_ERROR(CheckKeys(entry, {"id", "region", "state", "startTime"}, context));
      REBOOTD_ASSIGN_OR_RETURN(std::string id, ScalarField(entry, "id", true, context));
      REBOOTD_ASSIGN_OR_RETURN(std::string region, ScalarField(entry, "region", true, context));
      REBOOTD_ASSIGN_OR_RETURN(std::string state, ScalarField(entry, "state", false, context));
      REBOOTD_ASSIGN_OR_RETURN(std::string start, ScalarField(entry, "startTime", false, context));
      if (!IsValidAliyunId(id)) {
        return MakeError(ErrorCode::kInvalidArgument,
                         Where(entry) + context + ".id: \"" + id +
                             "\" is not an ECS instance ID (i- followed by 1-64 of [a-z0-9])");
      }
      if (region.empty()) {
        return MakeError(ErrorCode::kInvalidArgument,
                         Where(entry) + context + ".region: must not be empty");
      }
      AliyunEntry out(id, region);
      if (!start.empty()) {
        SystemTime t;
        if (!ParseRfc3339(start, &t)) {
          return MakeError(ErrorCode::kInvalidArgument,
                           Where(entry) + context + ".startTime: \"" + start +
                               "\" is not an RFC 3339 UTC time (e.g. 2026-12-02T09:15:00Z)");
        }
        out.start_time = t;
      }
      if (state.empty() || state == "Running") {
        out.state = AliyunInitialState::kRunning;
      } else if (state == "Stopped") {
        out.state = AliyunInitialState::kStopped;
      } else if (state == "Locked") {
        out.state = AliyunInitialState::kLocked;
      } else {
        return MakeError(ErrorCode::kInvalidArgument,
                         Where(entry) + context + ".state: \"" + state +
                             "\" is not one of Running, Stopped, Locked");
      }
      if (!seen.insert(id).second) {
        return MakeError(ErrorCode::kInvalidArgument,
                         Where(entry) + context + ".id: duplicate instance ID " + id);
      }
      inventory.aliyun.push_back(std::move(out));
    }
  }
  return inventory;
}

}  // namespace

bool IsValidTencentId(std::string_view id) {
  if (id.size() < 5 || id.size() > 4 + 32 || id.substr(0, 4) != "ein-") return false;
  return IsLowerAlnum(id.substr(4));
}

bool IsValidAliyunId(std::string_view id) {
  if (id.size() < 3 || id.size() > 2 + 64 || id.substr(0, 2) != "i-") return false;
  return IsLowerAlnum(id.substr(2));
}

std::string GeneratedTencentId(uint64_t n) {
  static constexpr char kDigits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string digits;
  do {
    digits.insert(digits.begin(), kDigits[n % 36]);
    n /= 36;
  } while (n > 0);
  if (digits.size() < 8) digits.insert(0, 8 - digits.size(), '0');
  return "ein-" + digits;
}

std::string GeneratedAliyunId(uint64_t n) {
  std::string digits = std::to_string(n);
  if (digits.size() < 16) digits.insert(0, 16 - digits.size(), '0');
  return "i-sim" + digits;
}

Result<Inventory> ParseInventory(std::string_view text) {
  try {
    YAML::Node root = YAML::Load(std::string(text));
    return ParseNode(root);
  } catch (const YAML::Exception& e) {
    std::string where;
    if (!e.mark.is_null()) {
      where = "line " + std::to_string(e.mark.line + 1) + ", column " +
              std::to_string(e.mark.column + 1) + ": ";
    }
    return MakeError(ErrorCode::kInvalidArgument, "inventory: " + where + e.msg);
  } catch (const std::exception& e) {
    return MakeError(ErrorCode::kInvalidArgument, std::string("inventory: ") + e.what());
  }
}

Result<Inventory> LoadInventoryFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError(ErrorCode::kInvalidArgument, path + ": cannot open inventory file");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  auto parsed = ParseInventory(buffer.str());
  if (!parsed) {
    Error error = parsed.error();
    error.message = path + ": " + error.message;
    return MakeError(std::move(error));
  }
  return parsed;
}

}  // namespace rebootd::sim
