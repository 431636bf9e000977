// SPDX-License-Identifier: Apache-2.0
// AliyunProvider: the CloudProvider for Alibaba Cloud ECS over an EcsClient, for one region.
// One RebootInstance per call (ForceStop for Hard and for the SoftFirst escalation; DryRun
// supported). Describe uses DescribeInstances with up to 100 IDs per call (one page each), which
// also returns StartTime and OperationLocks, the evidence the controller needs. Thread-safe.
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
  Result<std::vector<Observation>> Describe(const std::vector<std::string>& ids,
                                            std::stop_token stop) override;

  static Observation ToObservation(const Instance& i);

 private:
  std::unique_ptr<EcsClient> client_;
  const AliyunProviderOptions options_;
  const std::string scope_;
};

}  // namespace rebootd::cloud::aliyun
