// SPDX-License-Identifier: Apache-2.0
#include "pkg/metrics/bind_address.h"

#include <gtest/gtest.h>

namespace rebootd::metrics {
namespace {

TEST(ParseBindAddressTest, AcceptsTheDocumentedForms) {
  struct Case {
    std::string_view input;
    std::string want;
  };
  const Case cases[] = {
      {"127.0.0.1:8080", "127.0.0.1:8080"}, {":8080", "0.0.0.0:8080"},
      {"0.0.0.0:9090", "0.0.0.0:9090"},     {"localhost:8081", "127.0.0.1:8081"},
      {"127.0.0.1:0", "127.0.0.1:0"},       {":0", "0.0.0.0:0"},
      {"10.1.2.3:65535", "10.1.2.3:65535"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.input));
    auto parsed = ParseBindAddress(c.input);
    ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
    ASSERT_TRUE(parsed->has_value());
    EXPECT_EQ((*parsed)->ToString(), c.want);
  }
}

TEST(ParseBindAddressTest, ZeroDisables) {
  auto parsed = ParseBindAddress("0");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_FALSE(parsed->has_value());
}

TEST(ParseBindAddressTest, RejectsOtherForms) {
  for (std::string_view input :
       {"", "8080", ":", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:80a",
        "127.0.0.1: 80", "example.com:80", "[::1]:8080", "1.2.3:80", "127.0.0.1:123456"}) {
    SCOPED_TRACE(std::string(input));
    auto parsed = ParseBindAddress(input);
    ASSERT_FALSE(parsed.has_value());
    EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(parsed.error().message.find("\"" + std::string(input) + "\""), std::string::npos)
        << parsed.error().message;
  }
}

}  // namespace
}  // namespace rebootd::metrics
