// SPDX-License-Identifier: Apache-2.0
#include "pkg/metrics/bind_address.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

namespace rebootd::metrics {

Result<std::optional<BindAddress>> ParseBindAddress(std::string_view text) {
  if (text == "0") return std::optional<BindAddress>();
  auto invalid = [&](std::string_view why) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "invalid bind address \"" + std::string(text) + "\": " + std::string(why));
  };
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return invalid("want HOST:PORT, :PORT for all interfaces, or 0 to disable");
  }
  std::string host(text.substr(0, colon));
  std::string_view port_text = text.substr(colon + 1);
  if (host.empty()) host = "0.0.0.0";
  if (host == "localhost") host = "127.0.0.1";
  int port = -1;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || port_text.size() > 5 || ec != std::errc() ||
      ptr != port_text.data() + port_text.size() || port < 0 || port > 65535 ||
      !std::all_of(port_text.begin(), port_text.end(),
                   [](char c) { return c >= '0' && c <= '9'; })) {
    return invalid("the port must be a number from 0 to 65535");
  }
  in_addr addr{};
  if (::inet_pton(AF_INET, host.c_str(), &addr) != 1) {
    return invalid("the host must be a numeric IPv4 address or localhost");
  }
  return std::optional<BindAddress>(BindAddress{host, port});
}

}  // namespace rebootd::metrics
