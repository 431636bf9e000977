// SPDX-License-Identifier: Apache-2.0
#include "pkg/cloud/errors.h"

#include <gtest/gtest.h>

namespace rebootd::cloud {
namespace {

TEST(ErrorClassTest, Names) {
  EXPECT_EQ(ErrorClassName(ErrorClass::kThrottled), "throttled");
  EXPECT_EQ(ErrorClassName(ErrorClass::kTransient), "transient");
  EXPECT_EQ(ErrorClassName(ErrorClass::kWrongState), "wrong_state");
  EXPECT_EQ(ErrorClassName(ErrorClass::kTerminal), "terminal");
}

TEST(ErrorClassTest, ClassOfEveryCode) {
  struct Case {
    ErrorCode code;
    ErrorClass expected;
  };
  const Case cases[] = {
      {ErrorCode::kResourceExhausted, ErrorClass::kThrottled},
      {ErrorCode::kUnavailable, ErrorClass::kTransient},
      {ErrorCode::kDeadlineExceeded, ErrorClass::kTransient},
      {ErrorCode::kAborted, ErrorClass::kTransient},
      {ErrorCode::kInternal, ErrorClass::kTransient},
      {ErrorCode::kFailedPrecondition, ErrorClass::kWrongState},
      {ErrorCode::kInvalidArgument, ErrorClass::kTerminal},
      {ErrorCode::kNotFound, ErrorClass::kTerminal},
      {ErrorCode::kAlreadyExists, ErrorClass::kTerminal},
      {ErrorCode::kPermissionDenied, ErrorClass::kTerminal},
      {ErrorCode::kUnauthenticated, ErrorClass::kTerminal},
      {ErrorCode::kCancelled, ErrorClass::kTerminal},
  };
  for (const Case& c : cases) {
    Error error;
    error.code = c.code;
    EXPECT_EQ(ClassOf(error), c.expected) << ErrorCodeName(c.code);
  }
}

}  // namespace
}  // namespace rebootd::cloud
