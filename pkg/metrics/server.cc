// SPDX-License-Identifier: Apache-2.0
#include "pkg/metrics/server.h"

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <exception>
#include <optional>
#include <utility>
#include <vector>

#include "pkg/http/server.h"
#include "pkg/metrics/bind_address.h"
#include "pkg/metrics/process_collector.h"

namespace rebootd::metrics {
namespace {

http::ServerResponse Text(int status, std::string body, const char* type) {
  http::ServerResponse response;
  response.status = status;
  response.headers.Set("Content-Type", type);
  response.headers.Set("Cache-Control", "no-store");
  response.body = std::move(body);
  return response;
}

}  // namespace

Result<std::unique_ptr<MetricsServer>> MetricsServer::Start(
    std::string bind_address, std::shared_ptr<prometheus::Registry> registry) {
  REBOOTD_ASSIGN_OR_RETURN(std::optional<BindAddress> bind, ParseBindAddress(bind_address));
  if (!bind) return std::unique_ptr<MetricsServer>();
  if (registry == nullptr) {
    return MakeError(ErrorCode::kInvalidArgument, "metrics server: the registry is null");
  }
  std::unique_ptr<MetricsServer> server(new MetricsServer());
  server->registry_ = std::move(registry);
  server->process_ = std::make_shared<ProcessCollector>();
  http::Handler handler = [registry = server->registry_,
                           process = server->process_](const http::ServerRequest& request) {
    if (request.path != "/metrics") return Text(404, "not found\n", "text/plain");
    if (request.method != "GET" && request.method != "HEAD") {
      http::ServerResponse response = Text(405, "method not allowed\n", "text/plain");
      response.headers.Set("Allow", "GET, HEAD");
      return response;
    }
    try {
      std::vector<prometheus::MetricFamily> families = registry->Collect();
      for (auto& family : process->Collect()) families.push_back(std::move(family));
      return Text(200, prometheus::TextSerializer().Serialize(families),
                  "text/plain; version=0.0.4; charset=utf-8");
    } catch (const std::exception& e) {
      return Text(500, std::string("cannot collect metrics: ") + e.what() + "\n", "text/plain");
    }
  };
  http::ServerOptions options;
  options.listen = bind->ToString();
  options.max_connections = 64;
  options.max_body_bytes = 64 * 1024;
  options.idle_timeout = std::chrono::seconds(10);
  options.request_timeout = std::chrono::seconds(5);
  server->server_ = std::make_unique<http::Server>(options, std::move(handler));
  if (Status started = server->server_->Start(); !started) {
    Error error = started.error();
    error.message = "cannot serve metrics on " + bind_address + ": " + error.message;
    return MakeError(std::move(error));
  }
  server->address_ = bind->host + ":" + std::to_string(server->server_->Port());
  return server;
}

MetricsServer::~MetricsServer() {
  if (server_) server_->Stop();
}

int MetricsServer::Port() const { return server_->Port(); }

}  // namespace rebootd::metrics
