// SPDX-License-Identifier: Apache-2.0
// Cloud providers for the daemon: the registry of supported clouds (the only list of them in
// pkg/app) and the ProviderFactory that builds, shares and releases providers per request.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "pkg/app/flags.h"
#include "pkg/base/clock.h"
#include "pkg/base/provider.h"
#include "pkg/base/random.h"
#include "pkg/cloud/provider.h"
#include "pkg/controller/controller.h"
#include "pkg/http/transport.h"
#include "pkg/metrics/metrics.h"
#include "pkg/ratelimit/limiter.h"

namespace rebootd::app {

// Where each cloud is reached, and with which credentials when a request names no Secret.
struct Endpoints {
  std::map<Provider, std::string> url;  // absent or "": the cloud's own endpoint
  // Fixed credentials (the simulator's demo keys under --simulate); absent: the environment.
  std::map<Provider, cloud::Credentials> credentials;
};

// What building any provider needs besides its request, credentials and scope.
struct ProviderContext {
  const RunConfig& config;
  const Endpoints& endpoints;
  http::Transport& transport;
  ratelimit::Limiter& limiter;
  metrics::Metrics& metrics;
  Clock& clock;
  Random& random;
};

// Builds a provider for `request` with `credentials`; `scope` ("tencent/ap-guangzhou") names it
// in logs and metrics.
using ProviderBuilder = std::function<Result<std::unique_ptr<cloud::CloudProvider>>(
    const ProviderContext& context, const api::RebootRequest& request,
    const cloud::Credentials& credentials, const std::string& scope)>;

// The builder of every supported cloud (kAllProviders): adding a cloud means adding it here
// (and to pkg/base/provider.h), nowhere else in pkg/app.
const ProviderBuilder& BuilderFor(Provider provider);

// Credentials named by spec.credentialsSecretRef (Kubernetes mode only).
using SecretResolver = std::function<Result<cloud::Credentials>(const api::RebootRequest& request)>;

// One CloudProvider per (provider, region, credentials identity), created on first use and
// destroyed when the last run using it releases it. Rate-limit buckets live in the shared
// Limiter (per provider account; Aliyun per account, region and API, cloud-apis.md §1.12), so a
// new provider does not reset them. Thread-safe.
class DaemonProviderFactory final : public controller::ProviderFactory {
 public:
  // `secrets` is empty outside Kubernetes mode (a request naming a Secret is then refused).
  DaemonProviderFactory(ProviderContext context, SecretResolver secrets = {});

  // Requests naming a Secret get a provider of their own keys (a changed Secret gives new runs a
  // new provider; running ones keep theirs). The identity in the cache key is a hash, never a
  // key.
  Result<cloud::CloudProvider*> ProviderFor(const api::RebootRequest& r) override;
  void Release(cloud::CloudProvider* provider) override;

 private:
  struct Entry {
    std::unique_ptr<cloud::CloudProvider> provider;
    int users = 0;
  };
  const ProviderContext context_;
  const SecretResolver secrets_;
  std::mutex mu_;
  std::map<std::string, Entry> providers_;  // guarded by mu_
};

}  // namespace rebootd::app
