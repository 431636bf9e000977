// SPDX-License-Identifier: Apache-2.0
// Client: a small Kubernetes REST client over http::Transport (JSON only): get, list, create,
// update, merge-patch, the status subresource, and watch streams. Objects are json::Values in the
// wire shape. Thread-safe (the transport and the token source are).
//
// Errors carry the answer's HTTP status in Error::http_status and the Status reason (e.g.
// "Conflict", "Expired") in Error::provider_code. Codes:
//   400, 422 -> kInvalidArgument        401 -> kUnauthenticated (after one retry with a re-read
//   403 -> kPermissionDenied                      token file)
//   404 -> kNotFound                    409 Conflict -> kAborted (re-read, then retry the write)
//   409 AlreadyExists -> kAlreadyExists 410 Gone/Expired -> kFailedPrecondition (IsGone(): relist)
//   429 -> kResourceExhausted           5xx, network -> kUnavailable / kDeadlineExceeded
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>

#include "pkg/base/clock.h"
#include "pkg/base/result.h"
#include "pkg/http/transport.h"
#include "pkg/json/json.h"
#include "pkg/kube/config.h"

namespace rebootd::kube {

// A resource type: group ("" = core), version and plural name.
struct Resource {
  std::string group;
  std::string version;
  std::string plural;
  // "/api/v1" or "/apis/GROUP/VERSION".
  std::string GroupVersionPath() const;
  // apiVersion as written in objects: "v1" or "GROUP/VERSION".
  std::string ApiVersion() const;
};

Resource RebootRequests();  // rebootd.io/v1alpha1 rebootrequests
Resource Leases();          // coordination.k8s.io/v1 leases
Resource Events();          // v1 events
Resource Secrets();         // v1 secrets

// True for "410 Gone" answers and watch ERROR events with code 410 (resourceVersion too old:
// list again).
bool IsGone(const Error& error);
// Maps an HTTP answer (status and Status body) to an Error (see above); `what` names the call.
Error ErrorFromResponse(const std::string& what, int status, const std::string& body);

struct ListOptions {
  std::string label_selector;
  std::string resource_version;  // "" = most recent
  int64_t limit = 0;             // 0 = no paging
  std::string continue_token;
};

struct WatchOptions {
  std::string resource_version;  // start after this version ("" = from now, with ADDED events)
  bool allow_bookmarks = true;
  int64_t timeout_seconds = 300;  // the server ends the stream after this
};

struct WatchEvent {
  std::string type;  // ADDED, MODIFIED, DELETED, BOOKMARK
  json::Value object;
};

class Client {
 public:
  // `transport` and `clock` must outlive the client. `call_timeout` bounds every call but
  // watches (leader election uses a short one so a hung call cannot outlast the renew deadline).
  Client(Config config, http::Transport& transport, Clock& clock,
         std::chrono::milliseconds call_timeout = std::chrono::seconds(30));

  const Config& config() const { return config_; }

  // `ns` empty means cluster-wide (list/watch across all namespaces).
  [[nodiscard]] Result<json::Value> Get(const Resource& r, const std::string& ns,
                                        const std::string& name);
  // The List object (items, metadata.resourceVersion, metadata.continue).
  [[nodiscard]] Result<json::Value> List(const Resource& r, const std::string& ns,
                                         const ListOptions& options = {});
  [[nodiscard]] Result<json::Value> Create(const Resource& r, const std::string& ns,
                                           const json::Value& object);
  // PUT; the object's metadata.resourceVersion is the precondition (409 when stale).
  [[nodiscard]] Result<json::Value> Update(const Resource& r, const std::string& ns,
                                           const std::string& name, const json::Value& object);
  // PUT .../status (only status changes are kept by the server).
  [[nodiscard]] Result<json::Value> UpdateStatus(const Resource& r, const std::string& ns,
                                                 const std::string& name,
                                                 const json::Value& object);
  // PATCH with application/merge-patch+json; `status` selects the status subresource.
  [[nodiscard]] Result<json::Value> MergePatch(const Resource& r, const std::string& ns,
                                               const std::string& name, const json::Value& patch,
                                               bool status = false);

  // Watches until the server ends the stream (OK), the stream breaks (kUnavailable), the server
  // sends an ERROR event (its Status mapped; IsGone() for 410), `on_event` returns false (OK) or
  // `stop` is requested (kCancelled). Blocks the calling thread.
  [[nodiscard]] Status Watch(const Resource& r, const std::string& ns, const WatchOptions& options,
                             const std::function<bool(const WatchEvent&)>& on_event,
                             std::stop_token stop = {});

 private:
  std::string Path(const Resource& r, const std::string& ns, const std::string& name = {},
                   const std::string& subresource = {}) const;
  Result<json::Value> Call(const std::string& method, const std::string& path,
                           const json::Value* body, const std::string& content_type);
  Status Authorize(http::Request& request);

  const Config config_;
  http::Transport& transport_;
  const std::chrono::milliseconds call_timeout_;
  TokenSource tokens_;
};

}  // namespace rebootd::kube
