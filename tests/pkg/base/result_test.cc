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
  EXPECT_TRUE(IsRetryable(Error{ErrorCode::kUnavailable, "", "", "", 0, false}));
  EXPECT_TRUE(IsRetryable(Error{ErrorCode::kResourceExhausted, "", "", "", 0, false}));
  EXPECT_TRUE(IsRetryable(Error{ErrorCode::kDeadlineExceeded, "", "", "", 0, false}));
  EXPECT_TRUE(IsRetryable(Error{ErrorCode::kAborted, "", "", "", 0, false}));
  EXPECT_FALSE(IsRetryable(Error{ErrorCode::kNotFound, "", "", "", 0, false}));
  EXPECT_FALSE(IsRetryable(Error{ErrorCode::kUnauthenticated, "", "", "", 0, false}));
  EXPECT_FALSE(IsRetryable(Error{ErrorCode::kFailedPrecondition, "", "", "", 0, false}));
}

TEST(ResultTest, ToStringNamesCodeProviderCodeAndRequestId) {
  Error e{ErrorCode::kResourceExhausted, "slow down", "Throttling.User", "REQ-1", 400, false};
  EXPECT_EQ(e.ToString(), "ResourceExhausted (Throttling.User): slow down [RequestId REQ-1]");
}

}  // namespace
}  // namespace rebootd
