// SPDX-License-Identifier: Apache-2.0
#include "pkg/metrics/server.h"

#include <prometheus/exposer.h>
#include <prometheus/registry.h>

#include <exception>
#include <optional>
#include <utility>
#include <vector>

#include "pkg/metrics/bind_address.h"
#include "pkg/metrics/process_collector.h"

namespace rebootd::metrics {

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
  try {
    // civetweb reports a failed bind only as an exception from the CivetServer constructor.
    server->exposer_ = std::make_unique<prometheus::Exposer>(bind->ToString(), 2);
    server->exposer_->RegisterCollectable(server->registry_);
    server->exposer_->RegisterCollectable(server->process_);
    std::vector<int> ports = server->exposer_->GetListeningPorts();
    if (ports.empty()) {
      return MakeError(ErrorCode::kUnavailable,
                       "cannot serve metrics on " + bind_address + ": no listening port");
    }
    server->port_ = ports.front();
  } catch (const std::exception& e) {
    return MakeError(ErrorCode::kUnavailable, "cannot serve metrics on " + bind_address + " (" +
                                                  bind->ToString() + "): " + e.what());
  }
  server->address_ = bind->host + ":" + std::to_string(server->port_);
  return server;
}

MetricsServer::~MetricsServer() = default;

int MetricsServer::Port() const { return port_; }

}  // namespace rebootd::metrics
