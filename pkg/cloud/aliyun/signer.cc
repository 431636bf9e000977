// SPDX-License-Identifier: Apache-2.0
#include "pkg/cloud/aliyun/signer.h"

#include <chrono>
#include <cstdio>

#include "pkg/crypto/crypto.h"

namespace rebootd::cloud::aliyun {
namespace {

// Trims spaces and tabs at both ends (canonical header values).
std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsSignedHeader(const std::string& name) {
  return name == "host" || name == "content-type" || name.rfind("x-acs-", 0) == 0;
}

}  // namespace

std::string RpcCanonicalQuery(const Params& params) {
  std::string out;
  for (const auto& [name, value] : params) {
    if (name == "Signature") continue;
    if (!out.empty()) out.push_back('&');
    out += http::PercentEncode(name);
    out.push_back('=');
    out += http::PercentEncode(value);
  }
  return out;
}

std::string RpcStringToSign(std::string_view method, const Params& params) {
  std::string out(method);
  out += "&";
  out += http::PercentEncode("/");
  out += "&";
  out += http::PercentEncode(RpcCanonicalQuery(params));
  return out;
}

std::string RpcSignature(std::string_view secret, std::string_view string_to_sign) {
  std::string key(secret);
  key.push_back('&');
  return crypto::Base64Encode(crypto::HmacSha1(key, string_to_sign));
}

RpcSigned SignRpc(std::string_view method, Params params, const Credentials& credentials,
                  SystemTime now, std::string_view nonce) {
  params.erase("Signature");
  params["AccessKeyId"] = credentials.key_id;
  params["SignatureMethod"] = "HMAC-SHA1";
  params["SignatureVersion"] = "1.0";
  params["SignatureNonce"] = std::string(nonce);
  params["Timestamp"] = FormatTimestamp(now);
  if (!credentials.token.empty()) {
    params["SecurityToken"] = credentials.token;
  } else {
    params.erase("SecurityToken");
  }

  RpcSigned out;
  out.string_to_sign = RpcStringToSign(method, params);
  out.signature = RpcSignature(credentials.secret, out.string_to_sign);
  out.query = RpcCanonicalQuery(params) + "&Signature=" + http::PercentEncode(out.signature);
  params["Signature"] = out.signature;
  out.params = std::move(params);
  return out;
}

std::string Acs3CanonicalQuery(const Params& query) {
  std::string out;
  for (const auto& [name, value] : query) {
    if (!out.empty()) out.push_back('&');
    out += http::PercentEncode(name);
    out.push_back('=');
    out += http::PercentEncode(value);
  }
  return out;
}

std::string Acs3CanonicalRequest(std::string_view method, std::string_view canonical_uri,
                                 const Params& query,
                                 const std::map<std::string, std::string>& signed_headers,
                                 std::string_view payload_hash_hex) {
  std::string out(method);
  out += "\n";
  out += canonical_uri;
  out += "\n";
  out += Acs3CanonicalQuery(query);
  out += "\n";
  std::string names;
  for (const auto& [name, value] : signed_headers) {
    out += name;
    out += ":";
    out += Trim(value);
    out += "\n";
    if (!names.empty()) names.push_back(';');
    names += name;
  }
  out += "\n";
  out += names;
  out += "\n";
  out += payload_hash_hex;
  return out;
}

std::string Acs3StringToSign(std::string_view canonical_request) {
  return "ACS3-HMAC-SHA256\n" + crypto::Sha256Hex(canonical_request);
}

std::string Acs3Signature(std::string_view secret, std::string_view string_to_sign) {
  return crypto::HexEncode(crypto::HmacSha256(secret, string_to_sign));
}

Acs3Signed SignAcs3(const Acs3Input& input, const Credentials& credentials, SystemTime now,
                    std::string_view nonce) {
  Acs3Signed out;
  // Extra headers first, so that the protocol headers below always win over a caller's copy.
  for (const auto& [name, value] : input.extra_headers) {
    std::string lower = name;
    for (char& c : lower) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    if (lower != "authorization") out.headers[lower] = value;
  }
  const std::string payload_hash = crypto::Sha256Hex(input.body);
  out.headers["host"] = input.host;
  out.headers["x-acs-action"] = input.action;
  out.headers["x-acs-version"] = input.version;
  out.headers["x-acs-date"] = FormatTimestamp(now);
  out.headers["x-acs-signature-nonce"] = std::string(nonce);
  out.headers["x-acs-content-sha256"] = payload_hash;
  if (!credentials.token.empty()) {
    out.headers["x-acs-security-token"] = credentials.token;
  } else {
    out.headers.erase("x-acs-security-token");
  }

  std::map<std::string, std::string> signed_headers;
  std::string signed_names;
  for (const auto& [name, value] : out.headers) {
    if (!IsSignedHeader(name)) continue;
    signed_headers.emplace(name, value);
    if (!signed_names.empty()) signed_names.push_back(';');
    signed_names += name;
  }

  out.canonical_request = Acs3CanonicalRequest(input.method, input.canonical_uri, input.query,
                                               signed_headers, payload_hash);
  out.string_to_sign = Acs3StringToSign(out.canonical_request);
  out.signature = Acs3Signature(credentials.secret, out.string_to_sign);
  out.query = Acs3CanonicalQuery(input.query);
  out.headers["authorization"] = "ACS3-HMAC-SHA256 Credential=" + credentials.key_id +
                                 ",SignedHeaders=" + signed_names + ",Signature=" + out.signature;
  return out;
}

std::string FormatTimestamp(SystemTime t) {
  using std::chrono::days;
  using std::chrono::floor;
  using std::chrono::seconds;
  const auto secs = floor<seconds>(t);
  const auto day = floor<days>(secs);
  const std::chrono::year_month_day ymd{day};
  const std::chrono::hh_mm_ss<seconds> hms{secs - day};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

}  // namespace rebootd::cloud::aliyun
