// SPDX-License-Identifier: Apache-2.0
// Transport: the seam between the cloud/kube clients and the network. Clients build a Request
// and get a Response or an Error; they never see cpprestsdk. Implementations are thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "pkg/base/result.h"

namespace rebootd::http {

// Header names are compared case-insensitively; stored as given.
struct Headers {
  std::vector<std::pair<std::string, std::string>> items;
  void Set(std::string name, std::string value);  // replaces an existing header of that name
  void Add(std::string name, std::string value);  // appends
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
