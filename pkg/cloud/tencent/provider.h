// SPDX-License-Identifier: Apache-2.0
// TencentProvider: the CloudProvider for Tencent Cloud ECM over an EcmClient. Reboots carry up to
// 100 IDs (StopType from the mode). Observe picks the cheaper plan per round: instance-id
// filters (5 IDs per call) or a scan of the account's instances (100 per page, in the account's
// order, each page handed on as soon as it is answered), and confirms any watched ID a scan did
// not return with an instance-id query before reporting it as absent (a page boundary can shift
// while instances are created). The evidence rules are in evidence.h. Thread-safe.
#pragma once

#include <atomic>
#include <memory>

#include "pkg/cloud/provider.h"
#include "pkg/cloud/tencent/ecm_client.h"

namespace rebootd::cloud::tencent {

struct TencentProviderOptions {
  size_t describe_concurrency = 4;  // describe calls in flight at once
  std::string scope = "tencent";
};

class TencentProvider final : public CloudProvider {
 public:
  TencentProvider(std::unique_ptr<EcmClient> client, TencentProviderOptions options = {});

  Provider kind() const override { return Provider::kTencent; }
  std::string scope() const override { return options_.scope; }
  size_t MaxRebootBatch() const override { return 100; }
  bool SupportsDryRun() const override { return false; }
  Result<RebootAccepted> Reboot(const RebootCall& call, std::stop_token stop) override;
  Status Observe(const std::vector<std::string>& ids, std::stop_token stop,
                 const ChunkSink& sink) override;
  Sign Read(std::string_view baseline, const Observation& now) const override;
  std::string FailureReason(const Error& error) const override;

  // The plan the last Observe used (for tests and logs).
  PollPlan LastPlan() const { return last_plan_.load(); }

 private:
  // One DescribeInstances call, stamped and converted.
  Result<std::vector<Observation>> Page(const std::vector<Filter>& filters, int64_t offset,
                                        int64_t* total, std::stop_token stop);
  Status ObservePerId(const std::vector<std::string>& ids, std::stop_token stop, SerialSink& sink);

  std::unique_ptr<EcmClient> client_;
  const TencentProviderOptions options_;
  std::atomic<int64_t> account_total_{-1};  // from the last TotalCount seen; -1 unknown
  std::atomic<PollPlan> last_plan_{PollPlan::kPerId};
};

}  // namespace rebootd::cloud::tencent
