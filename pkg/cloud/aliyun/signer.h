// SPDX-License-Identifier: Apache-2.0
// Aliyun request signing: RPC signature V1 (HMAC-SHA1) and ACS3-HMAC-SHA256 (V3).
// Pure functions (request + credentials + time + nonce -> signed request); no I/O, thread-safe.
// The lower-level pieces are exported so that the simulator can verify with the same rules.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "pkg/base/clock.h"
#include "pkg/cloud/credentials.h"
#include "pkg/http/url.h"

namespace rebootd::cloud::aliyun {

// Parameters sorted by name in byte order (std::map<std::string> compares bytes).
using Params = std::map<std::string, std::string>;

// ---- RPC signature V1 (cloud-apis.md §1.4) ----

// Canonicalized query: enc(name)=enc(value) joined by '&', sorted, "Signature" excluded.
std::string RpcCanonicalQuery(const Params& params);
// METHOD&%2F&enc(canonical query).
std::string RpcStringToSign(std::string_view method, const Params& params);
// Base64(HMAC-SHA1(secret + "&", string_to_sign)).
std::string RpcSignature(std::string_view secret, std::string_view string_to_sign);

struct RpcSigned {
  Params params;               // everything sent, including the common params and Signature
  std::string string_to_sign;  // for diagnostics in tests; never log it in production
  std::string signature;
  std::string query;           // the URL query to send: canonical query + "&Signature=..."
};
// Adds AccessKeyId, SignatureMethod=HMAC-SHA1, SignatureVersion=1.0, SignatureNonce=nonce,
// Timestamp (ISO 8601 UTC seconds) and SecurityToken (when credentials.token is set) to
// `params` (which holds Action, Version, Format, RegionId and the business parameters), then
// signs with `method` ("GET" or "POST").
RpcSigned SignRpc(std::string_view method, Params params, const Credentials& credentials,
                  SystemTime now, std::string_view nonce);

// ---- ACS3-HMAC-SHA256 (cloud-apis.md §1.5) ----

// Canonical query for ACS3: same encoding and ordering as V1 (valueless -> "name=").
std::string Acs3CanonicalQuery(const Params& query);
// METHOD\nURI\nQUERY\nname:value\n...\n\nSIGNED_HEADERS\nPAYLOAD_HASH; `signed_headers` maps
// lowercase names to values (values are trimmed here).
std::string Acs3CanonicalRequest(std::string_view method, std::string_view canonical_uri,
                                 const Params& query,
                                 const std::map<std::string, std::string>& signed_headers,
                                 std::string_view payload_hash_hex);
// "ACS3-HMAC-SHA256\n" + hex(SHA-256(canonical_request)).
std::string Acs3StringToSign(std::string_view canonical_request);
// Lowercase hex HMAC-SHA256(secret, string_to_sign).
std::string Acs3Signature(std::string_view secret, std::string_view string_to_sign);

struct Acs3Input {
  std::string method = "POST";
  std::string host;              // the Host header value (with port if not default)
  std::string canonical_uri = "/";
  std::string action;            // x-acs-action
  std::string version = "2014-05-26";
  Params query;                  // business parameters, sent in the URL query
  std::string body;              // usually empty for RPC-style calls
  // Extra headers to send and sign (e.g. content-type); lowercase names.
  std::map<std::string, std::string> extra_headers;
};
struct Acs3Signed {
  // Every header to send (lowercase names), including host, x-acs-*, and authorization.
  std::map<std::string, std::string> headers;
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;
  std::string query;  // URL query to send (canonical form)
};
// Sets x-acs-action, x-acs-version, x-acs-date, x-acs-signature-nonce, x-acs-content-sha256,
// x-acs-security-token (STS), signs host + content-type + every x-acs-* header, and builds
// "ACS3-HMAC-SHA256 Credential=ID,SignedHeaders=a;b,Signature=hex".
Acs3Signed SignAcs3(const Acs3Input& input, const Credentials& credentials, SystemTime now,
                    std::string_view nonce);

// ISO 8601 UTC seconds, "2016-02-23T12:46:24Z".
std::string FormatTimestamp(SystemTime t);

}  // namespace rebootd::cloud::aliyun
