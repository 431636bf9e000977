// SPDX-License-Identifier: Apache-2.0
#include "pkg/cloud/aliyun/provider.h"

#include <algorithm>
#include <mutex>

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
  size_t chunks = (ids.size() + kBatch - 1) / kBatch;
  std::vector<Observation> out;
  std::mutex mu;
  std::optional<Error> first_error;
  ParallelFor(chunks, options_.describe_concurrency, [&](size_t c) {
    {
      std::lock_guard lock(mu);
      if (first_error) return;
    }
    DescribeInstancesQuery q;
    q.ids.assign(ids.begin() + static_cast<long>(c * kBatch),
                 ids.begin() + static_cast<long>(std::min(ids.size(), (c + 1) * kBatch)));
    q.max_results = 100;
    std::vector<Observation> got;
    // One page normally holds all; follow NextToken defensively.
    while (true) {
      auto page = client_->DescribeInstances(q, stop);
      if (!page) {
        std::lock_guard lock(mu);
        if (!first_error) first_error = page.error();
        return;
      }
      for (const auto& inst : page->instances) got.push_back(ToObservation(inst));
      if (page->next_token.empty()) break;
      q.next_token = page->next_token;
    }
    std::lock_guard lock(mu);
    for (auto& o : got) out.push_back(std::move(o));
  });
  if (first_error) return MakeError(*first_error);
  return out;
}

}  // namespace rebootd::cloud::aliyun
