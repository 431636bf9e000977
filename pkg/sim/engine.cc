// SPDX-License-Identifier: Apache-2.0
#include "pkg/sim/engine.h"

#include <algorithm>
#include <cctype>

#include "pkg/http/url.h"

namespace rebootd::sim {
namespace {

constexpr size_t kMaxNonces = 1 << 20;
constexpr size_t kMaxLoggedRebootCalls = 1 << 20;

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

std::string LowerCopy(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

http::ServerResponse JsonResponse(int status, const json::Value& body,
                                  const char* content_type = "application/json") {
  http::ServerResponse response;
  response.status = status;
  response.headers.Set("Content-Type", content_type);
  response.body = body.Dump();
  return response;
}

http::ServerResponse TextResponse(int status, std::string text) {
  http::ServerResponse response;
  response.status = status;
  response.headers.Set("Content-Type", "text/plain; charset=utf-8");
  response.body = std::move(text);
  if (response.body.empty() || response.body.back() != '\n') response.body.push_back('\n');
  return response;
}

http::ServerResponse Disposition(http::ServerResponse::Disposition d) {
  http::ServerResponse response;
  response.disposition = d;
  return response;
}

std::string XmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

// Aliyun's XML form of a JSON answer: objects become elements, an array under key K becomes
// repeated <K> elements (so {"A":{"B":[x,y]}} is <A><B>x</B><B>y</B></A>).
void AppendXml(const json::Value& value, const std::string& name, std::string* out) {
  if (value.is_array()) {
    for (const auto& item : value.AsArray()) AppendXml(item, name, out);
    return;
  }
  *out += "<" + name + ">";
  if (value.is_object()) {
    for (const auto& [key, child] : value.AsObject()) AppendXml(child, key, out);
  } else if (value.is_string()) {
    *out += XmlEscape(value.AsString());
  } else if (!value.is_null()) {
    *out += value.Dump();
  }
  *out += "</" + name + ">";
}

http::ServerResponse AliyunAnswer(int status, const json::Value& body, bool xml,
                                  const std::string& root) {
  if (!xml) return JsonResponse(status, body, "application/json;charset=utf-8");
  http::ServerResponse response;
  response.status = status;
  response.headers.Set("Content-Type", "text/xml;charset=utf-8");
  response.body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";
  AppendXml(body, root, &response.body);
  return response;
}

json::Value TencentEnvelope(json::Value inner, const std::string& request_id) {
  inner.Set("RequestId", json::Value(request_id));
  json::Value out = json::Value::MakeObject();
  out.Set("Response", std::move(inner));
  return out;
}

json::Value TencentErrorBody(const ApiError& error, const std::string& request_id) {
  json::Value detail = json::Value::MakeObject();
  detail.Set("Code", json::Value(error.code));
  detail.Set("Message", json::Value(error.message));
  json::Value inner = json::Value::MakeObject();
  inner.Set("Error", std::move(detail));
  return TencentEnvelope(std::move(inner), request_id);
}

json::Value AliyunErrorBody(const ApiError& error, const std::string& request_id) {
  json::Value body = json::Value::MakeObject();
  body.Set("RequestId", json::Value(request_id));
  body.Set("HostId", json::Value("ecs.aliyuncs.com"));
  body.Set("Code", json::Value(error.code));
  body.Set("Message", json::Value(error.message));
  body.Set("Recommend",
           json::Value("https://api.aliyun.com/troubleshoot?q=" + http::PercentEncode(error.code) +
                       "&product=Ecs&requestId=" + request_id));
  return body;
}

ApiError InternalError() {
  return ApiError{500, "InternalError",
                  "The request processing has failed due to some unknown error, exception or "
                  "failure.",
                  false};
}

json::Value ActionReportJson(const ActionReport& report) {
  json::Value out = json::Value::MakeObject();
  out.Set("calls", json::Value(report.calls));
  out.Set("ok", json::Value(report.ok));
  out.Set("throttled", json::Value(report.throttled));
  out.Set("auth_failures", json::Value(report.auth_failures));
  json::Value errors = json::Value::MakeObject();
  for (const auto& [code, n] : report.errors) errors.Set(code, json::Value(n));
  out.Set("errors", std::move(errors));
  json::Value faults = json::Value::MakeObject();
  for (const auto& [kind, n] : report.faults) faults.Set(kind, json::Value(n));
  out.Set("faults", std::move(faults));
  out.Set("max_calls_in_any_1s_window", json::Value(report.max_calls_in_any_1s_window));
  out.Set("rate_limit", json::Value(report.rate_limit));
  out.Set("effects", json::Value(report.effects));
  json::Value batches = json::Value::MakeObject();
  for (const auto& [size, n] : report.batch_sizes)
    batches.Set(std::to_string(size), json::Value(n));
  out.Set("batch_sizes", std::move(batches));
  return out;
}

json::Value ProviderReportJson(const ProviderReport& report) {
  json::Value out = json::Value::MakeObject();
  json::Value actions = json::Value::MakeObject();
  for (const auto& [name, action] : report.actions) actions.Set(name, ActionReportJson(action));
  out.Set("actions", std::move(actions));
  json::Value reboots = json::Value::MakeObject();
  for (const auto& [id, n] : report.reboots) reboots.Set(id, json::Value(n));
  out.Set("reboots", std::move(reboots));
  out.Set("instances_rebooted", json::Value(static_cast<int64_t>(report.reboots.size())));
  out.Set("total_reboots", json::Value(report.total_reboots));
  json::Value twice = json::Value::MakeArray();
  for (const auto& id : report.rebooted_more_than_once) twice.PushBack(json::Value(id));
  out.Set("instances_rebooted_more_than_once", std::move(twice));
  json::Value calls = json::Value::MakeObject();
  for (const auto& [id, list] : report.reboot_calls) {
    json::Value items = json::Value::MakeArray();
    for (const auto& call : list) {
      json::Value item = json::Value::MakeObject();
      item.Set("force_stop", json::Value(call.force_stop));
      item.Set("dry_run", json::Value(call.dry_run));
      item.Set("code", json::Value(call.code));
      items.PushBack(std::move(item));
    }
    calls.Set(id, std::move(items));
  }
  out.Set("reboot_calls", std::move(calls));
  return out;
}

bool IsTrue(const cloud::aliyun::Params& params, const std::string& name) {
  auto it = params.find(name);
  return it != params.end() && LowerCopy(it->second) == "true";
}

// Completes a logged RebootInstance call with the final answer code when the handler returns.
// Declared after the engine lock, so it runs while the lock is still held.
struct RebootCallLogGuard {
  AliyunRebootCall* call = nullptr;
  const CallRecord* record = nullptr;
  RebootCallLogGuard() = default;
  RebootCallLogGuard(const RebootCallLogGuard&) = delete;
  RebootCallLogGuard& operator=(const RebootCallLogGuard&) = delete;
  ~RebootCallLogGuard() {
    if (call != nullptr) call->code = record->code;
  }
};

}  // namespace

const std::vector<std::string>& KnownActionKeys() {
  static const std::vector<std::string> kKeys = {
      "tencent.RebootInstances", "tencent.DescribeInstances", "aliyun.RebootInstance",
      "aliyun.DescribeInstanceStatus", "aliyun.DescribeInstances"};
  return kKeys;
}

bool IsKnownAction(std::string_view provider, std::string_view action) {
  std::string key = std::string(provider) + "." + std::string(action);
  const auto& keys = KnownActionKeys();
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

json::Value Report::ToJson() const {
  json::Value providers = json::Value::MakeObject();
  providers.Set("tencent", ProviderReportJson(tencent));
  providers.Set("aliyun", ProviderReportJson(aliyun));
  int64_t calls = 0;
  bool exceeded = false;
  for (const ProviderReport* p : {&tencent, &aliyun}) {
    for (const auto& [name, action] : p->actions) {
      calls += action.calls;
      if (action.rate_limit > 0 && action.max_calls_in_any_1s_window > action.rate_limit) {
        exceeded = true;
      }
    }
  }
  json::Value totals = json::Value::MakeObject();
  totals.Set("calls", json::Value(calls));
  totals.Set("reboots", json::Value(tencent.total_reboots + aliyun.total_reboots));
  totals.Set("instances_rebooted_more_than_once",
             json::Value(static_cast<int64_t>(tencent.rebooted_more_than_once.size() +
                                              aliyun.rebooted_more_than_once.size())));
  totals.Set("max_calls_in_any_1s_window_exceeded_limit", json::Value(exceeded));
  json::Value out = json::Value::MakeObject();
  out.Set("providers", std::move(providers));
  out.Set("totals", std::move(totals));
  return out;
}

Engine::Engine(const SimOptions& options, Clock& clock, InstanceModel model, KeyStore tencent_keys,
               KeyStore aliyun_keys)
    : clock_(clock),
      reboot_seconds_(options.reboot_seconds),
      reboot_jitter_(options.reboot_jitter),
      start_time_with_seconds_(options.start_time_with_seconds),
      tencent_keys_(std::move(tencent_keys)),
      aliyun_keys_(std::move(aliyun_keys)),
      on_call_(options.on_call),
      random_(options.seed),
      model_(std::move(model)),
      nonces_(kNonceTtl, kMaxNonces) {
  for (const auto& key : KnownActionKeys()) {
    auto it = options.rate_limits.find(key);
    rate_limits_[key] = it == options.rate_limits.end() ? kDefaultRateLimit : it->second;
  }
  faults_.Set(options.faults);
  ResetReport();
}

Engine::ActionState& Engine::Stats(std::string_view provider, std::string_view action) {
  std::string name = IsKnownAction(provider, action) ? std::string(action) : kOtherAction;
  auto& per_provider = stats_[std::string(provider)];
  auto it = per_provider.find(name);
  if (it == per_provider.end()) it = per_provider.emplace(name, ActionState{}).first;
  return it->second;
}

int64_t BusiestWindowWith(const std::deque<SteadyTime>& sorted, SteadyTime t) {
  constexpr auto kWindow = std::chrono::seconds(1);
  auto in_window_ending_at = [&](SteadyTime x) {
    auto end = std::upper_bound(sorted.begin(), sorted.end(), x);
    auto begin = std::upper_bound(sorted.begin(), sorted.end(), x - kWindow);
    return static_cast<int64_t>(end - begin) + 1;  // + t itself
  };
  int64_t busiest = in_window_ending_at(t);
  for (auto it = std::upper_bound(sorted.begin(), sorted.end(), t);
       it != sorted.end() && *it < t + kWindow; ++it) {
    busiest = std::max(busiest, in_window_ending_at(*it));
  }
  return busiest;
}

void InsertSorted(std::deque<SteadyTime>& sorted, SteadyTime t) {
  sorted.insert(std::upper_bound(sorted.begin(), sorted.end(), t), t);
  while (sorted.front() <= sorted.back() - std::chrono::seconds(2)) sorted.pop_front();
}

void Engine::RecordArrival(ActionState& state, SteadyTime arrived) {
  ++state.report.calls;
  state.report.max_calls_in_any_1s_window =
      std::max(state.report.max_calls_in_any_1s_window, BusiestWindowWith(state.arrivals, arrived));
  InsertSorted(state.arrivals, arrived);
}

bool Engine::Throttle(ActionState& state, SteadyTime arrived) {
  int limit = state.report.rate_limit;
  if (limit <= 0) return false;
  if (BusiestWindowWith(state.accepted, arrived) > limit) return true;
  InsertSorted(state.accepted, arrived);
  return false;
}

Duration Engine::DrawRebootDuration() {
  double factor = 1.0;
  if (reboot_jitter_ > 0) factor = 1.0 + reboot_jitter_ * (2.0 * random_.Uniform01() - 1.0);
  return std::chrono::duration_cast<Duration>(
      std::chrono::duration<double>(reboot_seconds_ * factor));
}

std::string Engine::NewRequestId(bool upper) {
  std::string id = random_.Uuid4();
  if (upper) {
    for (char& c : id) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return id;
}

std::string Engine::FormatStartTime(SystemTime t) const {
  std::string text = FormatRfc3339(t);  // "YYYY-MM-DDThh:mm:ssZ"
  if (start_time_with_seconds_ || text.size() < 17) return text;
  return text.substr(0, 16) + "Z";
}

// ---- routing ----

http::ServerResponse Engine::Handle(const http::ServerRequest& request) {
  if (request.path == "/_sim" || StartsWith(request.path, "/_sim/")) {
    return HandleControl(request);
  }
  // Stamped before the engine lock: a call that waits for the lock while another is handled
  // arrived when it arrived (as at a real API gateway), not when its turn came.
  const SteadyTime arrived = clock_.SteadyNow();
  const std::string authorization = request.headers.GetOr("Authorization");
  CallRecord record;
  http::ServerResponse response;
  bool handled = true;
  if (request.headers.Get("X-TC-Action") != nullptr ||
      StartsWith(authorization, "TC3-HMAC-SHA256")) {
    response = HandleTencent(request, arrived, &record);
  } else {
    // pop-core sends x-acs-action / x-acs-version headers on RPC V1 calls too, so the signature
    // parameters decide: an ACS3 Authorization first, then Action + SignatureMethod parameters.
    bool has_action = false;
    bool has_signature_method = false;
    auto scan = [&](const http::QueryParams& params) {
      for (const auto& [name, value] : params) {
        has_action |= name == "Action";
        has_signature_method |= name == "SignatureMethod";
      }
    };
    if (auto query = http::ParseQuery(request.query)) scan(*query);
    if (request.method == "POST" && StartsWith(LowerCopy(request.headers.GetOr("Content-Type")),
                                               "application/x-www-form-urlencoded")) {
      if (auto body = http::ParseQuery(request.body)) scan(*body);
    }
    if (StartsWith(authorization, "ACS3-HMAC-SHA256")) {
      response = HandleAliyun(request, /*acs3=*/true, arrived, &record);
    } else if (has_action && has_signature_method) {
      response = HandleAliyun(request, /*acs3=*/false, arrived, &record);
    } else if (request.headers.Get("x-acs-action") != nullptr) {
      response = HandleAliyun(request, /*acs3=*/true, arrived, &record);
    } else if (has_action) {
      response = HandleAliyun(request, /*acs3=*/false, arrived, &record);
    } else {
      handled = false;
      response =
          TextResponse(404, "rebootd-cloudsim: not an ECM (TC3) or ECS (RPC/ACS3) API request");
    }
  }
  if (handled && on_call_) {
    if (response.disposition == http::ServerResponse::Disposition::kRespond) {
      record.http_status = response.status;
    }
    on_call_(record);
  }
  return response;
}

http::ServerResponse Engine::HandleControl(const http::ServerRequest& request) {
  const std::string& path = request.path;
  if (path == "/_sim/healthz") return TextResponse(200, "ok");
  if (path == "/_sim/report" && request.method == "GET") {
    return JsonResponse(200, GetReport().ToJson());
  }
  if (path == "/_sim/instances" && request.method == "GET") {
    return JsonResponse(200, InstancesJson());
  }
  if (path == "/_sim/faults" && request.method == "GET") {
    return JsonResponse(200, FaultsToJson(Faults()));
  }
  if (path == "/_sim/faults" && request.method == "POST") {
    auto parsed = json::Parse(request.body);
    if (!parsed) return TextResponse(400, "invalid JSON: " + parsed.error().message);
    auto rules = FaultsFromJson(*parsed);
    if (!rules) return TextResponse(400, rules.error().message);
    SetFaults(*rules);
    return JsonResponse(200, FaultsToJson(*rules));
  }
  if (path == "/_sim/reset-report" && request.method == "POST") {
    ResetReport();
    return TextResponse(200, "ok");
  }
  return TextResponse(404, "unknown simulator endpoint " + path +
                               " (GET /_sim/healthz, /_sim/report, /_sim/instances, /_sim/faults;"
                               " POST /_sim/faults, /_sim/reset-report)");
}

// ---- Tencent ----

http::ServerResponse Engine::HandleTencent(const http::ServerRequest& request, SteadyTime arrived,
                                           CallRecord* record) {
  const std::string action = request.headers.GetOr("X-TC-Action");
  record->provider = kTencentProvider;
  record->action = action;
  std::lock_guard<std::mutex> lock(mu_);
  const SteadyTime now = clock_.SteadyNow();
  const SystemTime wall = clock_.Now();
  const std::string request_id = NewRequestId(false);
  ActionState& stats = Stats(kTencentProvider, action);
  RecordArrival(stats, arrived);

  auto fail = [&](const ApiError& error) {
    ++stats.report.errors[error.code];
    if (error.auth_failure) ++stats.report.auth_failures;
    record->code = error.code;
    return JsonResponse(200, TencentErrorBody(error, request_id));
  };
  if (auto error = VerifyTc3(request, tencent_keys_, wall)) return fail(*error);
  const std::string version = request.headers.GetOr("X-TC-Version");
  if (version != kTencentVersion) {
    return fail(ApiError{
        200, "NoSuchVersion",
        "The requested version `" + version + "` is not supported by ecm; use 2019-07-19.", false});
  }
  if (!IsKnownAction(kTencentProvider, action)) {
    return fail(ApiError{200, "InvalidAction",
                         "The requested action `" + action + "` does not exist in the simulator.",
                         false});
  }
  if (request.method != "POST") {
    return fail(ApiError{200, "UnsupportedProtocol",
                         "The simulator accepts POST requests with a JSON body only.", false});
  }
  std::string content_type = LowerCopy(request.headers.GetOr("Content-Type"));
  if (content_type != "application/json" && !StartsWith(content_type, "application/json;")) {
    return fail(ApiError{200, "InvalidParameter",
                         "Content-Type must be application/json for POST requests.", false});
  }
  auto params = json::Parse(request.body.empty() ? "{}" : request.body);
  if (!params || !params->is_object()) {
    return fail(ApiError{200, "InvalidParameter", "The request body is not a JSON object.", false});
  }
  if (Throttle(stats, arrived)) {
    ++stats.report.throttled;
    return fail(ApiError{200, "RequestLimitExceeded",
                         "Your current request times exceeds the frequency limit `" +
                             std::to_string(stats.report.rate_limit) + "` per second of " + action +
                             ". Please reduce the frequency of calls.",
                         false});
  }
  std::optional<FaultKind> fault = faults_.Draw(kTencentProvider, action, random_);
  if (fault) {
    ++stats.report.faults[std::string(FaultKindName(*fault))];
    record->fault = std::string(FaultKindName(*fault));
  }
  if (fault && !IsAfterEffect(*fault)) {
    switch (*fault) {
      case FaultKind::kUnavailable:
        ++stats.report.errors["HTTP503"];
        record->code = "HTTP503";
        return TextResponse(503, "503 Service Temporarily Unavailable");
      case FaultKind::kThrottle:
        return fail(ApiError{200, "RequestLimitExceeded",
                             "Your request frequency exceeds the limit (injected fault).", false});
      case FaultKind::kReset:
        record->code = "reset";
        return Disposition(http::ServerResponse::Disposition::kReset);
      case FaultKind::kHang:
        record->code = "hang";
        return Disposition(http::ServerResponse::Disposition::kHang);
      default:
        return fail(ApiError{200, "InternalError", InternalError().message, false});
    }
  }
  ActionResult result = action == "RebootInstances"
                            ? TencentRebootInstances(*params, now, request_id)
                            : TencentDescribeInstances(*params, now);
  if (result.effect) {
    ++stats.report.effects;
    ++stats.report.batch_sizes[result.batch_size];
  }
  if (fault) {  // an "-after" kind
    switch (*fault) {
      case FaultKind::kResetAfter:
        record->code = "reset";
        return Disposition(http::ServerResponse::Disposition::kReset);
      case FaultKind::kHangAfter:
        record->code = "hang";
        return Disposition(http::ServerResponse::Disposition::kHang);
      default:
        return fail(ApiError{200, "InternalError", InternalError().message, false});
    }
  }
  if (result.error) return fail(*result.error);
  ++stats.report.ok;
  record->code = "OK";
  return JsonResponse(200, TencentEnvelope(std::move(result.body), request_id));
}

// ---- Aliyun ----

http::ServerResponse Engine::HandleAliyun(const http::ServerRequest& request, bool acs3,
                                          SteadyTime arrived, CallRecord* record) {
  record->provider = kAliyunProvider;
  cloud::aliyun::Params query;
  cloud::aliyun::Params params;  // business + common parameters (query, then form body)
  bool malformed = false;
  if (auto parsed = http::ParseQuery(request.query)) {
    for (auto& [name, value] : *parsed) query[name] = value;
  } else {
    malformed = true;
  }
  params = query;
  if (request.method == "POST" && StartsWith(LowerCopy(request.headers.GetOr("Content-Type")),
                                             "application/x-www-form-urlencoded")) {
    if (auto parsed = http::ParseQuery(request.body)) {
      for (auto& [name, value] : *parsed) params[name] = value;
    } else {
      malformed = true;
    }
  }
  std::string action;
  std::string version;
  bool xml = false;
  if (acs3) {
    action = request.headers.GetOr("x-acs-action");
    version = request.headers.GetOr("x-acs-version");
  } else {
    action = params.count("Action") ? params["Action"] : "";
    version = params.count("Version") ? params["Version"] : "";
    auto format = params.find("Format");
    xml = format == params.end() || LowerCopy(format->second) != "json";
  }
  record->action = action;
  const std::string root =
      (IsKnownAction(kAliyunProvider, action) ? action : "Action") + std::string("Response");

  std::lock_guard<std::mutex> lock(mu_);
  const SteadyTime now = clock_.SteadyNow();
  const SystemTime wall = clock_.Now();
  const std::string request_id = NewRequestId(true);
  ActionState& stats = Stats(kAliyunProvider, action);
  RecordArrival(stats, arrived);

  auto fail = [&](const ApiError& error) {
    ++stats.report.errors[error.code];
    if (error.auth_failure) ++stats.report.auth_failures;
    record->code = error.code;
    if (!xml) {
      return JsonResponse(error.http_status, AliyunErrorBody(error, request_id),
                          "application/json;charset=utf-8");
    }
    return AliyunAnswer(error.http_status, AliyunErrorBody(error, request_id), true, "Error");
  };
  if (malformed) {
    return fail(
        ApiError{400, "InvalidParameter", "The query string or form body is malformed.", false});
  }
  std::optional<ApiError> auth_error =
      acs3 ? VerifyAcs3(request, query, aliyun_keys_, nonces_, wall, now)
           : VerifyRpc(request.method, params, aliyun_keys_, nonces_, wall, now);
  if (auth_error) return fail(*auth_error);
  if (version != kAliyunVersion) {
    return fail(ApiError{400, "InvalidVersion",
                         "Specified parameter Version is not valid (ECS uses 2014-05-26).", false});
  }
  if (!IsKnownAction(kAliyunProvider, action)) {
    return fail(ApiError{403, "InvalidAction",
                         "Specified action is not valid: " + action + " is not simulated.", false});
  }
  RebootCallLogGuard logged;
  if (action == "RebootInstance" && logged_reboot_calls_ < kMaxLoggedRebootCalls) {
    auto id = params.find("InstanceId");
    auto& calls = aliyun_reboot_calls_[id == params.end() ? std::string() : id->second];
    calls.push_back(AliyunRebootCall{IsTrue(params, "ForceStop"), IsTrue(params, "DryRun"), ""});
    ++logged_reboot_calls_;
    logged.call = &calls.back();
    logged.record = record;
  }
  if (Throttle(stats, arrived)) {
    ++stats.report.throttled;
    return fail(
        ApiError{400, "Throttling.User", "Request was denied due to user flow control.", false});
  }
  std::optional<FaultKind> fault = faults_.Draw(kAliyunProvider, action, random_);
  if (fault) {
    ++stats.report.faults[std::string(FaultKindName(*fault))];
    record->fault = std::string(FaultKindName(*fault));
  }
  if (fault && !IsAfterEffect(*fault)) {
    switch (*fault) {
      case FaultKind::kUnavailable:
        return fail(ApiError{503, "ServiceUnavailable",
                             "The request has failed due to a temporary failure of the server.",
                             false});
      case FaultKind::kThrottle:
        return fail(ApiError{400, "Throttling.User", "Request was denied due to user flow control.",
                             false});
      case FaultKind::kReset:
        record->code = "reset";
        return Disposition(http::ServerResponse::Disposition::kReset);
      case FaultKind::kHang:
        record->code = "hang";
        return Disposition(http::ServerResponse::Disposition::kHang);
      default:
        return fail(InternalError());
    }
  }
  ActionResult result;
  if (action == "RebootInstance") {
    result = AliyunRebootInstance(params, now, wall);
    if (result.soft_stuck) {
      ++stats.report.faults[std::string(FaultKindName(FaultKind::kSoftStuck))];
      record->fault +=
          (record->fault.empty() ? "" : ",") + std::string(FaultKindName(FaultKind::kSoftStuck));
    }
  } else if (action == "DescribeInstanceStatus") {
    result = AliyunDescribeInstanceStatus(params, now);
  } else {
    result = AliyunDescribeInstances(params, now);
  }
  if (result.effect) {
    ++stats.report.effects;
    ++stats.report.batch_sizes[result.batch_size];
  }
  if (fault) {  // an "-after" kind
    switch (*fault) {
      case FaultKind::kResetAfter:
        record->code = "reset";
        return Disposition(http::ServerResponse::Disposition::kReset);
      case FaultKind::kHangAfter:
        record->code = "hang";
        return Disposition(http::ServerResponse::Disposition::kHang);
      default:
        return fail(InternalError());
    }
  }
  if (result.error) return fail(*result.error);
  ++stats.report.ok;
  record->code = "OK";
  json::Value body = json::Value::MakeObject();
  body.Set("RequestId", json::Value(request_id));
  for (auto& [key, value] : result.body.AsObject()) body.Set(key, std::move(value));
  return AliyunAnswer(200, body, xml, root);
}

// ---- report and inspection ----

Report Engine::BuildReport() const {
  Report report;
  for (const auto& [provider, actions] : stats_) {
    ProviderReport& out = provider == kTencentProvider ? report.tencent : report.aliyun;
    for (const auto& [name, state] : actions) out.actions[name] = state.report;
  }
  for (const auto& instance : model_.tencent().items()) {
    if (instance.reboots == 0) continue;
    report.tencent.reboots[instance.id] = instance.reboots;
    report.tencent.total_reboots += instance.reboots;
    if (instance.reboots > 1) report.tencent.rebooted_more_than_once.push_back(instance.id);
  }
  for (const auto& instance : model_.aliyun().items()) {
    if (instance.reboots == 0) continue;
    report.aliyun.reboots[instance.id] = instance.reboots;
    report.aliyun.total_reboots += instance.reboots;
    if (instance.reboots > 1) report.aliyun.rebooted_more_than_once.push_back(instance.id);
  }
  report.aliyun.reboot_calls = aliyun_reboot_calls_;
  return report;
}

Report Engine::GetReport() const {
  std::lock_guard<std::mutex> lock(mu_);
  return BuildReport();
}

json::Value Engine::InstancesJson() const {
  std::lock_guard<std::mutex> lock(mu_);
  const SteadyTime now = clock_.SteadyNow();
  model_.Settle(now);
  json::Value tencent = json::Value::MakeArray();
  for (const auto& instance : model_.tencent().items()) {
    json::Value item = json::Value::MakeObject();
    item.Set("id", json::Value(instance.id));
    item.Set("state", json::Value(TencentStateOf(instance, now)));
    item.Set("reboots", json::Value(instance.reboots));
    item.Set("latest_operation", json::Value(instance.latest_operation));
    item.Set("latest_operation_state", json::Value(instance.latest_operation_state));
    tencent.PushBack(std::move(item));
  }
  json::Value aliyun = json::Value::MakeArray();
  for (const auto& instance : model_.aliyun().items()) {
    json::Value item = json::Value::MakeObject();
    item.Set("id", json::Value(instance.id));
    item.Set("region", json::Value(instance.region));
    item.Set("status", json::Value(AliyunStatusOf(instance, now)));
    item.Set("locked", json::Value(instance.locked));
    item.Set("start_time", json::Value(FormatRfc3339(instance.start_time)));
    item.Set("reboots", json::Value(instance.reboots));
    aliyun.PushBack(std::move(item));
  }
  json::Value out = json::Value::MakeObject();
  out.Set("tencent", std::move(tencent));
  out.Set("aliyun", std::move(aliyun));
  return out;
}

void Engine::SetFaults(std::vector<FaultRule> faults) {
  std::lock_guard<std::mutex> lock(mu_);
  faults_.Set(std::move(faults));
}

std::vector<FaultRule> Engine::Faults() const {
  std::lock_guard<std::mutex> lock(mu_);
  return faults_.rules();
}

void Engine::ResetReport() {
  std::lock_guard<std::mutex> lock(mu_);
  stats_.clear();
  for (const auto& key : KnownActionKeys()) {
    auto dot = key.find('.');
    ActionState& state = stats_[key.substr(0, dot)][key.substr(dot + 1)];
    state.report.rate_limit = rate_limits_.at(key);
  }
  aliyun_reboot_calls_.clear();
  logged_reboot_calls_ = 0;
  model_.ResetRebootCounts();
}

std::optional<std::string> Engine::InstanceState(cloud::Provider provider,
                                                 const std::string& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  const SteadyTime now = clock_.SteadyNow();
  model_.Settle(now);
  if (provider == cloud::Provider::kTencent) {
    const TencentInstance* instance = model_.tencent().Find(id);
    if (instance == nullptr) return std::nullopt;
    return TencentStateOf(*instance, now);
  }
  const AliyunInstance* instance = model_.aliyun().Find(id);
  if (instance == nullptr) return std::nullopt;
  return AliyunStatusOf(*instance, now);
}

int64_t Engine::RebootCount(cloud::Provider provider, const std::string& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (provider == cloud::Provider::kTencent) {
    const TencentInstance* instance = model_.tencent().Find(id);
    return instance == nullptr ? 0 : instance->reboots;
  }
  const AliyunInstance* instance = model_.aliyun().Find(id);
  return instance == nullptr ? 0 : instance->reboots;
}

}  // namespace rebootd::sim
