// SPDX-License-Identifier: Apache-2.0
// Request authentication for the simulator, with the real services' rules: Tencent
// TC3-HMAC-SHA256, Aliyun RPC signature V1 (HMAC-SHA1) and Aliyun ACS3-HMAC-SHA256. The codes
// returned are listed at the top of pkg/sim/simulator.h. Messages never contain a secret, a
// token or a signature (the Aliyun string to sign holds none and is echoed like the real API).
// KeyStore and the Verify functions are pure; NonceCache is not thread-safe.
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pkg/base/clock.h"
#include "pkg/cloud/aliyun/signer.h"
#include "pkg/cloud/credentials.h"
#include "pkg/http/server.h"

namespace rebootd::sim {

// An error answer in provider terms.
struct ApiError {
  int http_status = 400;  // Aliyun: the HTTP status; Tencent answers always use 200
  std::string code;
  std::string message;
  bool auth_failure = false;  // counted as an authentication failure in the report
};

// Accepted key pairs of one provider. The first key with a given id wins.
class KeyStore {
 public:
  void Add(cloud::Credentials credentials);
  const cloud::Credentials* Find(std::string_view key_id) const;
  bool empty() const { return keys_.empty(); }
  size_t size() const { return keys_.size(); }

 private:
  std::vector<cloud::Credentials> keys_;
};

// Remembers used signature nonces (per key) for `ttl`; at most `max_entries` are kept, the oldest
// being forgotten first when full. Use() is false when the nonce was already used.
class NonceCache {
 public:
  NonceCache(Duration ttl, size_t max_entries) : ttl_(ttl), max_entries_(max_entries) {}
  bool Use(const std::string& key_id, const std::string& nonce, SteadyTime now);
  size_t size() const { return seen_.size(); }
  void Clear();

 private:
  Duration ttl_;
  size_t max_entries_;
  std::unordered_map<std::string, SteadyTime> seen_;
  std::deque<std::pair<SteadyTime, std::string>> order_;
};

// Aliyun allows 15 minutes of skew either way; a nonce must therefore be remembered for 30
// minutes after it is first seen (plus a margin).
inline constexpr std::chrono::minutes kAliyunTimeWindow{15};
inline constexpr std::chrono::minutes kNonceTtl{31};
inline constexpr std::chrono::seconds kTencentTimeWindow{300};

// Tencent TC3. Verifies Authorization, X-TC-Timestamp, the key, the time window, the scope
// (service "ecm", date of the timestamp), the signature over the headers named in SignedHeaders
// and the exact body, then X-TC-Token. The Host header is tried as received and, when that fails
// and it carries a port, without the port: the official SDKs sign the host name only.
std::optional<ApiError> VerifyTc3(const http::ServerRequest& request, const KeyStore& keys,
                                  SystemTime now);

// Aliyun RPC V1. `params` are the decoded query parameters plus form-body parameters (the
// signed set, cloud-apis.md §1.2), `method` the HTTP method as received.
std::optional<ApiError> VerifyRpc(std::string_view method, const cloud::aliyun::Params& params,
                                  const KeyStore& keys, NonceCache& nonces, SystemTime now,
                                  SteadyTime steady_now);

// Aliyun ACS3-HMAC-SHA256. `query` are the decoded URL query parameters.
std::optional<ApiError> VerifyAcs3(const http::ServerRequest& request,
                                   const cloud::aliyun::Params& query, const KeyStore& keys,
                                   NonceCache& nonces, SystemTime now, SteadyTime steady_now);

// "host:port" -> "host" (IPv6 "[::1]:80" -> "[::1]"); unchanged without a port.
std::string StripPort(std::string_view host);

}  // namespace rebootd::sim
