// SPDX-License-Identifier: Apache-2.0
// CpprestTransport: the Transport over cpprestsdk's http_client. The only cpprestsdk client
// user. HTTPS verifies certificates (optionally against an extra CA bundle); plain HTTP is only
// allowed for loopback hosts unless allow_insecure_http is set. Thread-safe; clients are cached
// per origin so connections are reused.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "pkg/http/transport.h"

namespace rebootd::http {

struct CpprestTransportOptions {
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
};

class CpprestTransport final : public Transport {
 public:
  explicit CpprestTransport(CpprestTransportOptions options = {});
  ~CpprestTransport() override;
  Result<Response> Send(const Request& request) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rebootd::http
