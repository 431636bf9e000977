// SPDX-License-Identifier: Apache-2.0
// Table-driven: every Aliyun error code listed in cloud-apis.md §1.6, §1.8 and §1.12 (plus the
// auth codes §1.8 quotes from Alibaba-authored clients) maps to the documented class and code.
#include "pkg/cloud/aliyun/errors.h"

#include <gtest/gtest.h>

namespace rebootd::cloud::aliyun {
namespace {

struct Case {
  int http_status;
  const char* code;
  ErrorClass error_class;
  ErrorCode error_code;
};

const Case kCases[] = {
    // §1.6 RebootInstance.
    {404, "InvalidInstanceId.NotFound", kTerminal, ErrorCode::kNotFound},
    {403, "IncorrectInstanceStatus", kWrongState, ErrorCode::kFailedPrecondition},
    {403, "InstanceLockedForSecurity", kTerminal, ErrorCode::kPermissionDenied},
    {403, "DiskError", kWrongState, ErrorCode::kFailedPrecondition},
    {403, "IncorrectDiskStatus", kWrongState, ErrorCode::kFailedPrecondition},
    {403, "InstanceExpiredOrInArrears", kTerminal, ErrorCode::kPermissionDenied},
    {403, "InvalidParameter.KMSKeyId.KMSUnauthorized", kTerminal, ErrorCode::kPermissionDenied},
    {500, "InternalError", kTransient, ErrorCode::kUnavailable},
    {400, "DryRunOperation", kTerminal, ErrorCode::kInvalidArgument},  // outside a dry run
    // §1.8 common codes.
    {400, "IdempotentParameterMismatch", kTerminal, ErrorCode::kInvalidArgument},
    {400, "IllegalTimestamp", kTerminal, ErrorCode::kUnauthenticated},
    {400, "IncompleteSignature", kTerminal, ErrorCode::kUnauthenticated},
    {400, "InvalidAccessKeyId.NotFound", kTerminal, ErrorCode::kUnauthenticated},
    {400, "InvalidParameter", kTerminal, ErrorCode::kInvalidArgument},
    {400, "MissingParameter", kTerminal, ErrorCode::kInvalidArgument},
    {400, "MissingParameter.Action", kTerminal, ErrorCode::kInvalidArgument},
    {400, "SignatureNonceUsed", kTerminal, ErrorCode::kUnauthenticated},
    {400, "Throttling", kThrottled, ErrorCode::kResourceExhausted},
    {400, "UnsupportedParameter", kTerminal, ErrorCode::kInvalidArgument},
    {400, "UnknownError", kTransient, ErrorCode::kUnavailable},
    {403, "Forbidden.AccessKeyDisabled", kTerminal, ErrorCode::kPermissionDenied},
    {403, "Forbidden.RAM", kTerminal, ErrorCode::kPermissionDenied},
    {403, "Forbidden.Unauthorized", kTerminal, ErrorCode::kPermissionDenied},
    {403, "Forbidden.RiskControl", kTerminal, ErrorCode::kPermissionDenied},
    {403, "InvalidAction", kTerminal, ErrorCode::kInvalidArgument},
    {403, "UnsupportedHTTPMethod", kTerminal, ErrorCode::kInvalidArgument},
    {404, "InvalidRegionId.NotFound", kTerminal, ErrorCode::kNotFound},
    {409, "OperationConflict", kWrongState, ErrorCode::kFailedPrecondition},
    {500, "InternalError", kTransient, ErrorCode::kUnavailable},
    {503, "ServiceUnavailable", kTransient, ErrorCode::kUnavailable},
    {503, "ServiceUnavailable.RegionMaintaining", kTransient, ErrorCode::kUnavailable},
    {400, "InvalidOperation.NotSupportedEndpoint", kTerminal, ErrorCode::kInvalidArgument},
    // §1.8 / §1.12 throttling, with either documented status.
    {429, "Throttling", kThrottled, ErrorCode::kResourceExhausted},
    {400, "Throttling.User", kThrottled, ErrorCode::kResourceExhausted},
    {429, "Throttling.User", kThrottled, ErrorCode::kResourceExhausted},
    {400, "Throttling.Api", kThrottled, ErrorCode::kResourceExhausted},
    {503, "Throttling.Api", kThrottled, ErrorCode::kResourceExhausted},
    // §1.8 auth codes seen in Alibaba-authored clients (status unconfirmed).
    {400, "SignatureDoesNotMatch", kTerminal, ErrorCode::kUnauthenticated},
    {400, "InvalidTimeStamp.Expired", kTerminal, ErrorCode::kUnauthenticated},
    {400, "InvalidAccessKeyId.Inactive", kTerminal, ErrorCode::kUnauthenticated},
    {400, "InvalidSecurityToken.Expired", kTerminal, ErrorCode::kUnauthenticated},
    {400, "InvalidSecurityToken.MismatchWithAccessKey", kTerminal, ErrorCode::kUnauthenticated},
    {400, "InvalidSecurityToken.Malformed", kTerminal, ErrorCode::kUnauthenticated},
    {400, "MissingSecurityToken", kTerminal, ErrorCode::kUnauthenticated},
    // Answered by rebootd-cloudsim (pkg/sim/simulator.h) and seen by the integration test.
    {400, "InvalidTimeStamp.Format", kTerminal, ErrorCode::kUnauthenticated},
    {400, "InvalidVersion", kTerminal, ErrorCode::kInvalidArgument},
    {400, "InvalidInstanceIds.Malformed", kTerminal, ErrorCode::kInvalidArgument},
    // Prefix families and unknown codes.
    {403, "IncorrectInstanceStatus.Initializing", kWrongState, ErrorCode::kFailedPrecondition},
    {400, "InvalidParameter.Something", kTerminal, ErrorCode::kInvalidArgument},
    {404, "InvalidDiskId.NotFound", kTerminal, ErrorCode::kNotFound},
    {500, "SomethingNew", kTransient, ErrorCode::kUnavailable},
    {502, "", kTransient, ErrorCode::kUnavailable},
    {429, "", kThrottled, ErrorCode::kResourceExhausted},
    {400, "SomethingNew", kTerminal, ErrorCode::kInvalidArgument},
    {401, "SomethingNew", kTerminal, ErrorCode::kUnauthenticated},
    {403, "SomethingNew", kTerminal, ErrorCode::kPermissionDenied},
    {404, "SomethingNew", kTerminal, ErrorCode::kNotFound},
    // Not a prefix match: "ThrottlingX" is not "Throttling.*".
    {400, "ThrottlingX", kTerminal, ErrorCode::kInvalidArgument},
};

TEST(ClassifyAliyunTest, EveryDocumentedCode) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(std::string(c.code) + " HTTP " + std::to_string(c.http_status));
    EXPECT_EQ(ClassifyAliyun(c.http_status, c.code), c.error_class)
        << ErrorClassName(ClassifyAliyun(c.http_status, c.code));
    const Error error = MakeAliyunError("RebootInstance", c.http_status, c.code, "msg", "REQ-1");
    EXPECT_EQ(error.code, c.error_code) << ErrorCodeName(error.code);
    // The canonical code agrees with the class.
    EXPECT_EQ(ClassOf(error), c.error_class);
    EXPECT_EQ(error.provider_code, c.code);
    EXPECT_EQ(error.provider_request_id, "REQ-1");
    EXPECT_EQ(error.http_status, c.http_status);
    EXPECT_FALSE(error.ambiguous);
    EXPECT_NE(error.message.find("aliyun RebootInstance"), std::string::npos) << error.message;
  }
}

TEST(MakeAliyunErrorTest, CutsTheEchoedStringToSign) {
  const Error error = MakeAliyunError(
      "DescribeInstances", 400, "SignatureDoesNotMatch",
      "Specified signature is not matched with our calculation. server string to sign "
      "is:POST&%2F&AccessKeyId%3Dtestid%26SecurityToken%3DSTS.secret-token",
      "REQ-2");
  EXPECT_EQ(error.message.find("secret-token"), std::string::npos) << error.message;
  EXPECT_EQ(error.message.find("AccessKeyId"), std::string::npos) << error.message;
  EXPECT_NE(error.message.find("not matched"), std::string::npos) << error.message;
  EXPECT_NE(error.message.find("omitted"), std::string::npos) << error.message;
}

TEST(MakeAliyunErrorTest, BoundsAndSanitisesVendorText) {
  const Error error = MakeAliyunError("RebootInstance", 400, "InvalidParameter",
                                      std::string(5000, 'm') + "\x01", std::string(500, 'r'));
  EXPECT_LT(error.message.size(), 400u);
  EXPECT_LE(error.provider_request_id.size(), 103u);
}

}  // namespace
}  // namespace rebootd::cloud::aliyun
