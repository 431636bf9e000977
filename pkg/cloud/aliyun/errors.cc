// SPDX-License-Identifier: Apache-2.0
#include "pkg/cloud/aliyun/errors.h"

#include <array>
#include <string>

#include "pkg/cloud/call.h"

namespace rebootd::cloud::aliyun {
namespace {

using Rule = ErrorRule;

// First match wins: specific entries before the prefixes that would also match them.
constexpr std::array kRules = {
    Rule{"Throttling", true, kThrottled, ErrorCode::kResourceExhausted},
    Rule{"InternalError", true, kTransient, ErrorCode::kUnavailable},
    Rule{"ServiceUnavailable", true, kTransient, ErrorCode::kUnavailable},
    // The Python SDK retries UnknownError (documented with HTTP 400) like InternalError.
    Rule{"UnknownError", false, kTransient, ErrorCode::kUnavailable},
    Rule{"IncorrectInstanceStatus", true, kWrongState, ErrorCode::kFailedPrecondition},
    // Another operation holds the instance; re-check by polling.
    Rule{"OperationConflict", false, kWrongState, ErrorCode::kFailedPrecondition},
    Rule{"DiskError", false, kWrongState, ErrorCode::kFailedPrecondition},
    Rule{"IncorrectDiskStatus", false, kWrongState, ErrorCode::kFailedPrecondition},
    Rule{"InvalidInstanceId.NotFound", false, kTerminal, ErrorCode::kNotFound},
    Rule{"InvalidRegionId.NotFound", false, kTerminal, ErrorCode::kNotFound},
    Rule{"InstanceLockedForSecurity", false, kTerminal, ErrorCode::kPermissionDenied},
    Rule{"InstanceExpiredOrInArrears", false, kTerminal, ErrorCode::kPermissionDenied},
    Rule{"Forbidden", true, kTerminal, ErrorCode::kPermissionDenied},
    Rule{"InvalidParameter.KMSKeyId.KMSUnauthorized", false, kTerminal,
         ErrorCode::kPermissionDenied},
    Rule{"InvalidAccessKeyId", true, kTerminal, ErrorCode::kUnauthenticated},
    Rule{"SignatureDoesNotMatch", false, kTerminal, ErrorCode::kUnauthenticated},
    Rule{"IncompleteSignature", false, kTerminal, ErrorCode::kUnauthenticated},
    Rule{"SignatureNonceUsed", false, kTerminal, ErrorCode::kUnauthenticated},
    Rule{"IllegalTimestamp", false, kTerminal, ErrorCode::kUnauthenticated},
    Rule{"InvalidTimeStamp", true, kTerminal, ErrorCode::kUnauthenticated},
    Rule{"InvalidSecurityToken", true, kTerminal, ErrorCode::kUnauthenticated},
    Rule{"MissingSecurityToken", false, kTerminal, ErrorCode::kUnauthenticated},
    Rule{"InvalidParameter", true, kTerminal, ErrorCode::kInvalidArgument},
    Rule{"MissingParameter", true, kTerminal, ErrorCode::kInvalidArgument},
    Rule{"UnsupportedParameter", true, kTerminal, ErrorCode::kInvalidArgument},
    Rule{"InvalidAction", true, kTerminal, ErrorCode::kInvalidArgument},
    Rule{"UnsupportedHTTPMethod", false, kTerminal, ErrorCode::kInvalidArgument},
    Rule{"IdempotentParameterMismatch", false, kTerminal, ErrorCode::kInvalidArgument},
    Rule{"InvalidOperation", true, kTerminal, ErrorCode::kInvalidArgument},
    Rule{"DryRunOperation", false, kTerminal, ErrorCode::kInvalidArgument},
};

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Aliyun vendor messages are short; keep a bound anyway, and never echo the server's
// string-to-sign (it carries the request's parameters, the STS token among them).
std::string CleanVendorMessage(std::string_view message) {
  static constexpr std::string_view kMarkers[] = {"string to sign is", "StringToSign",
                                                  "stringToSign"};
  for (std::string_view marker : kMarkers) {
    size_t pos = message.find(marker);
    if (pos != std::string_view::npos) {
      std::string cut(message.substr(0, pos));
      cut += "(server string-to-sign omitted)";
      return BodySnippet(cut, 300);
    }
  }
  return BodySnippet(message, 300);
}

}  // namespace

AliyunErrorKind ClassifyAliyunKind(int http_status, std::string_view code) {
  if (!code.empty()) {
    for (const Rule& rule : kRules) {
      if (RuleMatches(rule, code)) return {rule.error_class, rule.error_code};
    }
    if (EndsWith(code, ".NotFound")) return {kTerminal, ErrorCode::kNotFound};
  }
  if (http_status == 429) return {kThrottled, ErrorCode::kResourceExhausted};
  if (http_status >= 500) return {kTransient, ErrorCode::kUnavailable};
  switch (http_status) {
    case 401:
      return {kTerminal, ErrorCode::kUnauthenticated};
    case 403:
      return {kTerminal, ErrorCode::kPermissionDenied};
    case 404:
      return {kTerminal, ErrorCode::kNotFound};
    default:
      return {kTerminal, ErrorCode::kInvalidArgument};
  }
}

ErrorClass ClassifyAliyun(int http_status, std::string_view code) {
  return ClassifyAliyunKind(http_status, code).error_class;
}

Error MakeAliyunError(std::string_view action, int http_status, std::string_view code,
                      std::string_view message, std::string_view request_id) {
  const AliyunErrorKind kind = ClassifyAliyunKind(http_status, code);
  Error error;
  error.code = kind.code;
  // Both come from the answer: keep them printable and short.
  error.provider_code = code.empty() ? std::string() : BodySnippet(code, 100);
  error.provider_request_id = request_id.empty() ? std::string() : BodySnippet(request_id, 100);
  error.http_status = http_status;
  error.message = "aliyun " + std::string(action) + ": " +
                  (code.empty() ? std::string("error") : std::string(code)) + " (HTTP " +
                  std::to_string(http_status) + ")";
  if (!message.empty()) error.message += ": " + CleanVendorMessage(message);
  return error;
}

}  // namespace rebootd::cloud::aliyun
