// SPDX-License-Identifier: Apache-2.0
// Tencent Cloud ECM error codes (Response.Error.Code of an HTTP 200 answer) -> ErrorClass and
// ErrorCode (DESIGN.md §5, cloud-apis.md §2.5, §2.6, §2.8). Pure functions, thread-safe.
//
// Table (exact code, or prefix when written "X(.*)"); first match wins:
//   throttled   -> kResourceExhausted : RequestLimitExceeded(.*) (GlobalRegionUinLimitExceeded,
//                                       IPLimitExceeded, UinLimitExceeded)
//   transient   -> kUnavailable       : InternalError(.*), ServiceUnavailable(.*),
//                                       FailedOperation.InternalOperationFailure
//   wrong state -> kFailedPrecondition: ResourceUnavailable(.*) (InstanceNotRunning),
//                                       OperationDenied.InstanceOperationInProgress,
//                                       ResourceInUse(.*), ResourceInsufficient(.*)
//   terminal    -> kNotFound          : ResourceNotFound(.*) (InstanceNotExist)
//               -> kPermissionDenied  : AuthFailure.UnauthorizedOperation,
//                                       UnauthorizedOperation(.*) (ForbiddenOperation),
//                                       FailedOperation.OperationNotAllow, OperationDenied(.*),
//                                       IpInBlacklist, IpNotInWhitelist, LimitExceeded(.*)
//               -> kUnauthenticated   : AuthFailure(.*) (SignatureExpire, SignatureFailure,
//                                       SecretIdNotFound, InvalidSecretId, InvalidAuthorization,
//                                       TokenFailure, MFAFailure)
//               -> kInvalidArgument   : InvalidParameter(.*), InvalidParameterValue(.*)
//                                       (InvalidInstanceID, InvaildPageParam, InvalidFilter, ...),
//                                       MissingParameter(.*), UnknownParameter(.*), InvalidAction,
//                                       ActionOffline, NoSuchProduct, NoSuchVersion,
//                                       InvalidRequest, RequestSizeLimitExceeded,
//                                       ResponseSizeLimitExceeded, UnsupportedOperation(.*),
//                                       UnsupportedProtocol, UnsupportedRegion, DryRunOperation
//                                       (ECM has no dry run), FailedOperation(.*) otherwise, and
//                                       every unknown code.
// AuthFailure.SignatureExpire means the local clock is more than 5 minutes off (each attempt is
// signed with the current time); terminal, the operator must fix the clock.
// A non-200 HTTP status is not in this table: the client treats it as transient.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "pkg/base/result.h"
#include "pkg/cloud/errors.h"

namespace rebootd::cloud::tencent {

struct TencentErrorKind {
  ErrorClass error_class;
  ErrorCode code;
};
TencentErrorKind ClassifyTencentKind(std::string_view code);
ErrorClass ClassifyTencent(std::string_view code);

// Builds the Error for an API error answer (HTTP 200 with Response.Error): code per the table,
// provider_code, provider_request_id, http_status = 200; message "tencent <action>: <Code>:
// <vendor message>" (vendor message sanitised and bounded). The caller redacts secrets and
// decides `ambiguous`.
Error MakeTencentError(std::string_view action, std::string_view code, std::string_view message,
                       std::string_view request_id);

// The ECM instance IDs (`ein-` followed by [a-z0-9]+) mentioned in an error message, in order of
// first appearance, without duplicates. Lets the caller isolate the IDs that failed a batch.
std::vector<std::string> ExtractInstanceIds(std::string_view message);

}  // namespace rebootd::cloud::tencent
