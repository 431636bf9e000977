// SPDX-License-Identifier: Apache-2.0
// HealthServer: the Kubernetes probe endpoints GET /healthz (liveness) and GET /readyz
// (readiness) on their own address, served by http::Server. The checks are called on server
// threads, so they must be thread-safe and cheap. Thread-safe; stops serving when destroyed.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "pkg/base/result.h"

namespace rebootd::http {
class Server;
}  // namespace rebootd::http

namespace rebootd::metrics {

struct HealthOptions {
  // ParseBindAddress syntax: "127.0.0.1:8081", ":8081" (all interfaces), port 0, "0" disables.
  std::string bind_address = ":8081";
  // /healthz: 200 "ok" while true, else 503. Null means always alive.
  std::function<bool()> live;
  // /readyz: 200 "ok" while true, else 503 with `not_ready_reason()` (or "not ready") as the
  // body. Null `ready` means always ready.
  std::function<bool()> ready;
  std::function<std::string()> not_ready_reason;
};

class HealthServer {
 public:
  // Binds and starts serving. Returns a null pointer, not an error, for "0" (disabled).
  // Errors: kInvalidArgument for a malformed address; kUnavailable naming the address when it
  // cannot be bound. Fatal at startup.
  // Other paths answer 404; methods other than GET and HEAD answer 405.
  [[nodiscard]] static Result<std::unique_ptr<HealthServer>> Start(HealthOptions options);

  ~HealthServer();  // stops serving and joins the server threads
  HealthServer(const HealthServer&) = delete;
  HealthServer& operator=(const HealthServer&) = delete;

  // The bound TCP port (the real one when started with port 0).
  int Port() const;
  // "HOST:PORT" as bound, e.g. "0.0.0.0:8081".
  const std::string& Address() const { return address_; }

 private:
  HealthServer() = default;

  // Constant after Start.
  std::string address_;
  std::unique_ptr<http::Server> server_;
};

}  // namespace rebootd::metrics
