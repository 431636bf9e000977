// SPDX-License-Identifier: Apache-2.0
// Limiter: a thread-safe registry of TokenBuckets keyed by "provider.Action" (optionally with a
// scope, "provider.Action@scope", e.g. per account and region). Buckets are created on first use
// with the rate configured for "provider.Action" (or the default options' rate) and live as long
// as the Limiter; returned references stay valid until then.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pkg/base/clock.h"
#include "pkg/base/result.h"
#include "pkg/ratelimit/token_bucket.h"

namespace rebootd::ratelimit {

class Limiter {
 public:
  // `defaults` supplies everything but the rate for keys listed in `rates` ("provider.Action" ->
  // grants per second); other keys use defaults.rate_per_second. `clock` must outlive this.
  Limiter(TokenBucketOptions defaults, std::map<std::string, double> rates, Clock& clock);

  Limiter(const Limiter&) = delete;
  Limiter& operator=(const Limiter&) = delete;

  // The bucket for `key` ("tencent.RebootInstances" or "tencent.RebootInstances@scope"), created
  // on first use. Every caller of one key shares one bucket. Never blocks for long.
  TokenBucket& Bucket(std::string_view key);

  // The rate a bucket for `key` gets (or got): rates["provider.Action"] with any "@scope"
  // suffix ignored, else the default rate.
  double RateFor(std::string_view key) const;
  // Keys of the buckets created so far, sorted.
  std::vector<std::string> Keys() const;

  // Builds a bucket key: "provider.Action", or "provider.Action@scope" when scope is not empty.
  static std::string Key(std::string_view provider, std::string_view action,
                         std::string_view scope = {});

  // Parses the --rate-limit flag form PROVIDER.ACTION=PER_SECOND, e.g.
  // "tencent.RebootInstances=20". PROVIDER is tencent or aliyun, ACTION is one or more ASCII
  // letters, PER_SECOND a number from 0.001 to 1000 (fractions allowed, e.g. 0.5). Returns
  // {"tencent.RebootInstances", 20}, or kInvalidArgument with a message saying what is wrong.
  static Result<std::pair<std::string, double>> ParseRateLimitFlag(std::string_view spec);
  // DefaultRates() overridden by every spec in order (a later spec for the same key wins);
  // the first bad spec's error otherwise.
  static Result<std::map<std::string, double>> RatesFromFlags(
      const std::vector<std::string>& specs);

  // Safe defaults, in calls per second: tencent.RebootInstances, tencent.DescribeInstances,
  // aliyun.RebootInstance, aliyun.DescribeInstanceStatus and aliyun.DescribeInstances all 20.
  // Tencent documents 20/s for these ECM actions. Alibaba Cloud does not publish numeric
  // limits for these ECS APIs (cloud-apis.md §1.12: per account, region and API, visible in the
  // Quota Center "API rate quota"); 20/s is a conservative guess, and users should set the real
  // values from their Quota Center with --rate-limit.
  static std::map<std::string, double> DefaultRates();

 private:
  // Constant after construction.
  const TokenBucketOptions defaults_;
  const std::map<std::string, double, std::less<>> rates_;
  Clock& clock_;

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<TokenBucket>, std::less<>> buckets_;  // guarded by mu_
};

}  // namespace rebootd::ratelimit
