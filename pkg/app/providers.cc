// SPDX-License-Identifier: Apache-2.0
#include "pkg/app/providers.h"

#include <utility>

#include "pkg/cloud/aliyun/provider.h"
#include "pkg/cloud/tencent/provider.h"
#include "pkg/crypto/crypto.h"
#include "pkg/log/log.h"

namespace rebootd::app {
namespace {

// Describe threads per provider (each provider polls its instances with this many workers).
constexpr int kDescribeWorkers = 4;

std::string EndpointOf(const ProviderContext& c, Provider p) {
  auto it = c.endpoints.url.find(p);
  return it == c.endpoints.url.end() ? std::string() : it->second;
}

Result<std::unique_ptr<cloud::CloudProvider>> BuildTencent(const ProviderContext& c,
                                                           const api::RebootRequest& r,
                                                           const cloud::Credentials& creds,
                                                           const std::string& scope) {
  cloud::tencent::EcmClientOptions o;
  o.endpoint = EndpointOf(c, Provider::kTencent);
  o.region = r.spec.region;
  o.observer = c.metrics.Observer();
  REBOOTD_ASSIGN_OR_RETURN(auto client, cloud::tencent::EcmClient::Create(
                                            o, creds, c.transport, c.clock, c.random, &c.limiter));
  return std::make_unique<cloud::tencent::TencentProvider>(
      std::move(client), cloud::tencent::TencentProviderOptions{kDescribeWorkers, scope});
}

Result<std::unique_ptr<cloud::CloudProvider>> BuildAliyun(const ProviderContext& c,
                                                          const api::RebootRequest& r,
                                                          const cloud::Credentials& creds,
                                                          const std::string& scope) {
  cloud::aliyun::EcsClientOptions o;
  o.region = r.spec.region;
  o.endpoint = EndpointOf(c, Provider::kAliyun);
  o.signature = c.config.aliyun_signature == "acs3" ? cloud::aliyun::SignatureMethod::kAcs3
                                                    : cloud::aliyun::SignatureMethod::kRpcV1;
  o.observer = c.metrics.Observer();
  o.limiter_scope = r.spec.region;
  REBOOTD_ASSIGN_OR_RETURN(auto client, cloud::aliyun::EcsClient::Create(
                                            o, creds, c.transport, c.clock, c.random, &c.limiter));
  return std::make_unique<cloud::aliyun::AliyunProvider>(
      std::move(client), cloud::aliyun::AliyunProviderOptions{kDescribeWorkers, scope});
}

}  // namespace

const ProviderBuilder& BuilderFor(Provider provider) {
  static const ProviderBuilder tencent = BuildTencent;
  static const ProviderBuilder aliyun = BuildAliyun;
  switch (provider) {
    case Provider::kTencent:
      return tencent;
    case Provider::kAliyun:
      return aliyun;
  }
  return tencent;  // unreachable: every enumerator is handled (-Wswitch)
}

DaemonProviderFactory::DaemonProviderFactory(ProviderContext context, SecretResolver secrets)
    : context_(context), secrets_(std::move(secrets)) {}

Result<cloud::CloudProvider*> DaemonProviderFactory::ProviderFor(const api::RebootRequest& r) {
  std::optional<cloud::Credentials> secret_creds;
  std::string identity = "env";
  if (r.spec.credentials_secret_ref) {
    if (!secrets_) {
      return MakeError(ErrorCode::kFailedPrecondition,
                       "spec.credentialsSecretRef is only supported with --source kubernetes; "
                       "file mode uses the controller's environment credentials");
    }
    REBOOTD_ASSIGN_OR_RETURN(secret_creds, secrets_(r));
    identity = "secret:" + crypto::Sha256Hex(secret_creds->key_id + '\0' + secret_creds->secret +
                                             '\0' + secret_creds->token)
                               .substr(0, 16);
  }
  std::string scope = std::string(ProviderName(r.spec.provider)) + "/" +
                      (r.spec.region.empty() ? "default" : r.spec.region);
  std::string cache_key = scope + "|" + identity;
  std::lock_guard lock(mu_);
  auto it = providers_.find(cache_key);
  if (it != providers_.end()) {
    ++it->second.users;
    return it->second.provider.get();
  }
  cloud::Credentials creds;
  std::string from = "environment";
  if (secret_creds) {
    creds = *secret_creds;
    from = "secret " + r.spec.credentials_secret_ref->name;
  } else if (auto fixed = context_.endpoints.credentials.find(r.spec.provider);
             fixed != context_.endpoints.credentials.end()) {
    creds = fixed->second;
    from = "simulator-demo-keys";
  } else {
    REBOOTD_ASSIGN_OR_RETURN(creds, cloud::CredentialsFromEnv(r.spec.provider));
  }
  REBOOTD_ASSIGN_OR_RETURN(auto p, BuilderFor(r.spec.provider)(context_, r, creds, scope));
  cloud::CloudProvider* raw = p.get();
  providers_.emplace(cache_key, Entry{std::move(p), 1});
  log::Get("cloud")->info("provider ready scope={} credentials={}", scope, from);
  return raw;
}

// The last run using a provider destroys it (its clients and describe threads); the next run
// with the same scope and credentials gets a new one.
void DaemonProviderFactory::Release(cloud::CloudProvider* provider) {
  std::unique_ptr<cloud::CloudProvider> gone;
  std::string scope;
  {
    std::lock_guard lock(mu_);
    for (auto it = providers_.begin(); it != providers_.end(); ++it) {
      if (it->second.provider.get() != provider) continue;
      if (--it->second.users > 0) return;
      gone = std::move(it->second.provider);
      scope = gone->scope();
      providers_.erase(it);
      break;
    }
  }
  if (gone) log::Get("cloud")->info("provider released scope={}", scope);
}

}  // namespace rebootd::app
