// SPDX-License-Identifier: Apache-2.0
// The daemon's controller::Recorder parts: logs and metrics for every transition
// (DaemonRecorder), and a tee to add Kubernetes Events beside them (TeeRecorder).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <spdlog/logger.h>

#include "pkg/base/clock.h"
#include "pkg/controller/controller.h"
#include "pkg/metrics/metrics.h"

namespace rebootd::app {

// Logs and metrics for the controller's transitions. Warnings are throttled: one line per
// (request, reason, message) a minute.
class DaemonRecorder final : public controller::Recorder {
 public:
  DaemonRecorder(metrics::Metrics& m, Clock& clock);

  void RequestStarted(const api::RebootRequest& r) override;
  void RequestFinished(const api::RebootRequest& r) override;
  void InstanceFinished(const api::RebootRequest& r, const api::InstanceStatus& i) override;
  void InstancesRequested(const api::RebootRequest& r, int count) override;
  void Escalated(const api::RebootRequest& r, const std::string& id) override;
  void Warning(const std::string& key, const std::string& reason,
               const std::string& message) override;
  void ReconcileResult(std::string_view result) override;
  void RecordWriteFailed(const std::string& key, const Error& error) override;

  // Warning keys held for throttling (bounded: entries older than a minute are dropped).
  size_t WarningKeysForTest();

 private:
  metrics::Metrics& metrics_;
  Clock& clock_;
  std::shared_ptr<spdlog::logger> log_;
  std::mutex mu_;
  std::map<std::string, SteadyTime> last_warning_;  // guarded by mu_
};

// Forwards every hook to two recorders (logs+metrics, and Kubernetes Events).
class TeeRecorder final : public controller::Recorder {
 public:
  TeeRecorder(controller::Recorder& a, controller::Recorder& b) : a_(a), b_(b) {}
  void RequestStarted(const api::RebootRequest& r) override;
  void RequestFinished(const api::RebootRequest& r) override;
  void InstanceFinished(const api::RebootRequest& r, const api::InstanceStatus& i) override;
  void InstancesRequested(const api::RebootRequest& r, int count) override;
  void Escalated(const api::RebootRequest& r, const std::string& id) override;
  void Warning(const std::string& key, const std::string& reason,
               const std::string& message) override;
  void ReconcileResult(std::string_view result) override;
  void RecordWriteFailed(const std::string& key, const Error& error) override;

 private:
  controller::Recorder& a_;
  controller::Recorder& b_;
};

}  // namespace rebootd::app
