// SPDX-License-Identifier: Apache-2.0
#include "pkg/kube/secrets.h"

#include "pkg/crypto/crypto.h"

namespace rebootd::kube {
namespace {

// The value of `key` in .data (base64) or, as a courtesy for hand-made objects, .stringData.
Result<std::optional<std::string>> Value(const json::Value& secret, const std::string& key,
                                         const std::string& what) {
  if (const json::Value* data = secret.Find("data"); data && data->is_object()) {
    if (const json::Value* v = data->Find(key); v && !v->is_null()) {
      if (!v->is_string()) {
        return MakeError(ErrorCode::kInvalidArgument,
                         what + ": key \"" + key + "\" is not a base64 string");
      }
      auto decoded = crypto::Base64Decode(v->AsString());
      if (!decoded) {
        return MakeError(ErrorCode::kInvalidArgument,
                         what + ": key \"" + key + "\" is not valid base64");
      }
      return std::optional<std::string>(std::move(*decoded));
    }
  }
  if (const json::Value* sd = secret.Find("stringData"); sd && sd->is_object()) {
    if (const json::Value* v = sd->Find(key); v && v->is_string()) {
      return std::optional<std::string>(v->AsString());
    }
  }
  return std::optional<std::string>();
}

bool HasEdgeSpace(const std::string& s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  return !s.empty() && (space(s.front()) || space(s.back()));
}

}  // namespace

Result<cloud::Credentials> CredentialsFromSecret(cloud::Provider provider,
                                                 const json::Value& secret,
                                                 const std::string& what) {
  const bool tencent = provider == cloud::Provider::kTencent;
  const std::string id_key = tencent ? "secretId" : "accessKeyId";
  const std::string secret_key = tencent ? "secretKey" : "accessKeySecret";
  const std::string token_key = tencent ? "token" : "securityToken";
  cloud::Credentials c;
  for (const auto& [key, out, required] :
       {std::tuple{id_key, &c.key_id, true}, std::tuple{secret_key, &c.secret, true},
        std::tuple{token_key, &c.token, false}}) {
    REBOOTD_ASSIGN_OR_RETURN(auto v, Value(secret, key, what));
    if (!v || v->empty()) {
      if (!required) continue;
      return MakeError(ErrorCode::kInvalidArgument,
                       what + ": required key \"" + key + "\" is missing or empty (" +
                           std::string(cloud::ProviderName(provider)) + " needs " + id_key +
                           " and " + secret_key + ")");
    }
    if (HasEdgeSpace(*v)) {
      return MakeError(ErrorCode::kInvalidArgument,
                       what + ": key \"" + key +
                           "\" has leading or trailing whitespace (e.g. a newline from echo)");
    }
    *out = std::move(*v);
  }
  return c;
}

Result<cloud::Credentials> SecretCredentials::Read(cloud::Provider provider, const std::string& ns,
                                                   const std::string& name) {
  const std::string what = "Secret " + ns + "/" + name;
  auto secret = client_.Get(Secrets(), ns, name);
  if (!secret) {
    Error e = secret.error();
    if (e.code == ErrorCode::kNotFound) {
      return MakeError(ErrorCode::kNotFound, what + " (spec.credentialsSecretRef) not found");
    }
    e.message = what + ": " + e.message;
    return MakeError(std::move(e));
  }
  return CredentialsFromSecret(provider, *secret, what);
}

}  // namespace rebootd::kube
