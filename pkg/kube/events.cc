// SPDX-License-Identifier: Apache-2.0
#include "pkg/kube/events.h"

#include <algorithm>
#include <cstdio>
#include <utility>
#include <vector>

namespace rebootd::kube {
namespace {

std::string ObjectKey(const ObjectRef& o) { return o.namespace_ + "/" + o.name + "/" + o.uid; }

std::string Plural(int n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

}  // namespace

ObjectRef RefOf(const api::RebootRequest& request) {
  ObjectRef r;
  r.namespace_ = request.metadata.namespace_;
  r.name = request.metadata.name;
  r.uid = request.metadata.uid;
  return r;
}

EventRecorder::EventRecorder(EventOptions options, Client& client, Clock& clock, Random& random)
    : options_(std::move(options)), client_(client), clock_(clock), random_(random) {}

EventRecorder::~EventRecorder() { Stop(); }

void EventRecorder::Emit(const ObjectRef& object, const std::string& type,
                         const std::string& reason, const std::string& message) {
  if (object.name.empty()) return;
  std::string key = ObjectKey(object) + "|" + type + "|" + reason;
  SystemTime now = clock_.Now();
  std::lock_guard lock(mu_);
  auto it = aggregates_.find(key);
  if (it == aggregates_.end()) {
    if (aggregates_.size() >= options_.max_pending) return;
    Aggregate a;
    a.object = object;
    a.type = type;
    a.reason = reason;
    a.first = now;
    it = aggregates_.emplace(key, std::move(a)).first;
  }
  it->second.count++;
  it->second.last = now;
  it->second.message = message;
  it->second.dirty = true;
  cv_.notify_all();
}

bool EventRecorder::TakeToken(const std::string& object_key, SteadyTime now) {
  auto [it, inserted] = buckets_.try_emplace(object_key);
  Bucket& b = it->second;
  if (inserted) {
    b.tokens = options_.burst;
    b.at = now;
  } else if (options_.refill > Duration::zero()) {
    double add = std::chrono::duration<double>(now - b.at).count() /
                 std::chrono::duration<double>(options_.refill).count();
    b.tokens = std::min<double>(options_.burst, b.tokens + add);
    b.at = now;
  }
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}

void EventRecorder::Forget(SystemTime now, SteadyTime steady_now) {
  std::erase_if(aggregates_, [&](const auto& entry) {
    const Aggregate& a = entry.second;
    return !a.dirty && a.sent_count == a.count && now - a.last >= options_.forget_after;
  });
  // A bucket refilled to its burst is the same as a new one.
  const double refill = std::chrono::duration<double>(options_.refill).count();
  std::erase_if(buckets_, [&](const auto& entry) {
    const Bucket& b = entry.second;
    if (refill <= 0) return false;
    return b.tokens + std::chrono::duration<double>(steady_now - b.at).count() / refill >=
           options_.burst;
  });
}

json::Value EventRecorder::EventJson(const Aggregate& a) const {
  json::Value e = json::Value::MakeObject();
  e.Set("apiVersion", "v1");
  e.Set("kind", "Event");
  json::Value meta = json::Value::MakeObject();
  meta.Set("name", a.event_name);
  meta.Set("namespace", a.object.namespace_);
  e.Set("metadata", std::move(meta));
  json::Value inv = json::Value::MakeObject();
  inv.Set("apiVersion", a.object.api_version);
  inv.Set("kind", a.object.kind);
  inv.Set("namespace", a.object.namespace_);
  inv.Set("name", a.object.name);
  if (!a.object.uid.empty()) inv.Set("uid", a.object.uid);
  e.Set("involvedObject", std::move(inv));
  e.Set("type", a.type);
  e.Set("reason", a.reason);
  e.Set("message", a.message);
  e.Set("count", a.count);
  e.Set("firstTimestamp", FormatRfc3339(a.first));
  e.Set("lastTimestamp", FormatRfc3339(a.last));
  json::Value source = json::Value::MakeObject();
  source.Set("component", options_.component);
  if (!options_.host.empty()) source.Set("host", options_.host);
  e.Set("source", std::move(source));
  e.Set("reportingComponent", options_.component);
  e.Set("reportingInstance", options_.host.empty() ? options_.component : options_.host);
  return e;
}

int EventRecorder::Flush() {
  std::lock_guard send_lock(send_mu_);
  // Pick what to send under mu_, send without it.
  struct Job {
    std::string key;
    Aggregate snapshot;
  };
  std::vector<Job> jobs;
  {
    std::lock_guard lock(mu_);
    SteadyTime now = clock_.SteadyNow();
    Forget(clock_.Now(), now);
    for (auto& [key, a] : aggregates_) {
      if (!a.dirty) continue;
      if (!TakeToken(ObjectKey(a.object), now)) continue;  // coalesced; sent later
      if (a.event_name.empty()) {
        char suffix[20];
        std::snprintf(suffix, sizeof suffix, ".%016llx",
                      static_cast<unsigned long long>(random_.Next()));
        a.event_name = a.object.name + suffix;
        a.sent_count = 0;
      }
      a.dirty = false;
      jobs.push_back({key, a});
    }
  }
  int calls = 0;
  for (auto& job : jobs) {
    const Aggregate& a = job.snapshot;
    Result<json::Value> result = MakeError(ErrorCode::kInternal, "not sent");
    ++calls;
    if (a.sent_count == 0) {
      result = client_.Create(Events(), a.object.namespace_, EventJson(a));
    } else {
      json::Value patch = json::Value::MakeObject();
      patch.Set("count", a.count);
      patch.Set("lastTimestamp", FormatRfc3339(a.last));
      patch.Set("message", a.message);
      result = client_.MergePatch(Events(), a.object.namespace_, a.event_name, patch);
      if (!result && result.error().code == ErrorCode::kNotFound) {
        // The Event expired (the server's TTL): create it again under the same name.
        ++calls;
        result = client_.Create(Events(), a.object.namespace_, EventJson(a));
      }
    }
    std::lock_guard lock(mu_);
    auto it = aggregates_.find(job.key);
    if (it == aggregates_.end()) continue;
    if (result) {
      it->second.sent_count = a.count;
    } else {
      if (options_.on_problem) {
        options_.on_problem(
            "event " + a.reason + " for " + a.object.namespace_ + "/" + a.object.name + ": " +
                result.error().message,
            !IsRetryable(result.error()) && result.error().code != ErrorCode::kAlreadyExists);
      }
      // Retried at the next flush unless the server refuses it for good.
      if (IsRetryable(result.error())) it->second.dirty = true;
      if (result.error().code == ErrorCode::kAlreadyExists) {
        it->second.sent_count = a.count;  // created by an earlier attempt; patch next time
        it->second.dirty = true;
      }
    }
  }
  return calls;
}

void EventRecorder::Start() {
  thread_ = std::jthread([this](std::stop_token stop) {
    while (!stop.stop_requested()) {
      Flush();
      if (!clock_.SleepFor(std::chrono::seconds(1), stop)) break;
    }
    Flush();
  });
}

void EventRecorder::Stop() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
}

int64_t EventRecorder::CountForTest(const ObjectRef& object, const std::string& type,
                                    const std::string& reason) const {
  std::lock_guard lock(mu_);
  auto it = aggregates_.find(ObjectKey(object) + "|" + type + "|" + reason);
  return it == aggregates_.end() ? 0 : it->second.count;
}

size_t EventRecorder::AggregatesForTest() const {
  std::lock_guard lock(mu_);
  return aggregates_.size();
}

size_t EventRecorder::BucketsForTest() const {
  std::lock_guard lock(mu_);
  return buckets_.size();
}

KubeEventRecorder::KubeEventRecorder(EventRecorder& events, Clock& clock, Duration summary_interval)
    : events_(events), clock_(clock), summary_interval_(summary_interval) {}

void KubeEventRecorder::RequestStarted(const api::RebootRequest& run) {
  const auto& spec = run.spec;
  std::string msg = std::string(spec.dry_run ? "dry run" : "reboot") + " of " +
                    Plural(static_cast<int>(spec.instance_ids.size()), "instance") + " started (" +
                    std::string(cloud::ProviderName(spec.provider)) + ", " +
                    std::string(api::ModeName(spec.mode)) + ")";
  events_.Emit(RefOf(run), "Normal", "Started", msg);
  std::lock_guard lock(mu_);
  Tally& t = tallies_[run.Key()];
  t.ref = RefOf(run);
  t.total = static_cast<int>(spec.instance_ids.size());
}

void KubeEventRecorder::Summarize(Tally& t, bool force) {
  if (!t.dirty) return;
  SteadyTime now = clock_.SteadyNow();
  if (!force && t.last_summary && now - *t.last_summary < summary_interval_) return;
  t.last_summary = now;
  t.dirty = false;
  std::string progress =
      " (" + std::to_string(t.succeeded + t.failed) + "/" + std::to_string(t.total) + " finished)";
  if (t.succeeded > 0) {
    events_.Emit(t.ref, "Normal", "InstancesSucceeded",
                 Plural(t.succeeded, "instance") + " succeeded so far" + progress);
  }
  if (t.failed > 0) {
    std::string by;
    for (const auto& [reason, n] : t.failed_by_reason) {
      by += (by.empty() ? "" : ", ") + reason + "=" + std::to_string(n);
    }
    events_.Emit(t.ref, "Warning", "InstancesFailed",
                 Plural(t.failed, "instance") + " failed so far: " + by + progress);
  }
  if (t.timed_out > 0) {
    events_.Emit(
        t.ref, "Warning", "InstancesTimedOut",
        Plural(t.timed_out, "instance") + " not running again within timeoutSeconds" + progress);
  }
  if (t.cancelled > 0) {
    events_.Emit(t.ref, "Warning", "Cancelled",
                 "the RebootRequest was deleted; " + Plural(t.cancelled, "instance") +
                     " not rebooted" + progress);
  }
}

void KubeEventRecorder::InstanceFinished(const api::RebootRequest& run,
                                         const api::InstanceStatus& instance) {
  std::lock_guard lock(mu_);
  Tally& t = tallies_[run.Key()];
  if (t.ref.name.empty()) {
    t.ref = RefOf(run);
    t.total = static_cast<int>(run.spec.instance_ids.size());
  }
  if (instance.state == api::InstanceState::kSucceeded) {
    t.succeeded++;
  } else {
    t.failed++;
    t.failed_by_reason[instance.reason.empty() ? "Unknown" : instance.reason]++;
    if (instance.reason == "Timeout") t.timed_out++;
    if (instance.reason == "Cancelled") t.cancelled++;
  }
  t.dirty = true;
  Summarize(t, /*force=*/false);
}

void KubeEventRecorder::InstancesRequested(const api::RebootRequest& run, int count) {
  std::lock_guard lock(mu_);
  Tally& t = tallies_[run.Key()];
  if (t.ref.name.empty()) {
    t.ref = RefOf(run);
    t.total = static_cast<int>(run.spec.instance_ids.size());
  }
  t.requested += count;
  events_.Emit(t.ref, "Normal", "RebootsRequested",
               Plural(t.requested, "reboot") + " requested so far");
}

void KubeEventRecorder::Escalated(const api::RebootRequest& run, const std::string& /*id*/) {
  std::lock_guard lock(mu_);
  Tally& t = tallies_[run.Key()];
  if (t.ref.name.empty()) t.ref = RefOf(run);
  t.escalated++;
  events_.Emit(t.ref, "Warning", "Escalated",
               Plural(t.escalated, "soft reboot") + " escalated to a forced reboot so far");
}

void KubeEventRecorder::RequestFinished(const api::RebootRequest& run) {
  std::lock_guard lock(mu_);
  auto it = tallies_.find(run.Key());
  if (it != tallies_.end()) Summarize(it->second, /*force=*/true);
  const api::Summary s = run.status ? run.status->summary : api::Summary{};
  bool ok = run.status && run.status->phase == api::Phase::kSucceeded;
  std::string msg = std::string(ok ? "succeeded" : "failed") + ": " + std::to_string(s.succeeded) +
                    " succeeded, " + std::to_string(s.failed) + " failed of " +
                    std::to_string(s.total);
  events_.Emit(RefOf(run), ok ? "Normal" : "Warning", ok ? "Succeeded" : "Failed", msg);
  if (it != tallies_.end()) tallies_.erase(it);
}

void KubeEventRecorder::RecordWriteFailed(const std::string& key, const Error& error) {
  Warning(key, "RecordWriteFailed",
          error.message + " (no new reboot call until the record can be written)");
}

void KubeEventRecorder::Warning(const std::string& key, const std::string& reason,
                                const std::string& message) {
  size_t slash = key.find('/');
  if (slash == std::string::npos) return;  // not about one request
  ObjectRef ref;
  ref.namespace_ = key.substr(0, slash);
  ref.name = key.substr(slash + 1);
  {
    std::lock_guard lock(mu_);
    auto it = tallies_.find(key);
    if (it != tallies_.end()) ref.uid = it->second.ref.uid;
  }
  events_.Emit(ref, "Warning", reason, message);
}

}  // namespace rebootd::kube
