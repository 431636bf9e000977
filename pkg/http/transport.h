// SPDX-License-Identifier: Apache-2.0
// Transport: the seam between the cloud/kube clients and the network. Clients build a Request
// and get a Response or an Error; they never see cpprestsdk. Implementations are thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "pkg/base/result.h"

namespace rebootd::http {

// Header names are compared case-insensitively; stored as given.
struct Headers {
  std::vector<std::pair<std::string, std::string>> items;
  void Set(std::string name, std::string value);        // replaces an existing header of that name
  void Add(std::string name, std::string value);        // appends
  const std::string* Get(std::string_view name) const;  // nullptr when absent
  std::string GetOr(std::string_view name, std::string fallback = {}) const;
};

struct Request {
  std::string method = "GET";  // GET, POST, PUT, PATCH, DELETE
  std::string url;             // absolute: scheme://host[:port]/path[?query]
  Headers headers;
  std::string body;
  // Total time allowed for the call after the connection is made (0 = transport default).
  std::chrono::milliseconds timeout{0};
  // Whether the transport may transparently send this request a second time. Connection pools
  // (cpprestsdk's among them) re-send a request when a reused keep-alive connection turns out to
  // be closed or reset before the response starts, even though the server may have received and
  // acted on it. Unset = by method: GET, HEAD, PUT, DELETE, OPTIONS may be replayed; POST and
  // PATCH may not. A request that may not be replayed travels on a fresh connection of its own,
  // so it reaches the server at most once (set true for read-only POSTs such as Describe* calls
  // to get connection reuse; leave unset or false for reboots).
  std::optional<bool> idempotent;
};

struct Response {
  int status = 0;
  Headers headers;
  std::string body;
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Sends `request` and waits for the whole response. Any HTTP status is a Response, not an
  // Error. Errors (all with http_status 0):
  //  - kUnavailable, ambiguous=false: could not connect / resolve / TLS handshake failed; the
  //    request never reached the server. Safe to retry.
  //  - kUnavailable or kDeadlineExceeded, ambiguous=true: the request was (or may have been)
  //    sent, then the connection broke or timed out. Non-idempotent calls must not be blindly
  //    retried.
  //  - kInvalidArgument: malformed URL or request.
  // Blocks the calling thread; callable from many threads at once.
  virtual Result<Response> Send(const Request& request) = 0;
};

// A Transport built from a function, for tests and adapters.
class FunctionTransport final : public Transport {
 public:
  using Fn = std::function<Result<Response>(const Request&)>;
  explicit FunctionTransport(Fn fn) : fn_(std::move(fn)) {}
  Result<Response> Send(const Request& request) override { return fn_(request); }

 private:
  Fn fn_;
};

}  // namespace rebootd::http
