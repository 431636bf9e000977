// SPDX-License-Identifier: Apache-2.0
#include "pkg/cloud/provider.h"

#include <algorithm>
#include <set>

namespace rebootd::cloud {

std::string_view SignName(Sign s) {
  switch (s) {
    case Sign::kInProgress:
      return "InProgress";
    case Sign::kRebooted:
      return "Rebooted";
    case Sign::kRebootFailed:
      return "RebootFailed";
    case Sign::kUnchanged:
      return "Unchanged";
    case Sign::kUnchangedMaybe:
      return "UnchangedMaybe";
    case Sign::kNotRunning:
      return "NotRunning";
  }
  return "Unknown";
}

Result<std::vector<Observation>> CloudProvider::Describe(const std::vector<std::string>& ids,
                                                         std::stop_token stop) {
  std::vector<Observation> out;
  Status s = Observe(ids, std::move(stop), [&](ObservedChunk chunk) {
    for (auto& o : chunk.observations) out.push_back(std::move(o));
  });
  if (!s) return MakeError(s.error());
  // An account scan may return more than was asked for.
  std::set<std::string> wanted(ids.begin(), ids.end());
  std::erase_if(out, [&](const Observation& o) { return !wanted.count(o.id); });
  return out;
}

PollChoice ChoosePollPlan(int64_t ids, int64_t per_call, int64_t account_total, int64_t page_size) {
  auto ceil_div = [](int64_t a, int64_t b) { return b <= 0 ? a : (a + b - 1) / b; };
  PollChoice per_id{PollPlan::kPerId, ceil_div(ids, per_call)};
  if (account_total < 0) return per_id;
  // A scan needs at least one call even for an empty account (to learn it is empty).
  PollChoice scan{PollPlan::kAccountScan, std::max<int64_t>(1, ceil_div(account_total, page_size))};
  return scan.calls < per_id.calls ? scan : per_id;
}

}  // namespace rebootd::cloud
