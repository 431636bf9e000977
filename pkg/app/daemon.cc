// SPDX-License-Identifier: Apache-2.0
#include "pkg/app/daemon.h"

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include "pkg/app/progress.h"
#include "pkg/app/providers.h"
#include "pkg/app/recorders.h"
#include "pkg/base/random.h"
#include "pkg/controller/controller.h"
#include "pkg/http/cpprest_transport.h"
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
      if (r->spec.provider == Provider::kTencent) {
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

// ---------------------------------------------------------------------------------------------
// The parts of a running daemon, in construction order; members are destroyed in reverse, so the
// controller goes before the providers, recorders, stores and sources it uses, and the servers
// go first.
struct Daemon {
  explicit Daemon(const RunConfig& c)
      : config(c),
        log(log::Get("main")),
        registry(std::make_shared<prometheus::Registry>()),
        metrics(*registry, REBOOTD_VERSION),
        kube_mode(c.source == "kubernetes"),
        leadership(c.leader_elect ? 0 : 1) {}
  // A daemon whose wiring failed half-way may have a running source whose callback uses ctl_mu:
  // stop it before any member goes.
  ~Daemon() {
    if (source) source->Stop();
  }
  Daemon(const Daemon&) = delete;
  // The sources' callback: a changed key goes to the controller's queue once there is one.
  source::Notify EnqueueTo() {
    return [this](const std::string& key) {
      std::lock_guard lock(ctl_mu);
      if (ctl) ctl->Enqueue(key);
    };
  }
  Daemon& operator=(const Daemon&) = delete;

  const RunConfig& config;
  std::shared_ptr<spdlog::logger> log;
  Clock& clock = SystemClock::Instance();
  SystemRandom random;
  std::shared_ptr<prometheus::Registry> registry;
  metrics::Metrics metrics;
  std::string identity;  // HOSTNAME_UUID: this process in the leader Lease and in Events
  const bool kube_mode;

  // Desired requests and run records.
  store::RequestCache cache;
  std::unique_ptr<store::StatusStore> status_store;
  std::unique_ptr<source::Source> source;
  // Kubernetes mode: the API server holds desired requests, their status (run records), the
  // leader Lease, Events and Secrets.
  std::string default_namespace = "default";
  std::unique_ptr<http::CpprestTransport> kube_transport;
  std::unique_ptr<kube::Client> kube_client;
  std::unique_ptr<kube::EventRecorder> kube_events;
  std::unique_ptr<kube::KubeEventRecorder> kube_recorder;
  std::unique_ptr<kube::SecretCredentials> kube_secrets;

  // The clouds.
  Endpoints endpoints;
  std::unique_ptr<sim::Simulator> simulator;
  std::unique_ptr<ratelimit::Limiter> limiter;
  std::unique_ptr<http::CpprestTransport> cloud_transport;
  std::unique_ptr<DaemonProviderFactory> providers;
  std::unique_ptr<DaemonRecorder> daemon_recorder;
  std::unique_ptr<TeeRecorder> tee;
  controller::Recorder* recorder = nullptr;

  // The controller: built at once, or (with --leader-elect) when this process starts leading.
  controller::ControllerOptions controller_options;
  std::mutex ctl_mu;
  std::unique_ptr<controller::Controller> ctl;  // guarded by ctl_mu while the source runs

  // Leader election (Kubernetes mode).
  std::unique_ptr<kube::Client> lease_client;
  std::unique_ptr<kube::LeaderElector> elector;
  std::atomic<int> leadership;  // 0 standby, 1 leading, 2 lost

  // Servers.
  std::unique_ptr<metrics::MetricsServer> metrics_server;
  std::atomic<bool> alive{true};
  std::unique_ptr<metrics::HealthServer> health;
};

// An error for a configuration step: logged as is, and the process exits with 2.
tl::unexpected<Error> Fatal(std::string message) {
  return MakeError(ErrorCode::kFailedPrecondition, std::move(message));
}

std::string MakeProcessIdentity(Random& random) {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') {
    std::snprintf(host, sizeof host, "rebootd");
  }
  return kube::MakeIdentity(host, random.Uuid4());
}

// ---- configuration -> wiring ----------------------------------------------------------------

Status WireKubernetes(Daemon& d) {
  auto kc = kube::ResolveConfig(d.config.kubeconfig, cloud::ProcessGetenv());
  if (!kc) return Fatal("kubernetes configuration: " + kc.error().message);
  d.log->info("kubernetes {}", kc->Describe());
  if (!kc->namespace_.empty()) d.default_namespace = kc->namespace_;
  d.kube_transport = std::make_unique<http::CpprestTransport>(kube::TransportOptionsFor(*kc));
  d.kube_client = std::make_unique<kube::Client>(*kc, *d.kube_transport, d.clock);
  kube::KubeStatusStoreOptions sso;
  sso.namespace_ = d.config.namespace_;
  d.status_store = std::make_unique<kube::KubeStatusStore>(sso, *d.kube_client);
  kube::KubeSourceOptions ko;
  ko.namespace_ = d.config.namespace_;
  ko.on_problem = [](const std::string& m) { log::Get("kube")->warn("{}", m); };
  d.source = std::make_unique<kube::KubeSource>(ko, *d.kube_client, d.cache, d.EnqueueTo(), d.clock,
                                                d.random);
  kube::EventOptions eo;
  eo.host = d.identity;
  eo.on_problem = [](const std::string& m, bool lasting) {
    if (lasting) {
      log::Get("kube")->warn("{} (not retried; check the Role allows events create/patch)", m);
    } else {
      log::Get("kube")->debug("{}", m);
    }
  };
  d.kube_events = std::make_unique<kube::EventRecorder>(eo, *d.kube_client, d.clock, d.random);
  d.kube_recorder = std::make_unique<kube::KubeEventRecorder>(*d.kube_events, d.clock);
  d.kube_secrets = std::make_unique<kube::SecretCredentials>(*d.kube_client);
  return OkStatus();
}

Status WireFiles(Daemon& d) {
  auto fs = store::FileStatusStore::Open(d.config.state_dir);
  if (!fs) return Fatal("cannot use --state-dir " + d.config.state_dir + ": " + fs.error().message);
  d.status_store = std::move(*fs);
  source::FileSourceOptions so;
  so.paths = d.config.manifests;
  so.on_error = [](const api::FieldError& e) {
    log::Get("source")->error("invalid manifest: {}", e.ToString());
  };
  d.source = std::make_unique<source::FileSource>(so, d.cache, d.EnqueueTo(), d.clock);
  return OkStatus();
}

// The source's first listing (or scan) fills the cache before anything else starts.
Status StartSource(Daemon& d) {
  if (auto s = d.source->Start(); !s) {
    return Fatal(std::string(d.kube_mode ? "cannot list RebootRequests" : "cannot read manifests") +
                 ": " + s.error().message);
  }
  return OkStatus();
}

// --simulate: the simulator in this process, with every loaded ID running (or --sim-inventory).
Status StartSimulator(Daemon& d) {
  auto inv = SimInventory(d.config, d.cache);
  if (!inv) return Fatal("--sim-inventory: " + inv.error().message);
  sim::SimOptions o;
  o.inventory = std::move(*inv);
  o.reboot_seconds = d.config.sim_reboot_seconds;
  o.seed = d.random.Next();
  auto created = sim::Simulator::Create(std::move(o), d.clock);
  if (!created) return Fatal("simulator: " + created.error().message);
  d.simulator = std::move(*created);
  if (auto s = d.simulator->Start(); !s) return Fatal("simulator: " + s.error().message);
  for (Provider p : kAllProviders) d.endpoints.url[p] = d.simulator->BaseUrl();
  d.endpoints.credentials[Provider::kTencent] = sim::DemoTencentCredentials();
  d.endpoints.credentials[Provider::kAliyun] = sim::DemoAliyunCredentials();
  d.log->info("simulator listening url={} (demo credentials; no cloud is touched)",
              d.simulator->BaseUrl());
  return OkStatus();
}

// A run that must finish (--until-done) cannot wait for credentials to appear: check up front
// that every provider the loaded requests use has them.
Status CheckEnvironmentCredentials(const Daemon& d) {
  std::set<Provider> used;
  for (const auto& key : d.cache.Keys()) {
    if (auto r = d.cache.Get(key)) used.insert(r->spec.provider);
  }
  for (Provider p : used) {
    if (auto c = cloud::CredentialsFromEnv(p); !c) {
      return Fatal(std::string(ProviderName(p)) + " credentials: " + c.error().message);
    }
  }
  return OkStatus();
}

// Endpoints, limiter, transport, provider factory, recorders and the controller's options.
Status WireClouds(Daemon& d) {
  const RunConfig& config = d.config;
  d.endpoints.url[Provider::kTencent] = config.tencent_endpoint;
  d.endpoints.url[Provider::kAliyun] = config.aliyun_endpoint;
  if (config.simulate) {
    REBOOTD_RETURN_IF_ERROR(StartSimulator(d));
  } else if (config.until_done) {
    REBOOTD_RETURN_IF_ERROR(CheckEnvironmentCredentials(d));
  }
  auto rates = ratelimit::Limiter::RatesFromFlags(config.rate_limits);
  if (!rates) return Fatal("--rate-limit: " + rates.error().message);
  d.limiter =
      std::make_unique<ratelimit::Limiter>(ratelimit::TokenBucketOptions{}, *rates, d.clock);
  http::CpprestTransportOptions to;
  to.ca_bundle_file = config.ca_bundle;
  d.cloud_transport = std::make_unique<http::CpprestTransport>(to);
  SecretResolver secret_resolver;
  if (d.kube_secrets) {
    secret_resolver = [&d](const api::RebootRequest& r) -> Result<cloud::Credentials> {
      return d.kube_secrets->Read(r.spec.provider, r.metadata.namespace_,
                                  r.spec.credentials_secret_ref->name);
    };
  }
  d.providers = std::make_unique<DaemonProviderFactory>(
      ProviderContext{config, d.endpoints, *d.cloud_transport, *d.limiter, d.metrics, d.clock,
                      d.random},
      secret_resolver);
  d.daemon_recorder = std::make_unique<DaemonRecorder>(d.metrics, d.clock);
  d.recorder = d.daemon_recorder.get();
  if (d.kube_recorder) {
    d.tee = std::make_unique<TeeRecorder>(*d.daemon_recorder, *d.kube_recorder);
    d.recorder = d.tee.get();
  }
  if (d.kube_events) d.kube_events->Start();

  auto& co = d.controller_options;
  co.poller.interval = config.poll_interval;
  co.logic.min_reboot = config.min_reboot_duration;
  // Close watching polls at a third of the shortest reboot, so that two observations (each
  // taking up to a round to make) always fall within one reboot.
  co.poller.close_interval = std::clamp<Duration>(
      config.min_reboot_duration / 3, std::chrono::milliseconds(100), config.poll_interval);
  return OkStatus();
}

// Builds and initialises the controller (loads every run record).
Status StartController(Daemon& d) {
  auto c = std::make_unique<controller::Controller>(d.controller_options, d.cache, *d.status_store,
                                                    *d.providers, *d.recorder, d.clock, d.random);
  if (auto s = c->Init(); !s) {
    return Fatal("cannot load run records from " +
                 (d.kube_mode ? std::string("the cluster") : d.config.state_dir) + ": " +
                 s.error().message);
  }
  std::lock_guard lock(d.ctl_mu);
  d.ctl = std::move(c);
  return OkStatus();
}

// The elector runs on its own thread; the lifecycle loop starts the controller when this
// process leads and exits when the lease is lost (the Deployment restarts it as a fresh
// candidate; this is what controller-runtime does).
Status WireLeaderElection(Daemon& d) {
  const RunConfig& config = d.config;
  kube::LeaderElectionOptions lo;
  lo.namespace_ = config.leader_election_namespace.empty() ? d.default_namespace
                                                           : config.leader_election_namespace;
  lo.identity = d.identity;
  lo.name = config.leader_election_id;
  lo.lease_duration = config.leader_election_lease_duration;
  lo.renew_deadline = config.leader_election_renew_deadline;
  lo.retry_period = config.leader_election_retry_period;
  lo.on_change = [&d](bool leading) {
    if (leading) {
      d.leadership = 1;
    } else if (d.leadership == 1) {
      d.leadership = 2;
    }
  };
  lo.on_problem = [](const std::string& m) { log::Get("kube")->debug("leader election: {}", m); };
  // Lease calls get a short timeout: a hung call must not outlast the renew deadline.
  d.lease_client = std::make_unique<kube::Client>(
      d.kube_client->config(), *d.kube_transport, d.clock,
      std::chrono::duration_cast<std::chrono::milliseconds>(
          std::min<Duration>(std::chrono::seconds(4), config.leader_election_renew_deadline / 2)));
  d.elector = std::make_unique<kube::LeaderElector>(lo, *d.lease_client, d.clock);
  d.log->info("leader election lease={}/{} identity={}", lo.namespace_, lo.name, lo.identity);
  return OkStatus();
}

Status StartServers(Daemon& d) {
  auto m = metrics::MetricsServer::Start(d.config.metrics_bind_address, d.registry);
  if (!m) return Fatal("metrics: " + m.error().message);
  d.metrics_server = std::move(*m);
  metrics::HealthOptions ho;
  ho.bind_address = d.config.health_probe_bind_address;
  ho.live = [&d] { return d.alive.load(); };
  // Ready once the source has synced; a standby replica (not leading) is ready too.
  ho.ready = [&d] { return d.cache.Synced(); };
  ho.not_ready_reason = [] { return std::string("source not synced yet"); };
  auto h = metrics::HealthServer::Start(ho);
  if (!h) return Fatal("health probes: " + h.error().message);
  d.health = std::move(*h);
  d.metrics.SetLeader(!d.config.leader_elect);
  // requests= counts the RebootRequests the source holds now (a manifest file may hold many,
  // or none); in file mode paths= is how many --manifests paths are watched.
  d.log->info("rebootd {} running source={} requests={}{} metrics={} health={}", REBOOTD_VERSION,
              d.kube_mode ? "kubernetes" : "files", d.cache.Size(),
              d.kube_mode ? std::string()
                          : " paths=" + std::to_string(d.config.manifests.size()) +
                                " state-dir=" + d.config.state_dir,
              d.metrics_server ? std::to_string(d.metrics_server->Port()) : "off",
              d.health ? std::to_string(d.health->Port()) : "off");
  return OkStatus();
}

// Everything from the configuration to a daemon ready to run; an error means exit code 2.
Status Wire(Daemon& d) {
  d.identity = MakeProcessIdentity(d.random);
  REBOOTD_RETURN_IF_ERROR(d.kube_mode ? WireKubernetes(d) : WireFiles(d));
  REBOOTD_RETURN_IF_ERROR(StartSource(d));
  REBOOTD_RETURN_IF_ERROR(WireClouds(d));
  if (d.config.leader_elect) {
    REBOOTD_RETURN_IF_ERROR(WireLeaderElection(d));
  } else {
    REBOOTD_RETURN_IF_ERROR(StartController(d));
  }
  return StartServers(d);
}

// ---- lifecycle: signals, leadership, reporting, shutdown -------------------------------------

class Lifecycle {
 public:
  Lifecycle(Daemon& d, const sigset_t& signals)
      : d_(d), signals_(signals), progress_(d.config.log_format == "json") {}

  // Runs until a signal, a lost lease, a fatal error or (--until-done) every request finished;
  // returns the exit code.
  int Run() {
    if (d_.ctl) loop_ = std::jthread([this] { d_.ctl->Run(stop_.get_token()); });
    if (d_.elector) {
      election_ = std::jthread([this](std::stop_token st) { d_.elector->Run(st); });
    }
    next_progress_ = d_.clock.SteadyNow() + d_.config.progress_interval;
    next_gauges_ = d_.clock.SteadyNow();
    next_trim_ = d_.clock.SteadyNow() + std::chrono::seconds(2);
    int exit_code = 0;
    while (!Step(&exit_code)) {
    }
    Shutdown(exit_code);
    return exit_code;
  }

 private:
  // One turn of the loop (every 200 ms at most); true when the daemon must stop.
  bool Step(int* exit_code) {
    timespec ts{0, 200 * 1000 * 1000};
    int sig = sigtimedwait(&signals_, nullptr, &ts);
    if (sig == SIGINT || sig == SIGTERM) {
      d_.log->info("received {}; stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
      return true;
    }
    if (d_.elector && !FollowLeadership(exit_code)) return true;
    if (!d_.ctl) return false;
    // Progress() walks every instance under the controller's lock: once a second is enough for
    // gauges and progress lines (the loop still wakes every 200 ms for signals and leadership).
    const bool finished = d_.config.until_done && d_.ctl->AllFinished();
    if (d_.clock.SteadyNow() < next_gauges_ && !finished) return false;
    next_gauges_ = d_.clock.SteadyNow() + std::chrono::seconds(1);
    TrimMemory();
    Report();
    if (d_.config.until_done && d_.ctl->AllFinished()) {
      *exit_code = Summarize();
      return true;
    }
    return false;
  }

  // Starts the controller when this process begins leading; false when it must stop (the lease
  // is lost, or the controller cannot start).
  bool FollowLeadership(int* exit_code) {
    if (d_.leadership == 1 && !d_.ctl) {
      d_.log->info("became the leader, starting the controller identity={}", d_.identity);
      d_.metrics.SetLeader(true);
      if (auto s = StartController(d_); !s) {
        d_.log->error("{}", s.error().message);
        *exit_code = 2;
        return false;
      }
      loop_ = std::jthread([this] { d_.ctl->Run(stop_.get_token()); });
    } else if (d_.leadership == 2 ||
               (d_.leadership == 1 && !d_.elector->RenewedWithinDeadline(d_.clock.SteadyNow()))) {
      // The second case: a renew call still hangs, but the deadline has passed; another replica
      // may take the lease once it expires, so stop acting now, not when the call returns.
      d_.log->error("leader lease lost, stopping so no two replicas act identity={}", d_.identity);
      d_.metrics.SetLeader(false);
      *exit_code = 1;
      return false;
    }
    return true;
  }

  // Gives memory freed by big transient work (manifest parsing, record encoding) back to the
  // system every 10 s; glibc keeps it otherwise (peak RSS at 100,000 instances, BENCHMARKS.md).
  void TrimMemory() {
    if (d_.clock.SteadyNow() < next_trim_) return;
    malloc_trim(0);
    next_trim_ = d_.clock.SteadyNow() + std::chrono::seconds(10);
  }

  // Gauges every second; progress lines every --progress-interval.
  void Report() {
    auto progress = d_.ctl->Progress();
    PublishGauges(d_.metrics, progress);
    d_.metrics.SetWorkqueueDepth(static_cast<double>(d_.ctl->QueueDepth()));
    SteadyTime now = d_.clock.SteadyNow();
    if (d_.config.progress_interval > Duration::zero() && now >= next_progress_) {
      next_progress_ = now + d_.config.progress_interval;
      for (const auto& line : progress_.Lines(progress, now, d_.clock.Now())) {
        std::printf("%s\n", line.c_str());
      }
      std::fflush(stdout);
    }
  }

  // --until-done: the final line of every request; 1 if any Failed.
  int Summarize() {
    if (d_.cache.Size() == 0)
      d_.log->warn("no RebootRequests found in the manifests; nothing to do");
    int exit_code = 0;
    auto progress = d_.ctl->Progress();
    for (const auto& line : progress_.FinalLines(progress, d_.clock.Now())) {
      std::printf("%s\n", line.c_str());
    }
    for (const auto& p : progress) {
      if (p.desired && p.phase == api::Phase::kFailed) exit_code = 1;
    }
    std::fflush(stdout);
    d_.log->info("every request is finished; exiting with {}", exit_code);
    return exit_code;
  }

  // Stop within 10 s: no new calls; calls in flight finish or stay recorded as intents. A store
  // or API server that hangs (a status write in flight) is cut off after 8 s: what was not
  // written is resolved by polling at the next start, as after a crash.
  void Shutdown(int exit_code) {
    std::jthread watchdog([exit_code](std::stop_token st) {
      if (SystemClock::Instance().SleepFor(std::chrono::milliseconds(8000), st)) {
        log::Get("main")->error("shutdown took too long; exiting (intents are on disk)");
        std::fflush(nullptr);
        _exit(exit_code);
      }
    });
    d_.source->Stop();
    stop_.request_stop();
    if (loop_.joinable()) loop_.join();
    // Release the lease only after the controller stopped acting.
    if (election_.joinable()) {
      election_.request_stop();
      election_.join();
    }
    d_.metrics.SetLeader(false);
    if (d_.kube_events) d_.kube_events->Stop();
    d_.alive = false;
    if (d_.simulator) d_.simulator->Stop();
    watchdog.request_stop();
  }

  Daemon& d_;
  sigset_t signals_;
  ProgressReporter progress_;
  std::stop_source stop_;
  std::jthread loop_;
  std::jthread election_;
  SteadyTime next_progress_{};
  SteadyTime next_gauges_{};
  SteadyTime next_trim_{};
};

}  // namespace

int RunDaemon(const RunConfig& config) {
  if (auto s = log::Setup(log::LogOptions{config.log_format, config.log_level}); !s) {
    std::fprintf(stderr, "rebootd: %s\n", s.error().message.c_str());
    return 2;
  }
  // Signals are taken synchronously by the lifecycle loop; block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  Daemon daemon(config);
  if (auto s = Wire(daemon); !s) {
    daemon.log->error("{}", s.error().message);
    return 2;
  }
  return Lifecycle(daemon, signals).Run();
}

}  // namespace rebootd::app
