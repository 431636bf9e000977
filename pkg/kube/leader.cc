// SPDX-License-Identifier: Apache-2.0
#include "pkg/kube/leader.h"

#include <cstdio>
#include <utility>

namespace rebootd::kube {
namespace {

// metav1.MicroTime: RFC 3339 with microseconds.
std::string MicroTime(SystemTime t) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  auto secs = SystemTime(std::chrono::seconds(us / 1000000));
  std::string base = FormatRfc3339(secs);  // "...Z"
  char frac[16];
  std::snprintf(frac, sizeof frac, ".%06lld", static_cast<long long>(us % 1000000));
  return base.substr(0, base.size() - 1) + frac + "Z";
}

std::string Str(const json::Value* v) {
  return v && v->is_string() ? v->AsString() : std::string();
}

}  // namespace

std::string MakeIdentity(const std::string& hostname, const std::string& uuid) {
  return hostname + "_" + uuid;
}

LeaderElector::LeaderElector(LeaderElectionOptions options, Client& client, Clock& clock)
    : options_(std::move(options)), client_(client), clock_(clock) {}

bool LeaderElector::IsLeader() const {
  std::lock_guard lock(mu_);
  return leader_;
}

void LeaderElector::SetLeader(bool leader) {
  bool changed;
  {
    std::lock_guard lock(mu_);
    changed = leader_ != leader;
    leader_ = leader;
  }
  if (changed && options_.on_change) options_.on_change(leader);
}

bool LeaderElector::TryAcquireOrRenew(SteadyTime now) {
  const std::string ns = options_.namespace_;
  const int64_t lease_seconds =
      std::chrono::duration_cast<std::chrono::seconds>(options_.lease_duration).count();
  const std::string now_text = MicroTime(clock_.Now());
  auto current = client_.Get(Leases(), ns, options_.name);
  if (!current) {
    if (current.error().code != ErrorCode::kNotFound) {
      if (options_.on_problem) options_.on_problem("get lease: " + current.error().message);
      return false;
    }
    json::Value lease = json::Value::MakeObject();
    lease.Set("apiVersion", "coordination.k8s.io/v1");
    lease.Set("kind", "Lease");
    json::Value meta = json::Value::MakeObject();
    meta.Set("name", options_.name);
    meta.Set("namespace", ns);
    lease.Set("metadata", std::move(meta));
    json::Value spec = json::Value::MakeObject();
    spec.Set("holderIdentity", options_.identity);
    spec.Set("leaseDurationSeconds", lease_seconds);
    spec.Set("acquireTime", now_text);
    spec.Set("renewTime", now_text);
    spec.Set("leaseTransitions", 0);
    lease.Set("spec", std::move(spec));
    auto created = client_.Create(Leases(), ns, lease);
    if (!created) {
      if (options_.on_problem) options_.on_problem("create lease: " + created.error().message);
      return false;
    }
    std::lock_guard lock(mu_);
    observed_record_.clear();
    observed_at_ = now;
    return true;
  }
  json::Value lease = std::move(*current);
  json::Value& spec = lease["spec"];
  const std::string holder = Str(spec.Find("holderIdentity"));
  const json::Value* dur = spec.Find("leaseDurationSeconds");
  const int64_t their_seconds = dur && dur->is_integer() ? dur->AsInt() : lease_seconds;
  const json::Value* tr = spec.Find("leaseTransitions");
  const int64_t transitions = tr && tr->is_integer() ? tr->AsInt() : 0;
  const std::string record =
      holder + "|" + Str(spec.Find("renewTime")) + "|" + std::to_string(transitions);
  {
    std::lock_guard lock(mu_);
    if (record != observed_record_) {
      observed_record_ = record;
      observed_at_ = now;
    }
    if (!holder.empty() && holder != options_.identity &&
        now < observed_at_ + std::chrono::seconds(their_seconds)) {
      return false;  // held by someone else and not expired
    }
  }
  if (holder != options_.identity) {
    spec.Set("acquireTime", now_text);
    spec.Set("leaseTransitions", transitions + 1);
  }
  spec.Set("holderIdentity", options_.identity);
  spec.Set("leaseDurationSeconds", lease_seconds);
  spec.Set("renewTime", now_text);
  // metadata.resourceVersion from the read is the precondition: a concurrent writer wins.
  auto updated = client_.Update(Leases(), ns, options_.name, lease);
  if (!updated) {
    if (options_.on_problem) options_.on_problem("update lease: " + updated.error().message);
    return false;
  }
  std::lock_guard lock(mu_);
  const json::Value* s = updated->Find("spec");
  observed_record_ = options_.identity + "|" + (s ? Str(s->Find("renewTime")) : now_text) + "|" +
                     std::to_string(holder != options_.identity ? transitions + 1 : transitions);
  observed_at_ = now;
  return true;
}

bool LeaderElector::Step() {
  SteadyTime now = clock_.SteadyNow();
  bool ok = TryAcquireOrRenew(now);
  bool was_leader = IsLeader();
  if (ok) {
    {
      std::lock_guard lock(mu_);
      last_renewed_ = now;
    }
    SetLeader(true);
    return true;
  }
  if (was_leader) {
    std::optional<SteadyTime> last;
    {
      std::lock_guard lock(mu_);
      last = last_renewed_;
    }
    if (!last || now - *last >= options_.renew_deadline) {
      if (options_.on_problem) options_.on_problem("lease not renewed within the renew deadline");
      SetLeader(false);
    }
  }
  return IsLeader();
}

bool LeaderElector::RenewedWithinDeadline(SteadyTime now) const {
  std::lock_guard lock(mu_);
  return leader_ && last_renewed_ && now - *last_renewed_ < options_.renew_deadline;
}

void LeaderElector::Run(std::stop_token stop) {
  while (!stop.stop_requested()) {
    Step();
    if (!clock_.SleepFor(options_.retry_period, stop)) break;
    // A renew call that hangs holds this loop up to the client's call timeout; the daemon does
    // not wait for it but watches RenewedWithinDeadline().
  }
  Release();
}

void LeaderElector::Release() {
  if (!IsLeader()) return;
  auto current = client_.Get(Leases(), options_.namespace_, options_.name);
  if (current) {
    json::Value& spec = (*current)["spec"];
    if (Str(spec.Find("holderIdentity")) == options_.identity) {
      spec.Set("holderIdentity", "");
      spec.Set("leaseDurationSeconds", 1);
      spec.Set("renewTime", MicroTime(clock_.Now()));
      auto updated = client_.Update(Leases(), options_.namespace_, options_.name, *current);
      if (!updated && options_.on_problem) {
        options_.on_problem("release lease: " + updated.error().message);
      }
    }
  }
  SetLeader(false);
}

}  // namespace rebootd::kube
