// SPDX-License-Identifier: Apache-2.0
// Transport: the seam between the cloud/kube clients and the network. Clients build a Request
// and get a Response or an Error; they never see cpprestsdk. Implementations are thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "pkg/base/clock.h"
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

  // Handles one line of a streamed body (without its "\n" or "\r\n"); return false to stop
  // reading. Called on the thread that called Stream().
  using LineHandler = std::function<bool(std::string_view line)>;
  // Sends `request` and, when the answer is 2xx, hands its body to `on_line` line by line AS IT
  // ARRIVES (Kubernetes watch streams), until the server ends the body, on_line returns false, or
  // `stop` is requested. Returns the status and headers with an empty body for 2xx (the body
  // went to on_line); any other status comes back whole, like Send(). Request::timeout is the
  // longest silence allowed between two reads (0 = transport default), not a total. Errors as
  // Send(); a body that breaks off is kUnavailable (ambiguous=true); a stop is kCancelled.
  // The default implementation calls Send() and then splits the complete body (for fakes).
  virtual Result<Response> Stream(const Request& request, const LineHandler& on_line,
                                  std::stop_token stop = {});
};

// HTTP-date (RFC 9110 section 5.6.7) in the preferred IMF-fixdate form,
// e.g. "Wed, 02 Dec 2026 16:42:05 GMT": the Date header every origin server with a clock sends.
std::string FormatHttpDate(SystemTime t);
// Parses IMF-fixdate; nullopt for anything else (the obsolete forms are not accepted).
std::optional<SystemTime> ParseHttpDate(std::string_view text);

// Splits `data` into lines for Stream(): appends to `pending`, calls `on_line` for each complete
// line and keeps the rest in `pending`. Returns false when on_line asked to stop.
bool FeedLines(std::string_view data, std::string& pending, const Transport::LineHandler& on_line);

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
