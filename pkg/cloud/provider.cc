// SPDX-License-Identifier: Apache-2.0
#include "pkg/cloud/provider.h"

#include <algorithm>

namespace rebootd::cloud {

PollChoice ChoosePollPlan(int64_t ids, int64_t per_call, int64_t account_total, int64_t page_size) {
  auto ceil_div = [](int64_t a, int64_t b) { return b <= 0 ? a : (a + b - 1) / b; };
  PollChoice per_id{PollPlan::kPerId, ceil_div(ids, per_call)};
  if (account_total < 0) return per_id;
  // A scan needs at least one call even for an empty account (to learn it is empty).
  PollChoice scan{PollPlan::kAccountScan, std::max<int64_t>(1, ceil_div(account_total, page_size))};
  return scan.calls < per_id.calls ? scan : per_id;
}

}  // namespace rebootd::cloud
