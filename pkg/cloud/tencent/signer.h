// SPDX-License-Identifier: Apache-2.0
// Tencent Cloud API 3.0 request signing, TC3-HMAC-SHA256 (cloud-apis.md §2.3).
// Pure functions; no I/O; thread-safe. The pieces are exported for the simulator's verifier.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "pkg/cloud/credentials.h"

namespace rebootd::cloud::tencent {

// UTC date "YYYY-MM-DD" of a Unix timestamp (the credential scope date).
std::string Tc3Date(int64_t timestamp);
// "DATE/service/tc3_request".
std::string Tc3CredentialScope(int64_t timestamp, std::string_view service);
// METHOD\nURI\nQUERY\nname:value\n...\n\nSIGNED\nhex(SHA-256(payload)); header names and values
// are lowercased and trimmed; `signed_headers` keys are lowercase.
std::string Tc3CanonicalRequest(std::string_view method, std::string_view canonical_uri,
                                std::string_view canonical_query,
                                const std::map<std::string, std::string>& signed_headers,
                                std::string_view payload);
// "TC3-HMAC-SHA256\nTS\nSCOPE\nhex(SHA-256(canonical_request))".
std::string Tc3StringToSign(int64_t timestamp, std::string_view service,
                            std::string_view canonical_request);
// SecretSigning = HMAC(HMAC(HMAC("TC3"+key, date), service), "tc3_request"), raw bytes.
std::string Tc3SigningKey(std::string_view secret_key, std::string_view date,
                          std::string_view service);
// Lowercase hex HMAC-SHA256(signing_key, string_to_sign).
std::string Tc3Signature(std::string_view signing_key, std::string_view string_to_sign);

struct Tc3Input {
  std::string method = "POST";
  std::string host;     // Host header value; the official SDKs sign it without the port
  std::string service;  // "ecm" (credential scope), whatever the endpoint host is
  std::string canonical_uri = "/";
  std::string canonical_query;  // "" for POST
  std::string content_type = "application/json";
  std::string payload;
  int64_t timestamp = 0;
  // Extra headers to sign besides content-type and host (e.g. x-tc-action); lowercase names.
  std::map<std::string, std::string> extra_signed_headers;
};
struct Tc3Signed {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;
  std::string signed_headers;  // "content-type;host"
  std::string authorization;   // "TC3-HMAC-SHA256 Credential=ID/SCOPE, SignedHeaders=..., Signature=..."
};
Tc3Signed SignTc3(const Tc3Input& input, const Credentials& credentials);

}  // namespace rebootd::cloud::tencent
