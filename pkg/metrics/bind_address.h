// SPDX-License-Identifier: Apache-2.0
// ParseBindAddress: the shared syntax of --metrics-bind-address and --health-probe-bind-address
// (controller-runtime's conventions). Pure and thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "pkg/base/result.h"

namespace rebootd::metrics {

struct BindAddress {
  std::string host;  // numeric IPv4, e.g. "0.0.0.0" or "127.0.0.1"
  int port = 0;      // 0 picks a free port

  std::string ToString() const { return host + ":" + std::to_string(port); }
};

// "0"          -> std::nullopt: serving is disabled.
// ":PORT"      -> 0.0.0.0:PORT (all interfaces, as Kubernetes users expect).
// "HOST:PORT"  -> HOST:PORT, HOST a numeric IPv4 address or "localhost" (-> 127.0.0.1).
// PORT is 0..65535. Anything else (IPv6, host names, a bare port) is kInvalidArgument with a
// message naming the address.
[[nodiscard]] Result<std::optional<BindAddress>> ParseBindAddress(std::string_view text);

}  // namespace rebootd::metrics
