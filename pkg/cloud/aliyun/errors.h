// SPDX-License-Identifier: Apache-2.0
// Aliyun ECS error codes -> ErrorClass and ErrorCode (DESIGN.md §5, cloud-apis.md §1.6, §1.8,
// §1.12). Pure functions, thread-safe.
//
// Table (exact code, or prefix when written "X.*"); the HTTP status only matters for codes not
// in the table:
//   throttled   -> kResourceExhausted : Throttling, Throttling.* (User, Api, ...)
//   transient   -> kUnavailable       : InternalError, InternalError.*, ServiceUnavailable,
//                                       ServiceUnavailable.* (RegionMaintaining), UnknownError
//   wrong state -> kFailedPrecondition: IncorrectInstanceStatus(.*), OperationConflict, DiskError,
//                                       IncorrectDiskStatus
//   terminal    -> kNotFound          : InvalidInstanceId.NotFound, InvalidRegionId.NotFound,
//                                       any other "*.NotFound"
//               -> kPermissionDenied  : InstanceLockedForSecurity, InstanceExpiredOrInArrears,
//                                       Forbidden, Forbidden.* (AccessKeyDisabled, RAM,
//                                       Unauthorized, RiskControl),
//                                       InvalidParameter.KMSKeyId.KMSUnauthorized
//               -> kUnauthenticated   : InvalidAccessKeyId(.*), SignatureDoesNotMatch,
//                                       IncompleteSignature, SignatureNonceUsed, IllegalTimestamp,
//                                       InvalidTimeStamp.Expired, InvalidSecurityToken.*,
//                                       MissingSecurityToken
//               -> kInvalidArgument   : InvalidParameter(.*), MissingParameter(.*),
//                                       UnsupportedParameter, InvalidAction, UnsupportedHTTPMethod,
//                                       IdempotentParameterMismatch, InvalidOperation.*
//                                       (NotSupportedEndpoint), DryRunOperation (outside a dry run)
//   not in the table: HTTP 429 -> throttled; HTTP 5xx -> transient; anything else -> terminal
//   (401 kUnauthenticated, 403 kPermissionDenied, 404 kNotFound, else kInvalidArgument).
//
// Note: this client sends a fresh SignatureNonce and the current Timestamp on every attempt, so
// SignatureNonceUsed / IllegalTimestamp / InvalidTimeStamp.Expired mean a replayed request or a
// skewed local clock. They are terminal auth failures here; the operator must fix the clock.
#pragma once

#include <string_view>

#include "pkg/base/result.h"
#include "pkg/cloud/errors.h"

namespace rebootd::cloud::aliyun {

struct AliyunErrorKind {
  ErrorClass error_class;
  ErrorCode code;
};
AliyunErrorKind ClassifyAliyunKind(int http_status, std::string_view code);
ErrorClass ClassifyAliyun(int http_status, std::string_view code);

// Builds the Error for a vendor error answer: code per the table above, provider_code,
// provider_request_id and http_status filled in; message "aliyun <action>: <Code> (HTTP n):
// <vendor message>". The vendor message is trimmed to a few hundred characters, and the
// server's echoed string-to-sign (SignatureDoesNotMatch) is cut off. The caller still redacts
// secrets from the message. `ambiguous` is left false; the client decides it.
Error MakeAliyunError(std::string_view action, int http_status, std::string_view code,
                      std::string_view message, std::string_view request_id);

}  // namespace rebootd::cloud::aliyun
