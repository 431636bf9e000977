// SPDX-License-Identifier: Apache-2.0
// ForwardingProvider: a CloudProvider that forwards every call to another one, so that a test
// double overrides only what it changes (leveldb's EnvWrapper). Thread-safe as the inner one.
#pragma once

#include "pkg/cloud/provider.h"

namespace rebootd::testing {

class ForwardingProvider : public cloud::CloudProvider {
 public:
  // `inner` must outlive this object.
  explicit ForwardingProvider(cloud::CloudProvider& inner) : inner_(inner) {}

  cloud::Provider kind() const override { return inner_.kind(); }
  std::string scope() const override { return inner_.scope(); }
  size_t MaxRebootBatch() const override { return inner_.MaxRebootBatch(); }
  bool SupportsDryRun() const override { return inner_.SupportsDryRun(); }
  Result<cloud::RebootAccepted> Reboot(const cloud::RebootCall& call,
                                       std::stop_token stop) override {
    return inner_.Reboot(call, stop);
  }
  Status Observe(const std::vector<std::string>& ids, std::stop_token stop,
                 const cloud::ChunkSink& sink) override {
    return inner_.Observe(ids, stop, sink);
  }
  cloud::Sign Read(std::string_view baseline, const cloud::Observation& now) const override {
    return inner_.Read(baseline, now);
  }
  std::string FailureReason(const Error& error) const override {
    return inner_.FailureReason(error);
  }

 protected:
  cloud::CloudProvider& inner() { return inner_; }

 private:
  cloud::CloudProvider& inner_;
};

}  // namespace rebootd::testing
