// SPDX-License-Identifier: Apache-2.0
// URL helpers shared by the signers, the clients and the simulator. Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pkg/base/result.h"

namespace rebootd::http {

// RFC 3986 percent-encoding of UTF-8 bytes: A-Z a-z 0-9 - _ . ~ stay, everything else becomes
// %XY with uppercase hex (space -> %20, '*' -> %2A, '~' stays). Used by both Aliyun signatures.
std::string PercentEncode(std::string_view text);
// Decodes %XY escapes; when `plus_is_space` is true, '+' decodes to a space (form encoding).
// kInvalidArgument on a malformed escape.
Result<std::string> PercentDecode(std::string_view text, bool plus_is_space = false);

using QueryParams = std::vector<std::pair<std::string, std::string>>;
// Parses "a=1&b=%20x" into decoded pairs in their original order ('+' decodes to a space).
Result<QueryParams> ParseQuery(std::string_view query);
// Builds "a=1&b=%20x" with PercentEncode on names and values, in the given order.
std::string BuildQuery(const QueryParams& params);

struct Url {
  std::string scheme;  // "http" or "https"
  std::string host;    // without port
  int port = 0;        // explicit or the scheme's default
  bool explicit_port = false;
  std::string path;  // "/" when empty
  // "host" or "host:port" as it would appear in a Host header for this URL.
  std::string HostHeader() const;
  // scheme://host[:port]
  std::string Origin() const;
};
// Parses absolute http(s) URLs. kInvalidArgument with a clear message otherwise.
Result<Url> ParseUrl(std::string_view text);
// An API endpoint: an absolute http(s) URL with no path beyond "/". The message names the
// endpoint (cut to 100 characters) and says what is wrong; callers prefix their own context.
Result<Url> ParseEndpoint(std::string_view endpoint);
// True when `host` is a loopback name or address (localhost, 127.0.0.0/8, ::1).
bool IsLoopbackHost(std::string_view host);

}  // namespace rebootd::http
