// SPDX-License-Identifier: Apache-2.0
#include "pkg/ratelimit/limiter.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <system_error>

namespace rebootd::ratelimit {

namespace {

constexpr double kMaxRate = 1000;
// One call per 1,000 s: slower than any real quota, and far from the token bucket's limits.
constexpr double kMinRate = 0.001;
constexpr std::string_view kFlagForm =
    "expected PROVIDER.ACTION=PER_SECOND, e.g. tencent.RebootInstances=20";

std::string_view StripScope(std::string_view key) { return key.substr(0, key.find('@')); }

bool IsAsciiLetter(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

tl::unexpected<Error> FlagError(std::string_view spec, std::string_view what) {
  return MakeError(ErrorCode::kInvalidArgument,
                   "invalid rate limit \"" + std::string(spec) + "\": " + std::string(what));
}

}  // namespace

Limiter::Limiter(TokenBucketOptions defaults, std::map<std::string, double> rates, Clock& clock)
    : defaults_(defaults), rates_(rates.begin(), rates.end()), clock_(clock) {}

double Limiter::RateFor(std::string_view key) const {
  auto it = rates_.find(StripScope(key));
  return it != rates_.end() ? it->second : defaults_.rate_per_second;
}

TokenBucket& Limiter::Bucket(std::string_view key) {
  std::lock_guard lock(mu_);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    TokenBucketOptions options = defaults_;
    options.rate_per_second = RateFor(key);
    // A default minimum above a configured (lower) rate would make throttling raise the rate.
    options.min_rate_per_second = std::min(options.min_rate_per_second, options.rate_per_second);
    it = buckets_.emplace(std::string(key), std::make_unique<TokenBucket>(options, clock_)).first;
  }
  return *it->second;
}

std::vector<std::string> Limiter::Keys() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> keys;
  keys.reserve(buckets_.size());
  for (const auto& [key, bucket] : buckets_) keys.push_back(key);
  return keys;
}

std::string Limiter::Key(std::string_view provider, std::string_view action,
                         std::string_view scope) {
  std::string key;
  key.reserve(provider.size() + action.size() + scope.size() + 2);
  key.append(provider).append(".").append(action);
  if (!scope.empty()) key.append("@").append(scope);
  return key;
}

Result<std::pair<std::string, double>> Limiter::ParseRateLimitFlag(std::string_view spec) {
  const size_t eq = spec.find('=');
  if (eq == std::string_view::npos) return FlagError(spec, kFlagForm);
  const std::string_view name = spec.substr(0, eq);
  const std::string_view number = spec.substr(eq + 1);
  const size_t dot = name.find('.');
  if (dot == std::string_view::npos) return FlagError(spec, kFlagForm);
  const std::string_view provider = name.substr(0, dot);
  const std::string_view action = name.substr(dot + 1);
  if (provider != "tencent" && provider != "aliyun") {
    return FlagError(spec,
                     "provider \"" + std::string(provider) + "\" is not one of tencent, aliyun");
  }
  if (action.empty()) return FlagError(spec, "the action is empty");
  for (char c : action) {
    if (!IsAsciiLetter(c)) {
      return FlagError(spec, "action \"" + std::string(action) +
                                 "\" must consist of letters only (e.g. RebootInstances)");
    }
  }
  if (number.empty()) return FlagError(spec, "the rate is empty");
  double rate = 0;
  auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), rate);
  if (ec != std::errc() || ptr != number.data() + number.size() || !std::isfinite(rate)) {
    return FlagError(spec, "rate \"" + std::string(number) + "\" is not a number");
  }
  if (!(rate >= kMinRate) || rate > kMaxRate) {
    return FlagError(spec, "rate " + std::string(number) +
                               " is out of range; it must be between 0.001 and 1000 per second");
  }
  return std::make_pair(std::string(name), rate);
}

Result<std::map<std::string, double>> Limiter::RatesFromFlags(
    const std::vector<std::string>& specs) {
  std::map<std::string, double> rates = DefaultRates();
  for (const std::string& spec : specs) {
    REBOOTD_ASSIGN_OR_RETURN(auto parsed, ParseRateLimitFlag(spec));
    rates[parsed.first] = parsed.second;
  }
  return rates;
}

std::map<std::string, double> Limiter::DefaultRates() {
  // Tencent ECM documents 20 requests/second for these actions (cloud-apis.md). Aliyun's ECS
  // limits are unpublished (cloud-apis.md §1.12); 20/s is a guess users should override.
  return {
      {"tencent.RebootInstances", 20},  {"tencent.DescribeInstances", 20},
      {"aliyun.RebootInstance", 20},    {"aliyun.DescribeInstanceStatus", 20},
      {"aliyun.DescribeInstances", 20},
  };
}

}  // namespace rebootd::ratelimit
