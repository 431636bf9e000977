// SPDX-License-Identifier: Apache-2.0
// CpprestTransport: the Transport over cpprestsdk's http_client. The only cpprestsdk client
// user. HTTPS verifies certificates (optionally against an extra CA bundle); plain HTTP is only
// allowed for loopback hosts unless allow_insecure_http is set. Thread-safe; clients are cached
// per origin so connections are reused.
//
// Wire behaviour (cpprestsdk 2.10): the body goes out byte for byte with Content-Length and the
// request's Content-Type exactly (none when the request has none); a Host header in the request
// replaces the URL's host on the wire and, over https, is also the name used for SNI and the
// certificate check (so it must then be a bare host name). Content-Length, Connection and
// Transfer-Encoding request headers are ignored (cpprestsdk frames the message and always sends
// "Connection: Keep-Alive"); repeated header names are joined with ", ". Redirects are not
// followed. Requests that may not be replayed (Request::idempotent) use a connection of their own.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "pkg/http/transport.h"

namespace rebootd::http {

struct CpprestTransportOptions {
  // cpprestsdk has no separate connect timeout: connecting is bounded by the request's timeout
  // (it restarts an inactivity timer at every step), and a whole call by connect_timeout plus
  // the request's timeout.
  std::chrono::milliseconds connect_timeout{5000};
  // Default time for a whole call after connecting, when Request::timeout is 0.
  std::chrono::milliseconds read_timeout{30000};
  // PEM file with extra CA certificates to trust (empty = system store only).
  std::string ca_bundle_file;
  bool verify_certificates = true;
  // Allow http:// for non-loopback hosts (never needed against the real clouds).
  bool allow_insecure_http = false;
  // Bearer tokens, client certificates etc. are set per request via headers; a client
  // certificate for mTLS (PEM files) may be configured here (used by the Kubernetes client).
  std::string client_cert_file;
  std::string client_key_file;
  // The same as PEM text held in memory (kubeconfig "-data" fields); used in addition to the
  // files above. Never logged.
  std::string ca_bundle_pem;
  std::string client_cert_pem;
  std::string client_key_pem;
  // Limits against broken or hostile peers. A response body longer than max_body_bytes (by its
  // Content-Length or as it arrives) fails the call with kUnavailable, marked ambiguous, and the
  // connection is dropped; a Stream() line longer than max_line_bytes ends the stream the same
  // way. The largest legitimate answers: a 100-instance describe page is well under 1 MB (about
  // 2 KB per instance with every field ECM/ECS document); a RebootRequest stays under etcd's
  // 1.5 MiB, so a watch line and a page of 25 of them fit the Kubernetes limits
  // (kube::TransportOptionsFor).
  size_t max_body_bytes = 16 * 1024 * 1024;
  size_t max_line_bytes = 4 * 1024 * 1024;
};

class CpprestTransport final : public Transport {
 public:
  explicit CpprestTransport(CpprestTransportOptions options = {});
  // Waits (at most 2 s) until cpprestsdk has dropped every response body given up on.
  ~CpprestTransport() override;
  Result<Response> Send(const Request& request) override;
  // Reads the body as it arrives, on a connection of its own that is closed at the end.
  Result<Response> Stream(const Request& request, const LineHandler& on_line,
                          std::stop_token stop = {}) override;
  // Response bodies refused or abandoned (too large, a stream stopped) that cpprestsdk has not
  // dropped yet, across every transport of the process. Falls to 0 soon after each refusal.
  static size_t AbandonedBodiesHeld();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rebootd::http
