// SPDX-License-Identifier: Apache-2.0
// Where the Kubernetes API server is and how to authenticate to it: in-cluster (service-account
// token, CA, KUBERNETES_SERVICE_HOST/PORT) or a kubeconfig file (current context, server, CA file
// or data, bearer token or tokenFile, client certificate and key as files or data,
// insecure-skip-tls-verify). Pure parsing plus file reads; thread-safe (TokenSource included).
// A Config holds secrets (token, key data): nothing may log it; Describe() is the safe summary.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "pkg/base/clock.h"
#include "pkg/base/result.h"
#include "pkg/cloud/credentials.h"
#include "pkg/http/cpprest_transport.h"

namespace rebootd::kube {

inline constexpr std::string_view kServiceAccountDir =
    "/var/run/secrets/kubernetes.io/serviceaccount";

struct Config {
  std::string server;  // "https://host:port" (no trailing slash)
  std::string ca_file;
  std::string ca_pem;  // certificate-authority-data, decoded
  bool insecure_skip_tls_verify = false;
  std::string token;       // static bearer token
  std::string token_file;  // bearer token read from this file, re-read when it changes
  std::string client_cert_file;
  std::string client_key_file;
  std::string client_cert_pem;  // client-certificate-data, decoded
  std::string client_key_pem;   // client-key-data, decoded
  std::string namespace_;       // the context's (or the pod's) namespace; may be empty
  std::string origin;           // "in-cluster" or "kubeconfig PATH context NAME"

  // "server=... auth=token-file|token|client-cert|none origin=..."; no secrets.
  std::string Describe() const;
};

// Parses kubeconfig YAML. Relative file paths are resolved against `base_dir` (the kubeconfig's
// folder). `context` empty = current-context. kInvalidArgument naming the problem (unknown
// context, missing cluster or server, bad base64, exec/auth-provider plugins, which are not
// supported).
Result<Config> ParseKubeconfig(std::string_view yaml, const std::string& base_dir,
                               const std::string& context = {});
// Reads and parses a kubeconfig file (kInvalidArgument when unreadable, naming the path).
Result<Config> LoadKubeconfig(const std::string& path, const std::string& context = {});
// In-cluster: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT, sa_dir/token (as a
// token file, so rotations are picked up), sa_dir/ca.crt, sa_dir/namespace.
// kFailedPrecondition when not running in a cluster (variables unset, token missing).
Result<Config> InClusterConfig(const cloud::Getenv& getenv,
                               const std::string& sa_dir = std::string(kServiceAccountDir));
// The configuration rebootd uses: `flag_path` (--kubeconfig) when set; else the first existing
// file of $KUBECONFIG (a ':'-separated list); else in-cluster when KUBERNETES_SERVICE_HOST is
// set; else $HOME/.kube/config. Errors name what was tried.
Result<Config> ResolveConfig(const std::string& flag_path, const cloud::Getenv& getenv,
                             const std::string& sa_dir = std::string(kServiceAccountDir));

// TLS settings for the transport that talks to the API server.
http::CpprestTransportOptions TransportOptionsFor(const Config& config);

// The bearer token to send: the static token, or the token file's content, re-read when the
// file's modification time or size changes and at least every `recheck` (bound service-account
// tokens rotate). Thread-safe.
class TokenSource {
 public:
  TokenSource(Config config, Clock& clock, Duration recheck = std::chrono::seconds(60));
  // "" when the config has no token. kUnauthenticated when the token file cannot be read (the
  // message names the file, never the token).
  Result<std::string> Token();
  // Forces a re-read on the next Token() (called after a 401).
  void Invalidate();

 private:
  const Config config_;
  Clock& clock_;
  const Duration recheck_;
  std::mutex mu_;
  std::string cached_;                    // guarded by mu_
  std::optional<SteadyTime> checked_at_;  // guarded by mu_
  int64_t mtime_ns_ = -1;                 // guarded by mu_
  int64_t size_ = -1;                     // guarded by mu_
};

}  // namespace rebootd::kube
