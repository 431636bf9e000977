// SPDX-License-Identifier: Apache-2.0
#include "pkg/cloud/tencent/ecm_client.h"

#include <algorithm>
#include <set>
#include <utility>

#include "pkg/cloud/errors.h"
#include "pkg/cloud/tencent/errors.h"
#include "pkg/cloud/tencent/signer.h"
#include "pkg/http/url.h"
#include "pkg/json/json.h"

namespace rebootd::cloud::tencent {
namespace {

constexpr size_t kMaxRebootIds = 100;
constexpr size_t kMaxFilterValues = 5;
constexpr int kMaxLimit = 100;
constexpr std::string_view kContentType = "application/json";

std::string PercentEncodeFn(std::string_view s) { return http::PercentEncode(s); }

std::string Prefix(std::string_view action) { return "tencent " + std::string(action) + ": "; }

std::string StringAt(const json::Value& object, std::string_view key) {
  const json::Value* v = object.Find(key);
  return v != nullptr && v->is_string() ? v->AsString() : std::string();
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

bool IsRegionChar(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; }

}  // namespace

struct EcmClient::Answer {
  json::Value response;  // the "Response" object of a successful answer
  std::string request_id;
  int http_status = 0;
};

std::string_view StopTypeName(StopType t) {
  switch (t) {
    case StopType::kSoft:
      return "SOFT";
    case StopType::kHard:
      return "HARD";
    case StopType::kSoftFirst:
      return "SOFT_FIRST";
  }
  return "SOFT";
}

Result<std::unique_ptr<EcmClient>> EcmClient::Create(EcmClientOptions options,
                                                     Credentials credentials,
                                                     http::Transport& transport, Clock& clock,
                                                     Random& random, ratelimit::Limiter* limiter) {
  if (options.max_attempts < 1) {
    return MakeError(ErrorCode::kInvalidArgument, "tencent: max_attempts must be >= 1");
  }
  if (!options.region.empty() &&
      (options.region.size() > 64 ||
       !std::all_of(options.region.begin(), options.region.end(), IsRegionChar))) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "tencent: region \"" + BodySnippet(options.region, 64) +
                         "\" is not of the form [a-z0-9-]+ (e.g. ap-guangzhou)");
  }
  if (credentials.key_id.empty() || credentials.secret.empty()) {
    return MakeError(ErrorCode::kUnauthenticated,
                     "tencent: credentials need a SecretId and a SecretKey");
  }
  std::string endpoint =
      options.endpoint.empty() ? std::string(kEcmDefaultEndpoint) : options.endpoint;
  auto url = http::ParseEndpoint(endpoint);
  if (!url) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "tencent: " + url.error().message + " (API 3.0 calls go to /)");
  }
  return std::unique_ptr<EcmClient>(new EcmClient(std::move(options), std::move(credentials),
                                                  url->Origin(), url->HostHeader(), transport,
                                                  clock, random, limiter));
}

EcmClient::EcmClient(EcmClientOptions options, Credentials credentials, std::string endpoint,
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

Result<EcmClient::Answer> EcmClient::Attempt(std::string_view action, const std::string& body,
                                             int batch_size, bool idempotent, int attempt,
                                             std::stop_token stop) {
  CallRecord record;
  record.provider = "tencent";
  record.action = std::string(action);
  record.batch_size = batch_size;
  record.attempt = attempt;

  ratelimit::TokenBucket* bucket = nullptr;
  if (limiter_ != nullptr) {
    bucket = &limiter_->Bucket(ratelimit::Limiter::Key("tencent", action, options_.limiter_scope));
    auto waited = bucket->Acquire(stop);
    if (!waited) {
      return MakeError(ErrorCode::kCancelled,
                       Prefix(action) + "cancelled while waiting for the rate limiter");
    }
    record.rate_wait = *waited;
  }

  Redactor redactor(&PercentEncodeFn);
  redactor.Add(credentials_.secret);
  redactor.Add(credentials_.token);

  // Signed with the current time on every attempt (the service refuses timestamps more than
  // 5 minutes off: AuthFailure.SignatureExpire).
  const int64_t timestamp =
      std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count();
  Tc3Input input;
  input.method = "POST";
  // The Host header we send is the one we sign, port included when the endpoint names one
  // (loopback tests); the service name stays "ecm" whatever the host is.
  input.host = host_header_;
  input.service = std::string(kEcmService);
  input.canonical_uri = "/";
  input.canonical_query = "";
  input.content_type = std::string(kContentType);
  input.payload = body;
  input.timestamp = timestamp;
  const Tc3Signed signed_request = SignTc3(input, credentials_);
  redactor.Add(signed_request.signature);

  http::Request request;
  request.method = "POST";
  request.url = endpoint_ + "/";
  request.body = body;
  request.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(options_.timeout);
  request.idempotent = idempotent;
  request.headers.Set("Host", host_header_);
  request.headers.Set("Content-Type", std::string(kContentType));
  request.headers.Set("X-TC-Action", std::string(action));
  request.headers.Set("X-TC-Version", std::string(kEcmApiVersion));
  request.headers.Set("X-TC-Timestamp", std::to_string(timestamp));
  if (!options_.region.empty()) request.headers.Set("X-TC-Region", options_.region);
  if (!credentials_.token.empty()) request.headers.Set("X-TC-Token", credentials_.token);
  request.headers.Set("Authorization", signed_request.authorization);

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
  Result<json::Value> parsed = json::Parse(response->body);
  const json::Value* envelope = parsed && parsed->is_object() ? parsed->Find("Response") : nullptr;
  if (envelope != nullptr && !envelope->is_object()) envelope = nullptr;
  const std::string request_id =
      envelope ? redactor.Apply(StringAt(*envelope, "RequestId")) : std::string();

  if (status != 200) {
    // API errors come with HTTP 200; anything else is a gateway or proxy failure. Treated as
    // transient, and as possibly executed for a reboot.
    Error error;
    error.code = ErrorCode::kUnavailable;
    error.http_status = status;
    error.provider_request_id = request_id.empty() ? std::string() : BodySnippet(request_id, 100);
    error.ambiguous = !idempotent;
    error.message = Prefix(action) + "HTTP " + std::to_string(status) +
                    "; body: " + BodySnippet(redactor.Apply(response->body), 200);
    return fail(std::move(error), HttpClassCode(status));
  }

  if (envelope == nullptr) {
    std::string reason = !parsed ? "unparseable body (" + parsed.error().message + ")"
                                 : std::string("no Response object");
    Error error = BadShape(action, status, reason, "");
    error.ambiguous = !idempotent;
    error.message += "; body: " + BodySnippet(redactor.Apply(response->body), 200);
    return fail(std::move(error), "BadResponse");
  }

  if (const json::Value* api_error = envelope->Find("Error")) {
    const std::string code = api_error->is_object() ? StringAt(*api_error, "Code") : "";
    if (code.empty()) {
      Error error = BadShape(action, status, "Response.Error without a Code", request_id);
      error.ambiguous = !idempotent;
      error.message += "; body: " + BodySnippet(redactor.Apply(response->body), 200);
      return fail(std::move(error), "BadResponse");
    }
    Error error = MakeTencentError(action, redactor.Apply(code),
                                   redactor.Apply(StringAt(*api_error, "Message")), request_id);
    error.provider_code = redactor.Apply(std::move(error.provider_code));
    const ErrorClass error_class = ClassOf(error);
    if (error_class == ErrorClass::kThrottled && bucket != nullptr) bucket->OnThrottled();
    // An internal error answered to a reboot does not say whether the reboot started.
    if (!idempotent && error_class == ErrorClass::kTransient) error.ambiguous = true;
    std::string record_code = error.provider_code;
    return fail(std::move(error), std::move(record_code));
  }

  if (request_id.empty()) {
    Error error = BadShape(action, status, "no Response.RequestId in the answer", "");
    error.ambiguous = !idempotent;
    error.message += "; body: " + BodySnippet(redactor.Apply(response->body), 200);
    return fail(std::move(error), "BadResponse");
  }

  finish("OK");
  if (bucket != nullptr) bucket->OnSuccess();
  Answer answer;
  answer.response = *envelope;
  answer.request_id = request_id;
  answer.http_status = status;
  return answer;
}

Result<EcmClient::Answer> EcmClient::CallWithRetry(std::string_view action, const std::string& body,
                                                   int batch_size, std::stop_token stop) {
  for (int attempt = 1;; ++attempt) {
    Result<Answer> answer = Attempt(action, body, batch_size, true, attempt, stop);
    if (answer) return answer;
    const ErrorClass error_class = ClassOf(answer.error());
    const bool retryable =
        answer.error().code != ErrorCode::kCancelled &&
        (error_class == ErrorClass::kThrottled || error_class == ErrorClass::kTransient);
    if (!retryable || attempt >= options_.max_attempts) return answer;
    const Duration base = error_class == ErrorClass::kThrottled ? options_.throttle_backoff_base
                                                                : options_.backoff_base;
    if (!clock_.SleepFor(JitteredBackoff(base, options_.backoff_cap, attempt, random_), stop)) {
      return MakeError(ErrorCode::kCancelled, Prefix(action) + "cancelled during retry backoff");
    }
  }
}

Result<std::string> EcmClient::RebootInstances(const std::vector<std::string>& ids,
                                               StopType stop_type, bool force_reboot,
                                               std::stop_token stop) {
  constexpr std::string_view kAction = "RebootInstances";
  if (ids.empty() || ids.size() > kMaxRebootIds) {
    return MakeError(
        ErrorCode::kInvalidArgument,
        Prefix(kAction) + "takes 1..100 instance IDs, got " + std::to_string(ids.size()));
  }
  std::set<std::string_view> seen;
  json::Value id_set = json::Value::MakeArray();
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i].empty()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       Prefix(kAction) + "instance ID #" + std::to_string(i + 1) + " is empty");
    }
    if (!seen.insert(ids[i]).second) {
      return MakeError(ErrorCode::kInvalidArgument,
                       Prefix(kAction) + "duplicate instance ID " + BodySnippet(ids[i], 64));
    }
    id_set.PushBack(json::Value(ids[i]));
  }
  json::Value body = json::Value::MakeObject();
  body.Set("InstanceIdSet", std::move(id_set));
  body.Set("StopType", json::Value(StopTypeName(stop_type)));
  // ForceReboot defaults to false server-side; sent only when set (as the SDKs do).
  if (force_reboot) body.Set("ForceReboot", json::Value(true));
  // Exactly one attempt: a reboot is not idempotent (RebootInstances has no ClientToken).
  REBOOTD_ASSIGN_OR_RETURN(
      Answer answer, Attempt(kAction, body.Dump(), static_cast<int>(ids.size()), false, 1, stop));
  return answer.request_id;
}

Result<InstancesPage> EcmClient::DescribeInstances(const std::vector<Filter>& filters,
                                                   int64_t offset, int limit,
                                                   std::stop_token stop) {
  constexpr std::string_view kAction = "DescribeInstances";
  if (offset < 0 || limit < 1 || limit > kMaxLimit) {
    return MakeError(ErrorCode::kInvalidArgument,
                     Prefix(kAction) + "offset must be >= 0 and limit 1..100, got " +
                         std::to_string(offset) + " and " + std::to_string(limit));
  }
  int batch_size = 0;
  json::Value filter_list = json::Value::MakeArray();
  for (const Filter& filter : filters) {
    if (filter.name.empty()) {
      return MakeError(ErrorCode::kInvalidArgument, Prefix(kAction) + "filter without a name");
    }
    if (filter.values.empty() || filter.values.size() > kMaxFilterValues) {
      return MakeError(ErrorCode::kInvalidArgument,
                       Prefix(kAction) + "filter " + BodySnippet(filter.name, 64) +
                           " takes 1..5 values, got " + std::to_string(filter.values.size()));
    }
    json::Value values = json::Value::MakeArray();
    for (const std::string& v : filter.values) {
      if (v.empty()) {
        return MakeError(
            ErrorCode::kInvalidArgument,
            Prefix(kAction) + "filter " + BodySnippet(filter.name, 64) + " has an empty value");
      }
      values.PushBack(json::Value(v));
    }
    if (filter.name == "instance-id") batch_size += static_cast<int>(filter.values.size());
    json::Value f = json::Value::MakeObject();
    f.Set("Name", json::Value(filter.name));
    f.Set("Values", std::move(values));
    filter_list.PushBack(std::move(f));
  }
  json::Value body = json::Value::MakeObject();
  if (!filters.empty()) body.Set("Filters", std::move(filter_list));
  body.Set("Offset", json::Value(offset));
  body.Set("Limit", json::Value(limit));
  REBOOTD_ASSIGN_OR_RETURN(Answer answer, CallWithRetry(kAction, body.Dump(), batch_size, stop));

  InstancesPage page;
  page.request_id = answer.request_id;
  const json::Value* total = answer.response.Find("TotalCount");
  if (total == nullptr || !total->is_integer()) {
    return tl::unexpected(
        BadShape(kAction, answer.http_status, "no integer Response.TotalCount", answer.request_id));
  }
  page.total_count = total->AsInt();
  const json::Value* set = answer.response.Find("InstanceSet");
  if (set == nullptr || !(set->is_null() || set->is_array())) {
    return tl::unexpected(
        BadShape(kAction, answer.http_status, "no Response.InstanceSet array", answer.request_id));
  }
  if (set->is_null()) return page;  // documented: may be null when nothing matches
  for (const json::Value& item : set->AsArray()) {
    Instance instance;
    instance.id = StringAt(item, "InstanceId");
    if (instance.id.empty()) {
      return tl::unexpected(BadShape(kAction, answer.http_status,
                                     "an InstanceSet entry has no InstanceId", answer.request_id));
    }
    instance.state = StringAt(item, "InstanceState");
    instance.latest_operation = StringAt(item, "LatestOperation");
    instance.latest_operation_state = StringAt(item, "LatestOperationState");
    instance.restrict_state = StringAt(item, "RestrictState");
    instance.create_time = StringAt(item, "CreateTime");
    page.instances.push_back(std::move(instance));
  }
  return page;
}

}  // namespace rebootd::cloud::tencent
