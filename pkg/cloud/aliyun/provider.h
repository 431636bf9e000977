// SPDX-License-Identifier: Apache-2.0
// AliyunProvider: the CloudProvider for Alibaba Cloud ECS over an EcsClient, for one region.
// One RebootInstance per call (ForceStop for Hard and for the SoftFirst escalation; DryRun
// supported). Observe uses DescribeInstances with up to 100 IDs per call (one page each), which
// also returns StartTime and OperationLocks; each call's answer is handed on as it arrives. The
// evidence rules are in evidence.h. Thread-safe.
#pragma once

#include <memory>

#include "pkg/cloud/aliyun/ecs_client.h"
#include "pkg/cloud/provider.h"

namespace rebootd::cloud::aliyun {

struct AliyunProviderOptions {
  size_t describe_concurrency = 4;
  std::string scope;  // default "aliyun/<region>"
};

class AliyunProvider final : public CloudProvider {
 public:
  AliyunProvider(std::unique_ptr<EcsClient> client, AliyunProviderOptions options = {});

  Provider kind() const override { return Provider::kAliyun; }
  std::string scope() const override { return scope_; }
  size_t MaxRebootBatch() const override { return 1; }
  bool SupportsDryRun() const override { return true; }
  Result<RebootAccepted> Reboot(const RebootCall& call, std::stop_token stop) override;
  Status Observe(const std::vector<std::string>& ids, std::stop_token stop,
                 const ChunkSink& sink) override;
  Sign Read(std::string_view baseline, const Observation& now) const override;
  std::string FailureReason(const Error& error) const override;

 private:
  std::unique_ptr<EcsClient> client_;
  const AliyunProviderOptions options_;
  const std::string scope_;
};

}  // namespace rebootd::cloud::aliyun
