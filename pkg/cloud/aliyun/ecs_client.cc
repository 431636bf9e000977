// SPDX-License-Identifier: Apache-2.0
#include "pkg/cloud/aliyun/ecs_client.h"

#include <algorithm>
#include <utility>

#include "pkg/cloud/aliyun/errors.h"
#include "pkg/cloud/aliyun/signer.h"
#include "pkg/cloud/errors.h"
#include "pkg/http/url.h"
#include "pkg/json/json.h"

namespace rebootd::cloud::aliyun {
namespace {

using ParamList = std::vector<std::pair<std::string, std::string>>;

constexpr int kMaxIdsPerCall = 100;
constexpr int kMaxStatusPageSize = 50;
constexpr int kMaxInstancesPageSize = 100;

std::string PercentEncodeFn(std::string_view s) { return http::PercentEncode(s); }

std::string Prefix(std::string_view action) { return "aliyun " + std::string(action) + ": "; }

Status ValidateIds(std::string_view action, const std::vector<std::string>& ids, size_t min,
                   size_t max) {
  if (ids.size() < min || ids.size() > max) {
    return MakeError(ErrorCode::kInvalidArgument,
                     Prefix(action) + "takes " + std::to_string(min) + ".." + std::to_string(max) +
                         " instance IDs, got " + std::to_string(ids.size()));
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i].empty()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       Prefix(action) + "instance ID #" + std::to_string(i + 1) + " is empty");
    }
  }
  return OkStatus();
}

// A string member, or "" when absent or not a string.
std::string StringAt(const json::Value& object, std::string_view key) {
  const json::Value* v = object.Find(key);
  return v != nullptr && v->is_string() ? v->AsString() : std::string();
}

// An integer member (also accepts a decimal string, as XML-derived JSON sometimes has).
std::optional<int64_t> IntAt(const json::Value& object, std::string_view key) {
  const json::Value* v = object.Find(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_integer()) return v->AsInt();
  if (v->is_string() && !v->AsString().empty() &&
      std::all_of(v->AsString().begin(), v->AsString().end(),
                  [](char c) { return c >= '0' && c <= '9'; }) &&
      v->AsString().size() < 19) {
    return std::stoll(v->AsString());
  }
  return std::nullopt;
}

// Finds the array `outer`.`inner` ("InstanceStatuses"."InstanceStatus"), the XML-derived shape
// Aliyun uses for lists. nullptr when the wrapper or the array is missing.
const json::Value* WrappedArray(const json::Value& object, std::string_view outer,
                                std::string_view inner) {
  const json::Value* wrapper = object.Find(outer);
  if (wrapper == nullptr || !wrapper->is_object()) return nullptr;
  const json::Value* array = wrapper->Find(inner);
  if (array == nullptr || !array->is_array()) return nullptr;
  return array;
}

Error BadShape(std::string_view action, int http_status, const std::string& what,
               const std::string& request_id) {
  Error error;
  error.code = ErrorCode::kInternal;
  error.http_status = http_status;
  error.provider_request_id = request_id;
  error.message =
      Prefix(action) + "unexpected answer (HTTP " + std::to_string(http_status) + "): " + what;
  return error;
}

}  // namespace

struct EcsClient::Answer {
  json::Value body;  // the parsed JSON object of a 2xx answer
  std::string request_id;
  int http_status = 0;
  bool dry_run_passed = false;
  std::optional<SystemTime> server_time;  // the answer's Date header
};

std::string DefaultEndpoint(std::string_view region) {
  // The official SDKs' endpoint table (aliyunsdkecs/endpoint.py) maps these specially; every
  // other region follows the regional pattern.
  if (region == "cn-hangzhou") return "https://ecs-cn-hangzhou.aliyuncs.com";
  if (region == "cn-hangzhou-finance" || region == "cn-beijing-finance-1" ||
      region == "cn-beijing-gov-1" || region == "cn-north-2-gov-1") {
    return "https://ecs.aliyuncs.com";
  }
  return "https://ecs." + std::string(region) + ".aliyuncs.com";
}

Status ValidateRegion(std::string_view region) {
  if (region.empty()) return MakeError(ErrorCode::kInvalidArgument, "aliyun: region is required");
  bool ok = region.size() <= 64 && std::all_of(region.begin(), region.end(), [](char c) {
              return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
            });
  if (!ok) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "aliyun: region \"" + BodySnippet(region, 64) +
                         "\" is not of the form [a-z0-9-]+ (e.g. cn-hangzhou)");
  }
  return OkStatus();
}

Result<std::unique_ptr<EcsClient>> EcsClient::Create(EcsClientOptions options,
                                                     Credentials credentials,
                                                     http::Transport& transport, Clock& clock,
                                                     Random& random, ratelimit::Limiter* limiter) {
  REBOOTD_RETURN_IF_ERROR(ValidateRegion(options.region));
  if (options.max_attempts < 1) {
    return MakeError(ErrorCode::kInvalidArgument, "aliyun: max_attempts must be >= 1");
  }
  if (credentials.key_id.empty() || credentials.secret.empty()) {
    return MakeError(ErrorCode::kUnauthenticated,
                     "aliyun: credentials need an AccessKey ID and an AccessKey secret");
  }
  std::string endpoint =
      options.endpoint.empty() ? DefaultEndpoint(options.region) : options.endpoint;
  auto url = http::ParseEndpoint(endpoint);
  if (!url) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "aliyun: " + url.error().message + " (RPC calls go to /)");
  }
  return std::unique_ptr<EcsClient>(new EcsClient(std::move(options), std::move(credentials),
                                                  url->Origin(), url->HostHeader(), transport,
                                                  clock, random, limiter));
}

EcsClient::EcsClient(EcsClientOptions options, Credentials credentials, std::string endpoint,
                     std::string host_header, http::Transport& transport, Clock& clock,
                     Random& random, ratelimit::Limiter* limiter)
    : options_(std::move(options)),
      credentials_(std::move(credentials)),
      endpoint_(std::move(endpoint)),
      host_header_(std::move(host_header)),
      transport_(transport),
      clock_(clock),
      random_(random),
      limiter_(limiter) {}

Result<EcsClient::Answer> EcsClient::Attempt(std::string_view action, const ParamList& params,
                                             Duration timeout, int batch_size, bool idempotent,
                                             int attempt, std::stop_token stop) {
  CallRecord record;
  record.provider = "aliyun";
  record.action = std::string(action);
  record.batch_size = batch_size;
  record.attempt = attempt;

  ratelimit::TokenBucket* bucket = nullptr;
  if (limiter_ != nullptr) {
    bucket = &limiter_->Bucket(ratelimit::Limiter::Key("aliyun", action, options_.limiter_scope));
    auto waited = bucket->Acquire(stop);
    if (!waited) {
      return MakeError(ErrorCode::kCancelled,
                       Prefix(action) + "cancelled while waiting for the rate limiter");
    }
    record.rate_wait = *waited;
  }

  // Secrets that may be echoed back in a transport error or an answer: never let them through.
  Redactor redactor(&PercentEncodeFn);
  redactor.Add(credentials_.secret);
  redactor.Add(credentials_.token);

  http::Request request;
  request.method = "POST";
  request.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(timeout);
  // Never replayed by the transport, not even a Describe*: a signed request carries a one-time
  // SignatureNonce, so a transparent re-send of the same bytes after a reset is refused as
  // SignatureNonceUsed. Idempotent calls are retried by CallWithRetry() instead, freshly signed.
  request.idempotent = false;
  request.headers.Set("Accept", "application/json");
  // Every attempt gets a fresh nonce and the current time (a retry with an old nonce would be
  // refused as SignatureNonceUsed).
  const SystemTime now = clock_.Now();
  const std::string nonce = random_.Uuid4();
  if (options_.signature == SignatureMethod::kRpcV1) {
    Params all;
    all["Action"] = std::string(action);
    all["Version"] = std::string(kEcsApiVersion);
    all["Format"] = "JSON";
    all["RegionId"] = options_.region;
    for (const auto& [name, value] : params) all[name] = value;
    RpcSigned signed_request = SignRpc(request.method, std::move(all), credentials_, now, nonce);
    redactor.Add(signed_request.signature);
    request.url = endpoint_ + "/?" + signed_request.query;
  } else {
    Acs3Input input;
    input.method = request.method;
    input.host = host_header_;
    input.action = std::string(action);
    input.version = std::string(kEcsApiVersion);
    input.query["RegionId"] = options_.region;
    for (const auto& [name, value] : params) input.query[name] = value;
    Acs3Signed signed_request = SignAcs3(input, credentials_, now, nonce);
    redactor.Add(signed_request.signature);
    request.url = endpoint_ + "/";
    if (!signed_request.query.empty()) request.url += "?" + signed_request.query;
    for (const auto& [name, value] : signed_request.headers) request.headers.Set(name, value);
  }

  const SteadyTime sent_at = clock_.SteadyNow();
  Result<http::Response> response = transport_.Send(request);
  record.latency = clock_.SteadyNow() - sent_at;

  AttemptReporter report(record, options_.observer, redactor);
  auto finish = [&](std::string code) { report.Finish(std::move(code)); };
  // Every error leaves through here: a last pass that keeps secrets out of all its text.
  auto fail = [&](Error error, std::string code) -> Result<Answer> {
    return tl::unexpected(report.Fail(std::move(error), std::move(code)));
  };
  if (!response) {
    return tl::unexpected(report.FailTransport(Prefix(action), response.error(), idempotent));
  }

  const int status = response->status;
  record.http_status = status;
  const bool ok_status = status >= 200 && status < 300;
  Result<json::Value> parsed = json::Parse(response->body);
  const bool is_object = parsed.has_value() && parsed->is_object();
  const std::string vendor_code = is_object ? StringAt(*parsed, "Code") : std::string();
  const std::string request_id =
      is_object ? redactor.Apply(StringAt(*parsed, "RequestId")) : std::string();

  // The DryRun check passed (reported as an error code, with whatever HTTP status).
  const bool dry_run = std::any_of(params.begin(), params.end(), [](const auto& p) {
    return p.first == "DryRun" && p.second == "true";
  });
  if (dry_run && vendor_code == "DryRunOperation") {
    finish(vendor_code);
    if (bucket != nullptr) bucket->OnSuccess();
    Answer answer;
    answer.body = *std::move(parsed);
    answer.request_id = request_id;
    answer.http_status = status;
    answer.dry_run_passed = true;
    answer.server_time = http::ParseHttpDate(response->headers.GetOr("Date"));
    return answer;
  }

  if (!is_object || (!ok_status && vendor_code.empty())) {
    // Not an answer we understand: an HTML error page from a proxy, XML, a truncated body, or
    // a JSON error without a Code.
    Error error;
    error.http_status = status;
    error.provider_request_id = BodySnippet(request_id, 100);
    if (request_id.empty()) error.provider_request_id.clear();
    std::string reason;
    if (!parsed) {
      reason = "unparseable body (" + parsed.error().message + ")";
    } else if (!is_object) {
      reason = "body is not a JSON object";
    } else {
      reason = "error status without an error Code";
    }
    if (status >= 500) {
      error.code = ErrorCode::kUnavailable;
    } else if (status == 429) {
      error.code = ErrorCode::kResourceExhausted;
      if (bucket != nullptr) bucket->OnThrottled();
    } else {
      error.code = ErrorCode::kInternal;
    }
    // A reboot answered 2xx or 5xx may have been carried out.
    error.ambiguous = !idempotent && (ok_status || status >= 500);
    error.message = Prefix(action) + "unexpected answer (HTTP " + std::to_string(status) +
                    "): " + reason + "; body: " + BodySnippet(redactor.Apply(response->body), 200);
    return fail(std::move(error),
                parsed && is_object ? HttpClassCode(status) : std::string("BadResponse"));
  }

  if (!ok_status) {
    Error error = MakeAliyunError(action, status, redactor.Apply(vendor_code),
                                  redactor.Apply(StringAt(*parsed, "Message")), request_id);
    error.provider_code = redactor.Apply(std::move(error.provider_code));
    const ErrorClass error_class = ClassOf(error);
    if (error_class == ErrorClass::kThrottled && bucket != nullptr) bucket->OnThrottled();
    if (!idempotent && error_class == ErrorClass::kTransient) error.ambiguous = true;
    std::string code = error.provider_code;
    return fail(std::move(error), std::move(code));
  }

  if (request_id.empty()) {
    Error error = BadShape(action, status, "no RequestId in the answer", "");
    error.ambiguous = !idempotent;
    error.message += "; body: " + BodySnippet(redactor.Apply(response->body), 200);
    return fail(std::move(error), "BadResponse");
  }

  finish("OK");
  if (bucket != nullptr) bucket->OnSuccess();
  Answer answer;
  answer.body = *std::move(parsed);
  answer.request_id = request_id;
  answer.http_status = status;
  answer.server_time = http::ParseHttpDate(response->headers.GetOr("Date"));
  return answer;
}

Result<EcsClient::Answer> EcsClient::CallWithRetry(std::string_view action, const ParamList& params,
                                                   Duration timeout, int batch_size,
                                                   std::stop_token stop) {
  for (int attempt = 1;; ++attempt) {
    Result<Answer> answer = Attempt(action, params, timeout, batch_size, true, attempt, stop);
    if (answer) return answer;
    const ErrorClass error_class = ClassOf(answer.error());
    const bool retryable =
        answer.error().code != ErrorCode::kCancelled &&
        (error_class == ErrorClass::kThrottled || error_class == ErrorClass::kTransient);
    if (!retryable || attempt >= options_.max_attempts) return answer;
    // Jittered exponential backoff (delay/2 + rand(0..delay/2)) on the injected clock; the
    // throttled base is larger, and the shared bucket has already been slowed down.
    const Duration base = error_class == ErrorClass::kThrottled ? options_.throttle_backoff_base
                                                                : options_.backoff_base;
    const Duration jittered = JitteredBackoff(base, options_.backoff_cap, attempt, random_);
    if (!clock_.SleepFor(jittered, stop)) {
      return MakeError(ErrorCode::kCancelled, Prefix(action) + "cancelled during retry backoff");
    }
  }
}

Result<RebootResult> EcsClient::RebootInstance(std::string_view instance_id, bool force_stop,
                                               bool dry_run, std::stop_token stop) {
  if (instance_id.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "aliyun RebootInstance: empty instance ID");
  }
  ParamList params = {{"InstanceId", std::string(instance_id)},
                      {"ForceStop", force_stop ? "true" : "false"}};
  if (dry_run) params.emplace_back("DryRun", "true");
  // Exactly one attempt: a reboot is not idempotent (no ClientToken exists for it).
  REBOOTD_ASSIGN_OR_RETURN(
      Answer answer, Attempt("RebootInstance", params, options_.reboot_timeout, 1, false, 1, stop));
  RebootResult result;
  result.request_id = answer.request_id;
  result.dry_run_passed = answer.dry_run_passed;
  if (dry_run && !answer.dry_run_passed) {
    // A 2xx to a dry run without DryRunOperation is not documented; report it, do not guess.
    Error error =
        BadShape("RebootInstance", answer.http_status,
                 "dry run answered success instead of DryRunOperation", answer.request_id);
    return tl::unexpected(std::move(error));
  }
  return result;
}

Result<InstanceStatusPage> EcsClient::DescribeInstanceStatus(const std::vector<std::string>& ids,
                                                             int page_number, int page_size,
                                                             std::stop_token stop) {
  constexpr std::string_view kAction = "DescribeInstanceStatus";
  REBOOTD_RETURN_IF_ERROR(ValidateIds(kAction, ids, 0, kMaxIdsPerCall));
  if (page_number < 1 || page_size < 1 || page_size > kMaxStatusPageSize) {
    return MakeError(ErrorCode::kInvalidArgument,
                     Prefix(kAction) + "page_number must be >= 1 and page_size 1.." +
                         std::to_string(kMaxStatusPageSize) + ", got " +
                         std::to_string(page_number) + " and " + std::to_string(page_size));
  }
  ParamList params;
  for (size_t i = 0; i < ids.size(); ++i) {
    params.emplace_back("InstanceId." + std::to_string(i + 1), ids[i]);  // 1-based RepeatList
  }
  params.emplace_back("PageNumber", std::to_string(page_number));
  params.emplace_back("PageSize", std::to_string(page_size));
  REBOOTD_ASSIGN_OR_RETURN(Answer answer,
                           CallWithRetry(kAction, params, options_.describe_status_timeout,
                                         static_cast<int>(ids.size()), stop));
  InstanceStatusPage page;
  page.request_id = answer.request_id;
  std::optional<int64_t> total = IntAt(answer.body, "TotalCount");
  if (!total) {
    return tl::unexpected(
        BadShape(kAction, answer.http_status, "no TotalCount in the answer", answer.request_id));
  }
  page.total_count = *total;
  page.page_number = IntAt(answer.body, "PageNumber").value_or(page_number);
  page.page_size = IntAt(answer.body, "PageSize").value_or(page_size);
  const json::Value* list = WrappedArray(answer.body, "InstanceStatuses", "InstanceStatus");
  if (list == nullptr) {
    // An empty result may come without the inner array; anything else is a broken answer.
    const json::Value* wrapper = answer.body.Find("InstanceStatuses");
    if (page.total_count != 0 || wrapper == nullptr || !wrapper->is_object()) {
      return tl::unexpected(BadShape(kAction, answer.http_status,
                                     "no InstanceStatuses.InstanceStatus array in the answer",
                                     answer.request_id));
    }
    return page;
  }
  for (const json::Value& item : list->AsArray()) {
    InstanceStatus status;
    status.id = StringAt(item, "InstanceId");
    status.status = StringAt(item, "Status");
    if (status.id.empty()) {
      return tl::unexpected(BadShape(kAction, answer.http_status,
                                     "an InstanceStatus entry has no InstanceId",
                                     answer.request_id));
    }
    page.statuses.push_back(std::move(status));
  }
  return page;
}

Result<std::vector<InstanceStatus>> EcsClient::DescribeAllInstanceStatus(
    const std::vector<std::string>& ids, std::stop_token stop) {
  REBOOTD_RETURN_IF_ERROR(ValidateIds("DescribeInstanceStatus", ids, 1, kMaxIdsPerCall));
  std::vector<InstanceStatus> all;
  // The service cannot return more than ids.size() entries; one page more than that needs is
  // a guard against an answer whose TotalCount never matches.
  const int max_pages =
      static_cast<int>((ids.size() + kMaxStatusPageSize - 1) / kMaxStatusPageSize) + 1;
  for (int page_number = 1; page_number <= max_pages; ++page_number) {
    REBOOTD_ASSIGN_OR_RETURN(InstanceStatusPage page,
                             DescribeInstanceStatus(ids, page_number, kMaxStatusPageSize, stop));
    const bool empty = page.statuses.empty();
    for (InstanceStatus& s : page.statuses) all.push_back(std::move(s));
    if (empty || static_cast<int64_t>(all.size()) >= page.total_count) break;
  }
  return all;
}

Result<InstancesPage> EcsClient::DescribeInstances(const DescribeInstancesQuery& query,
                                                   std::stop_token stop) {
  constexpr std::string_view kAction = "DescribeInstances";
  REBOOTD_RETURN_IF_ERROR(ValidateIds(kAction, query.ids, 0, kMaxIdsPerCall));
  if (query.max_results < 1 || query.max_results > kMaxInstancesPageSize) {
    return MakeError(ErrorCode::kInvalidArgument, Prefix(kAction) + "max_results must be 1.." +
                                                      std::to_string(kMaxInstancesPageSize) +
                                                      ", got " + std::to_string(query.max_results));
  }
  ParamList params;
  if (!query.ids.empty()) {
    // InstanceIds is one parameter holding a JSON array of strings.
    json::Value ids = json::Value::MakeArray();
    for (const std::string& id : query.ids) ids.PushBack(json::Value(id));
    params.emplace_back("InstanceIds", ids.Dump());
  }
  params.emplace_back("MaxResults", std::to_string(query.max_results));
  if (!query.next_token.empty()) params.emplace_back("NextToken", query.next_token);
  if (!query.status.empty()) params.emplace_back("Status", query.status);
  REBOOTD_ASSIGN_OR_RETURN(Answer answer,
                           CallWithRetry(kAction, params, options_.describe_instances_timeout,
                                         static_cast<int>(query.ids.size()), stop));
  InstancesPage page;
  page.request_id = answer.request_id;
  page.server_time = answer.server_time;
  page.total_count = IntAt(answer.body, "TotalCount").value_or(0);
  page.next_token = StringAt(answer.body, "NextToken");
  const json::Value* list = WrappedArray(answer.body, "Instances", "Instance");
  if (list == nullptr) {
    const json::Value* wrapper = answer.body.Find("Instances");
    if (wrapper == nullptr || !wrapper->is_object() || page.total_count != 0) {
      return tl::unexpected(BadShape(kAction, answer.http_status,
                                     "no Instances.Instance array in the answer",
                                     answer.request_id));
    }
    return page;
  }
  for (const json::Value& item : list->AsArray()) {
    Instance instance;
    instance.id = StringAt(item, "InstanceId");
    if (instance.id.empty()) {
      return tl::unexpected(BadShape(kAction, answer.http_status,
                                     "an Instance entry has no InstanceId", answer.request_id));
    }
    instance.status = StringAt(item, "Status");
    instance.start_time = StringAt(item, "StartTime");
    SystemTime start;
    if (!instance.start_time.empty() && ParseRfc3339(instance.start_time, &start)) {
      instance.start_time_parsed = start;
    }
    instance.region = StringAt(item, "RegionId");
    instance.zone = StringAt(item, "ZoneId");
    if (const json::Value* locks = WrappedArray(item, "OperationLocks", "LockReason")) {
      for (const json::Value& lock : locks->AsArray()) {
        std::string reason = StringAt(lock, "LockReason");
        if (!reason.empty()) instance.lock_reasons.push_back(std::move(reason));
      }
    }
    page.instances.push_back(std::move(instance));
  }
  return page;
}

}  // namespace rebootd::cloud::aliyun
