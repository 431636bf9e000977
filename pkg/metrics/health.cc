// SPDX-License-Identifier: Apache-2.0
#include "pkg/metrics/health.h"

#include <optional>
#include <utility>

#include "pkg/http/server.h"
#include "pkg/metrics/bind_address.h"

namespace rebootd::metrics {
namespace {

http::ServerResponse Text(int status, std::string body) {
  http::ServerResponse response;
  response.status = status;
  response.headers.Set("Content-Type", "text/plain; charset=utf-8");
  response.headers.Set("Cache-Control", "no-store");
  response.body = std::move(body);
  return response;
}

// A check that throws counts as failing: a probe must answer, never take a server thread down.
bool Check(const std::function<bool()>& check) {
  if (!check) return true;
  try {
    return check();
  } catch (...) {
    return false;
  }
}

std::string Reason(const std::function<std::string()>& reason) {
  std::string text;
  if (reason) {
    try {
      text = reason();
    } catch (...) {
    }
  }
  return text.empty() ? "not ready" : text;
}

}  // namespace

Result<std::unique_ptr<HealthServer>> HealthServer::Start(HealthOptions options) {
  REBOOTD_ASSIGN_OR_RETURN(std::optional<BindAddress> bind, ParseBindAddress(options.bind_address));
  if (!bind) return std::unique_ptr<HealthServer>();

  http::Handler handler =
      [live = std::move(options.live), ready = std::move(options.ready),
       reason = std::move(options.not_ready_reason)](const http::ServerRequest& request) {
        if (request.path != "/healthz" && request.path != "/readyz") {
          return Text(404, "not found\n");
        }
        if (request.method != "GET" && request.method != "HEAD") {
          http::ServerResponse response = Text(405, "method not allowed\n");
          response.headers.Set("Allow", "GET, HEAD");
          return response;
        }
        if (request.path == "/healthz") {
          return Check(live) ? Text(200, "ok") : Text(503, "not alive");
        }
        return Check(ready) ? Text(200, "ok") : Text(503, Reason(reason));
      };

  http::ServerOptions server_options;
  server_options.listen = bind->ToString();
  server_options.max_connections = 64;
  server_options.max_body_bytes = 64 * 1024;
  // A kubelet probes every few seconds; anything slower is not a probe.
  server_options.idle_timeout = std::chrono::seconds(10);
  server_options.request_timeout = std::chrono::seconds(5);
  std::unique_ptr<HealthServer> health(new HealthServer());
  health->server_ = std::make_unique<http::Server>(server_options, std::move(handler));
  Status started = health->server_->Start();
  if (!started) {
    Error error = started.error();
    error.message = "cannot serve health probes on " + options.bind_address + ": " + error.message;
    return MakeError(std::move(error));
  }
  health->address_ = bind->host + ":" + std::to_string(health->server_->Port());
  return health;
}

HealthServer::~HealthServer() {
  if (server_ != nullptr) server_->Stop();
}

int HealthServer::Port() const { return server_->Port(); }

}  // namespace rebootd::metrics
