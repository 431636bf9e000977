// SPDX-License-Identifier: Apache-2.0
#include "pkg/sim/auth.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>

#include "pkg/cloud/tencent/signer.h"
#include "pkg/crypto/crypto.h"

namespace rebootd::sim {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    out.push_back(s.substr(start, pos == std::string_view::npos ? pos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

// Parses "Key=Value, Key=Value" (any spacing after the commas) into a map; false on a part
// without '=' or a repeated key.
bool ParseAuthParams(std::string_view text, std::map<std::string, std::string>* out) {
  for (std::string_view part : Split(text, ',')) {
    part = Trim(part);
    auto eq = part.find('=');
    if (eq == std::string_view::npos || eq == 0) return false;
    if (!out->emplace(std::string(part.substr(0, eq)), std::string(part.substr(eq + 1))).second) {
      return false;
    }
  }
  return true;
}

bool ParseSignedHeaders(std::string_view text, std::vector<std::string>* out) {
  if (text.empty()) return false;
  for (std::string_view name : Split(text, ';')) {
    if (name.empty()) return false;
    out->push_back(Lower(name));
  }
  return true;
}

ApiError TencentAuthError(std::string code, std::string message) {
  return ApiError{200, std::move(code), std::move(message), true};
}

ApiError AliyunError(int status, std::string code, std::string message, bool auth = true) {
  return ApiError{status, std::move(code), std::move(message), auth};
}

ApiError AliyunMissing(std::string_view name) {
  return AliyunError(400, "MissingParameter",
                     "The input parameter \"" + std::string(name) +
                         "\" that is mandatory for processing this request is not supplied.",
                     false);
}

// Strict "YYYY-MM-DDThh:mm:ssZ".
bool ParseAliyunTimestamp(std::string_view text, SystemTime* out) {
  if (text.size() != 20) return false;
  static constexpr std::string_view kPattern = "dddd-dd-ddTdd:dd:ddZ";
  for (size_t i = 0; i < kPattern.size(); ++i) {
    if (kPattern[i] == 'd') {
      if (!std::isdigit(static_cast<unsigned char>(text[i]))) return false;
    } else if (text[i] != kPattern[i]) {
      return false;
    }
  }
  return ParseRfc3339(text, out);
}

bool OutsideWindow(SystemTime request_time, SystemTime now, Duration window) {
  Duration skew = request_time > now ? request_time - now : now - request_time;
  return skew > window;
}

std::optional<ApiError> CheckAliyunToken(const cloud::Credentials& key, const std::string* sent) {
  bool has_sent = sent != nullptr && !sent->empty();
  if (!key.token.empty()) {
    if (!has_sent) {
      return AliyunError(400, "MissingSecurityToken",
                         "SecurityToken is mandatory for this AccessKeyId.");
    }
    if (!crypto::ConstantTimeEquals(*sent, key.token)) {
      return AliyunError(400, "InvalidSecurityToken.MismatchWithAccessKey",
                         "The SecurityToken does not match the AccessKeyId.");
    }
  } else if (has_sent) {
    return AliyunError(400, "InvalidSecurityToken.MismatchWithAccessKey",
                       "A SecurityToken was sent for an AccessKeyId that does not use one.");
  }
  return std::nullopt;
}

ApiError SignatureMismatch(const std::string& string_to_sign) {
  return AliyunError(400, "SignatureDoesNotMatch",
                     "Specified signature is not matched with our calculation. server string to "
                     "sign is:" +
                         string_to_sign);
}

}  // namespace

std::string StripPort(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    auto close = host.find(']');
    if (close != std::string_view::npos) return std::string(host.substr(0, close + 1));
    return std::string(host);
  }
  auto colon = host.rfind(':');
  if (colon == std::string_view::npos || host.find(':') != colon) return std::string(host);
  return std::string(host.substr(0, colon));
}

void KeyStore::Add(cloud::Credentials credentials) {
  if (Find(credentials.key_id) != nullptr) return;
  keys_.push_back(std::move(credentials));
}

const cloud::Credentials* KeyStore::Find(std::string_view key_id) const {
  for (const auto& key : keys_) {
    if (key.key_id == key_id) return &key;
  }
  return nullptr;
}

bool NonceCache::Use(const std::string& key_id, const std::string& nonce, SteadyTime now) {
  while (!order_.empty() && (order_.front().first + ttl_ <= now || order_.size() >= max_entries_)) {
    auto it = seen_.find(order_.front().second);
    if (it != seen_.end() && it->second == order_.front().first) seen_.erase(it);
    order_.pop_front();
  }
  std::string key = key_id + '\n' + nonce;
  auto [it, inserted] = seen_.emplace(key, now);
  if (!inserted) {
    if (it->second + ttl_ > now) return false;
    it->second = now;  // expired entry still present: reuse the slot
  }
  order_.emplace_back(now, std::move(key));
  return true;
}

void NonceCache::Clear() {
  seen_.clear();
  order_.clear();
}

// ---- Tencent TC3 ----

std::optional<ApiError> VerifyTc3(const http::ServerRequest& request, const KeyStore& keys,
                                  SystemTime now) {
  static constexpr std::string_view kAlgorithm = "TC3-HMAC-SHA256";
  const std::string* authorization = request.headers.Get("Authorization");
  if (authorization == nullptr || authorization->empty()) {
    return TencentAuthError("AuthFailure.InvalidAuthorization",
                            "The Authorization header is missing.");
  }
  std::string_view auth = Trim(*authorization);
  auto malformed = [] {
    return TencentAuthError(
        "AuthFailure.InvalidAuthorization",
        "Authorization is not of the form `TC3-HMAC-SHA256 Credential=SecretId/Date/Service/"
        "tc3_request, SignedHeaders=..., Signature=...`.");
  };
  if (auth.substr(0, kAlgorithm.size()) != kAlgorithm || auth.size() == kAlgorithm.size() ||
      auth[kAlgorithm.size()] != ' ') {
    return malformed();
  }
  std::map<std::string, std::string> parts;
  if (!ParseAuthParams(auth.substr(kAlgorithm.size() + 1), &parts) || parts.size() != 3 ||
      !parts.count("Credential") || !parts.count("SignedHeaders") || !parts.count("Signature")) {
    return malformed();
  }
  std::vector<std::string_view> credential = Split(parts["Credential"], '/');
  if (credential.size() != 4 || credential[0].empty() || credential[3] != "tc3_request") {
    return malformed();
  }
  std::vector<std::string> signed_names;
  if (!ParseSignedHeaders(parts["SignedHeaders"], &signed_names)) return malformed();
  if (std::find(signed_names.begin(), signed_names.end(), "content-type") == signed_names.end() ||
      std::find(signed_names.begin(), signed_names.end(), "host") == signed_names.end()) {
    return TencentAuthError("AuthFailure.InvalidAuthorization",
                            "SignedHeaders must include content-type and host.");
  }
  std::map<std::string, std::string> signed_headers;
  for (const auto& name : signed_names) {
    const std::string* value = request.headers.Get(name);
    if (value == nullptr) {
      return TencentAuthError("AuthFailure.InvalidAuthorization",
                              "SignedHeaders names `" + name + "`, which the request lacks.");
    }
    signed_headers[name] = *value;
  }
  const std::string& signature = parts["Signature"];
  if (signature.empty()) return malformed();

  const std::string* timestamp_text = request.headers.Get("X-TC-Timestamp");
  if (timestamp_text == nullptr || timestamp_text->empty()) {
    return ApiError{200, "MissingParameter",
                    "The request is missing a required parameter `X-TC-Timestamp`.", true};
  }
  int64_t timestamp = 0;
  {
    const char* begin = timestamp_text->data();
    const char* end = begin + timestamp_text->size();
    auto [ptr, ec] = std::from_chars(begin, end, timestamp);
    if (ec != std::errc() || ptr != end || timestamp < 0) {
      return ApiError{200, "InvalidParameter",
                      "The value of `X-TC-Timestamp` must be a Unix time in seconds.", true};
    }
  }
  const std::string key_id(credential[0]);
  const cloud::Credentials* key = keys.Find(key_id);
  if (key == nullptr) {
    return TencentAuthError("AuthFailure.SecretIdNotFound",
                            "The SecretId is not found, please ensure that your SecretId is "
                            "correct.");
  }
  int64_t now_seconds =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  int64_t skew = timestamp > now_seconds ? timestamp - now_seconds : now_seconds - timestamp;
  if (skew > kTencentTimeWindow.count()) {
    return TencentAuthError("AuthFailure.SignatureExpire",
                            "Signature expired. Timestamp is " + std::to_string(timestamp) +
                                ", server current time is " + std::to_string(now_seconds) +
                                " (allowed skew 300 s).");
  }
  const std::string date(credential[1]);
  const std::string service(credential[2]);
  if (service != "ecm") {
    return TencentAuthError(
        "AuthFailure.SignatureFailure",
        "The credential scope names service `" + service + "`; this endpoint serves `ecm`.");
  }
  if (date != cloud::tencent::Tc3Date(timestamp)) {
    return TencentAuthError(
        "AuthFailure.SignatureFailure",
        "The credential scope date `" + date + "` is not the UTC date of X-TC-Timestamp.");
  }
  const std::string canonical_query = request.method == "GET" ? request.query : "";
  const std::string signing_key = cloud::tencent::Tc3SigningKey(key->secret, date, service);
  auto matches = [&](const std::map<std::string, std::string>& headers) {
    std::string canonical = cloud::tencent::Tc3CanonicalRequest(
        request.method, "/", canonical_query, headers, request.body);
    std::string to_sign = cloud::tencent::Tc3StringToSign(timestamp, service, canonical);
    return crypto::ConstantTimeEquals(cloud::tencent::Tc3Signature(signing_key, to_sign),
                                      Lower(signature));
  };
  bool ok = matches(signed_headers);
  if (!ok) {
    // The official SDKs sign the host name without the port while the HTTP client sends
    // "host:port"; accept that form too.
    auto host = signed_headers.find("host");
    std::string stripped = StripPort(host->second);
    if (stripped != host->second) {
      host->second = stripped;
      ok = matches(signed_headers);
    }
  }
  if (!ok) {
    return TencentAuthError("AuthFailure.SignatureFailure",
                            "The provided credentials could not be validated. Please check your "
                            "signature is correct.");
  }
  const std::string* token = request.headers.Get("X-TC-Token");
  bool token_sent = token != nullptr && !token->empty();
  if (!key->token.empty()) {
    if (!token_sent || !crypto::ConstantTimeEquals(*token, key->token)) {
      return TencentAuthError("AuthFailure.TokenFailure",
                              token_sent ? "The X-TC-Token does not match the SecretId."
                                         : "The SecretId is temporary; X-TC-Token is required.");
    }
  } else if (token_sent) {
    return TencentAuthError("AuthFailure.TokenFailure",
                            "An X-TC-Token was sent for a SecretId that does not use one.");
  }
  return std::nullopt;
}

// ---- Aliyun RPC V1 ----

std::optional<ApiError> VerifyRpc(std::string_view method, const cloud::aliyun::Params& params,
                                  const KeyStore& keys, NonceCache& nonces, SystemTime now,
                                  SteadyTime steady_now) {
  for (const char* name : {"Action", "Version", "AccessKeyId", "Signature", "SignatureMethod",
                           "SignatureVersion", "SignatureNonce", "Timestamp"}) {
    auto it = params.find(name);
    if (it == params.end() || it->second.empty()) {
      ApiError error = AliyunMissing(name);
      error.auth_failure =
          std::string_view(name) != "Action" && std::string_view(name) != "Version";
      return error;
    }
  }
  if (params.at("SignatureMethod") != "HMAC-SHA1") {
    return AliyunError(400, "IncompleteSignature",
                       "The request signature does not conform to Aliyun standards. "
                       "SignatureMethod must be HMAC-SHA1.");
  }
  if (params.at("SignatureVersion") != "1.0") {
    return AliyunError(400, "IncompleteSignature",
                       "The request signature does not conform to Aliyun standards. "
                       "SignatureVersion must be 1.0.");
  }
  SystemTime timestamp;
  if (!ParseAliyunTimestamp(params.at("Timestamp"), &timestamp)) {
    return AliyunError(400, "InvalidTimeStamp.Format",
                       "Specified time stamp or date value is not well formatted.");
  }
  const cloud::Credentials* key = keys.Find(params.at("AccessKeyId"));
  if (key == nullptr) {
    return AliyunError(400, "InvalidAccessKeyId.NotFound", "Specified access key is not found.");
  }
  if (OutsideWindow(timestamp, now, kAliyunTimeWindow)) {
    return AliyunError(400, "InvalidTimeStamp.Expired",
                       "Specified time stamp or date value is expired.");
  }
  cloud::aliyun::Params signed_params = params;
  signed_params.erase("Signature");
  std::string string_to_sign = cloud::aliyun::RpcStringToSign(method, signed_params);
  std::string expected = cloud::aliyun::RpcSignature(key->secret, string_to_sign);
  if (!crypto::ConstantTimeEquals(expected, params.at("Signature"))) {
    return SignatureMismatch(string_to_sign);
  }
  auto token = params.find("SecurityToken");
  if (auto error = CheckAliyunToken(*key, token == params.end() ? nullptr : &token->second)) {
    return error;
  }
  if (!nonces.Use(key->key_id, params.at("SignatureNonce"), steady_now)) {
    return AliyunError(400, "SignatureNonceUsed", "Specified signature nonce was used already.");
  }
  return std::nullopt;
}

// ---- Aliyun ACS3 ----

std::optional<ApiError> VerifyAcs3(const http::ServerRequest& request,
                                   const cloud::aliyun::Params& query, const KeyStore& keys,
                                   NonceCache& nonces, SystemTime now, SteadyTime steady_now) {
  static constexpr std::string_view kAlgorithm = "ACS3-HMAC-SHA256";
  auto incomplete = [](std::string detail) {
    return AliyunError(400, "IncompleteSignature",
                       "The request signature does not conform to Aliyun standards. " + detail);
  };
  const std::string* authorization = request.headers.Get("Authorization");
  if (authorization == nullptr || authorization->empty()) {
    ApiError error = AliyunMissing("Authorization");
    error.auth_failure = true;
    return error;
  }
  std::string_view auth = Trim(*authorization);
  const std::string form =
      "Authorization must be `ACS3-HMAC-SHA256 Credential=ID,SignedHeaders=a;b,Signature=hex`.";
  if (auth.substr(0, kAlgorithm.size()) != kAlgorithm || auth.size() == kAlgorithm.size() ||
      auth[kAlgorithm.size()] != ' ') {
    return incomplete(form);
  }
  std::map<std::string, std::string> parts;
  if (!ParseAuthParams(auth.substr(kAlgorithm.size() + 1), &parts) || parts.size() != 3 ||
      !parts.count("Credential") || !parts.count("SignedHeaders") || !parts.count("Signature") ||
      parts["Credential"].empty() || parts["Signature"].empty()) {
    return incomplete(form);
  }
  std::vector<std::string> signed_names;
  if (!ParseSignedHeaders(parts["SignedHeaders"], &signed_names)) return incomplete(form);

  for (const char* name : {"host", "x-acs-action", "x-acs-version", "x-acs-date",
                           "x-acs-signature-nonce", "x-acs-content-sha256"}) {
    const std::string* value = request.headers.Get(name);
    if (value == nullptr || value->empty()) {
      ApiError error = AliyunMissing(name);
      error.auth_failure = true;
      return error;
    }
  }
  std::vector<std::string> required = {
      "host",       "x-acs-action",          "x-acs-version",
      "x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256"};
  if (request.headers.Get("x-acs-security-token") != nullptr) {
    required.push_back("x-acs-security-token");
  }
  for (const auto& name : required) {
    if (std::find(signed_names.begin(), signed_names.end(), name) == signed_names.end()) {
      return incomplete("The header " + name + " must be signed.");
    }
  }
  SystemTime date;
  if (!ParseAliyunTimestamp(*request.headers.Get("x-acs-date"), &date)) {
    return AliyunError(400, "InvalidTimeStamp.Format",
                       "Specified time stamp or date value is not well formatted.");
  }
  const cloud::Credentials* key = keys.Find(parts["Credential"]);
  if (key == nullptr) {
    return AliyunError(400, "InvalidAccessKeyId.NotFound", "Specified access key is not found.");
  }
  if (OutsideWindow(date, now, kAliyunTimeWindow)) {
    return AliyunError(400, "InvalidTimeStamp.Expired",
                       "Specified time stamp or date value is expired.");
  }
  const std::string content_sha = Lower(Trim(*request.headers.Get("x-acs-content-sha256")));
  if (content_sha != crypto::Sha256Hex(request.body)) {
    return AliyunError(400, "SignatureDoesNotMatch",
                       "The x-acs-content-sha256 header does not match the request body.");
  }
  std::map<std::string, std::string> signed_headers;
  for (const auto& name : signed_names) {
    const std::string* value = request.headers.Get(name);
    if (value == nullptr) {
      return AliyunError(400, "SignatureDoesNotMatch",
                         "SignedHeaders names " + name + ", which the request lacks.");
    }
    signed_headers[name] = *value;
  }
  const std::string uri = request.path.empty() ? "/" : request.path;
  std::string first_string_to_sign;
  auto matches = [&](const std::map<std::string, std::string>& headers) {
    std::string canonical =
        cloud::aliyun::Acs3CanonicalRequest(request.method, uri, query, headers, content_sha);
    std::string to_sign = cloud::aliyun::Acs3StringToSign(canonical);
    if (first_string_to_sign.empty()) first_string_to_sign = to_sign;
    return crypto::ConstantTimeEquals(cloud::aliyun::Acs3Signature(key->secret, to_sign),
                                      Lower(parts["Signature"]));
  };
  bool ok = matches(signed_headers);
  if (!ok) {
    auto host = signed_headers.find("host");
    std::string stripped = StripPort(host->second);
    if (stripped != host->second) {
      host->second = stripped;
      ok = matches(signed_headers);
    }
  }
  if (!ok) return SignatureMismatch(first_string_to_sign);
  if (auto error = CheckAliyunToken(*key, request.headers.Get("x-acs-security-token"))) {
    return error;
  }
  if (!nonces.Use(key->key_id, *request.headers.Get("x-acs-signature-nonce"), steady_now)) {
    return AliyunError(400, "SignatureNonceUsed", "Specified signature nonce was used already.");
  }
  return std::nullopt;
}

}  // namespace rebootd::sim
