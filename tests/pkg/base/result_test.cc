// SPDX-License-Identifier: Apache-2.0
#include "pkg/base/result.h"

#include <gtest/gtest.h>

namespace rebootd {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return MakeError(ErrorCode::kInvalidArgument, "odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  REBOOTD_ASSIGN_OR_RETURN(int h, Half(x));
  REBOOTD_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

Status CheckEven(int x) {
  REBOOTD_RETURN_IF_ERROR(Half(x));
  return OkStatus();
}

TEST(ResultTest, AssignOrReturnPropagatesTheFirstError) {
  EXPECT_EQ(*Quarter(8), 2);
  auto r = Quarter(6);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.error().message, "odd");
}

TEST(ResultTest, ReturnIfErrorWorksForStatus) {
  EXPECT_TRUE(CheckEven(4));
  EXPECT_FALSE(CheckEven(3));
}

TEST(ResultTest, RetryableCodes) {
  EXPECT_TRUE(IsRetryable(Error::Of(ErrorCode::kUnavailable, "")));
  EXPECT_TRUE(IsRetryable(Error::Of(ErrorCode::kResourceExhausted, "")));
  EXPECT_TRUE(IsRetryable(Error::Of(ErrorCode::kDeadlineExceeded, "")));
  EXPECT_TRUE(IsRetryable(Error::Of(ErrorCode::kAborted, "")));
  EXPECT_FALSE(IsRetryable(Error::Of(ErrorCode::kNotFound, "")));
  EXPECT_FALSE(IsRetryable(Error::Of(ErrorCode::kUnauthenticated, "")));
  EXPECT_FALSE(IsRetryable(Error::Of(ErrorCode::kFailedPrecondition, "")));
}

TEST(ResultTest, ToStringNamesCodeProviderCodeAndRequestId) {
  Error e{ErrorCode::kResourceExhausted, "slow down", "Throttling.User", "REQ-1", 400, false};
  EXPECT_EQ(e.ToString(), "ResourceExhausted (Throttling.User): slow down [RequestId REQ-1]");
}

TEST(ResultTest, NamedConstructorsSetTheCodeAndLeaveTheDetailsEmpty) {
  Error e = Error::Unavailable("connection reset");
  EXPECT_EQ(e.code, ErrorCode::kUnavailable);
  EXPECT_EQ(e.message, "connection reset");
  EXPECT_EQ(e.provider_code, "");
  EXPECT_EQ(e.http_status, 0);
  EXPECT_FALSE(e.ambiguous);
  EXPECT_TRUE(Error::DeadlineExceeded("read timed out").Ambiguous().ambiguous);
  EXPECT_FALSE(Error::Internal("x").Ambiguous(false).ambiguous);
  EXPECT_EQ(Error::PermissionDenied("x").code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(Error::Of(ErrorCode::kAborted, "conflict").code, ErrorCode::kAborted);
}

TEST(ResultTest, ResultConvertsFromAndToTheUnderlyingExpected) {
  tl::expected<int, Error> plain = 3;
  Result<int> wrapped = plain;
  ASSERT_TRUE(wrapped);
  EXPECT_EQ(*wrapped, 3);
  wrapped = MakeError(ErrorCode::kNotFound, "gone");
  ASSERT_FALSE(wrapped);
  EXPECT_EQ(wrapped.error().code, ErrorCode::kNotFound);
  const tl::expected<int, Error>& back = wrapped;
  EXPECT_FALSE(back.has_value());
  Status ok;
  EXPECT_TRUE(ok);
}

}  // namespace
}  // namespace rebootd
