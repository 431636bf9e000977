// SPDX-License-Identifier: Apache-2.0
#include "pkg/cloud/tencent/errors.h"

#include <algorithm>
#include <array>

#include "pkg/cloud/call.h"

namespace rebootd::cloud::tencent {
namespace {

using Rule = ErrorRule;

// First match wins: specific entries before the prefixes that would also match them.
constexpr std::array kRules = {
    Rule{"RequestLimitExceeded", true, kThrottled, ErrorCode::kResourceExhausted},
    Rule{"InternalError", true, kTransient, ErrorCode::kUnavailable},
    Rule{"ServiceUnavailable", true, kTransient, ErrorCode::kUnavailable},
    Rule{"FailedOperation.InternalOperationFailure", false, kTransient, ErrorCode::kUnavailable},
    Rule{"ResourceUnavailable", true, kWrongState, ErrorCode::kFailedPrecondition},
    Rule{"OperationDenied.InstanceOperationInProgress", false, kWrongState,
         ErrorCode::kFailedPrecondition},
    Rule{"ResourceInUse", true, kWrongState, ErrorCode::kFailedPrecondition},
    Rule{"ResourceInsufficient", true, kWrongState, ErrorCode::kFailedPrecondition},
    Rule{"ResourceNotFound", true, kTerminal, ErrorCode::kNotFound},
    Rule{"AuthFailure.UnauthorizedOperation", false, kTerminal, ErrorCode::kPermissionDenied},
    Rule{"AuthFailure", true, kTerminal, ErrorCode::kUnauthenticated},
    Rule{"UnauthorizedOperation", true, kTerminal, ErrorCode::kPermissionDenied},
    Rule{"FailedOperation.OperationNotAllow", false, kTerminal, ErrorCode::kPermissionDenied},
    Rule{"OperationDenied", true, kTerminal, ErrorCode::kPermissionDenied},
    Rule{"IpInBlacklist", false, kTerminal, ErrorCode::kPermissionDenied},
    Rule{"IpNotInWhitelist", false, kTerminal, ErrorCode::kPermissionDenied},
    Rule{"LimitExceeded", true, kTerminal, ErrorCode::kPermissionDenied},
    Rule{"InvalidParameter", true, kTerminal, ErrorCode::kInvalidArgument},
    Rule{"InvalidParameterValue", true, kTerminal, ErrorCode::kInvalidArgument},
    Rule{"MissingParameter", true, kTerminal, ErrorCode::kInvalidArgument},
    Rule{"UnknownParameter", true, kTerminal, ErrorCode::kInvalidArgument},
    Rule{"InvalidAction", false, kTerminal, ErrorCode::kInvalidArgument},
    Rule{"ActionOffline", false, kTerminal, ErrorCode::kInvalidArgument},
    Rule{"NoSuchProduct", false, kTerminal, ErrorCode::kInvalidArgument},
    Rule{"NoSuchVersion", false, kTerminal, ErrorCode::kInvalidArgument},
    Rule{"InvalidRequest", false, kTerminal, ErrorCode::kInvalidArgument},
    Rule{"RequestSizeLimitExceeded", false, kTerminal, ErrorCode::kInvalidArgument},
    Rule{"ResponseSizeLimitExceeded", false, kTerminal, ErrorCode::kInvalidArgument},
    Rule{"UnsupportedOperation", true, kTerminal, ErrorCode::kInvalidArgument},
    Rule{"UnsupportedProtocol", false, kTerminal, ErrorCode::kInvalidArgument},
    Rule{"UnsupportedRegion", false, kTerminal, ErrorCode::kInvalidArgument},
    Rule{"DryRunOperation", false, kTerminal, ErrorCode::kInvalidArgument},
    Rule{"FailedOperation", true, kTerminal, ErrorCode::kInvalidArgument},
};

bool IsIdChar(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

}  // namespace

TencentErrorKind ClassifyTencentKind(std::string_view code) {
  for (const Rule& rule : kRules) {
    if (RuleMatches(rule, code)) return {rule.error_class, rule.error_code};
  }
  return {kTerminal, ErrorCode::kInvalidArgument};
}

ErrorClass ClassifyTencent(std::string_view code) { return ClassifyTencentKind(code).error_class; }

Error MakeTencentError(std::string_view action, std::string_view code, std::string_view message,
                       std::string_view request_id) {
  const TencentErrorKind kind = ClassifyTencentKind(code);
  Error error;
  error.code = kind.code;
  // Both come from the answer: keep them printable and short.
  error.provider_code = code.empty() ? std::string() : BodySnippet(code, 100);
  error.provider_request_id = request_id.empty() ? std::string() : BodySnippet(request_id, 100);
  error.http_status = 200;
  error.message = "tencent " + std::string(action) + ": " +
                  (code.empty() ? std::string("error") : error.provider_code);
  if (!message.empty()) error.message += ": " + BodySnippet(message, 300);
  return error;
}

std::vector<std::string> ExtractInstanceIds(std::string_view message) {
  std::vector<std::string> ids;
  constexpr std::string_view kPrefix = "ein-";
  size_t pos = 0;
  while ((pos = message.find(kPrefix, pos)) != std::string_view::npos) {
    // A token boundary before the prefix, so "xein-1" or "prein-1" do not count.
    const bool boundary = pos == 0 || !(IsIdChar(message[pos - 1]) || message[pos - 1] == '-' ||
                                        message[pos - 1] == '_' ||
                                        (message[pos - 1] >= 'A' && message[pos - 1] <= 'Z'));
    size_t end = pos + kPrefix.size();
    while (end < message.size() && IsIdChar(message[end])) ++end;
    if (boundary && end > pos + kPrefix.size()) {
      std::string id(message.substr(pos, end - pos));
      if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(std::move(id));
    }
    pos = end;
  }
  return ids;
}

}  // namespace rebootd::cloud::tencent
