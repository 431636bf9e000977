// SPDX-License-Identifier: Apache-2.0
#include "pkg/cloud/tencent/provider.h"

#include <algorithm>
#include <mutex>
#include <set>
#include <span>

#include "pkg/cloud/parallel.h"
#include "pkg/cloud/tencent/evidence.h"

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

Result<RebootAccepted> TencentProvider::Reboot(const RebootCall& call, std::stop_token stop) {
  // ForceReboot: "force restart if the normal restart fails" — what Hard asks for.
  bool force = call.mode == RebootMode::kHard || call.force;
  auto r = client_->RebootInstances(call.ids, ToStopType(call.mode), force, stop);
  if (!r) return MakeError(r.error());
  return RebootAccepted{*r, false};
}

Sign TencentProvider::Read(std::string_view baseline, const Observation& now) const {
  return ReadSign(baseline, now);
}

std::string TencentProvider::FailureReason(const Error& error) const {
  return tencent::FailureReason(error);
}

Result<std::vector<Observation>> TencentProvider::Page(const std::vector<Filter>& filters,
                                                       int64_t offset, int64_t* total,
                                                       std::stop_token stop) {
  SystemTime from = client_->clock().Now();
  auto page = client_->DescribeInstances(filters, offset, static_cast<int>(kPageSize), stop);
  if (!page) return MakeError(page.error());
  SystemTime until = client_->clock().Now();
  if (total) *total = page->total_count;
  std::vector<Observation> got;
  got.reserve(page->instances.size());
  for (const auto& inst : page->instances) {
    Observation o = ObservationOf(inst);
    o.from = from;
    o.until = until;
    got.push_back(std::move(o));
  }
  return got;
}

Status TencentProvider::ObservePerId(const std::vector<std::string>& ids, std::stop_token stop,
                                     SerialSink& sink) {
  return ForEachChunk<std::string>(ids, kPerIdBatch, options_.describe_concurrency,
                                   [&](std::span<const std::string> chunk) -> Status {
                                     Filter f{"instance-id", {chunk.begin(), chunk.end()}};
                                     auto page = Page({f}, 0, nullptr, stop);
                                     if (!page) return MakeError(page.error());
                                     std::set<std::string> returned;
                                     for (const auto& o : *page) returned.insert(o.id);
                                     ObservedChunk out;
                                     for (const auto& id : chunk) {
                                       if (!returned.count(id)) out.absent.push_back(id);
                                     }
                                     out.observations = std::move(*page);
                                     sink(std::move(out));
                                     return OkStatus();
                                   });
}

Status TencentProvider::Observe(const std::vector<std::string>& ids, std::stop_token stop,
                                const ChunkSink& sink) {
  if (ids.empty()) return OkStatus();
  SerialSink out(sink);
  int64_t n = static_cast<int64_t>(ids.size());
  int64_t per_id_calls = (n + kPerIdBatch - 1) / kPerIdBatch;
  if (per_id_calls <= 1) {
    last_plan_ = PollPlan::kPerId;
    return ObservePerId(ids, stop, out);
  }
  // The asked-for IDs, sorted, and which of them were observed so far (guarded by mu).
  std::vector<std::string_view> wanted(ids.begin(), ids.end());
  std::sort(wanted.begin(), wanted.end());
  std::vector<char> seen(wanted.size(), 0);
  size_t seen_count = 0;
  std::mutex mu;
  auto deliver = [&](std::vector<Observation> page) {
    {
      std::lock_guard lock(mu);
      for (const auto& o : page) {
        auto it = std::lower_bound(wanted.begin(), wanted.end(), std::string_view(o.id));
        if (it == wanted.end() || *it != o.id) continue;
        char& flag = seen[static_cast<size_t>(it - wanted.begin())];
        seen_count += !flag;
        flag = 1;
      }
    }
    out(ObservedChunk{std::move(page), {}});
  };
  auto unseen = [&] {
    std::vector<std::string> rest;
    for (size_t i = 0; i < wanted.size(); ++i) {
      if (!seen[i]) rest.emplace_back(wanted[i]);
    }
    return rest;
  };
  int64_t total = account_total_.load();
  int64_t next_offset = 0;
  if (total < 0) {
    // Unknown account size: the first scan page costs one call and tells the total.
    auto first = Page({}, 0, &total, stop);
    if (!first) return MakeError(first.error());
    account_total_ = total;
    deliver(std::move(*first));
    next_offset = kPageSize;
  }
  PollChoice choice = next_offset == 0
                          ? ChoosePollPlan(n, kPerIdBatch, total, kPageSize)
                          : ChoosePollPlan(n - static_cast<int64_t>(seen_count), kPerIdBatch,
                                           std::max<int64_t>(0, total - next_offset), kPageSize);
  last_plan_ = choice.plan;
  if (choice.plan == PollPlan::kPerId) {
    std::vector<std::string> rest = unseen();
    // The first scan page already held every ID: that page was this round's only call.
    if (rest.empty() && next_offset > 0) last_plan_ = PollPlan::kAccountScan;
    return ObservePerId(rest, stop, out);
  }
  // Account scan: pages from next_offset to total in the account's order, a few in flight.
  size_t pages =
      static_cast<size_t>((std::max<int64_t>(0, total - next_offset) + kPageSize - 1) / kPageSize);
  std::optional<Error> first_error;
  int64_t max_total = total;
  ParallelFor(pages, options_.describe_concurrency, [&](size_t p) {
    {
      std::lock_guard lock(mu);
      if (first_error) return;
    }
    int64_t offset = next_offset + static_cast<int64_t>(p) * kPageSize;
    int64_t page_total = 0;
    auto page = Page({}, offset, &page_total, stop);
    if (!page) {
      std::lock_guard lock(mu);
      if (!first_error) first_error = page.error();
      return;
    }
    {
      std::lock_guard lock(mu);
      max_total = std::max(max_total, page_total);
    }
    deliver(std::move(*page));
  });
  if (first_error) return MakeError(*first_error);
  account_total_ = max_total;
  // Anything a scan missed is confirmed per ID before it may be reported absent.
  return ObservePerId(unseen(), stop, out);
}

}  // namespace rebootd::cloud::tencent
