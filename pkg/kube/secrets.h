// SPDX-License-Identifier: Apache-2.0
// Cloud credentials from a Secret named by spec.credentialsSecretRef, in the request's namespace
// (DESIGN.md §6): keys secretId/secretKey/token (tencent) or accessKeyId/accessKeySecret/
// securityToken (aliyun) in .data (base64). The token keys are optional. Errors name the Secret
// and the key, never a value. Thread-safe (stateless apart from the client).
#pragma once

#include <string>

#include "pkg/cloud/credentials.h"
#include "pkg/kube/client.h"

namespace rebootd::kube {

class SecretCredentials {
 public:
  // `client` must outlive this object.
  explicit SecretCredentials(Client& client) : client_(client) {}

  // Errors: kNotFound (the Secret does not exist), kInvalidArgument (a required key is missing
  // or empty, not base64, or has surrounding whitespace), kPermissionDenied (RBAC), kUnavailable
  // (retry). Messages start with "Secret NS/NAME".
  [[nodiscard]] Result<cloud::Credentials> Read(cloud::Provider provider, const std::string& ns,
                                                const std::string& name);

 private:
  Client& client_;
};

// The pure part: credentials from a Secret object (JSON).
Result<cloud::Credentials> CredentialsFromSecret(cloud::Provider provider,
                                                 const json::Value& secret,
                                                 const std::string& what);

}  // namespace rebootd::kube
