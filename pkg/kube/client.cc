// SPDX-License-Identifier: Apache-2.0
#include "pkg/kube/client.h"

#include <utility>

#include "pkg/http/url.h"

namespace rebootd::kube {
namespace {

ErrorCode CodeFor(int status, const std::string& reason) {
  switch (status) {
    case 400:
    case 422:
      return ErrorCode::kInvalidArgument;
    case 401:
      return ErrorCode::kUnauthenticated;
    case 403:
      return ErrorCode::kPermissionDenied;
    case 404:
      return ErrorCode::kNotFound;
    case 409:
      return reason == "AlreadyExists" ? ErrorCode::kAlreadyExists : ErrorCode::kAborted;
    case 410:
      return ErrorCode::kFailedPrecondition;
    case 429:
      return ErrorCode::kResourceExhausted;
    case 504:
      return ErrorCode::kDeadlineExceeded;
    default:
      return status >= 500 ? ErrorCode::kUnavailable : ErrorCode::kInternal;
  }
}

// A Status object's fields, when the body is one.
Error FromStatusObject(const std::string& what, int status, const json::Value& v) {
  std::string reason, message;
  if (v.is_object()) {
    if (const json::Value* r = v.Find("reason"); r && r->is_string()) reason = r->AsString();
    if (const json::Value* m = v.Find("message"); m && m->is_string()) message = m->AsString();
    if (const json::Value* c = v.Find("code"); status == 0 && c && c->is_integer()) {
      status = static_cast<int>(c->AsInt());
    }
  }
  Error e;
  e.code = CodeFor(status, reason);
  e.http_status = status;
  e.provider_code = reason;
  e.message = what + ": " + std::to_string(status) + (reason.empty() ? "" : " " + reason) +
              (message.empty() ? "" : ": " + message);
  return e;
}

}  // namespace

std::string Resource::GroupVersionPath() const {
  return group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
}

std::string Resource::ApiVersion() const { return group.empty() ? version : group + "/" + version; }

Resource RebootRequests() { return {"rebootd.io", "v1alpha1", "rebootrequests"}; }
Resource Leases() { return {"coordination.k8s.io", "v1", "leases"}; }
Resource Events() { return {"", "v1", "events"}; }
Resource Secrets() { return {"", "v1", "secrets"}; }

bool IsGone(const Error& error) { return error.http_status == 410; }

Error ErrorFromResponse(const std::string& what, int status, const std::string& body) {
  auto parsed = json::Parse(body);
  return FromStatusObject(what, status, parsed ? *parsed : json::Value());
}

Client::Client(Config config, http::Transport& transport, Clock& clock,
               std::chrono::milliseconds call_timeout)
    : config_(config),
      transport_(transport),
      call_timeout_(call_timeout),
      tokens_(std::move(config), clock) {}

std::string Client::Path(const Resource& r, const std::string& ns, const std::string& name,
                         const std::string& subresource) const {
  std::string p = r.GroupVersionPath();
  if (!ns.empty()) p += "/namespaces/" + http::PercentEncode(ns);
  p += "/" + r.plural;
  if (!name.empty()) p += "/" + http::PercentEncode(name);
  if (!subresource.empty()) p += "/" + subresource;
  return p;
}

Status Client::Authorize(http::Request& request) {
  REBOOTD_ASSIGN_OR_RETURN(std::string token, tokens_.Token());
  if (!token.empty()) request.headers.Set("Authorization", "Bearer " + token);
  return OkStatus();
}

Result<json::Value> Client::Call(const std::string& method, const std::string& path,
                                 const json::Value* body, const std::string& content_type) {
  const std::string what = method + " " + path.substr(0, path.find('?'));
  for (int attempt = 0;; ++attempt) {
    http::Request req;
    req.method = method;
    req.url = config_.server + path;
    req.timeout = call_timeout_;
    req.headers.Set("Accept", "application/json");
    req.headers.Set("User-Agent", "rebootd");
    if (body != nullptr) {
      req.body = body->Dump();
      req.headers.Set("Content-Type", content_type);
    }
    REBOOTD_RETURN_IF_ERROR(Authorize(req));
    auto resp = transport_.Send(req);
    if (!resp) return MakeError(resp.error());  // names the URL without its query
    if (resp->status == 401 && attempt == 0 && !config_.token_file.empty()) {
      tokens_.Invalidate();  // the token may just have rotated
      continue;
    }
    if (resp->status < 200 || resp->status > 299) {
      return MakeError(ErrorFromResponse(what, resp->status, resp->body));
    }
    auto parsed = json::Parse(resp->body);
    if (!parsed) {
      return MakeError(ErrorCode::kInternal,
                       what + ": answer is not JSON: " + parsed.error().message);
    }
    return std::move(*parsed);
  }
}

Result<json::Value> Client::Get(const Resource& r, const std::string& ns, const std::string& name) {
  return Call("GET", Path(r, ns, name), nullptr, {});
}

Result<json::Value> Client::List(const Resource& r, const std::string& ns,
                                 const ListOptions& options) {
  http::QueryParams q;
  if (!options.label_selector.empty()) q.emplace_back("labelSelector", options.label_selector);
  if (!options.resource_version.empty())
    q.emplace_back("resourceVersion", options.resource_version);
  if (options.limit > 0) q.emplace_back("limit", std::to_string(options.limit));
  if (!options.continue_token.empty()) q.emplace_back("continue", options.continue_token);
  std::string path = Path(r, ns);
  if (!q.empty()) path += "?" + http::BuildQuery(q);
  return Call("GET", path, nullptr, {});
}

Result<json::Value> Client::Create(const Resource& r, const std::string& ns,
                                   const json::Value& object) {
  return Call("POST", Path(r, ns), &object, "application/json");
}

Result<json::Value> Client::Update(const Resource& r, const std::string& ns,
                                   const std::string& name, const json::Value& object) {
  return Call("PUT", Path(r, ns, name), &object, "application/json");
}

Result<json::Value> Client::UpdateStatus(const Resource& r, const std::string& ns,
                                         const std::string& name, const json::Value& object) {
  return Call("PUT", Path(r, ns, name, "status"), &object, "application/json");
}

Result<json::Value> Client::MergePatch(const Resource& r, const std::string& ns,
                                       const std::string& name, const json::Value& patch,
                                       bool status) {
  return Call("PATCH", Path(r, ns, name, status ? "status" : ""), &patch,
              "application/merge-patch+json");
}

Status Client::Watch(const Resource& r, const std::string& ns, const WatchOptions& options,
                     const std::function<bool(const WatchEvent&)>& on_event, std::stop_token stop) {
  http::QueryParams q;
  q.emplace_back("watch", "true");
  if (!options.resource_version.empty())
    q.emplace_back("resourceVersion", options.resource_version);
  if (options.allow_bookmarks) q.emplace_back("allowWatchBookmarks", "true");
  if (options.timeout_seconds > 0)
    q.emplace_back("timeoutSeconds", std::to_string(options.timeout_seconds));
  const std::string path = Path(r, ns);
  const std::string what = "WATCH " + path;
  http::Request req;
  req.method = "GET";
  req.url = config_.server + path + "?" + http::BuildQuery(q);
  // The longest silence allowed: the server's own timeout plus a margin.
  req.timeout =
      std::chrono::seconds(options.timeout_seconds > 0 ? options.timeout_seconds + 30 : 3600);
  req.headers.Set("Accept", "application/json");
  req.headers.Set("User-Agent", "rebootd");
  REBOOTD_RETURN_IF_ERROR(Authorize(req));
  std::optional<Error> failure;
  auto resp = transport_.Stream(
      req,
      [&](std::string_view line) {
        if (line.empty()) return true;
        auto parsed = json::Parse(line);
        if (!parsed || !parsed->is_object()) {
          failure = Error::Internal(what + ": a watch event is not a JSON object");
          return false;
        }
        WatchEvent ev;
        if (const json::Value* t = parsed->Find("type"); t && t->is_string())
          ev.type = t->AsString();
        if (json::Value* o = parsed->Find("object")) ev.object = std::move(*o);
        if (ev.type == "ERROR") {
          failure = FromStatusObject(what, 0, ev.object);
          return false;
        }
        // Like client-go: an event of no known type, or without an object, ends the watch
        // with an error (found by fuzzing: such events reached the source with an empty type).
        if ((ev.type != "ADDED" && ev.type != "MODIFIED" && ev.type != "DELETED" &&
             ev.type != "BOOKMARK") ||
            !ev.object.is_object()) {
          failure = Error::Internal(what + ": a watch event without a known type and an object");
          return false;
        }
        return on_event(ev);
      },
      stop);
  if (!resp) return MakeError(resp.error());
  if (failure) return MakeError(*failure);
  if (resp->status == 401 && !config_.token_file.empty()) tokens_.Invalidate();
  if (resp->status < 200 || resp->status > 299) {
    return MakeError(ErrorFromResponse(what, resp->status, resp->body));
  }
  return OkStatus();
}

}  // namespace rebootd::kube
