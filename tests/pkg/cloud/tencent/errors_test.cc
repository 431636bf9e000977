// SPDX-License-Identifier: Apache-2.0
// Table-driven: every Tencent error code listed in cloud-apis.md §2.5, §2.6 and §2.8 maps to the
// documented class and code; ExtractInstanceIds finds the IDs named in error messages.
#include "pkg/cloud/tencent/errors.h"

#include <gtest/gtest.h>

namespace rebootd::cloud::tencent {
namespace {

struct Case {
  const char* code;
  ErrorClass error_class;
  ErrorCode error_code;
};

const Case kCases[] = {
    // §2.5 RebootInstances.
    {"FailedOperation.InternalOperationFailure", kTransient, ErrorCode::kUnavailable},
    {"FailedOperation.OperationNotAllow", kTerminal, ErrorCode::kPermissionDenied},
    {"InvalidParameter.InvalidDataFormat", kTerminal, ErrorCode::kInvalidArgument},
    {"InvalidParameterValue.InvalidDataDiskType", kTerminal, ErrorCode::kInvalidArgument},
    {"InvalidParameterValue.InvalidISPInNode", kTerminal, ErrorCode::kInvalidArgument},
    {"InvalidParameterValue.InvalidInstanceID", kTerminal, ErrorCode::kInvalidArgument},
    {"InvalidParameterValue.ParameterValueTooLarge", kTerminal, ErrorCode::kInvalidArgument},
    {"OperationDenied.InstanceOperationInProgress", kWrongState, ErrorCode::kFailedPrecondition},
    {"ResourceNotFound.InstanceNotExist", kTerminal, ErrorCode::kNotFound},
    {"ResourceUnavailable.InstanceNotRunning", kWrongState, ErrorCode::kFailedPrecondition},
    {"UnauthorizedOperation.ForbiddenOperation", kTerminal, ErrorCode::kPermissionDenied},
    // §2.6 DescribeInstances.
    {"AuthFailure.UnauthorizedOperation", kTerminal, ErrorCode::kPermissionDenied},
    {"InvalidParameterValue.InvaildDescribeInstance", kTerminal, ErrorCode::kInvalidArgument},
    {"InvalidParameterValue.InvaildPageParam", kTerminal, ErrorCode::kInvalidArgument},
    {"InvalidParameterValue.InvalidFilter", kTerminal, ErrorCode::kInvalidArgument},
    {"InvalidParameterValue.InvalidOrderByField", kTerminal, ErrorCode::kInvalidArgument},
    // §2.8 common codes.
    {"AuthFailure.SignatureExpire", kTerminal, ErrorCode::kUnauthenticated},
    {"AuthFailure.SignatureFailure", kTerminal, ErrorCode::kUnauthenticated},
    {"AuthFailure.SecretIdNotFound", kTerminal, ErrorCode::kUnauthenticated},
    {"AuthFailure.InvalidSecretId", kTerminal, ErrorCode::kUnauthenticated},
    {"AuthFailure.InvalidAuthorization", kTerminal, ErrorCode::kUnauthenticated},
    {"AuthFailure.TokenFailure", kTerminal, ErrorCode::kUnauthenticated},
    {"AuthFailure.MFAFailure", kTerminal, ErrorCode::kUnauthenticated},
    {"UnauthorizedOperation", kTerminal, ErrorCode::kPermissionDenied},
    {"ActionOffline", kTerminal, ErrorCode::kInvalidArgument},
    {"DryRunOperation", kTerminal, ErrorCode::kInvalidArgument},
    {"FailedOperation", kTerminal, ErrorCode::kInvalidArgument},
    {"InternalError", kTransient, ErrorCode::kUnavailable},
    {"InvalidAction", kTerminal, ErrorCode::kInvalidArgument},
    {"InvalidParameter", kTerminal, ErrorCode::kInvalidArgument},
    {"InvalidParameterValue", kTerminal, ErrorCode::kInvalidArgument},
    {"InvalidRequest", kTerminal, ErrorCode::kInvalidArgument},
    {"IpInBlacklist", kTerminal, ErrorCode::kPermissionDenied},
    {"IpNotInWhitelist", kTerminal, ErrorCode::kPermissionDenied},
    {"LimitExceeded", kTerminal, ErrorCode::kPermissionDenied},
    {"MissingParameter", kTerminal, ErrorCode::kInvalidArgument},
    {"NoSuchProduct", kTerminal, ErrorCode::kInvalidArgument},
    {"NoSuchVersion", kTerminal, ErrorCode::kInvalidArgument},
    {"RequestLimitExceeded", kThrottled, ErrorCode::kResourceExhausted},
    {"RequestLimitExceeded.GlobalRegionUinLimitExceeded", kThrottled,
     ErrorCode::kResourceExhausted},
    {"RequestLimitExceeded.IPLimitExceeded", kThrottled, ErrorCode::kResourceExhausted},
    {"RequestLimitExceeded.UinLimitExceeded", kThrottled, ErrorCode::kResourceExhausted},
    {"RequestSizeLimitExceeded", kTerminal, ErrorCode::kInvalidArgument},
    {"ResourceInUse", kWrongState, ErrorCode::kFailedPrecondition},
    {"ResourceInsufficient", kWrongState, ErrorCode::kFailedPrecondition},
    {"ResourceNotFound", kTerminal, ErrorCode::kNotFound},
    {"ResourceUnavailable", kWrongState, ErrorCode::kFailedPrecondition},
    {"ResponseSizeLimitExceeded", kTerminal, ErrorCode::kInvalidArgument},
    {"ServiceUnavailable", kTransient, ErrorCode::kUnavailable},
    {"UnknownParameter", kTerminal, ErrorCode::kInvalidArgument},
    {"UnsupportedOperation", kTerminal, ErrorCode::kInvalidArgument},
    {"UnsupportedProtocol", kTerminal, ErrorCode::kInvalidArgument},
    {"UnsupportedRegion", kTerminal, ErrorCode::kInvalidArgument},
    // Prefix families and unknown codes.
    {"InternalError.DbError", kTransient, ErrorCode::kUnavailable},
    {"UnauthorizedOperation.CamNoAuth", kTerminal, ErrorCode::kPermissionDenied},
    {"OperationDenied.Other", kTerminal, ErrorCode::kPermissionDenied},
    {"LimitExceeded.InstanceQuota", kTerminal, ErrorCode::kPermissionDenied},
    {"FailedOperation.Something", kTerminal, ErrorCode::kInvalidArgument},
    {"SomethingBrandNew", kTerminal, ErrorCode::kInvalidArgument},
    {"RequestLimitExceededX", kTerminal, ErrorCode::kInvalidArgument},
};

TEST(ClassifyTencentTest, EveryDocumentedCode) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.code);
    EXPECT_EQ(ClassifyTencent(c.code), c.error_class) << ErrorClassName(ClassifyTencent(c.code));
    const Error error = MakeTencentError("RebootInstances", c.code, "msg", "REQ-1");
    EXPECT_EQ(error.code, c.error_code) << ErrorCodeName(error.code);
    EXPECT_EQ(ClassOf(error), c.error_class);
    EXPECT_EQ(error.provider_code, c.code);
    EXPECT_EQ(error.provider_request_id, "REQ-1");
    EXPECT_EQ(error.http_status, 200);
    EXPECT_FALSE(error.ambiguous);
    EXPECT_NE(error.message.find(std::string("tencent RebootInstances: ") + c.code),
              std::string::npos)
        << error.message;
  }
}

TEST(ExtractInstanceIdsTest, FindsIdsInMessages) {
  EXPECT_EQ(ExtractInstanceIds("The instance `ein-496721al` does not exist."),
            (std::vector<std::string>{"ein-496721al"}));
  EXPECT_EQ(ExtractInstanceIds("instances [ein-438242bp, ein-bb0ab3pc] not running; "
                               "ein-438242bp again"),
            (std::vector<std::string>{"ein-438242bp", "ein-bb0ab3pc"}));
  EXPECT_EQ(ExtractInstanceIds("InstanceIdSet=[\"ein-19828lyz\"]"),
            (std::vector<std::string>{"ein-19828lyz"}));
  EXPECT_TRUE(ExtractInstanceIds("no ids here, prein-12345678 is not one, ein- either").empty());
  EXPECT_TRUE(ExtractInstanceIds("").empty());
}

}  // namespace
}  // namespace rebootd::cloud::tencent
