// SPDX-License-Identifier: Apache-2.0
#include "pkg/app/daemon.h"

#include <unistd.h>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include "pkg/api/codec.h"
#include "pkg/base/random.h"
#include "pkg/cloud/aliyun/provider.h"
#include "pkg/cloud/tencent/provider.h"
#include "pkg/controller/controller.h"
#include "pkg/http/cpprest_transport.h"
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
    last_warning_[k] = now;
    log_->warn("{} request={} message=\"{}\"", reason, key.empty() ? "-" : key, message);
  }
  void ReconcileResult(std::string_view result) override { metrics_.ReconcileResult(result); }

 private:
  metrics::Metrics& metrics_;
  Clock& clock_;
  std::shared_ptr<spdlog::logger> log_;
  std::mutex mu_;
  std::map<std::string, SteadyTime> last_warning_;
};

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
                        Random& random)
      : config_(config),
        endpoints_(std::move(endpoints)),
        transport_(transport),
        limiter_(limiter),
        metrics_(metrics),
        clock_(clock),
        random_(random) {}

  Result<cloud::CloudProvider*> ProviderFor(const api::RebootRequest& r) override {
    if (r.spec.credentials_secret_ref) {
      return MakeError(ErrorCode::kFailedPrecondition,
                       "spec.credentialsSecretRef is only supported with --source kubernetes; "
                       "file mode uses the controller's environment credentials");
    }
    std::string scope = std::string(cloud::ProviderName(r.spec.provider)) + "/" +
                        (r.spec.region.empty() ? "default" : r.spec.region);
    std::lock_guard lock(mu_);
    auto it = providers_.find(scope);
    if (it != providers_.end()) return it->second.get();
    std::unique_ptr<cloud::CloudProvider> p;
    if (r.spec.provider == cloud::Provider::kTencent) {
      cloud::Credentials creds;
      if (endpoints_.tencent_creds) {
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
      if (endpoints_.aliyun_creds) {
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
    providers_.emplace(scope, std::move(p));
    log::Get("cloud")->info("provider ready scope={}", scope);
    return raw;
  }

 private:
  const RunConfig& config_;
  const Endpoints endpoints_;
  http::Transport& transport_;
  ratelimit::Limiter& limiter_;
  metrics::Metrics& metrics_;
  Clock& clock_;
  Random& random_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<cloud::CloudProvider>> providers_;
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
        inv.tencent.push_back(sim::TencentEntry{id, sim::TencentInitialState::kRunning});
      } else {
        inv.aliyun.push_back(
            sim::AliyunEntry{id, r->spec.region, sim::AliyunInitialState::kRunning});
      }
    }
  }
  return inv;
}

std::string ProgressLine(const controller::RequestProgress& p, double rate, SystemTime now) {
  const auto& s = p.summary;
  int done = s.succeeded + s.failed;
  char buf[512];
  std::string eta = "-";
  if (rate > 0 && done < s.total) {
    eta = std::to_string(static_cast<int>((s.total - done) / rate + 0.5)) + "s";
  }
  double elapsed =
      p.started_at
          ? std::chrono::duration<double>((p.completed_at ? *p.completed_at : now) - *p.started_at)
                .count()
          : 0;
  std::snprintf(buf, sizeof buf,
                "progress request=%s provider=%s phase=%s done=%d/%d succeeded=%d failed=%d "
                "rebooting=%d rate=%.1f/s elapsed=%.0fs eta=%s",
                p.key.c_str(), std::string(cloud::ProviderName(p.provider)).c_str(),
                std::string(api::PhaseName(p.phase)).c_str(), done, s.total, s.succeeded, s.failed,
                s.rebooting, rate, elapsed, eta.c_str());
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

  store::RequestCache cache;
  auto status_store = store::FileStatusStore::Open(config.state_dir);
  if (!status_store) {
    log->error("cannot use --state-dir {}: {}", config.state_dir, status_store.error().message);
    return 2;
  }

  std::unique_ptr<controller::Controller> ctl;
  std::mutex ctl_mu;
  source::FileSourceOptions so;
  so.paths = config.manifests;
  so.on_error = [](const api::FieldError& e) {
    log::Get("source")->error("invalid manifest: {}", e.ToString());
  };
  source::FileSource file_source(
      so, cache,
      [&](const std::string& key) {
        std::lock_guard lock(ctl_mu);
        if (ctl) ctl->Enqueue(key);
      },
      clock);
  if (auto s = file_source.Start(); !s) {
    log->error("cannot read manifests: {}", s.error().message);
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
  DaemonProviderFactory providers(config, endpoints, transport, limiter, metrics, clock, random);
  DaemonRecorder recorder(metrics, clock);

  controller::ControllerOptions co;
  co.poller.interval = config.poll_interval;
  {
    std::lock_guard lock(ctl_mu);
    ctl = std::make_unique<controller::Controller>(co, cache, **status_store, providers, recorder,
                                                   clock, random);
  }
  if (auto s = ctl->Init(); !s) {
    log->error("cannot load run records from {}: {}", config.state_dir, s.error().message);
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
  ho.ready = [&] { return cache.Synced(); };
  if (auto h = metrics::HealthServer::Start(ho); !h) {
    log->error("health probes: {}", h.error().message);
    return 2;
  } else {
    health = std::move(*h);
  }
  metrics.SetLeader(true);
  log->info("rebootd {} running manifests={} state-dir={} metrics={} health={}", REBOOTD_VERSION,
            config.manifests.size(), config.state_dir,
            metrics_server ? std::to_string(metrics_server->Port()) : "off",
            health ? std::to_string(health->Port()) : "off");

  std::stop_source stop;
  std::jthread loop([&] { ctl->Run(stop.get_token()); });

  int exit_code = 0;
  SteadyTime next_progress = clock.SteadyNow() + config.progress_interval;
  std::map<std::string, std::pair<SteadyTime, int>> last_done;
  bool announced_empty = false;
  while (true) {
    timespec ts{0, 200 * 1000 * 1000};
    int sig = sigtimedwait(&signals, nullptr, &ts);
    if (sig == SIGINT || sig == SIGTERM) {
      log->info("received {}; stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
      break;
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
          std::printf("%s\n", ProgressLine(p, rate, clock.Now()).c_str());
          std::fflush(stdout);
        }
        t0 = now;
        d0 = done;
      }
    }
    if (config.until_done && ctl->AllFinished()) {
      if (cache.Size() == 0 && !announced_empty) {
        log->warn("no RebootRequests found in the manifests; nothing to do");
        announced_empty = true;
      }
      for (const auto& p : ctl->Progress()) {
        if (!p.desired) continue;
        std::printf("%s\n", ProgressLine(p, 0, clock.Now()).c_str());
        if (p.phase == api::Phase::kFailed) exit_code = 1;
      }
      std::fflush(stdout);
      log->info("every request is finished; exiting with {}", exit_code);
      break;
    }
  }
  // Stop within 10 s: no new calls; calls in flight finish or stay recorded as intents.
  std::jthread watchdog([&](std::stop_token st) {
    if (SystemClock::Instance().SleepFor(std::chrono::milliseconds(9500), st)) {
      log::Get("main")->error("shutdown took too long; exiting (intents are on disk)");
      std::fflush(nullptr);
      _exit(exit_code);
    }
  });
  file_source.Stop();
  stop.request_stop();
  loop.join();
  alive = false;
  if (simulator) simulator->Stop();
  watchdog.request_stop();
  return exit_code;
}

}  // namespace rebootd::app
