// SPDX-License-Identifier: Apache-2.0
#include "pkg/ratelimit/limiter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <thread>

namespace rebootd::ratelimit {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(LimiterTest, BucketsAreCreatedOncePerKeyWithTheConfiguredRate) {
  ManualClock clock;
  Limiter limiter({.rate_per_second = 5, .safety_margin = 0},
                  {{"tencent.RebootInstances", 20}, {"aliyun.RebootInstance", 0.5}}, clock);
  TokenBucket& reboot = limiter.Bucket("tencent.RebootInstances");
  EXPECT_EQ(&reboot, &limiter.Bucket("tencent.RebootInstances"));
  EXPECT_EQ(reboot.options().rate_per_second, 20);
  EXPECT_EQ(reboot.options().safety_margin, 0);  // the rest comes from the defaults
  EXPECT_EQ(limiter.Bucket("tencent.DescribeInstances").options().rate_per_second, 5);
  // A low configured rate also lowers the throttling floor.
  EXPECT_EQ(limiter.Bucket("aliyun.RebootInstance").options().min_rate_per_second, 0.5);
  // Scoped keys get their own bucket with the provider.Action rate.
  TokenBucket& scoped = limiter.Bucket(Limiter::Key("tencent", "RebootInstances", "AKID1"));
  EXPECT_NE(&scoped, &reboot);
  EXPECT_EQ(scoped.options().rate_per_second, 20);
  EXPECT_EQ(limiter.RateFor("tencent.RebootInstances@other"), 20);
  EXPECT_EQ(limiter.RateFor("tencent.Unknown"), 5);
  EXPECT_THAT(limiter.Keys(),
              ElementsAre("aliyun.RebootInstance", "tencent.DescribeInstances",
                          "tencent.RebootInstances", "tencent.RebootInstances@AKID1"));
  // Buckets are independent, and each starts empty (its first slot one spacing away).
  const SteadyTime now = clock.SteadyNow();
  EXPECT_EQ(reboot.Reserve(), now + 50ms);
  EXPECT_EQ(scoped.Reserve(), now + 50ms);
  EXPECT_EQ(reboot.Reserve(), now + 100ms);
}

TEST(LimiterTest, KeyBuildsProviderActionAndScope) {
  EXPECT_EQ(Limiter::Key("tencent", "RebootInstances"), "tencent.RebootInstances");
  EXPECT_EQ(Limiter::Key("aliyun", "RebootInstance", "acct/cn-hangzhou"),
            "aliyun.RebootInstance@acct/cn-hangzhou");
}

TEST(LimiterTest, ConcurrentFirstUseYieldsOneBucket) {
  ManualClock clock;
  Limiter limiter({}, Limiter::DefaultRates(), clock);
  std::vector<TokenBucket*> seen(16, nullptr);
  {
    std::vector<std::jthread> threads;
    for (int i = 0; i < 16; ++i) {
      threads.emplace_back([&, i] { seen[i] = &limiter.Bucket("aliyun.DescribeInstances"); });
    }
  }
  EXPECT_EQ(std::set<TokenBucket*>(seen.begin(), seen.end()).size(), 1u);
  EXPECT_EQ(limiter.Keys().size(), 1u);
}

TEST(LimiterTest, DefaultRates) {
  std::map<std::string, double> rates = Limiter::DefaultRates();
  EXPECT_EQ(rates, (std::map<std::string, double>{{"tencent.RebootInstances", 20},
                                                  {"tencent.DescribeInstances", 20},
                                                  {"aliyun.RebootInstance", 20},
                                                  {"aliyun.DescribeInstanceStatus", 20},
                                                  {"aliyun.DescribeInstances", 20}}));
}

TEST(LimiterTest, ParseRateLimitFlagAcceptsGoodSpecs) {
  struct Case {
    const char* spec;
    const char* key;
    double rate;
  };
  const Case kCases[] = {
      {"tencent.RebootInstances=20", "tencent.RebootInstances", 20},
      {"aliyun.RebootInstance=0.5", "aliyun.RebootInstance", 0.5},
      {"aliyun.DescribeInstanceStatus=1000", "aliyun.DescribeInstanceStatus", 1000},
      {"tencent.DescribeInstances=1e1", "tencent.DescribeInstances", 10},
      {"aliyun.X=0.001", "aliyun.X", 0.001},
  };
  for (const Case& c : kCases) {
    auto parsed = Limiter::ParseRateLimitFlag(c.spec);
    ASSERT_TRUE(parsed.has_value()) << c.spec << ": " << parsed.error().message;
    EXPECT_EQ(parsed->first, c.key) << c.spec;
    EXPECT_EQ(parsed->second, c.rate) << c.spec;
  }
}

TEST(LimiterTest, ParseRateLimitFlagRejectsBadSpecs) {
  struct Case {
    const char* spec;
    const char* message_part;
  };
  const Case kCases[] = {
      {"", "expected PROVIDER.ACTION=PER_SECOND"},
      {"tencent.RebootInstances", "expected PROVIDER.ACTION=PER_SECOND"},
      {"RebootInstances=20", "expected PROVIDER.ACTION=PER_SECOND"},
      {"aws.RebootInstances=20", "provider \"aws\" is not one of tencent, aliyun"},
      {"Tencent.RebootInstances=20", "provider \"Tencent\""},
      {".RebootInstances=20", "provider \"\""},
      {"tencent.=20", "the action is empty"},
      {"tencent.Reboot_Instances=20", "must consist of letters only"},
      {"tencent.Reboot.Instances=20", "must consist of letters only"},
      {"tencent.RebootInstances2=20", "must consist of letters only"},
      {"tencent.RebootInstances=", "the rate is empty"},
      {"tencent.RebootInstances=abc", "rate \"abc\" is not a number"},
      {"tencent.RebootInstances=20/s", "is not a number"},
      {"tencent.RebootInstances= 20", "is not a number"},
      {"tencent.RebootInstances=nan", "is not a number"},
      {"tencent.RebootInstances=inf", "is not a number"},
      {"tencent.RebootInstances=0", "out of range; it must be between 0.001 and 1000"},
      {"tencent.RebootInstances=1e-12", "out of range"},
      {"tencent.RebootInstances=-5", "out of range"},
      {"tencent.RebootInstances=1000.5", "out of range"},
      {"tencent.RebootInstances=20=30", "is not a number"},
  };
  for (const Case& c : kCases) {
    auto parsed = Limiter::ParseRateLimitFlag(c.spec);
    ASSERT_FALSE(parsed.has_value()) << c.spec;
    EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument) << c.spec;
    EXPECT_THAT(parsed.error().message, HasSubstr(c.message_part)) << c.spec;
    EXPECT_THAT(parsed.error().message, HasSubstr("invalid rate limit \"" + std::string(c.spec)))
        << c.spec;
  }
}

TEST(LimiterTest, RatesFromFlagsOverridesDefaults) {
  auto rates = Limiter::RatesFromFlags(
      {"aliyun.RebootInstance=5", "aliyun.RebootInstance=7", "tencent.InquiryPriceX=3"});
  ASSERT_TRUE(rates.has_value());
  EXPECT_EQ(rates->at("aliyun.RebootInstance"), 7);
  EXPECT_EQ(rates->at("tencent.InquiryPriceX"), 3);
  EXPECT_EQ(rates->at("tencent.RebootInstances"), 20);
  auto bad = Limiter::RatesFromFlags({"aliyun.RebootInstance=5", "gcp.Reset=1"});
  ASSERT_FALSE(bad.has_value());
  EXPECT_THAT(bad.error().message, HasSubstr("gcp"));
}

}  // namespace
}  // namespace rebootd::ratelimit
