// SPDX-License-Identifier: Apache-2.0
// The four classes every cloud error falls into (DESIGN.md §5), and how they map onto ErrorCode.
#pragma once

#include <string>
#include <string_view>

#include "pkg/base/result.h"

namespace rebootd::cloud {

enum class ErrorClass {
  kThrottled,   // slow the shared bucket down, retry later
  kTransient,   // 5xx, InternalError, ServiceUnavailable, network: retry with backoff (reboots:
                // only after polling shows the call did not take effect, DESIGN.md §4)
  kWrongState,  // IncorrectInstanceStatus, InstanceNotRunning, operation in progress: re-check
  kTerminal,    // not found, locked, expired, unauthorized, invalid parameter, auth failure
};
std::string_view ErrorClassName(ErrorClass c);

// The canonical ErrorCode used for each class. Terminal errors carry a more specific code
// (kNotFound, kPermissionDenied, kUnauthenticated, kInvalidArgument) chosen by the client.
//   kThrottled  -> kResourceExhausted
//   kTransient  -> kUnavailable (or kDeadlineExceeded / kInternal for timeouts / bad answers)
//   kWrongState -> kFailedPrecondition
ErrorClass ClassOf(const Error& error);

// One row of a provider's table of vendor error codes. `code` matches itself and, when `prefix`
// is set, `code` + "." + anything ("Throttling" matches "Throttling.User").
struct ErrorRule {
  std::string_view code;
  bool prefix;
  ErrorClass error_class;
  ErrorCode error_code;
};
bool RuleMatches(const ErrorRule& rule, std::string_view code);

// The instance failure reason by canonical code alone, for errors a provider has no more
// specific reason for: kNotFound -> InstanceNotFound, kUnauthenticated -> Unauthenticated,
// kPermissionDenied -> PermissionDenied, kInvalidArgument -> InvalidRequest, anything else ->
// RebootFailed.
std::string ReasonForCode(const Error& error);

// Short names for the tables.
inline constexpr ErrorClass kThrottled = ErrorClass::kThrottled;
inline constexpr ErrorClass kTransient = ErrorClass::kTransient;
inline constexpr ErrorClass kWrongState = ErrorClass::kWrongState;
inline constexpr ErrorClass kTerminal = ErrorClass::kTerminal;

}  // namespace rebootd::cloud
