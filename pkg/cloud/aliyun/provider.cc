// SPDX-License-Identifier: Apache-2.0
#include "pkg/cloud/aliyun/provider.h"

#include <algorithm>

#include "pkg/cloud/parallel.h"

namespace rebootd::cloud::aliyun {

AliyunProvider::AliyunProvider(std::unique_ptr<EcsClient> client, AliyunProviderOptions options)
    : client_(std::move(client)),
      options_(std::move(options)),
      scope_(options_.scope.empty() ? "aliyun/" + client_->region() : options_.scope) {}

Observation AliyunProvider::ToObservation(const Instance& i) {
  Observation o;
  o.id = i.id;
  o.raw_state = i.status;
  if (i.status == "Running") {
    o.phase = Observation::Phase::kRunning;
  } else if (i.status == "Starting" || i.status == "Stopping") {
    o.phase = Observation::Phase::kTransitional;
  } else if (i.status == "Stopped") {
    o.phase = Observation::Phase::kStopped;
  } else {
    o.phase = Observation::Phase::kOther;
  }
  o.lock_reasons = i.lock_reasons;
  o.security_locked =
      std::find(i.lock_reasons.begin(), i.lock_reasons.end(), "security") != i.lock_reasons.end();
  o.start_time = i.start_time_parsed;
  return o;
}

Result<RebootAccepted> AliyunProvider::Reboot(const RebootCall& call, std::stop_token stop) {
  if (call.ids.size() != 1) {
    return MakeError(ErrorCode::kInvalidArgument, "aliyun reboots one instance per call");
  }
  bool force = call.force || call.mode == RebootMode::kHard;
  auto r = client_->RebootInstance(call.ids[0], force, call.dry_run, stop);
  if (!r) return MakeError(r.error());
  return RebootAccepted{r->request_id, r->dry_run_passed};
}

Result<std::vector<Observation>> AliyunProvider::Describe(const std::vector<std::string>& ids,
                                                          std::stop_token stop) {
  constexpr size_t kBatch = 100;
  return ParallelChunks<std::string, Observation>(
      ids, kBatch, options_.describe_concurrency,
      [&](std::span<const std::string> chunk) -> Result<std::vector<Observation>> {
        DescribeInstancesQuery q;
        q.ids.assign(chunk.begin(), chunk.end());
        q.max_results = 100;
        std::vector<Observation> got;
        // One page normally holds all; follow NextToken defensively.
        while (true) {
          auto page = client_->DescribeInstances(q, stop);
          if (!page) return tl::unexpected(page.error());
          for (const auto& inst : page->instances) got.push_back(ToObservation(inst));
          if (page->next_token.empty()) return got;
          q.next_token = page->next_token;
        }
      });
}

}  // namespace rebootd::cloud::aliyun
