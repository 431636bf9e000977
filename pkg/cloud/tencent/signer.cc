// SPDX-License-Identifier: Apache-2.0
#include "pkg/cloud/tencent/signer.h"

#include <chrono>
#include <cstdio>

#include "pkg/crypto/crypto.h"

namespace rebootd::cloud::tencent {
namespace {

std::string LowerTrim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

std::string Tc3Date(int64_t timestamp) {
  // The scope date is the UTC calendar date; local time would be wrong near midnight.
  const std::chrono::sys_seconds t{std::chrono::seconds(timestamp)};
  const std::chrono::year_month_day ymd{std::chrono::floor<std::chrono::days>(t)};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

std::string Tc3CredentialScope(int64_t timestamp, std::string_view service) {
  std::string out = Tc3Date(timestamp);
  out += "/";
  out += service;
  out += "/tc3_request";
  return out;
}

std::string Tc3CanonicalRequest(std::string_view method, std::string_view canonical_uri,
                                std::string_view canonical_query,
                                const std::map<std::string, std::string>& signed_headers,
                                std::string_view payload) {
  // Re-normalise the names too, then sort through the map.
  std::map<std::string, std::string> headers;
  for (const auto& [name, value] : signed_headers) headers[LowerTrim(name)] = LowerTrim(value);

  std::string out(method);
  out += "\n";
  out += canonical_uri;
  out += "\n";
  out += canonical_query;
  out += "\n";
  std::string names;
  for (const auto& [name, value] : headers) {
    out += name;
    out += ":";
    out += value;
    out += "\n";
    if (!names.empty()) names.push_back(';');
    names += name;
  }
  out += "\n";
  out += names;
  out += "\n";
  out += crypto::Sha256Hex(payload);
  return out;
}

std::string Tc3StringToSign(int64_t timestamp, std::string_view service,
                            std::string_view canonical_request) {
  std::string out = "TC3-HMAC-SHA256\n";
  out += std::to_string(timestamp);
  out += "\n";
  out += Tc3CredentialScope(timestamp, service);
  out += "\n";
  out += crypto::Sha256Hex(canonical_request);
  return out;
}

std::string Tc3SigningKey(std::string_view secret_key, std::string_view date,
                          std::string_view service) {
  std::string key = "TC3";
  key += secret_key;
  const std::string secret_date = crypto::HmacSha256(key, date);
  const std::string secret_service = crypto::HmacSha256(secret_date, service);
  return crypto::HmacSha256(secret_service, "tc3_request");
}

std::string Tc3Signature(std::string_view signing_key, std::string_view string_to_sign) {
  return crypto::HexEncode(crypto::HmacSha256(signing_key, string_to_sign));
}

Tc3Signed SignTc3(const Tc3Input& input, const Credentials& credentials) {
  std::map<std::string, std::string> headers;
  for (const auto& [name, value] : input.extra_signed_headers) headers[LowerTrim(name)] = value;
  headers["content-type"] = input.content_type;
  headers["host"] = input.host;

  Tc3Signed out;
  for (const auto& [name, value] : headers) {
    if (!out.signed_headers.empty()) out.signed_headers.push_back(';');
    out.signed_headers += name;
  }
  out.canonical_request = Tc3CanonicalRequest(input.method, input.canonical_uri,
                                              input.canonical_query, headers, input.payload);
  out.string_to_sign = Tc3StringToSign(input.timestamp, input.service, out.canonical_request);
  const std::string signing_key =
      Tc3SigningKey(credentials.secret, Tc3Date(input.timestamp), input.service);
  out.signature = Tc3Signature(signing_key, out.string_to_sign);
  out.authorization = "TC3-HMAC-SHA256 Credential=" + credentials.key_id + "/" +
                      Tc3CredentialScope(input.timestamp, input.service) +
                      ", SignedHeaders=" + out.signed_headers + ", Signature=" + out.signature;
  return out;
}

}  // namespace rebootd::cloud::tencent
