// SPDX-License-Identifier: Apache-2.0
#include "pkg/cloud/credentials.h"

#include <algorithm>
#include <cstdlib>
#include <string>

#include "pkg/crypto/crypto.h"

namespace rebootd::cloud {
namespace {

struct VariableNames {
  const char* key_id;
  const char* secret;
  const char* token;
};

VariableNames NamesFor(Provider provider) {
  switch (provider) {
    case Provider::kAliyun:
      return {"ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
              "ALIBABA_CLOUD_SECURITY_TOKEN"};
    case Provider::kTencent:
      return {"TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY", "TENCENTCLOUD_TOKEN"};
  }
  return {"", "", ""};
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// Checks one value. The messages name the variable only: never the value, not even its length.
Status CheckValue(const char* name, const std::string& value) {
  bool all_space = true;
  for (char c : value) all_space = all_space && IsSpace(c);
  if (value.empty() || all_space) {
    return MakeError(ErrorCode::kUnauthenticated,
                     std::string("environment variable ") + name + " is empty");
  }
  if (IsSpace(value.front()) || IsSpace(value.back())) {
    // The services reject keys with stray whitespace (Tencent answers
    // AuthFailure.SecretIdNotFound); trimming silently would hide a broken secret.
    return MakeError(ErrorCode::kUnauthenticated, std::string("environment variable ") + name +
                                                      " has leading or trailing whitespace");
  }
  return OkStatus();
}

Result<std::string> Required(const Getenv& getenv, const char* name) {
  std::optional<std::string> value = getenv(name);
  if (!value.has_value()) {
    return MakeError(ErrorCode::kUnauthenticated,
                     std::string("environment variable ") + name + " is not set");
  }
  REBOOTD_RETURN_IF_ERROR(CheckValue(name, *value));
  return *std::move(value);
}

}  // namespace

Getenv ProcessGetenv() {
  return [](const char* name) -> std::optional<std::string> {
    const char* v = std::getenv(name);
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

Result<Credentials> CredentialsFromEnv(Provider provider, const Getenv& getenv) {
  if (!getenv) return MakeError(ErrorCode::kInvalidArgument, "no environment lookup given");
  const VariableNames names = NamesFor(provider);
  Credentials credentials;
  REBOOTD_ASSIGN_OR_RETURN(credentials.key_id, Required(getenv, names.key_id));
  REBOOTD_ASSIGN_OR_RETURN(credentials.secret, Required(getenv, names.secret));
  // The token is optional: unset or empty means long-term keys. Anything else must be clean.
  std::optional<std::string> token = getenv(names.token);
  if (token.has_value() && !token->empty()) {
    REBOOTD_RETURN_IF_ERROR(CheckValue(names.token, *token));
    credentials.token = *std::move(token);
  }
  return credentials;
}

std::string RedactKeyId(std::string_view key_id) {
  if (key_id.empty()) return "<none>";
  // Show at most 4 characters, and never more than half of a short id.
  const size_t shown = std::min<size_t>(4, key_id.size() / 2);
  const std::string digest = crypto::HexEncode(crypto::Sha256(key_id));
  return std::string(key_id.substr(0, shown)) + "\u2026" + digest.substr(0, 4);
}

}  // namespace rebootd::cloud
