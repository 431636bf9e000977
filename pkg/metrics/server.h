// SPDX-License-Identifier: Apache-2.0
// MetricsServer: serves GET /metrics (Prometheus text format 0.0.4) for one registry plus the
// process_* metrics (ProcessCollector) on the hardened http::Server (idle and slow connections
// cannot starve a scrape; see pkg/http/server.h), not on prometheus-cpp's civetweb Exposer,
// which 224 idle connections were enough to stall. The registry is shared. Thread-safe; stops
// serving when destroyed.
#pragma once

#include <memory>
#include <string>

#include "pkg/base/result.h"

namespace prometheus {
class Registry;
}  // namespace prometheus

namespace rebootd::http {
class Server;
}  // namespace rebootd::http

namespace rebootd::metrics {

class ProcessCollector;

class MetricsServer {
 public:
  // Binds `bind_address` (syntax of ParseBindAddress: "127.0.0.1:8080", ":8080" for all
  // interfaces, port 0 for a free port) and serves `registry` and the process metrics on
  // /metrics. Returns a null pointer, not an error, for "0" (serving disabled).
  // Errors: kInvalidArgument for a malformed address or a null registry; kUnavailable naming
  // the address when it cannot be bound (in use, not a local address). Fatal at startup.
  [[nodiscard]] static Result<std::unique_ptr<MetricsServer>> Start(
      std::string bind_address, std::shared_ptr<prometheus::Registry> registry);

  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // The bound TCP port (the real one when started with port 0).
  int Port() const;
  // "HOST:PORT" as bound, e.g. "0.0.0.0:8080".
  const std::string& Address() const { return address_; }

 private:
  MetricsServer() = default;

  // Constant after Start. The server is declared last so it stops serving before the
  // collectables it reads are released.
  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<ProcessCollector> process_;
  std::string address_;
  std::unique_ptr<http::Server> server_;
};

}  // namespace rebootd::metrics
