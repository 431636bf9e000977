// SPDX-License-Identifier: Apache-2.0
#include "pkg/controller/controller.h"

#include <algorithm>

namespace rebootd::controller {

using api::InstanceState;

struct Controller::RunState {
  store::Record record;
  // Instance positions sorted by id (binary search; far smaller than a hash map at 10,000s).
  std::vector<uint32_t> by_id;
  std::vector<InstanceRuntime> runtime;  // parallel to status.instances
  cloud::CloudProvider* provider = nullptr;
  bool desired = true;
  bool dirty = false;
  // A proof that exists nowhere else was seen (a reboot in progress for an instance whose
  // baseline cannot tell one later): write it now rather than at the next coalesced write.
  bool urgent = false;
  std::optional<SteadyTime> last_persist;
  // Since when writes of this run's record fail (full or read-only disk, API server refusing);
  // no new reboot call is made meanwhile (an intent must be durable first).
  std::optional<SystemTime> write_failing_since;
  std::string reported_spec_hash;  // a rejected changed spec already reported
  bool finished_reported = false;

  // The position of instance `id`, nullopt when the request does not list it.
  std::optional<size_t> Find(std::string_view id) const {
    const auto& inst = record.request.status->instances;
    auto it = std::lower_bound(by_id.begin(), by_id.end(), id,
                               [&](uint32_t i, std::string_view v) { return inst[i].id < v; });
    if (it == by_id.end() || inst[*it].id != id) return std::nullopt;
    return *it;
  }
  api::RebootRequest& req() { return record.request; }
  api::RebootRequestStatus& st() { return *record.request.status; }
  void BuildIndex() {
    auto& inst = st().instances;
    by_id.resize(inst.size());
    for (size_t i = 0; i < inst.size(); ++i) by_id[i] = static_cast<uint32_t>(i);
    std::sort(by_id.begin(), by_id.end(),
              [&](uint32_t a, uint32_t b) { return inst[a].id < inst[b].id; });
    runtime.resize(inst.size());
  }
};

struct Controller::Workers {
  std::unique_ptr<Dispatcher> dispatcher;
  std::unique_ptr<Poller> poller;
};

namespace {

cloud::RebootMode ToCloudMode(api::Mode m) {
  switch (m) {
    case api::Mode::kSoft:
      return cloud::RebootMode::kSoft;
    case api::Mode::kHard:
      return cloud::RebootMode::kHard;
    case api::Mode::kSoftFirst:
      return cloud::RebootMode::kSoftFirst;
  }
  return cloud::RebootMode::kSoft;
}

// What one intent adds to the written status at most, beyond its ID and baseline: the entry
// of an in-flight instance (state, reason, attempts, requestedAt, acceptedAt, requestId,
// seenTransitional, JSON punctuation), counted whole although its Pending entry was there.
constexpr size_t kIntentEntryBytes = 240;
// What an entry written as Requesting adds when its call is answered (acceptedAt, requestId,
// seenTransitional); counted against the room until then.
constexpr size_t kAnswerGrowthBytes = 120;

void SetCondition(api::RebootRequestStatus& st, const std::string& type, const std::string& status,
                  const std::string& reason, const std::string& message, SystemTime now,
                  int64_t generation) {
  for (auto& c : st.conditions) {
    if (c.type == type) {
      if (c.status != status) c.last_transition_time = now;
      c.status = status;
      c.reason = reason;
      c.message = message;
      c.observed_generation = generation;
      return;
    }
  }
  st.conditions.push_back(api::Condition{type, status, reason, message, now, generation});
}

}  // namespace

Controller::Controller(ControllerOptions options, store::RequestCache& cache,
                       store::StatusStore& status, ProviderFactory& providers, Recorder& recorder,
                       Clock& clock, Random& random)
    : options_(options),
      cache_(cache),
      status_(status),
      providers_(providers),
      recorder_(recorder),
      clock_(clock),
      random_(random),
      queue_(clock, random, options.backoff) {}

Controller::~Controller() { Shutdown(); }

Status Controller::Init() {
  auto listed = status_.List();
  if (!listed) return MakeError(listed.error());
  for (const auto& problem : listed->problems) {
    recorder_.Warning("", "StatusRecordUnreadable", problem.message);
  }
  std::lock_guard lock(mu_);
  for (auto& rec : listed->records) {
    if (!rec.request.status) continue;
    auto run = std::make_unique<RunState>();
    run->record = std::move(rec);
    run->BuildIndex();
    // After a restart, an instance in Requesting may or may not have been rebooted: resolve it
    // by polling, never by calling again (DESIGN.md §4). What happened while rebootd was down
    // was not watched: coverage runs from the intent, and the settle time from now (a call sent
    // just before the crash may not show yet).
    const SystemTime now = clock_.Now();
    for (size_t i = 0; i < run->st().instances.size(); ++i) {
      const auto& s = run->st().instances[i];
      if (s.state != InstanceState::kRequesting && s.state != InstanceState::kRebooting) continue;
      auto& rt = run->runtime[i];
      rt.coverage = cloud::Coverage(s.requested_at.value_or(now), options_.logic.min_reboot);
      rt.resolve_from =
          s.state == InstanceState::kRebooting && s.accepted_at ? *s.accepted_at : now;
    }
    run->finished_reported =
        run->st().phase == api::Phase::kSucceeded || run->st().phase == api::Phase::kFailed;
    std::string key = run->req().Key();
    runs_.emplace(key, std::move(run));
    queue_.Add(key);
  }
  for (const auto& key : cache_.Keys()) queue_.Add(key);
  return OkStatus();
}

void Controller::Enqueue(const std::string& key) { queue_.Add(key); }

void Controller::DeliverOutcomes(const std::string& key, std::vector<RebootOutcome> outcomes) {
  {
    std::lock_guard lock(inbox_mu_);
    auto& v = inbox_outcomes_[key];
    for (auto& o : outcomes) v.push_back(std::move(o));
  }
  queue_.Add(key);
}

void Controller::DeliverObservations(const std::string& key, std::vector<ObservationEvent> events) {
  {
    std::lock_guard lock(inbox_mu_);
    auto& v = inbox_observations_[key];
    for (auto& e : events) v.push_back(std::move(e));
  }
  queue_.Add(key);
}

Controller::Workers* Controller::WorkersFor(cloud::CloudProvider* provider) {
  auto it = workers_.find(provider);
  if (it != workers_.end()) return it->second.get();
  auto w = std::make_unique<Workers>();
  w->dispatcher =
      std::make_unique<Dispatcher>(*provider, clock_, options_.dispatcher,
                                   [this](const std::string& key, std::vector<RebootOutcome> o) {
                                     DeliverOutcomes(key, std::move(o));
                                   });
  w->poller = std::make_unique<Poller>(
      *provider, clock_, options_.poller,
      [this](const std::string& key, std::vector<ObservationEvent> e) {
        DeliverObservations(key, std::move(e));
      },
      [this, scope = provider->scope()](const Error& e, const std::vector<std::string>& keys) {
        recorder_.Warning("", "PollFailed", scope + ": " + e.ToString());
        // Refused credentials or permissions: no instance waiting for its baseline will get
        // one, and no reboot call would be accepted either.
        if (e.code != ErrorCode::kUnauthenticated && e.code != ErrorCode::kPermissionDenied) {
          return;
        }
        for (const auto& key : keys) {
          {
            std::lock_guard lock(inbox_mu_);
            inbox_failures_[key] = PollFailure{e, clock_.Now()};
          }
          queue_.Add(key);
        }
      });
  Workers* raw = w.get();
  workers_.emplace(provider, std::move(w));
  return raw;
}

void Controller::Run(std::stop_token stop) {
  while (!stop.stop_requested()) {
    auto key = queue_.Get(stop);
    if (!key) break;
    Reconcile(*key);
    queue_.Done(*key);
  }
  Shutdown();
}

int Controller::RunOnce() {
  int n = 0;
  while (auto key = queue_.TryGet()) {
    Reconcile(*key);
    queue_.Done(*key);
    ++n;
  }
  return n;
}

void Controller::Shutdown() {
  std::map<cloud::CloudProvider*, std::unique_ptr<Workers>> workers;
  {
    std::lock_guard lock(mu_);
    workers.swap(workers_);
  }
  for (auto& [p, w] : workers) {
    w->poller->Stop();
    w->dispatcher->Stop();  // delivers what was not sent as kNotSent
  }
  std::lock_guard lock(mu_);
  for (auto& [key, run] : runs_) {
    ApplyInbox(*run, nullptr);  // the workers are stopped: record what they reported
    UpdatePhase(*run);
    // A failure is reported (RecordWriteFailed); what is lost is resolved by polling at the
    // next start, as after a crash.
    if (run->dirty) (void)Persist(*run);
  }
  queue_.ShutDown();
}

Duration Controller::PersistInterval(const RunState& run) const {
  return options_.persist_interval +
         options_.persist_interval_per_instance *
             static_cast<int64_t>(run.record.request.status->instances.size());
}

Status Controller::Persist(RunState& run) {
  auto& st = run.st();
  st.summary = api::Summarize(st.instances);
  const SystemTime now = clock_.Now();
  const int64_t generation = run.req().metadata.generation;
  if (run.write_failing_since) {
    // The write that succeeds says so itself: the condition goes False in this very record.
    SetCondition(st, "RecordWriteFailed", "False", "Recovered",
                 "writes of the run record failed from " + FormatRfc3339(*run.write_failing_since) +
                     " to " + FormatRfc3339(now) + "; no reboot call was made meanwhile",
                 now, generation);
  }
  // Readers (Progress) only read the record; nobody else writes it meanwhile.
  Status s = Unlocked([&] { return status_.Save(run.record); });
  if (s) {
    if (run.write_failing_since) {
      recorder_.Warning(run.req().Key(), "RecordWriteRecovered",
                        "the run record is written again; reboot calls resume");
    }
    run.write_failing_since.reset();
    run.dirty = false;
    run.urgent = false;
    run.last_persist = clock_.SteadyNow();
    return s;
  }
  if (s.error().code == ErrorCode::kNotFound && !run.desired) return s;  // deleted: see callers
  if (!run.write_failing_since) run.write_failing_since = now;
  // Kept in memory (and written with the first write that succeeds, then set False above).
  SetCondition(st, "RecordWriteFailed", "True", "WriteFailed",
               "the run record cannot be written (" + s.error().message +
                   "); no new reboot call is made until it can",
               *run.write_failing_since, generation);
  recorder_.RecordWriteFailed(run.req().Key(), s.error());
  return s;
}

void Controller::ReleaseProvider(RunState& run) {
  if (!run.provider) return;
  // A finished run waits for nothing; an unfinished one (replaced by a new object) only when
  // no call is in flight (the caller checks).
  const bool finished =
      run.st().phase == api::Phase::kSucceeded || run.st().phase == api::Phase::kFailed;
  if (!finished) {
    for (const auto& rt : run.runtime) {
      if (rt.in_flight) return;
    }
  }
  cloud::CloudProvider* provider = run.provider;
  run.provider = nullptr;
  for (const auto& [key, other] : runs_) {
    if (other->provider == provider) return;
  }
  if (auto it = workers_.find(provider); it != workers_.end()) {
    std::unique_ptr<Workers> workers = std::move(it->second);
    workers_.erase(it);
    // Joining threads is I/O-like waiting: not under mu_ (their callbacks take only inbox_mu_).
    Unlocked([&] {
      workers->poller->Stop();
      workers->dispatcher->Stop();
      return 0;
    });
  }
  providers_.Release(provider);
}

void Controller::PersistOrRetry(RunState& run) {
  if (Persist(run)) return;
  // Not dropped: retried with backoff until the store takes it.
  queue_.AddRateLimited(run.req().Key());
}

void Controller::ApplyInbox(RunState& run, Workers* workers) {
  std::vector<RebootOutcome> outcomes;
  std::vector<ObservationEvent> observations;
  std::optional<PollFailure> failure;
  {
    std::lock_guard lock(inbox_mu_);
    if (auto ft = inbox_failures_.find(run.req().Key()); ft != inbox_failures_.end()) {
      failure = std::move(ft->second);
      inbox_failures_.erase(ft);
    }
    auto it = inbox_outcomes_.find(run.req().Key());
    if (it != inbox_outcomes_.end()) {
      outcomes.swap(it->second);
      inbox_outcomes_.erase(it);
    }
    auto jt = inbox_observations_.find(run.req().Key());
    if (jt != inbox_observations_.end()) {
      observations.swap(jt->second);
      inbox_observations_.erase(jt);
    }
  }
  if (outcomes.empty() && observations.empty() && !failure) return;
  if (!run.provider) return;  // nothing was dispatched or watched without a provider
  SteadyTime steady = clock_.SteadyNow();
  const LogicContext ctx{*run.provider, options_.logic, run.req().spec.dry_run};
  std::vector<std::string> unwatch;
  bool nudge = false;
  for (const auto& o : outcomes) {
    auto found = run.Find(o.id);
    if (!found) continue;
    auto& inst = run.st().instances[*found];
    Next next = ApplyOutcome(ctx, o, inst, run.runtime[*found], steady);
    run.dirty = true;
    if (o.kind == RebootOutcome::Kind::kAccepted || o.kind == RebootOutcome::Kind::kAmbiguous) {
      nudge = true;  // look soon: a reboot in progress is best seen early
    }
    if (next == Next::kFinished) {
      unwatch.push_back(o.id);
      run.runtime[*found].watched = WatchLevel::kNone;
      recorder_.InstanceFinished(run.req(), inst);
    }
  }
  for (const auto& ev : observations) {
    auto found = run.Find(ev.id);
    if (!found) continue;
    size_t i = *found;
    auto& inst = run.st().instances[i];
    // Only persisted fields make the record dirty (a Pending instance's fresh baseline does not).
    const InstanceState state_before = inst.state;
    const bool seen_before = inst.seen_transitional;
    Next next = ApplyObservation(ctx, ev, inst, run.runtime[i]);
    if (inst.state != state_before || inst.seen_transitional != seen_before) run.dirty = true;
    if (inst.seen_transitional && !seen_before && !api::IsFinished(inst.state) &&
        run.runtime[i].baseline_ambiguous.value_or(true)) {
      run.urgent = true;
    }
    if (next == Next::kFinished) {
      unwatch.push_back(ev.id);
      run.runtime[i].watched = WatchLevel::kNone;
      recorder_.InstanceFinished(run.req(), inst);
    }
  }
  if (failure) {
    // Instances still waiting to be looked at cannot be rebooted with these credentials.
    const std::string reason = run.provider->FailureReason(failure->error);
    for (size_t i = 0; i < run.st().instances.size(); ++i) {
      auto& inst = run.st().instances[i];
      auto& rt = run.runtime[i];
      if (inst.state != InstanceState::kPending || rt.in_flight || !inst.baseline.empty()) {
        continue;
      }
      inst.state = InstanceState::kFailed;
      inst.reason = reason;
      inst.message = "cannot look at the instance before rebooting it: " + failure->error.message;
      inst.completed_at = failure->at;
      run.dirty = true;
      unwatch.push_back(inst.id);
      rt.watched = WatchLevel::kNone;
      recorder_.InstanceFinished(run.req(), inst);
    }
  }
  if (workers && !unwatch.empty()) workers->poller->Unwatch(run.req().Key(), unwatch);
  if (workers && nudge) workers->poller->Nudge();
}

Result<Controller::RunState*> Controller::LoadRun(const std::string& key) {
  auto desired = cache_.Get(key);
  auto it = runs_.find(key);
  if (it != runs_.end()) {
    RunState& old = *it->second;
    const std::string& old_uid = old.req().metadata.uid;
    bool replaced = desired && !desired->metadata.uid.empty() && !old_uid.empty() &&
                    desired->metadata.uid != old_uid;
    bool in_flight = std::any_of(old.runtime.begin(), old.runtime.end(),
                                 [](const InstanceRuntime& rt) { return rt.in_flight; });
    // Kubernetes: the request was deleted and created again under the same name (a new uid),
    // which is a new request. The old run is dropped once no call of it is in flight (its
    // outcomes arrive under the same key); until then it finishes first.
    if (!replaced || in_flight) return it->second.get();
    if (old.provider) WorkersFor(old.provider)->poller->UnwatchAll(key);
    ReleaseProvider(old);
    {
      std::lock_guard lock(inbox_mu_);
      inbox_outcomes_.erase(key);
      inbox_observations_.erase(key);
      inbox_failures_.erase(key);
    }
    runs_.erase(it);
  }
  if (!desired) return static_cast<RunState*>(nullptr);
  auto run = std::make_unique<RunState>();
  run->record.request = *desired;
  api::RebootRequestStatus st;
  st.phase = api::Phase::kPending;
  st.observed_generation = desired->metadata.generation;
  st.spec_hash = api::SpecHash(desired->spec);
  st.instances.reserve(desired->spec.instance_ids.size());
  for (const auto& id : desired->spec.instance_ids) {
    api::InstanceStatus s;
    s.id = id;
    st.instances.push_back(std::move(s));
  }
  st.summary = api::Summarize(st.instances);
  run->record.request.status = std::move(st);
  run->BuildIndex();
  run->dirty = true;
  RunState* raw = run.get();
  runs_.emplace(key, std::move(run));
  return raw;
}

void Controller::Reconcile(const std::string& key) {
  std::unique_lock lock(mu_);
  reconcile_lock_ = &lock;
  struct Clear {
    std::unique_lock<std::mutex>** p;
    ~Clear() { *p = nullptr; }
  } clear{&reconcile_lock_};
  auto loaded = LoadRun(key);
  RunState* run = loaded ? *loaded : nullptr;
  if (!run) {
    recorder_.ReconcileResult("success");
    return;
  }
  SystemTime now = clock_.Now();
  auto desired = cache_.Get(key);
  run->desired = desired != nullptr;
  if (!run->desired && run->provider) {
    // Deleted mid-run: reboots not sent yet are taken back (they come back as kNotSent, and
    // Decide() then cancels the Pending instances); calls already made are still resolved.
    WorkersFor(run->provider)->dispatcher->Cancel(key);
  }
  auto& st = run->st();
  if (desired) {
    std::string h = api::SpecHash(desired->spec);
    if (h != st.spec_hash && h != run->reported_spec_hash) {
      run->reported_spec_hash = h;
      std::string msg =
          "the spec changed after the run started; the change is rejected and the run "
          "continues with the original spec (create a new RebootRequest to reboot again)";
      SetCondition(st, "SpecChangeRejected", "True", "SpecImmutable", msg, now,
                   desired->metadata.generation);
      recorder_.Warning(key, "SpecChangeRejected", msg);
      run->dirty = true;
    } else if (h == st.spec_hash && !run->reported_spec_hash.empty()) {
      run->reported_spec_hash.clear();
      SetCondition(st, "SpecChangeRejected", "False", "SpecUnchanged", "", now,
                   desired->metadata.generation);
      run->dirty = true;
    }
  }
  bool finished = st.phase == api::Phase::kSucceeded || st.phase == api::Phase::kFailed;
  if (finished) {
    if (run->dirty) PersistOrRetry(*run);
    recorder_.ReconcileResult("success");
    return;
  }
  if (!run->provider) {
    auto p = Unlocked([&] { return providers_.ProviderFor(run->req()); });
    if (!p &&
        (p.error().code == ErrorCode::kNotFound || p.error().code == ErrorCode::kInvalidArgument)) {
      // A terminal configuration problem (e.g. the credentials Secret is missing or malformed):
      // the request fails with the reason instead of waiting forever. No call was made for
      // Pending instances; instances left Requesting by an earlier run stay unresolved.
      SetCondition(st, "ProviderReady", "False", "CredentialsError", p.error().message, now,
                   run->req().metadata.generation);
      recorder_.Warning(key, "CredentialsError", p.error().message);
      if (!st.started_at) st.started_at = now;
      for (auto& inst : st.instances) {
        if (api::IsFinished(inst.state)) continue;
        bool unresolved = inst.state != InstanceState::kPending;
        inst.state = InstanceState::kFailed;
        inst.reason = "CredentialsError";
        inst.message = p.error().message +
                       (unresolved ? " (a reboot was requested before; its outcome is unknown)"
                                   : " (not rebooted)");
        inst.completed_at = now;
        recorder_.InstanceFinished(run->req(), inst);
      }
      run->dirty = true;
      UpdatePhase(*run);
      PersistOrRetry(*run);
      if (!run->finished_reported) {
        run->finished_reported = true;
        recorder_.RequestFinished(run->req());
      }
      recorder_.ReconcileResult("error");
      return;
    }
    if (!p) {
      SetCondition(st, "ProviderReady", "False", "ProviderError", p.error().message, now,
                   run->req().metadata.generation);
      recorder_.Warning(key, "ProviderError", p.error().message);
      run->dirty = true;
      (void)Persist(*run);  // retried below in any case
      recorder_.ReconcileResult("error");
      queue_.AddRateLimited(key);
      return;
    }
    run->provider = *p;
    SetCondition(st, "ProviderReady", "True", "ProviderReady", run->provider->scope(), now,
                 run->req().metadata.generation);
    if (!st.started_at) {
      st.started_at = now;
      st.phase = api::Phase::kInProgress;
      recorder_.RequestStarted(run->req());
    }
    run->dirty = true;
    queue_.Forget(key);
  }
  Workers* workers = WorkersFor(run->provider);
  ApplyInbox(*run, workers);
  Decide(*run, workers);
  UpdatePhase(*run);
  bool now_finished = st.phase == api::Phase::kSucceeded || st.phase == api::Phase::kFailed;
  if (run->dirty) {
    bool due = now_finished || run->urgent || !run->last_persist ||
               clock_.SteadyNow() - *run->last_persist >= PersistInterval(*run);
    if (due) {
      Status saved = Persist(*run);
      if (!saved && saved.error().code == ErrorCode::kNotFound && !run->desired) {
        // The request was deleted and its record went with it (Kubernetes: the status lives in
        // the object). No new reboot can start (that needs `desired`); in-flight instances are
        // still resolved by polling and reported, without a record.
        run->dirty = false;
      } else if (!saved) {
        recorder_.ReconcileResult("error");
        queue_.AddRateLimited(key);
        return;
      }
    } else {
      queue_.AddAfter(key, PersistInterval(*run) - (clock_.SteadyNow() - *run->last_persist));
    }
  }
  if (now_finished) {
    workers->poller->UnwatchAll(key);
    if (!run->finished_reported) {
      run->finished_reported = true;
      recorder_.RequestFinished(run->req());
    }
    ReleaseProvider(*run);
  }
  recorder_.ReconcileResult(now_finished ? "success" : "requeue");
}

void Controller::Decide(RunState& run, Workers* workers) {
  auto& st = run.st();
  const auto& spec = run.req().spec;
  SystemTime now = clock_.Now();
  SteadyTime steady = clock_.SteadyNow();
  cloud::CloudProvider& provider = *run.provider;
  const bool aliyun = spec.provider == cloud::Provider::kAliyun;
  // Dry runs the API cannot do are emulated by looking at the instances; real runs look at them
  // first too (the baseline every later observation is judged against).
  const bool api_dry_run = spec.dry_run && provider.SupportsDryRun();
  std::vector<std::string> watch, watch_closely, unwatch;
  std::vector<size_t> dispatch;
  std::vector<size_t> escalate;
  std::optional<SystemTime> next_wake;
  std::optional<SteadyTime> next_retry;
  auto wake_at = [&](SystemTime t) {
    if (!next_wake || t < *next_wake) next_wake = t;
  };
  auto watch_at = [&](size_t i, WatchLevel level) {
    auto& rt = run.runtime[i];
    if (rt.watched == level) return;
    rt.watched = level;
    (level == WatchLevel::kClose ? watch_closely : watch).push_back(st.instances[i].id);
  };
  int requesting = 0;
  int in_flight = 0;
  for (const auto& s : st.instances) {
    requesting += s.state == InstanceState::kRequesting;
    in_flight += s.state == InstanceState::kRequesting || s.state == InstanceState::kRebooting;
  }

  SystemTime run_started = st.started_at ? *st.started_at : now;
  for (size_t i = 0; i < st.instances.size(); ++i) {
    auto& s = st.instances[i];
    auto& rt = run.runtime[i];
    if (api::IsFinished(s.state)) continue;
    SystemTime deadline = DeadlineOf(s, run_started, spec.timeout_seconds);
    if (now >= deadline && !rt.in_flight) {
      s.state = InstanceState::kFailed;
      s.reason = "Timeout";
      s.message =
          "not running again within timeoutSeconds=" + std::to_string(spec.timeout_seconds) +
          (rt.last_raw.empty() ? std::string() : " (last seen " + rt.last_raw + ")");
      s.completed_at = now;
      run.dirty = true;
      unwatch.push_back(s.id);
      rt.watched = WatchLevel::kNone;
      recorder_.InstanceFinished(run.req(), s);
      continue;
    }
    wake_at(deadline);
    switch (s.state) {
      case InstanceState::kPending:
        if (rt.in_flight) break;
        if (!run.desired) {
          s.state = InstanceState::kFailed;
          s.reason = "Cancelled";
          s.message = "the RebootRequest was deleted before this instance was rebooted";
          s.completed_at = now;
          run.dirty = true;
          unwatch.push_back(s.id);
          rt.watched = WatchLevel::kNone;
          recorder_.InstanceFinished(run.req(), s);
          break;
        }
        if (!api_dry_run || rt.recheck) watch_at(i, WatchLevel::kNormal);
        if (spec.dry_run && (!api_dry_run || rt.recheck)) break;  // decided by observations
        // A real reboot waits for its baseline (an escalation that was not sent keeps its own).
        if (!api_dry_run && s.baseline.empty()) break;
        if (rt.retry_after && steady < *rt.retry_after) {
          if (!next_retry || *rt.retry_after < *next_retry) next_retry = rt.retry_after;
          break;
        }
        dispatch.push_back(i);
        break;
      case InstanceState::kRequesting:
      case InstanceState::kRebooting: {
        // Watched closely while an equal observation could not rule a reboot out, or while an
        // unanswered call or a restart is being resolved.
        if (rt.watched != WatchLevel::kClose) {
          const bool resolving = s.state == InstanceState::kRequesting && rt.resolve_from;
          if (!rt.baseline_ambiguous) {
            rt.baseline_ambiguous = BaselineIsAmbiguous(provider, s.baseline);
          }
          watch_at(i, resolving || (!s.seen_transitional && *rt.baseline_ambiguous)
                          ? WatchLevel::kClose
                          : WatchLevel::kNormal);
        }
        if (rt.in_flight || s.state != InstanceState::kRebooting) break;
        if (aliyun && spec.mode == api::Mode::kSoftFirst && !s.escalated && s.accepted_at) {
          auto soft = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(
              static_cast<double>(spec.timeout_seconds) * options_.soft_first_fraction));
          SystemTime at = *s.accepted_at + std::chrono::duration_cast<SystemTime::duration>(soft);
          // Escalate only while the soft reboot is visibly stuck (running with no sign of it,
          // or still on its way down); an instance that is starting is on its way back.
          bool stuck =
              rt.last_stopping || (rt.last_sign && (*rt.last_sign == cloud::Sign::kUnchanged ||
                                                    *rt.last_sign == cloud::Sign::kUnchangedMaybe));
          if (now >= at && stuck && run.desired) {
            escalate.push_back(i);
          } else if (now < at) {
            wake_at(at);
          }
        }
        break;
      }
      default:
        break;
    }
  }

  // Intents first: mark Requesting and write the record durably; only then call.
  // Each intent write rewrites the whole record, so a request larger than the Requesting window
  // refills it in big steps, once half of it was answered, not after every answered call
  // (a 10,000-ID request would otherwise rewrite its record ~20 times a second).
  std::vector<RebootWork> work;
  const int window = options_.max_requesting_per_request;
  int room = requesting > window / 2 ? 0 : std::max(0, window - requesting);
  // Instances whose baseline cannot rule out an unseen reboot are the ones a crash leaves
  // undecidable (RebootUnverified) if their intent is written but their call not yet answered:
  // write their intents only as fast as the dispatcher sends calls (a little ahead of it).
  const size_t lookahead = options_.ambiguous_lookahead_calls * provider.MaxRebootBatch();
  const size_t queued = workers->dispatcher->Queued();
  int ambiguous_room = queued >= lookahead ? 0 : static_cast<int>(lookahead - queued);
  // The status must stay under the store's size limit (etcd's 1.5 MiB in Kubernetes mode) at
  // every moment: each intent adds an in-flight entry, so new intents wait while the record has
  // no room for them, until finished instances (written compactly) make room. With nothing in
  // flight waiting cannot help, and the intents go ahead.
  std::optional<size_t> bytes_room = status_.RoomBytes(run.req().Key());
  if (bytes_room) {
    // Entries written as Requesting still grow when their call is answered.
    const size_t growth = static_cast<size_t>(requesting) * kAnswerGrowthBytes;
    *bytes_room -= std::min(growth, *bytes_room);
  }
  bool held_for_size = false;
  std::vector<size_t> intents;
  for (size_t i : escalate) {
    auto& s = st.instances[i];
    auto& rt = run.runtime[i];
    s.escalated = true;
    MarkIntent(s, rt, now, options_.logic);
    s.reason = "Escalating";
    s.message = "soft reboot not finished; escalating to a forced reboot";
    intents.push_back(i);
    recorder_.Escalated(run.req(), s.id);
    work.push_back(RebootWork{run.req().Key(), s.id, ToCloudMode(spec.mode), true, false});
  }
  for (size_t i : dispatch) {
    auto& s = st.instances[i];
    if (spec.dry_run) {
      work.push_back(RebootWork{run.req().Key(), s.id, ToCloudMode(spec.mode),
                                spec.mode == api::Mode::kHard, true});
      continue;
    }
    if (room <= 0) break;
    const size_t cost = kIntentEntryBytes + s.id.size() + s.baseline.size();
    if (bytes_room && cost > *bytes_room && (in_flight > 0 || !intents.empty())) {
      held_for_size = true;
      break;
    }
    if (BaselineIsAmbiguous(provider, s.baseline)) {
      if (ambiguous_room <= 0) continue;  // a later reconcile, when the queue has drained
      --ambiguous_room;
    }
    if (bytes_room) *bytes_room -= std::min(cost, *bytes_room);
    --room;
    MarkIntent(s, run.runtime[i], now, options_.logic);
    s.reason = "RebootRequested";
    s.message.clear();
    intents.push_back(i);
    // An escalation that was not sent (kNotSent) goes out again as the forced call it was.
    const bool force = aliyun && (spec.mode == api::Mode::kHard || s.escalated);
    work.push_back(RebootWork{run.req().Key(), s.id, ToCloudMode(spec.mode), force, false});
  }
  if (!spec.dry_run) {
    // Shown while it holds calls back; cleared (False) once it no longer does.
    const api::Condition* shown = nullptr;
    for (const auto& c : st.conditions) {
      if (c.type == "StatusSizeLimit") shown = &c;
    }
    if (held_for_size && (!shown || shown->status != "True")) {
      SetCondition(st, "StatusSizeLimit", "True", "ObjectSizeLimit",
                   "new reboot calls wait for in-flight instances to finish: the status is near "
                   "the API server's object size limit",
                   now, run.req().metadata.generation);
      recorder_.Warning(run.req().Key(), "StatusSizeLimit",
                        "reboot calls paced: the status is near the object size limit with " +
                            std::to_string(in_flight) + " instances in flight");
      run.dirty = true;
    } else if (!held_for_size && shown && shown->status == "True") {
      SetCondition(st, "StatusSizeLimit", "False", "WithinLimit", "", now,
                   run.req().metadata.generation);
      run.dirty = true;
    }
  }
  if (!intents.empty()) {
    run.dirty = true;
    Status saved = Persist(run);
    if (!saved) {
      // The intent is not durable: make no call (DESIGN.md §4). Undo and retry later.
      for (size_t i : intents) {
        auto& s = st.instances[i];
        s.state =
            s.escalated && s.accepted_at ? InstanceState::kRebooting : InstanceState::kPending;
        s.attempts -= 1;
      }
      std::erase_if(work, [](const RebootWork& w) { return !w.dry_run; });
      queue_.AddRateLimited(run.req().Key());
    } else {
      recorder_.InstancesRequested(run.req(), static_cast<int>(intents.size()));
      // The intents changed how closely these instances are watched.
      for (size_t i : intents) {
        auto& rt = run.runtime[i];
        rt.baseline_ambiguous = BaselineIsAmbiguous(provider, st.instances[i].baseline);
        if (*rt.baseline_ambiguous) watch_at(i, WatchLevel::kClose);
      }
    }
  }
  for (const auto& w : work) run.runtime[*run.Find(w.id)].in_flight = true;
  if (!work.empty()) workers->dispatcher->Submit(std::move(work));
  if (!watch.empty()) workers->poller->Watch(run.req().Key(), watch);
  if (!watch_closely.empty()) workers->poller->Watch(run.req().Key(), watch_closely, true);
  if (!unwatch.empty()) workers->poller->Unwatch(run.req().Key(), unwatch);

  if (next_wake) {
    auto d = std::chrono::duration_cast<Duration>(*next_wake - now);
    queue_.AddAfter(run.req().Key(), std::max(d, Duration(std::chrono::milliseconds(10))));
  }
  if (next_retry) queue_.AddAfter(run.req().Key(), *next_retry - steady);
}

void Controller::UpdatePhase(RunState& run) {
  auto& st = run.st();
  st.summary = api::Summarize(st.instances);
  if (!st.started_at) return;
  SystemTime now = clock_.Now();
  int64_t gen = run.req().metadata.generation;
  bool all_done = st.summary.succeeded + st.summary.failed == st.summary.total;
  api::Phase phase = api::Phase::kInProgress;
  if (all_done) phase = st.summary.failed > 0 ? api::Phase::kFailed : api::Phase::kSucceeded;
  if (phase != st.phase) {
    st.phase = phase;
    run.dirty = true;
    if (all_done) {
      st.completed_at = now;
      std::string msg = std::to_string(st.summary.succeeded) + " of " +
                        std::to_string(st.summary.total) + " instances succeeded";
      SetCondition(st, "Complete", phase == api::Phase::kSucceeded ? "True" : "False",
                   phase == api::Phase::kSucceeded ? "AllSucceeded" : "SomeFailed", msg, now, gen);
      SetCondition(st, "Failed", phase == api::Phase::kFailed ? "True" : "False",
                   phase == api::Phase::kFailed ? "SomeFailed" : "AllSucceeded", msg, now, gen);
    }
  }
}

std::vector<RequestProgress> Controller::Progress() const {
  const SystemTime now = clock_.Now();
  std::lock_guard lock(mu_);
  std::vector<RequestProgress> out;
  for (const auto& [key, run] : runs_) {
    const auto& st = *run->record.request.status;
    RequestProgress p{key,           run->record.request.spec.provider,
                      st.phase,      api::Summarize(st.instances),
                      st.started_at, st.completed_at,
                      run->desired};
    if (st.started_at &&
        (st.phase == api::Phase::kInProgress || st.phase == api::Phase::kPending)) {
      const int64_t timeout = run->record.request.spec.timeout_seconds;
      for (const auto& s : st.instances) {
        if (!api::IsFinished(s.state) && now > DeadlineOf(s, *st.started_at, timeout)) {
          ++p.past_deadline;
        }
      }
    }
    out.push_back(std::move(p));
  }
  return out;
}

bool Controller::WorkersCaughtUp(SteadyTime t, int sleeping_on_clock) const {
  std::lock_guard lock(mu_);
  size_t in_flight = 0;
  for (const auto& [provider, w] : workers_) {
    if (w->poller->CaughtUpTo() < t) return false;
    const size_t busy = w->dispatcher->InFlight();
    // Queued work is waiting for a worker only when every worker is busy.
    if (w->dispatcher->Queued() > 0 && busy < static_cast<size_t>(w->dispatcher->Workers())) {
      return false;
    }
    in_flight += busy;
  }
  // Caught-up pollers sleep on the clock; any other sleeper is a call waiting for time.
  return in_flight + workers_.size() <= static_cast<size_t>(std::max(sleeping_on_clock, 0));
}

bool Controller::AllFinished() const {
  if (!cache_.Synced()) return false;
  std::lock_guard lock(mu_);
  for (const auto& key : cache_.Keys()) {
    auto it = runs_.find(key);
    if (it == runs_.end()) return false;
    auto phase = it->second->record.request.status->phase;
    if (phase != api::Phase::kSucceeded && phase != api::Phase::kFailed) return false;
    if (it->second->dirty) return false;
  }
  return true;
}

}  // namespace rebootd::controller
