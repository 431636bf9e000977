// SPDX-License-Identifier: Apache-2.0
#include "pkg/app/daemon.h"

#include <malloc.h>
#include <unistd.h>
#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include "pkg/api/codec.h"
#include "pkg/base/random.h"
#include "pkg/cloud/aliyun/provider.h"
#include "pkg/cloud/tencent/provider.h"
#include "pkg/controller/controller.h"
#include "pkg/crypto/crypto.h"
#include "pkg/http/cpprest_transport.h"
#include "pkg/json/json.h"
#include "pkg/kube/client.h"
#include "pkg/kube/config.h"
#include "pkg/kube/events.h"
#include "pkg/kube/kube_source.h"
#include "pkg/kube/leader.h"
#include "pkg/kube/secrets.h"
#include "pkg/kube/status_store.h"
#include "pkg/log/log.h"
#include "pkg/metrics/health.h"
#include "pkg/metrics/metrics.h"
#include "pkg/metrics/server.h"
#include "pkg/ratelimit/limiter.h"
#include "pkg/sim/demo_credentials.h"
#include "pkg/sim/simulator.h"
#include "pkg/source/file_source.h"
#include "pkg/store/file_status_store.h"
#include "pkg/store/request_cache.h"

namespace rebootd::app {
namespace {

// Logs, metrics (and later events) for the controller's transitions.
class DaemonRecorder final : public controller::Recorder {
 public:
  DaemonRecorder(metrics::Metrics& m, Clock& clock)
      : metrics_(m), clock_(clock), log_(log::Get("controller")) {}

  void RequestStarted(const api::RebootRequest& r) override {
    log_->info("request started request={} provider={} instances={} mode={} dryRun={}", r.Key(),
               cloud::ProviderName(r.spec.provider), r.spec.instance_ids.size(),
               api::ModeName(r.spec.mode), r.spec.dry_run);
  }
  void RequestFinished(const api::RebootRequest& r) override {
    const auto& s = r.status->summary;
    log_->info("request finished request={} phase={} succeeded={} failed={} total={}", r.Key(),
               api::PhaseName(r.status->phase), s.succeeded, s.failed, s.total);
  }
  void InstanceFinished(const api::RebootRequest& r, const api::InstanceStatus& i) override {
    auto provider = cloud::ProviderName(r.spec.provider);
    bool ok = i.state == api::InstanceState::kSucceeded;
    metrics_.InstanceFinished(provider, ok);
    if (ok && i.accepted_at && i.completed_at && !r.spec.dry_run) {
      metrics_.ObserveRebootDuration(
          provider, std::chrono::duration<double>(*i.completed_at - *i.accepted_at).count());
    }
    if (ok) {
      log_->debug("instance finished request={} instance={} state={} reason={}", r.Key(), i.id,
                  api::InstanceStateName(i.state), i.reason);
    } else {
      log_->warn("instance failed request={} instance={} reason={} message=\"{}\"", r.Key(), i.id,
                 i.reason, i.message);
    }
  }
  void InstancesRequested(const api::RebootRequest& r, int count) override {
    log_->debug("reboot intents written request={} instances={}", r.Key(), count);
  }
  void Escalated(const api::RebootRequest& r, const std::string& id) override {
    log_->warn("escalating to a forced reboot request={} instance={}", r.Key(), id);
  }
  void Warning(const std::string& key, const std::string& reason,
               const std::string& message) override {
    // Rate-limit repeated warnings: once per (key, reason, message) a minute.
    std::string k = key + "|" + reason + "|" + message;
    SteadyTime now = clock_.SteadyNow();
    std::lock_guard lock(mu_);
    auto it = last_warning_.find(k);
    if (it != last_warning_.end() && now - it->second < std::chrono::minutes(1)) return;
    // Entries older than the minute decide nothing any more: drop them now and then, so a
    // daemon that lives through many requests does not keep one per warning it ever logged.
    if (last_warning_.size() >= 256) {
      std::erase_if(last_warning_,
                    [&](const auto& e) { return now - e.second >= std::chrono::minutes(1); });
    }
    last_warning_[k] = now;
    log_->warn("{} request={} message=\"{}\"", reason, key.empty() ? "-" : key, message);
  }
  void ReconcileResult(std::string_view result) override { metrics_.ReconcileResult(result); }
  void RecordWriteFailed(const std::string& key, const Error& error) override {
    metrics_.RecordWriteFailed();
    Warning(key, "RecordWriteFailed",
            error.message + " (no new reboot call until the record can be written)");
  }

 private:
  metrics::Metrics& metrics_;
  Clock& clock_;
  std::shared_ptr<spdlog::logger> log_;
  std::mutex mu_;
  std::map<std::string, SteadyTime> last_warning_;
};

// Forwards every hook to two recorders (logs+metrics, and Kubernetes Events).
class TeeRecorder final : public controller::Recorder {
 public:
  TeeRecorder(controller::Recorder& a, controller::Recorder& b) : a_(a), b_(b) {}
  void RequestStarted(const api::RebootRequest& r) override {
    a_.RequestStarted(r);
    b_.RequestStarted(r);
  }
  void RequestFinished(const api::RebootRequest& r) override {
    a_.RequestFinished(r);
    b_.RequestFinished(r);
  }
  void InstanceFinished(const api::RebootRequest& r, const api::InstanceStatus& i) override {
    a_.InstanceFinished(r, i);
    b_.InstanceFinished(r, i);
  }
  void InstancesRequested(const api::RebootRequest& r, int count) override {
    a_.InstancesRequested(r, count);
    b_.InstancesRequested(r, count);
  }
  void Escalated(const api::RebootRequest& r, const std::string& id) override {
    a_.Escalated(r, id);
    b_.Escalated(r, id);
  }
  void Warning(const std::string& key, const std::string& reason,
               const std::string& message) override {
    a_.Warning(key, reason, message);
    b_.Warning(key, reason, message);
  }
  void ReconcileResult(std::string_view result) override {
    a_.ReconcileResult(result);
    b_.ReconcileResult(result);
  }
  void RecordWriteFailed(const std::string& key, const Error& error) override {
    a_.RecordWriteFailed(key, error);
    b_.RecordWriteFailed(key, error);
  }

 private:
  controller::Recorder& a_;
  controller::Recorder& b_;
};

// Credentials named by spec.credentialsSecretRef (Kubernetes mode only).
using SecretResolver = std::function<Result<cloud::Credentials>(const api::RebootRequest& request)>;

struct Endpoints {
  std::string tencent;
  std::string aliyun;
  std::optional<cloud::Credentials> tencent_creds;  // fixed (simulate) or from env
  std::optional<cloud::Credentials> aliyun_creds;
};

// One CloudProvider per (provider, region) with credentials from the environment (or the
// simulator's demo keys). Buckets are shared per provider account: Tencent's ECM limits apply
// per account; Aliyun's per account, region and API (cloud-apis.md §1.12).
class DaemonProviderFactory final : public controller::ProviderFactory {
 public:
  DaemonProviderFactory(const RunConfig& config, Endpoints endpoints, http::Transport& transport,
                        ratelimit::Limiter& limiter, metrics::Metrics& metrics, Clock& clock,
                        Random& random, SecretResolver secrets = {})
      : config_(config),
        endpoints_(std::move(endpoints)),
        transport_(transport),
        limiter_(limiter),
        metrics_(metrics),
        clock_(clock),
        random_(random),
        secrets_(std::move(secrets)) {}

  // Providers are created lazily, one per (provider, region, credentials identity): requests
  // naming a Secret get a provider of their own keys (a changed Secret gives new runs a new
  // provider; running ones keep theirs). The identity in the cache key is a hash, never a key.
  Result<cloud::CloudProvider*> ProviderFor(const api::RebootRequest& r) override {
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
    std::string scope = std::string(cloud::ProviderName(r.spec.provider)) + "/" +
                        (r.spec.region.empty() ? "default" : r.spec.region);
    std::string cache_key = scope + "|" + identity;
    std::lock_guard lock(mu_);
    auto it = providers_.find(cache_key);
    if (it != providers_.end()) {
      ++it->second.users;
      return it->second.provider.get();
    }
    std::unique_ptr<cloud::CloudProvider> p;
    if (r.spec.provider == cloud::Provider::kTencent) {
      cloud::Credentials creds;
      if (secret_creds) {
        creds = *secret_creds;
      } else if (endpoints_.tencent_creds) {
        creds = *endpoints_.tencent_creds;
      } else {
        REBOOTD_ASSIGN_OR_RETURN(creds, cloud::CredentialsFromEnv(cloud::Provider::kTencent));
      }
      cloud::tencent::EcmClientOptions o;
      o.endpoint = endpoints_.tencent;
      o.region = r.spec.region;
      o.observer = metrics_.Observer();
      REBOOTD_ASSIGN_OR_RETURN(auto client, cloud::tencent::EcmClient::Create(
                                                o, creds, transport_, clock_, random_, &limiter_));
      p = std::make_unique<cloud::tencent::TencentProvider>(
          std::move(client), cloud::tencent::TencentProviderOptions{4, scope});
    } else {
      cloud::Credentials creds;
      if (secret_creds) {
        creds = *secret_creds;
      } else if (endpoints_.aliyun_creds) {
        creds = *endpoints_.aliyun_creds;
      } else {
        REBOOTD_ASSIGN_OR_RETURN(creds, cloud::CredentialsFromEnv(cloud::Provider::kAliyun));
      }
      cloud::aliyun::EcsClientOptions o;
      o.region = r.spec.region;
      o.endpoint = endpoints_.aliyun;
      o.signature = config_.aliyun_signature == "acs3" ? cloud::aliyun::SignatureMethod::kAcs3
                                                       : cloud::aliyun::SignatureMethod::kRpcV1;
      o.observer = metrics_.Observer();
      o.limiter_scope = r.spec.region;
      REBOOTD_ASSIGN_OR_RETURN(auto client, cloud::aliyun::EcsClient::Create(
                                                o, creds, transport_, clock_, random_, &limiter_));
      p = std::make_unique<cloud::aliyun::AliyunProvider>(
          std::move(client), cloud::aliyun::AliyunProviderOptions{4, scope});
    }
    cloud::CloudProvider* raw = p.get();
    providers_.emplace(cache_key, Entry{std::move(p), 1});
    log::Get("cloud")->info("provider ready scope={} credentials={}", scope,
                            secret_creds ? "secret " + r.spec.credentials_secret_ref->name
                                         : std::string("environment"));
    return raw;
  }

  // The last run using a provider destroys it (its clients and describe threads); the next run
  // with the same scope and credentials gets a new one. Rate-limit buckets live in the shared
  // Limiter, so a new provider does not reset them.
  void Release(cloud::CloudProvider* provider) override {
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

 private:
  struct Entry {
    std::unique_ptr<cloud::CloudProvider> provider;
    int users = 0;
  };
  const RunConfig& config_;
  const Endpoints endpoints_;
  http::Transport& transport_;
  ratelimit::Limiter& limiter_;
  metrics::Metrics& metrics_;
  Clock& clock_;
  Random& random_;
  const SecretResolver secrets_;
  std::mutex mu_;
  std::map<std::string, Entry> providers_;  // guarded by mu_
};

// The inventory of the in-process simulator: the given file, or every ID of the loaded
// manifests, running.
Result<sim::Inventory> SimInventory(const RunConfig& config, const store::RequestCache& cache) {
  if (!config.sim_inventory.empty()) return sim::LoadInventoryFile(config.sim_inventory);
  sim::Inventory inv;
  std::set<std::string> seen;
  for (const auto& key : cache.Keys()) {
    auto r = cache.Get(key);
    if (!r) continue;
    for (const auto& id : r->spec.instance_ids) {
      if (!seen.insert(id).second) continue;
      if (r->spec.provider == cloud::Provider::kTencent) {
        sim::TencentEntry e;
        e.id = id;
        inv.tencent.push_back(std::move(e));
      } else {
        sim::AliyunEntry e;
        e.id = id;
        e.region = r->spec.region;
        inv.aliyun.push_back(std::move(e));
      }
    }
  }
  return inv;
}

// "2026-01-01T00:00:00.123Z", the log's JSON timestamp.
std::string FormatRfc3339Millis(SystemTime t) {
  auto seconds = std::chrono::floor<std::chrono::seconds>(t);
  auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(t - seconds).count();
  std::string text = FormatRfc3339(seconds);
  char frac[8];
  std::snprintf(frac, sizeof frac, ".%03dZ", static_cast<int>(millis));
  text.pop_back();  // 'Z'
  return text + frac;
}

// One progress line: "progress request=... done=5/8 ..." as text, or under --log-format json a
// JSON object in the log's shape (ts, level, logger "progress", msg) with typed fields.
std::string ProgressLine(const controller::RequestProgress& p, double rate, SystemTime now,
                         bool json_format) {
  const auto& s = p.summary;
  int done = s.succeeded + s.failed;
  std::optional<int> eta;
  if (rate > 0 && done < s.total) eta = static_cast<int>((s.total - done) / rate + 0.5);
  double elapsed =
      p.started_at
          ? std::chrono::duration<double>((p.completed_at ? *p.completed_at : now) - *p.started_at)
                .count()
          : 0;
  const std::string provider(cloud::ProviderName(p.provider));
  const std::string phase(api::PhaseName(p.phase));
  if (json_format) {
    json::Value line = json::Value::MakeObject();
    line.Set("ts", FormatRfc3339Millis(now));
    line.Set("level", "info");
    line.Set("logger", "progress");
    line.Set("msg", "progress");
    line.Set("request", p.key);
    line.Set("provider", provider);
    line.Set("phase", phase);
    line.Set("done", done);
    line.Set("total", s.total);
    line.Set("succeeded", s.succeeded);
    line.Set("failed", s.failed);
    line.Set("rebooting", s.rebooting);
    line.Set("ratePerSecond", std::round(rate * 10) / 10);
    line.Set("elapsedSeconds", std::round(elapsed));
    line.Set("etaSeconds", eta ? json::Value(*eta) : json::Value());
    return line.Dump();
  }
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "progress request=%s provider=%s phase=%s done=%d/%d succeeded=%d failed=%d "
                "rebooting=%d rate=%.1f/s elapsed=%.0fs eta=%s",
                p.key.c_str(), provider.c_str(), phase.c_str(), done, s.total, s.succeeded,
                s.failed, s.rebooting, rate, elapsed,
                eta ? (std::to_string(*eta) + "s").c_str() : "-");
  return buf;
}

}  // namespace

int RunDaemon(const RunConfig& config) {
  if (auto s = log::Setup(log::LogOptions{config.log_format, config.log_level}); !s) {
    std::fprintf(stderr, "rebootd: %s\n", s.error().message.c_str());
    return 2;
  }
  auto log = log::Get("main");
  // Signals are taken synchronously by the main loop; block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  Clock& clock = SystemClock::Instance();
  SystemRandom random;
  auto registry = std::make_shared<prometheus::Registry>();
  metrics::Metrics metrics(*registry, REBOOTD_VERSION);

  // This process's name in the leader Lease and in Events: HOSTNAME_UUID.
  std::string identity;
  {
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') {
      std::snprintf(host, sizeof host, "rebootd");
    }
    identity = kube::MakeIdentity(host, random.Uuid4());
  }

  store::RequestCache cache;
  const bool kube_mode = config.source == "kubernetes";
  std::unique_ptr<store::StatusStore> status_store;
  std::unique_ptr<source::Source> source;
  std::unique_ptr<controller::Controller> ctl;
  std::mutex ctl_mu;
  source::Notify notify = [&](const std::string& key) {
    std::lock_guard lock(ctl_mu);
    if (ctl) ctl->Enqueue(key);
  };

  // Kubernetes mode: the API server holds desired requests, their status (run records), the
  // leader Lease, Events and Secrets.
  std::unique_ptr<http::CpprestTransport> kube_transport;
  std::unique_ptr<kube::Client> kube_client;
  std::unique_ptr<kube::EventRecorder> kube_events;
  std::unique_ptr<kube::KubeEventRecorder> kube_recorder;
  std::unique_ptr<kube::SecretCredentials> kube_secrets;
  std::string kube_namespace_default = "default";
  if (kube_mode) {
    auto kc = kube::ResolveConfig(config.kubeconfig, cloud::ProcessGetenv());
    if (!kc) {
      log->error("kubernetes configuration: {}", kc.error().message);
      return 2;
    }
    log->info("kubernetes {}", kc->Describe());
    if (!kc->namespace_.empty()) kube_namespace_default = kc->namespace_;
    kube_transport = std::make_unique<http::CpprestTransport>(kube::TransportOptionsFor(*kc));
    kube_client = std::make_unique<kube::Client>(*kc, *kube_transport, clock);
    kube::KubeStatusStoreOptions sso;
    sso.namespace_ = config.namespace_;
    status_store = std::make_unique<kube::KubeStatusStore>(sso, *kube_client);
    kube::KubeSourceOptions ko;
    ko.namespace_ = config.namespace_;
    ko.on_problem = [](const std::string& m) { log::Get("kube")->warn("{}", m); };
    source = std::make_unique<kube::KubeSource>(ko, *kube_client, cache, notify, clock, random);
    kube::EventOptions eo;
    eo.host = identity;
    eo.on_problem = [](const std::string& m, bool lasting) {
      if (lasting) {
        log::Get("kube")->warn("{} (not retried; check the Role allows events create/patch)", m);
      } else {
        log::Get("kube")->debug("{}", m);
      }
    };
    kube_events = std::make_unique<kube::EventRecorder>(eo, *kube_client, clock, random);
    kube_recorder = std::make_unique<kube::KubeEventRecorder>(*kube_events, clock);
    kube_secrets = std::make_unique<kube::SecretCredentials>(*kube_client);
  } else {
    auto fs = store::FileStatusStore::Open(config.state_dir);
    if (!fs) {
      log->error("cannot use --state-dir {}: {}", config.state_dir, fs.error().message);
      return 2;
    }
    status_store = std::move(*fs);
    source::FileSourceOptions so;
    so.paths = config.manifests;
    so.on_error = [](const api::FieldError& e) {
      log::Get("source")->error("invalid manifest: {}", e.ToString());
    };
    source = std::make_unique<source::FileSource>(so, cache, notify, clock);
  }
  if (auto s = source->Start(); !s) {
    log->error("{}: {}", kube_mode ? "cannot list RebootRequests" : "cannot read manifests",
               s.error().message);
    return 2;
  }

  Endpoints endpoints{config.tencent_endpoint, config.aliyun_endpoint, std::nullopt, std::nullopt};
  std::unique_ptr<sim::Simulator> simulator;
  if (config.simulate) {
    auto inv = SimInventory(config, cache);
    if (!inv) {
      log->error("--sim-inventory: {}", inv.error().message);
      return 2;
    }
    sim::SimOptions o;
    o.inventory = std::move(*inv);
    o.reboot_seconds = config.sim_reboot_seconds;
    o.seed = random.Next();
    auto created = sim::Simulator::Create(std::move(o), clock);
    if (!created) {
      log->error("simulator: {}", created.error().message);
      return 2;
    }
    simulator = std::move(*created);
    if (auto s = simulator->Start(); !s) {
      log->error("simulator: {}", s.error().message);
      return 2;
    }
    endpoints.tencent = endpoints.aliyun = simulator->BaseUrl();
    endpoints.tencent_creds = sim::DemoTencentCredentials();
    endpoints.aliyun_creds = sim::DemoAliyunCredentials();
    log->info("simulator listening url={} (demo credentials; no cloud is touched)",
              simulator->BaseUrl());
  } else if (config.until_done) {
    // A run that must finish cannot wait for credentials to appear: check them up front.
    std::set<cloud::Provider> used;
    for (const auto& key : cache.Keys()) {
      if (auto r = cache.Get(key)) used.insert(r->spec.provider);
    }
    for (auto p : used) {
      if (auto c = cloud::CredentialsFromEnv(p); !c) {
        log->error("{} credentials: {}", cloud::ProviderName(p), c.error().message);
        return 2;
      }
    }
  }

  auto rates = ratelimit::Limiter::RatesFromFlags(config.rate_limits);
  ratelimit::Limiter limiter(ratelimit::TokenBucketOptions{}, *rates, clock);
  http::CpprestTransportOptions to;
  to.ca_bundle_file = config.ca_bundle;
  http::CpprestTransport transport(to);
  SecretResolver secret_resolver;
  if (kube_secrets) {
    secret_resolver = [&](const api::RebootRequest& r) -> Result<cloud::Credentials> {
      return kube_secrets->Read(r.spec.provider, r.metadata.namespace_,
                                r.spec.credentials_secret_ref->name);
    };
  }
  DaemonProviderFactory providers(config, endpoints, transport, limiter, metrics, clock, random,
                                  secret_resolver);
  DaemonRecorder daemon_recorder(metrics, clock);
  std::unique_ptr<TeeRecorder> tee;
  if (kube_recorder) tee = std::make_unique<TeeRecorder>(daemon_recorder, *kube_recorder);
  controller::Recorder& recorder = tee ? static_cast<controller::Recorder&>(*tee) : daemon_recorder;
  if (kube_events) kube_events->Start();

  controller::ControllerOptions co;
  co.poller.interval = config.poll_interval;
  co.logic.min_reboot = config.min_reboot_duration;
  // Close watching polls at a third of the shortest reboot, so that two observations (each
  // taking up to a round to make) always fall within one reboot.
  co.poller.close_interval = std::clamp<Duration>(
      config.min_reboot_duration / 3, std::chrono::milliseconds(100), config.poll_interval);
  // Builds and initialises the controller; in Kubernetes mode with --leader-elect only once this
  // process leads. Returns false on a fatal error (logged).
  auto start_controller = [&]() -> bool {
    auto c = std::make_unique<controller::Controller>(co, cache, *status_store, providers, recorder,
                                                      clock, random);
    if (auto s = c->Init(); !s) {
      log->error("cannot load run records from {}: {}",
                 kube_mode ? std::string("the cluster") : config.state_dir, s.error().message);
      return false;
    }
    std::lock_guard lock(ctl_mu);
    ctl = std::move(c);
    return true;
  };

  // Leader election (Kubernetes mode): the elector runs on its own thread; the main loop starts
  // the controller when this process leads and exits when the lease is lost (the Deployment
  // restarts it as a fresh candidate; this is what controller-runtime does).
  std::unique_ptr<kube::Client> lease_client;
  std::unique_ptr<kube::LeaderElector> elector;
  std::atomic<int> leadership{config.leader_elect ? 0 : 1};  // 0 standby, 1 leading, 2 lost
  if (config.leader_elect) {
    kube::LeaderElectionOptions lo;
    lo.namespace_ = config.leader_election_namespace.empty() ? kube_namespace_default
                                                             : config.leader_election_namespace;
    lo.identity = identity;
    lo.name = config.leader_election_id;
    lo.lease_duration = config.leader_election_lease_duration;
    lo.renew_deadline = config.leader_election_renew_deadline;
    lo.retry_period = config.leader_election_retry_period;
    lo.on_change = [&](bool leading) {
      if (leading) {
        leadership = 1;
      } else if (leadership == 1) {
        leadership = 2;
      }
    };
    lo.on_problem = [](const std::string& m) { log::Get("kube")->debug("leader election: {}", m); };
    // Lease calls get a short timeout: a hung call must not outlast the renew deadline.
    lease_client = std::make_unique<kube::Client>(
        kube_client->config(), *kube_transport, clock,
        std::chrono::duration_cast<std::chrono::milliseconds>(std::min<Duration>(
            std::chrono::seconds(4), config.leader_election_renew_deadline / 2)));
    elector = std::make_unique<kube::LeaderElector>(lo, *lease_client, clock);
    log->info("leader election lease={}/{} identity={}", lo.namespace_, lo.name, lo.identity);
  } else if (!start_controller()) {
    return 2;
  }

  std::unique_ptr<metrics::MetricsServer> metrics_server;
  if (auto m = metrics::MetricsServer::Start(config.metrics_bind_address, registry); !m) {
    log->error("metrics: {}", m.error().message);
    return 2;
  } else {
    metrics_server = std::move(*m);
  }
  std::atomic<bool> alive{true};
  std::unique_ptr<metrics::HealthServer> health;
  metrics::HealthOptions ho;
  ho.bind_address = config.health_probe_bind_address;
  ho.live = [&] { return alive.load(); };
  // Ready once the source has synced; a standby replica (not leading) is ready too.
  ho.ready = [&] { return cache.Synced(); };
  ho.not_ready_reason = [] { return std::string("source not synced yet"); };
  if (auto h = metrics::HealthServer::Start(ho); !h) {
    log->error("health probes: {}", h.error().message);
    return 2;
  } else {
    health = std::move(*h);
  }
  metrics.SetLeader(!config.leader_elect);
  log->info("rebootd {} running manifests={} state-dir={} metrics={} health={}", REBOOTD_VERSION,
            config.manifests.size(), config.state_dir,
            metrics_server ? std::to_string(metrics_server->Port()) : "off",
            health ? std::to_string(health->Port()) : "off");

  std::stop_source stop;
  std::jthread loop;
  if (ctl) loop = std::jthread([&] { ctl->Run(stop.get_token()); });
  std::jthread election;
  if (elector) election = std::jthread([&](std::stop_token st) { elector->Run(st); });

  int exit_code = 0;
  SteadyTime next_progress = clock.SteadyNow() + config.progress_interval;
  const bool json_progress = config.log_format == "json";
  SteadyTime next_gauges = clock.SteadyNow();
  SteadyTime next_trim = clock.SteadyNow() + std::chrono::seconds(2);
  std::map<std::string, std::pair<SteadyTime, int>> last_done;
  bool announced_empty = false;
  while (true) {
    timespec ts{0, 200 * 1000 * 1000};
    int sig = sigtimedwait(&signals, nullptr, &ts);
    if (sig == SIGINT || sig == SIGTERM) {
      log->info("received {}; stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
      break;
    }
    if (elector) {
      if (leadership == 1 && !ctl) {
        log->info("became the leader, starting the controller identity={}", identity);
        metrics.SetLeader(true);
        if (!start_controller()) {
          exit_code = 2;
          break;
        }
        loop = std::jthread([&] { ctl->Run(stop.get_token()); });
      } else if (leadership == 2 ||
                 (leadership == 1 && !elector->RenewedWithinDeadline(clock.SteadyNow()))) {
        // The second case: a renew call still hangs, but the deadline has passed; another
        // replica may take the lease once it expires, so stop acting now, not when the call
        // returns.
        log->error("leader lease lost, stopping so no two replicas act identity={}", identity);
        metrics.SetLeader(false);
        exit_code = 1;
        break;
      }
    }
    if (!ctl) continue;
    // Progress() walks every instance under the controller's lock: once a second is enough for
    // gauges and progress lines (the loop still wakes every 200 ms for signals and leadership).
    if (clock.SteadyNow() < next_gauges && !(config.until_done && ctl->AllFinished())) continue;
    next_gauges = clock.SteadyNow() + std::chrono::seconds(1);
    if (clock.SteadyNow() >= next_trim) {
      // Give memory freed by big transient work (manifest parsing, record encoding) back to
      // the system; glibc keeps it otherwise (peak RSS at 100,000 instances, BENCHMARKS.md).
      malloc_trim(0);
      next_trim = clock.SteadyNow() + std::chrono::seconds(10);
    }
    auto progress = ctl->Progress();
    // Gauges from the current state of every run.
    std::map<std::pair<std::string, std::string>, double> by_state;
    std::map<std::string, double> by_phase;
    for (auto p : {"tencent", "aliyun"}) {
      for (auto s : {"Pending", "Requesting", "Rebooting", "Succeeded", "Failed"}) {
        by_state[{p, s}] = 0;
      }
    }
    for (auto ph : {"Pending", "InProgress", "Succeeded", "Failed"}) by_phase[ph] = 0;
    for (const auto& p : progress) {
      std::string prov(cloud::ProviderName(p.provider));
      by_state[{prov, "Pending"}] += p.summary.pending;
      by_state[{prov, "Rebooting"}] += p.summary.rebooting;
      by_state[{prov, "Succeeded"}] += p.summary.succeeded;
      by_state[{prov, "Failed"}] += p.summary.failed;
      by_phase[std::string(api::PhaseName(p.phase))] += 1;
    }
    std::map<std::string, double> past_deadline = {{"tencent", 0}, {"aliyun", 0}};
    for (const auto& p : progress) {
      past_deadline[std::string(cloud::ProviderName(p.provider))] += p.past_deadline;
    }
    for (const auto& [k, v] : past_deadline) metrics.SetPastDeadline(k, v);
    for (const auto& [k, v] : by_state) metrics.SetInstances(k.first, k.second, v);
    for (const auto& [k, v] : by_phase) metrics.SetRequests(k, v);
    metrics.SetWorkqueueDepth(static_cast<double>(ctl->QueueDepth()));

    SteadyTime now = clock.SteadyNow();
    if (config.progress_interval > Duration::zero() && now >= next_progress) {
      next_progress = now + config.progress_interval;
      for (const auto& p : progress) {
        if (!p.desired) continue;
        int done = p.summary.succeeded + p.summary.failed;
        auto& [t0, d0] = last_done.try_emplace(p.key, now, done).first->second;
        double secs = std::chrono::duration<double>(now - t0).count();
        double rate = secs > 0 ? (done - d0) / secs : 0;
        if (p.phase == api::Phase::kInProgress || p.phase == api::Phase::kPending) {
          std::printf("%s\n", ProgressLine(p, rate, clock.Now(), json_progress).c_str());
          std::fflush(stdout);
        }
        t0 = now;
        d0 = done;
      }
      // Requests that are gone (deleted, or removed from the manifests) need no rate.
      std::erase_if(last_done, [&](const auto& e) {
        return std::none_of(progress.begin(), progress.end(),
                            [&](const auto& p) { return p.key == e.first; });
      });
    }
    if (config.until_done && ctl->AllFinished()) {
      if (cache.Size() == 0 && !announced_empty) {
        log->warn("no RebootRequests found in the manifests; nothing to do");
        announced_empty = true;
      }
      for (const auto& p : ctl->Progress()) {
        if (!p.desired) continue;
        std::printf("%s\n", ProgressLine(p, 0, clock.Now(), json_progress).c_str());
        if (p.phase == api::Phase::kFailed) exit_code = 1;
      }
      std::fflush(stdout);
      log->info("every request is finished; exiting with {}", exit_code);
      break;
    }
  }
  // Stop within 10 s: no new calls; calls in flight finish or stay recorded as intents. A
  // store or API server that hangs (a status write in flight) is cut off after 8 s: what was
  // not written is resolved by polling at the next start, as after a crash.
  std::jthread watchdog([&](std::stop_token st) {
    if (SystemClock::Instance().SleepFor(std::chrono::milliseconds(8000), st)) {
      log::Get("main")->error("shutdown took too long; exiting (intents are on disk)");
      std::fflush(nullptr);
      _exit(exit_code);
    }
  });
  source->Stop();
  stop.request_stop();
  if (loop.joinable()) loop.join();
  // Release the lease only after the controller stopped acting.
  if (election.joinable()) {
    election.request_stop();
    election.join();
  }
  metrics.SetLeader(false);
  if (kube_events) kube_events->Stop();
  alive = false;
  if (simulator) simulator->Stop();
  watchdog.request_stop();
  return exit_code;
}

}  // namespace rebootd::app
