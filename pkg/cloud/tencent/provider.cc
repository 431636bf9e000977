// SPDX-License-Identifier: Apache-2.0
#include "pkg/cloud/tencent/provider.h"

#include <mutex>
#include <set>
#include <unordered_map>

#include "pkg/cloud/parallel.h"

namespace rebootd::cloud::tencent {
namespace {

constexpr int64_t kPerIdBatch = 5;  // instance-id filter values per call
constexpr int64_t kPageSize = 100;  // DescribeInstances Limit maximum

StopType ToStopType(RebootMode m) {
  switch (m) {
    case RebootMode::kSoft:
      return StopType::kSoft;
    case RebootMode::kHard:
      return StopType::kHard;
    case RebootMode::kSoftFirst:
      return StopType::kSoftFirst;
  }
  return StopType::kSoft;
}

}  // namespace

TencentProvider::TencentProvider(std::unique_ptr<EcmClient> client, TencentProviderOptions options)
    : client_(std::move(client)), options_(std::move(options)) {}

Observation TencentProvider::ToObservation(const Instance& i) {
  Observation o;
  o.id = i.id;
  o.raw_state = i.state;
  if (i.state == "RUNNING") {
    o.phase = Observation::Phase::kRunning;
  } else if (i.state == "REBOOTING" || i.state == "STARTING" || i.state == "STOPPING") {
    o.phase = Observation::Phase::kTransitional;
  } else if (i.state == "STOPPED" || i.state == "SHUTDOWN") {
    o.phase = Observation::Phase::kStopped;
  } else {
    o.phase = Observation::Phase::kOther;
  }
  o.security_locked = i.restrict_state == "PROTECTIVELY_ISOLATED";
  if (!i.restrict_state.empty() && i.restrict_state != "NORMAL") {
    o.lock_reasons.push_back(i.restrict_state);
  }
  o.latest_operation = i.latest_operation;
  o.latest_operation_state = i.latest_operation_state;
  return o;
}

Result<RebootAccepted> TencentProvider::Reboot(const RebootCall& call, std::stop_token stop) {
  // ForceReboot: "force restart if the normal restart fails" — what Hard asks for.
  bool force = call.mode == RebootMode::kHard || call.force;
  auto r = client_->RebootInstances(call.ids, ToStopType(call.mode), force, stop);
  if (!r) return MakeError(r.error());
  return RebootAccepted{*r, false};
}

Result<std::vector<Observation>> TencentProvider::DescribePerId(const std::vector<std::string>& ids,
                                                                std::stop_token stop) {
  return ParallelChunks<std::string, Observation>(
      ids, kPerIdBatch, options_.describe_concurrency,
      [&](std::span<const std::string> chunk) -> Result<std::vector<Observation>> {
        Filter f{"instance-id", {chunk.begin(), chunk.end()}};
        auto page = client_->DescribeInstances({f}, 0, static_cast<int>(kPageSize), stop);
        if (!page) return tl::unexpected(page.error());
        std::vector<Observation> got;
        for (const auto& inst : page->instances) got.push_back(ToObservation(inst));
        return got;
      });
}

Result<std::vector<Observation>> TencentProvider::Describe(const std::vector<std::string>& ids,
                                                           std::stop_token stop) {
  if (ids.empty()) return std::vector<Observation>{};
  int64_t n = static_cast<int64_t>(ids.size());
  int64_t per_id_calls = (n + kPerIdBatch - 1) / kPerIdBatch;
  if (per_id_calls <= 1) {
    last_plan_ = PollPlan::kPerId;
    return DescribePerId(ids, stop);
  }
  int64_t total = account_total_.load();
  std::vector<Observation> out;
  std::set<std::string> wanted(ids.begin(), ids.end());
  std::unordered_map<std::string, bool> seen;
  int64_t next_offset = 0;
  if (total < 0) {
    // Unknown account size: the first scan page costs one call and tells the total.
    auto first = client_->DescribeInstances({}, 0, static_cast<int>(kPageSize), stop);
    if (!first) return MakeError(first.error());
    total = first->total_count;
    account_total_ = total;
    for (const auto& inst : first->instances) {
      if (wanted.count(inst.id)) {
        out.push_back(ToObservation(inst));
        seen[inst.id] = true;
      }
    }
    next_offset = kPageSize;
  }
  PollChoice choice = ChoosePollPlan(n - static_cast<int64_t>(seen.size()), kPerIdBatch,
                                     std::max<int64_t>(0, total - next_offset), kPageSize);
  if (next_offset == 0) {
    choice = ChoosePollPlan(n, kPerIdBatch, total, kPageSize);
  }
  last_plan_ = choice.plan;
  if (choice.plan == PollPlan::kPerId) {
    std::vector<std::string> rest;
    for (const auto& id : ids) {
      if (!seen.count(id)) rest.push_back(id);
    }
    // The first scan page already held every ID: that page was this round's only call.
    if (rest.empty() && next_offset > 0) last_plan_ = PollPlan::kAccountScan;
    auto more = DescribePerId(rest, stop);
    if (!more) return MakeError(more.error());
    for (auto& o : *more) out.push_back(std::move(o));
    return out;
  }
  // Account scan: pages from next_offset to total, fetched concurrently.
  size_t pages =
      static_cast<size_t>((std::max<int64_t>(0, total - next_offset) + kPageSize - 1) / kPageSize);
  std::mutex mu;
  std::optional<Error> first_error;
  int64_t max_total = total;
  ParallelFor(pages, options_.describe_concurrency, [&](size_t p) {
    {
      std::lock_guard lock(mu);
      if (first_error) return;
    }
    int64_t offset = next_offset + static_cast<int64_t>(p) * kPageSize;
    auto page = client_->DescribeInstances({}, offset, static_cast<int>(kPageSize), stop);
    std::lock_guard lock(mu);
    if (!page) {
      if (!first_error) first_error = page.error();
      return;
    }
    max_total = std::max(max_total, page->total_count);
    for (const auto& inst : page->instances) {
      if (wanted.count(inst.id) && !seen.count(inst.id)) {
        out.push_back(ToObservation(inst));
        seen[inst.id] = true;
      }
    }
  });
  if (first_error) return MakeError(*first_error);
  account_total_ = max_total;
  // Anything a scan missed is confirmed per ID before it may be reported absent.
  std::vector<std::string> missing;
  for (const auto& id : ids) {
    if (!seen.count(id)) missing.push_back(id);
  }
  if (!missing.empty()) {
    auto more = DescribePerId(missing, stop);
    if (!more) return MakeError(more.error());
    for (auto& o : *more) out.push_back(std::move(o));
  }
  return out;
}

}  // namespace rebootd::cloud::tencent
