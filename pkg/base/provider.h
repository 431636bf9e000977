// SPDX-License-Identifier: Apache-2.0
// The clouds rebootd reboots on: a vocabulary type shared by the API types (spec.provider), the
// cloud clients and the daemon, so that none of them depends on another for it.
#pragma once

#include <array>
#include <optional>
#include <string_view>

namespace rebootd {

enum class Provider { kAliyun, kTencent };

// Every provider, in a fixed order (the order of metric series and listings).
inline constexpr std::array<Provider, 2> kAllProviders = {Provider::kTencent, Provider::kAliyun};

std::string_view ProviderName(Provider p);  // "aliyun" | "tencent"
std::optional<Provider> ParseProvider(std::string_view name);

}  // namespace rebootd
