// SPDX-License-Identifier: Apache-2.0
// EcsClient: Alibaba Cloud ECS API 2014-05-26 (RebootInstance, DescribeInstanceStatus,
// DescribeInstances) over an injected http::Transport. Per attempt it waits on the rate limiter,
// signs with a fresh nonce and the current time, sends, and maps the answer to a value or an
// Error (errors.h). Thread-safe: one client may be used from many threads. The borrowed
// Transport, Clock, Random, Limiter must outlive the client.
//
// REBOOTINSTANCE IS NOT IDEMPOTENT: the client never retries it. Describe* calls are retried
// inside the client on throttled/transient answers (up to Options::max_attempts).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
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

namespace rebootd::cloud::aliyun {

inline constexpr std::string_view kEcsApiVersion = "2014-05-26";

enum class SignatureMethod {
  kRpcV1,  // HMAC-SHA1 RPC signature: POST, every parameter in the URL query, empty body
  kAcs3,   // ACS3-HMAC-SHA256: POST, business parameters in the query, x-acs-* headers
};

struct EcsClientOptions {
  std::string region;    // required, [a-z0-9-]+, e.g. "cn-hangzhou"
  std::string endpoint;  // "" = DefaultEndpoint(region); else e.g. "http://127.0.0.1:8080"
  SignatureMethod signature = SignatureMethod::kRpcV1;
  // Per-attempt HTTP timeouts (the official SDK's per-API read timeouts, cloud-apis.md §1.13).
  Duration reboot_timeout = std::chrono::seconds(27);
  Duration describe_status_timeout = std::chrono::seconds(26);
  Duration describe_instances_timeout = std::chrono::seconds(10);
  // Called once per HTTP attempt; may be empty.
  CallObserver observer;
  // Attempts for the idempotent Describe* calls (>= 1). RebootInstance always makes one.
  int max_attempts = 3;
  // Backoff between Describe* attempts, jittered to [d/2, d): transient d = base << n, throttled
  // d = throttle_base << n, both capped at backoff_cap (the official SDK's values).
  Duration backoff_base = std::chrono::milliseconds(100);
  Duration throttle_backoff_base = std::chrono::milliseconds(500);
  Duration backoff_cap = std::chrono::seconds(20);
  // Optional rate-limiter scope: buckets are "aliyun.<Action>" or "aliyun.<Action>@<scope>".
  std::string limiter_scope;
};

// "https://ecs.<region>.aliyuncs.com", with the SDK endpoint table's special cases
// (cloud-apis.md §1.1): cn-hangzhou -> ecs-cn-hangzhou.aliyuncs.com; the gov/finance regions
// cn-hangzhou-finance, cn-beijing-finance-1, cn-beijing-gov-1, cn-north-2-gov-1 ->
// ecs.aliyuncs.com. The region is not validated here.
std::string DefaultEndpoint(std::string_view region);
// kInvalidArgument unless `region` is non-empty [a-z0-9-]+ (at most 64 characters).
Status ValidateRegion(std::string_view region);

struct RebootResult {
  std::string request_id;
  bool dry_run_passed = false;  // dry run: the service answered DryRunOperation (would pass)
};

struct InstanceStatus {
  std::string id;
  std::string status;  // Pending | Starting | Running | Stopping | Stopped (as the API says)
};
struct InstanceStatusPage {
  std::vector<InstanceStatus> statuses;
  int64_t total_count = 0;
  int64_t page_number = 0;
  int64_t page_size = 0;
  std::string request_id;
};

struct Instance {
  std::string id;
  std::string status;
  std::string start_time;                       // raw, e.g. "2017-12-10T04:04Z" (may lack seconds)
  std::optional<SystemTime> start_time_parsed;  // nullopt when empty or unparseable
  std::string region;
  std::string zone;
  std::vector<std::string> lock_reasons;  // OperationLocks.LockReason[].LockReason
};
struct InstancesPage {
  std::vector<Instance> instances;
  int64_t total_count = 0;  // meaningless with NextToken paging (cloud-apis.md §1.10)
  std::string next_token;   // "" on the last page
  std::string request_id;
  // The cloud's time when it answered (the HTTP Date header), when it sent one.
  std::optional<SystemTime> server_time;
};

struct DescribeInstancesQuery {
  std::vector<std::string> ids;  // 0..100; sent as the JSON-array string InstanceIds
  std::string next_token;
  int max_results = 100;  // 1..100
  std::string status;     // optional Status filter (Running, Stopped, ...)
};

class EcsClient {
 public:
  // Validates options (region, endpoint URL with an empty or "/" path, max_attempts >= 1) and
  // credentials (key id and secret present). kInvalidArgument / kUnauthenticated otherwise.
  static Result<std::unique_ptr<EcsClient>> Create(EcsClientOptions options,
                                                   Credentials credentials,
                                                   http::Transport& transport, Clock& clock,
                                                   Random& random, ratelimit::Limiter* limiter);

  EcsClient(const EcsClient&) = delete;
  EcsClient& operator=(const EcsClient&) = delete;

  // Reboots one instance (ForceStop = force_stop; DryRun = dry_run). NOT IDEMPOTENT; one HTTP
  // attempt only. Dry run: the answer DryRunOperation (any HTTP status) is a success with
  // dry_run_passed = true. Errors:
  //  - kInvalidArgument (empty id; nothing sent) or a terminal vendor code (see errors.h):
  //    fail the instance.
  //  - kFailedPrecondition (IncorrectInstanceStatus...): poll, then decide.
  //  - kResourceExhausted (throttled; the bucket was slowed down): the call was refused, retry
  //    later.
  //  - kUnavailable / kDeadlineExceeded / kInternal with ambiguous = true (5xx, timeout, reset,
  //    unparseable 2xx): the reboot MAY have happened; poll the instance, never re-send blindly.
  //    With ambiguous = false (could not connect) nothing reached the server.
  //  - kCancelled: `stop` was requested while waiting for the rate limiter; nothing sent.
  Result<RebootResult> RebootInstance(std::string_view instance_id, bool force_stop, bool dry_run,
                                      std::stop_token stop = {});

  // One page of DescribeInstanceStatus for 0..100 ids (0 = every instance in the region),
  // page_number >= 1, page_size 1..50. Retried on throttled/transient answers. Errors: as
  // errors.h classifies them after the last attempt; kInvalidArgument for bad input (nothing
  // sent); kInternal for an unparseable answer; kCancelled when stopped.
  Result<InstanceStatusPage> DescribeInstanceStatus(const std::vector<std::string>& ids,
                                                    int page_number, int page_size,
                                                    std::stop_token stop = {});
  // Every page for 1..100 ids (pages of 50). Statuses in the order the service returned them;
  // ids the service does not know are simply absent. Errors as above.
  Result<std::vector<InstanceStatus>> DescribeAllInstanceStatus(const std::vector<std::string>& ids,
                                                                std::stop_token stop = {});

  // One page of DescribeInstances. Errors as DescribeInstanceStatus.
  Result<InstancesPage> DescribeInstances(const DescribeInstancesQuery& query,
                                          std::stop_token stop = {});

  const std::string& endpoint() const { return endpoint_; }
  Clock& clock() const { return clock_; }
  const std::string& region() const { return options_.region; }

 private:
  struct Answer;
  EcsClient(EcsClientOptions options, Credentials credentials, std::string endpoint,
            std::string host_header, http::Transport& transport, Clock& clock, Random& random,
            ratelimit::Limiter* limiter);

  // One signed HTTP attempt of `action` with business `params`; returns the parsed JSON object
  // of a 2xx answer (or the DryRunOperation marker), else the mapped Error.
  Result<Answer> Attempt(std::string_view action,
                         const std::vector<std::pair<std::string, std::string>>& params,
                         Duration timeout, int batch_size, bool idempotent, int attempt,
                         std::stop_token stop);
  // Attempt() up to max_attempts times with backoff on throttled/transient errors.
  Result<Answer> CallWithRetry(std::string_view action,
                               const std::vector<std::pair<std::string, std::string>>& params,
                               Duration timeout, int batch_size, std::stop_token stop);

  // Constant after construction.
  const EcsClientOptions options_;
  const Credentials credentials_;
  const std::string endpoint_;     // scheme://host[:port]
  const std::string host_header_;  // host[:port], what ACS3 signs
  http::Transport& transport_;
  Clock& clock_;
  Random& random_;
  ratelimit::Limiter* const limiter_;
};

}  // namespace rebootd::cloud::aliyun
