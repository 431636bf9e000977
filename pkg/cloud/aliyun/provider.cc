// SPDX-License-Identifier: Apache-2.0
#include "pkg/cloud/aliyun/provider.h"

#include <algorithm>
#include <set>

#include "pkg/cloud/aliyun/evidence.h"
#include "pkg/cloud/parallel.h"

namespace rebootd::cloud::aliyun {

AliyunProvider::AliyunProvider(std::unique_ptr<EcsClient> client, AliyunProviderOptions options)
    : client_(std::move(client)),
      options_(std::move(options)),
      scope_(options_.scope.empty() ? "aliyun/" + client_->region() : options_.scope) {}

Result<RebootAccepted> AliyunProvider::Reboot(const RebootCall& call, std::stop_token stop) {
  if (call.ids.size() != 1) {
    return MakeError(ErrorCode::kInvalidArgument, "aliyun reboots one instance per call");
  }
  bool force = call.force || call.mode == RebootMode::kHard;
  auto r = client_->RebootInstance(call.ids[0], force, call.dry_run, stop);
  if (!r) return MakeError(r.error());
  return RebootAccepted{r->request_id, r->dry_run_passed};
}

Sign AliyunProvider::Read(std::string_view baseline, const Observation& now) const {
  return ReadSign(baseline, now);
}

std::string AliyunProvider::FailureReason(const Error& error) const {
  return aliyun::FailureReason(error);
}

Status AliyunProvider::Observe(const std::vector<std::string>& ids, std::stop_token stop,
                               const ChunkSink& sink) {
  constexpr size_t kBatch = 100;
  SerialSink out(sink);
  return ForEachChunk<std::string>(ids, kBatch, options_.describe_concurrency,
                                   [&](std::span<const std::string> chunk) -> Status {
                                     DescribeInstancesQuery q;
                                     q.ids.assign(chunk.begin(), chunk.end());
                                     q.max_results = 100;
                                     ObservedChunk got;
                                     // One page normally holds all; follow NextToken defensively.
                                     while (true) {
                                       SystemTime from = client_->clock().Now();
                                       auto page = client_->DescribeInstances(q, stop);
                                       if (!page) return MakeError(page.error());
                                       SystemTime until = client_->clock().Now();
                                       for (const auto& inst : page->instances) {
                                         Observation o = ObservationOf(inst, page->server_time);
                                         o.from = from;
                                         o.until = until;
                                         got.observations.push_back(std::move(o));
                                       }
                                       if (page->next_token.empty()) break;
                                       q.next_token = page->next_token;
                                     }
                                     std::set<std::string> returned;
                                     for (const auto& o : got.observations) returned.insert(o.id);
                                     for (const auto& id : chunk) {
                                       if (!returned.count(id)) got.absent.push_back(id);
                                     }
                                     out(std::move(got));
                                     return OkStatus();
                                   });
}

}  // namespace rebootd::cloud::aliyun
