// SPDX-License-Identifier: Apache-2.0
// Server: a small HTTP/1.1 server on POSIX sockets for the simulator, the health probes, the
// metrics endpoint and test stand-ins. One thread per connection, keep-alive, Content-Length and
// chunked request bodies. Handlers may ask for a connection reset or a hang, which is what fault
// injection needs and what cpprestsdk's listener cannot do.
//
// Hardened against idle and slow peers (a probe must answer whatever else is connected): a
// connection that sends nothing for `idle_timeout` is closed; a request must arrive whole
// within `request_timeout` of its first byte (else 408); headers are bounded (64 KiB) and bodies
// by `max_body_bytes` (413). At `max_connections`, a new connection closes the one that has been
// waiting for a request the longest; it is refused only when every connection is busy in the
// handler.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pkg/http/transport.h"

namespace rebootd::http {

struct ServerRequest {
  std::string method;
  std::string target;  // path and query as sent, e.g. "/?Action=X&A=1"
  std::string path;    // target up to '?', not decoded
  std::string query;   // after '?', not decoded ("" when none)
  Headers headers;
  std::string body;
  std::string peer;  // "ip:port"
};

struct ServerResponse {
  enum class Disposition {
    kRespond,  // send status/headers/body
    kReset,    // close the connection with RST (SO_LINGER 0) and send nothing
    kHang,     // send nothing; keep the connection open until the client gives up or the
               // server stops (bounded by ServerOptions::max_hang)
  };
  Disposition disposition = Disposition::kRespond;
  int status = 200;
  Headers headers;
  std::string body;
};

using Handler = std::function<ServerResponse(const ServerRequest&)>;

struct ServerOptions {
  // "127.0.0.1:0" picks a free port; see Server::Port().
  std::string listen = "127.0.0.1:0";
  std::chrono::milliseconds max_hang{60000};
  int max_connections = 512;
  size_t max_body_bytes = 16 * 1024 * 1024;
  // No request started (after connecting, or after the previous answer) for this long: closed.
  std::chrono::milliseconds idle_timeout{30000};
  // A request whose first byte arrived must be complete (headers and body) within this.
  std::chrono::milliseconds request_timeout{10000};
};

class Server {
 public:
  Server(ServerOptions options, Handler handler);
  ~Server();  // stops
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts accepting in background threads. kInvalidArgument for a bad address,
  // kUnavailable when the address cannot be bound.
  Status Start();
  // Closes the listener and all connections, wakes hanging handlers, joins threads.
  void Stop();
  int Port() const;
  // "http://127.0.0.1:PORT"
  std::string BaseUrl() const;

  // For fuzzing and tests: reads `bytes` as a connection's stream, exactly as Serve() reads it
  // (the same parser, limits and pipelining, with `max_body_bytes`), and returns each request's
  // outcome in order: 0 for a well-formed request, else the status of the error answer. Stops
  // at the first error or where the bytes end. At most 64 KiB of `bytes` are used.
  static std::vector<int> ParseStream(std::string_view bytes, size_t max_body_bytes);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rebootd::http
