// SPDX-License-Identifier: Apache-2.0
#include "pkg/app/recorders.h"

#include <algorithm>
#include <chrono>

#include "pkg/log/log.h"

namespace rebootd::app {

DaemonRecorder::DaemonRecorder(metrics::Metrics& m, Clock& clock)
    : metrics_(m), clock_(clock), log_(log::Get("controller")) {}

void DaemonRecorder::RequestStarted(const api::RebootRequest& r) {
  log_->info("request started request={} provider={} instances={} mode={} dryRun={}", r.Key(),
             ProviderName(r.spec.provider), r.spec.instance_ids.size(), api::ModeName(r.spec.mode),
             r.spec.dry_run);
}

void DaemonRecorder::RequestFinished(const api::RebootRequest& r) {
  const auto& s = r.status->summary;
  log_->info("request finished request={} phase={} succeeded={} failed={} total={}", r.Key(),
             api::PhaseName(r.status->phase), s.succeeded, s.failed, s.total);
}

void DaemonRecorder::InstanceFinished(const api::RebootRequest& r, const api::InstanceStatus& i) {
  auto provider = ProviderName(r.spec.provider);
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

void DaemonRecorder::InstancesRequested(const api::RebootRequest& r, int count) {
  log_->debug("reboot intents written request={} instances={}", r.Key(), count);
}

void DaemonRecorder::Escalated(const api::RebootRequest& r, const std::string& id) {
  log_->warn("escalating to a forced reboot request={} instance={}", r.Key(), id);
}

void DaemonRecorder::Warning(const std::string& key, const std::string& reason,
                             const std::string& message) {
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

void DaemonRecorder::ReconcileResult(std::string_view result) { metrics_.ReconcileResult(result); }

void DaemonRecorder::RecordWriteFailed(const std::string& key, const Error& error) {
  metrics_.RecordWriteFailed();
  Warning(key, "RecordWriteFailed",
          error.message + " (no new reboot call until the record can be written)");
}

size_t DaemonRecorder::WarningKeysForTest() {
  std::lock_guard lock(mu_);
  return last_warning_.size();
}

void TeeRecorder::RequestStarted(const api::RebootRequest& r) {
  a_.RequestStarted(r);
  b_.RequestStarted(r);
}
void TeeRecorder::RequestFinished(const api::RebootRequest& r) {
  a_.RequestFinished(r);
  b_.RequestFinished(r);
}
void TeeRecorder::InstanceFinished(const api::RebootRequest& r, const api::InstanceStatus& i) {
  a_.InstanceFinished(r, i);
  b_.InstanceFinished(r, i);
}
void TeeRecorder::InstancesRequested(const api::RebootRequest& r, int count) {
  a_.InstancesRequested(r, count);
  b_.InstancesRequested(r, count);
}
void TeeRecorder::Escalated(const api::RebootRequest& r, const std::string& id) {
  a_.Escalated(r, id);
  b_.Escalated(r, id);
}
void TeeRecorder::Warning(const std::string& key, const std::string& reason,
                          const std::string& message) {
  a_.Warning(key, reason, message);
  b_.Warning(key, reason, message);
}
void TeeRecorder::ReconcileResult(std::string_view result) {
  a_.ReconcileResult(result);
  b_.ReconcileResult(result);
}
void TeeRecorder::RecordWriteFailed(const std::string& key, const Error& error) {
  a_.RecordWriteFailed(key, error);
  b_.RecordWriteFailed(key, error);
}

}  // namespace rebootd::app
