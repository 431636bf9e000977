// SPDX-License-Identifier: Apache-2.0
// EcmClient: Tencent Cloud ECM API 2019-07-19 (RebootInstances, DescribeInstances) over an
// injected http::Transport, signed with TC3-HMAC-SHA256 (service "ecm" whatever the endpoint
// host). Per attempt it waits on the rate limiter, signs with the current time, sends, and maps
// the answer to a value or an Error (errors.h). Thread-safe. The borrowed Transport, Clock,
// Random and Limiter must outlive the client.
//
// REBOOTINSTANCES IS NOT IDEMPOTENT: the client never retries it. DescribeInstances is retried
// inside the client on throttled/transient answers (up to Options::max_attempts).
#pragma once

#include <chrono>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "pkg/base/clock.h"
#include "pkg/base/random.h"
#include "pkg/base/result.h"
#include "pkg/cloud/call.h"
#include "pkg/cloud/credentials.h"
#include "pkg/http/transport.h"
#include "pkg/ratelimit/limiter.h"

namespace rebootd::cloud::tencent {

inline constexpr std::string_view kEcmApiVersion = "2019-07-19";
inline constexpr std::string_view kEcmService = "ecm";
inline constexpr std::string_view kEcmDefaultEndpoint = "https://ecm.tencentcloudapi.com";

struct EcmClientOptions {
  std::string endpoint;  // "" = kEcmDefaultEndpoint; else e.g. "http://127.0.0.1:8080"
  std::string region;    // optional; sent as X-TC-Region when set ([a-z0-9-]+)
  Duration timeout = std::chrono::seconds(30);  // per HTTP attempt
  CallObserver observer;                        // once per HTTP attempt; may be empty
  int max_attempts = 3;                         // DescribeInstances attempts (>= 1)
  // Backoff between DescribeInstances attempts, jittered to [d/2, d): transient d = base << n,
  // throttled d = throttle_base << n (the official SDKs wait 1 s, 2 s, ...), capped.
  Duration backoff_base = std::chrono::milliseconds(100);
  Duration throttle_backoff_base = std::chrono::seconds(1);
  Duration backoff_cap = std::chrono::seconds(20);
  // Optional rate-limiter scope: buckets are "tencent.<Action>" or "tencent.<Action>@<scope>".
  std::string limiter_scope;
};

enum class StopType { kSoft, kHard, kSoftFirst };
std::string_view StopTypeName(StopType t);  // "SOFT" | "HARD" | "SOFT_FIRST"

struct Filter {
  std::string name;                 // e.g. "instance-id", "instance-state"
  std::vector<std::string> values;  // 1..5
};

struct Instance {
  std::string id;
  std::string state;             // PENDING, RUNNING, STOPPED, REBOOTING, ... (as the API says)
  std::string latest_operation;  // e.g. "RebootInstances"
  std::string latest_operation_state;  // e.g. "SUCCESS", "OPERATING", "FAILED"
  std::string restrict_state;          // NORMAL, EXPIRED, PROTECTIVELY_ISOLATED
  std::string create_time;             // raw
};
struct InstancesPage {
  std::vector<Instance> instances;
  int64_t total_count = 0;
  std::string request_id;
};

class EcmClient {
 public:
  // Validates options (endpoint URL with an empty or "/" path, region form, max_attempts >= 1)
  // and credentials (SecretId and SecretKey present): kInvalidArgument / kUnauthenticated.
  static Result<std::unique_ptr<EcmClient>> Create(EcmClientOptions options,
                                                   Credentials credentials,
                                                   http::Transport& transport, Clock& clock,
                                                   Random& random, ratelimit::Limiter* limiter);

  EcmClient(const EcmClient&) = delete;
  EcmClient& operator=(const EcmClient&) = delete;

  // Reboots 1..100 distinct instances in one all-or-nothing call. NOT IDEMPOTENT; one HTTP
  // attempt only. Returns the RequestId. Errors:
  //  - kInvalidArgument (bad ids; nothing sent) or a terminal code (errors.h): the whole batch
  //    was refused; ExtractInstanceIds(error.message) may name the culprits.
  //  - kFailedPrecondition (InstanceNotRunning, operation in progress): poll, then decide.
  //  - kResourceExhausted (RequestLimitExceeded; the bucket was slowed down): refused, retry later.
  //  - kUnavailable / kDeadlineExceeded / kInternal with ambiguous = true (non-200 HTTP,
  //    InternalError, timeout, reset, unparseable answer): the reboot MAY have happened; poll,
  //    never re-send blindly. ambiguous = false (could not connect): nothing reached the server.
  //  - kCancelled: `stop` requested while waiting for the rate limiter; nothing sent.
  Result<std::string> RebootInstances(const std::vector<std::string>& ids, StopType stop_type,
                                      bool force_reboot, std::stop_token stop = {});

  // One page of DescribeInstances (offset >= 0, limit 1..100; each filter 1..5 values, which
  // bounds the instance-id filter to 5 IDs per call). Retried on throttled/transient answers.
  // Errors: as errors.h classifies them after the last attempt; kInvalidArgument for bad input
  // (nothing sent); kInternal for an unparseable answer; kCancelled when stopped.
  Result<InstancesPage> DescribeInstances(const std::vector<Filter>& filters, int64_t offset,
                                          int limit, std::stop_token stop = {});

  const std::string& endpoint() const { return endpoint_; }
  Clock& clock() const { return clock_; }

 private:
  struct Answer;
  EcmClient(EcmClientOptions options, Credentials credentials, std::string endpoint,
            std::string host_header, http::Transport& transport, Clock& clock, Random& random,
            ratelimit::Limiter* limiter);

  Result<Answer> Attempt(std::string_view action, const std::string& body, int batch_size,
                         bool idempotent, int attempt, std::stop_token stop);
  Result<Answer> CallWithRetry(std::string_view action, const std::string& body, int batch_size,
                               std::stop_token stop);

  // Constant after construction.
  const EcmClientOptions options_;
  const Credentials credentials_;
  const std::string endpoint_;     // scheme://host[:port]
  const std::string host_header_;  // host[:port]: sent as Host and signed
  http::Transport& transport_;
  Clock& clock_;
  Random& random_;
  ratelimit::Limiter* const limiter_;
};

}  // namespace rebootd::cloud::tencent
