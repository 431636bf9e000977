// SPDX-License-Identifier: Apache-2.0
// Cloud credentials and where they come from. A Credentials value holds secrets: it has no
// printing support on purpose, and nothing may log, export or put it in an error message.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "pkg/base/provider.h"
#include "pkg/base/result.h"

namespace rebootd::cloud {

struct Credentials {
  std::string key_id;  // Aliyun AccessKeyId / Tencent SecretId (not secret, but not logged raw)
  std::string secret;  // Aliyun AccessKeySecret / Tencent SecretKey
  std::string token;   // STS SecurityToken / X-TC-Token; empty for long-term keys
};

// The provider vocabulary lives in pkg/base (pkg/api uses it without depending on pkg/cloud).
using ::rebootd::kAllProviders;
using ::rebootd::ParseProvider;
using ::rebootd::Provider;
using ::rebootd::ProviderName;

// Looks up an environment variable; returns nullopt when unset. Injected for tests.
using Getenv = std::function<std::optional<std::string>(const char*)>;
Getenv ProcessGetenv();

// Reads the provider's variables (DESIGN.md §6):
//   aliyun:  ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET,
//            ALIBABA_CLOUD_SECURITY_TOKEN (optional)
//   tencent: TENCENTCLOUD_SECRET_ID, TENCENTCLOUD_SECRET_KEY, TENCENTCLOUD_TOKEN (optional)
// kUnauthenticated naming the variable when one is unset or blank, or has leading/trailing
// whitespace (the services reject such keys). The message never contains a secret value.
Result<Credentials> CredentialsFromEnv(Provider provider, const Getenv& getenv = ProcessGetenv());

// A short, non-secret description of a key id for logs: first 4 characters and a hash,
// e.g. "AKID…3f9a". Never reveals the secret.
std::string RedactKeyId(std::string_view key_id);

}  // namespace rebootd::cloud
