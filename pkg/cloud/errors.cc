// SPDX-License-Identifier: Apache-2.0
#include "pkg/cloud/errors.h"

namespace rebootd::cloud {

std::string_view ErrorClassName(ErrorClass c) {
  switch (c) {
    case ErrorClass::kThrottled:
      return "throttled";
    case ErrorClass::kTransient:
      return "transient";
    case ErrorClass::kWrongState:
      return "wrong_state";
    case ErrorClass::kTerminal:
      return "terminal";
  }
  return "unknown";
}

ErrorClass ClassOf(const Error& error) {
  switch (error.code) {
    case ErrorCode::kResourceExhausted:
      return ErrorClass::kThrottled;
    case ErrorCode::kUnavailable:
    case ErrorCode::kDeadlineExceeded:
    case ErrorCode::kAborted:
    // kInternal is what the clients return for an answer they could not parse (a proxy's error
    // page, a truncated body): worth another try for reads; reboots check `ambiguous` first.
    case ErrorCode::kInternal:
      return ErrorClass::kTransient;
    case ErrorCode::kFailedPrecondition:
      return ErrorClass::kWrongState;
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kNotFound:
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kPermissionDenied:
    case ErrorCode::kUnauthenticated:
    case ErrorCode::kCancelled:
      return ErrorClass::kTerminal;
  }
  return ErrorClass::kTerminal;
}

bool RuleMatches(const ErrorRule& rule, std::string_view code) {
  if (code == rule.code) return true;
  return rule.prefix && code.size() > rule.code.size() + 1 && code.starts_with(rule.code) &&
         code[rule.code.size()] == '.';
}

}  // namespace rebootd::cloud

namespace rebootd::cloud {

std::string ReasonForCode(const Error& e) {
  switch (e.code) {
    case ErrorCode::kNotFound:
      return "InstanceNotFound";
    case ErrorCode::kUnauthenticated:
      return "Unauthenticated";
    case ErrorCode::kPermissionDenied:
      return "PermissionDenied";
    case ErrorCode::kInvalidArgument:
      return "InvalidRequest";
    default:
      return "RebootFailed";
  }
}

}  // namespace rebootd::cloud
