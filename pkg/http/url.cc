// SPDX-License-Identifier: Apache-2.0
#include "pkg/http/url.h"

#include <charconv>

namespace rebootd::http {
namespace {

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string Lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = AsciiLower(c);
  return out;
}

int DefaultPort(std::string_view scheme) { return scheme == "https" ? 443 : 80; }

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Characters allowed in a registered host name (RFC 3986 reg-name minus percent-escapes and
// sub-delims we never expect in an endpoint).
bool IsHostChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

bool IsIpv6Char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' ||
         c == '.';
}

// The host as it appears in a URL authority: IPv6 literals go back into brackets.
std::string AuthorityHost(const std::string& host) {
  if (host.find(':') != std::string::npos) return "[" + host + "]";
  return host;
}

}  // namespace

std::string PercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (IsUnreserved(c)) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0x0f]);
    }
  }
  return out;
}

Result<std::string> PercentDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      if (text.size() - i < 3) {
        return MakeError(ErrorCode::kInvalidArgument,
                         "percent-decoding: truncated escape at offset " + std::to_string(i));
      }
      const int hi = HexValue(text[i + 1]);
      const int lo = HexValue(text[i + 2]);
      if (hi < 0 || lo < 0) {
        return MakeError(ErrorCode::kInvalidArgument,
                         "percent-decoding: invalid escape at offset " + std::to_string(i));
      }
      out.push_back(static_cast<char>((hi << 4) | lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Result<QueryParams> ParseQuery(std::string_view query) {
  QueryParams params;
  if (!query.empty() && query.front() == '?') query.remove_prefix(1);
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (part.empty()) continue;  // "a=1&&b=2" or a trailing '&'
    const size_t eq = part.find('=');
    const std::string_view raw_name = part.substr(0, eq);
    const std::string_view raw_value =
        eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1);
    REBOOTD_ASSIGN_OR_RETURN(std::string name, PercentDecode(raw_name, /*plus_is_space=*/true));
    REBOOTD_ASSIGN_OR_RETURN(std::string value, PercentDecode(raw_value, /*plus_is_space=*/true));
    params.emplace_back(std::move(name), std::move(value));
  }
  return params;
}

std::string BuildQuery(const QueryParams& params) {
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out.push_back('&');
    out += PercentEncode(name);
    out.push_back('=');
    out += PercentEncode(value);
  }
  return out;
}

std::string Url::HostHeader() const {
  std::string out = AuthorityHost(host);
  if (explicit_port && port != DefaultPort(scheme)) {
    out.push_back(':');
    out += std::to_string(port);
  }
  return out;
}

std::string Url::Origin() const { return scheme + "://" + HostHeader(); }

Result<Url> ParseUrl(std::string_view text) {
  auto invalid = [&](std::string_view why) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "invalid URL \"" + std::string(text) + "\": " + std::string(why));
  };
  Url url;
  const size_t sep = text.find("://");
  if (sep == std::string_view::npos)
    return invalid("missing scheme (expected http:// or https://)");
  url.scheme = Lowercase(text.substr(0, sep));
  if (url.scheme != "http" && url.scheme != "https") {
    return invalid("unsupported scheme (expected http or https)");
  }
  std::string_view rest = text.substr(sep + 3);
  const size_t authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view tail =
      authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  if (authority.find('@') != std::string_view::npos) {
    return invalid("user information in the authority is not supported");
  }
  if (authority.empty()) return invalid("missing host");

  std::string_view host;
  std::string_view port_text;
  bool has_port = false;
  if (authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return invalid("unterminated IPv6 literal");
    host = authority.substr(1, close - 1);
    if (host.empty() || host.find(':') == std::string_view::npos) {
      return invalid("malformed IPv6 literal");
    }
    for (char c : host) {
      if (!IsIpv6Char(c)) return invalid("malformed IPv6 literal");
    }
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return invalid("unexpected characters after IPv6 literal");
      port_text = after.substr(1);
      has_port = true;
    }
  } else {
    const size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      has_port = true;
    }
    if (host.empty()) return invalid("missing host");
    for (char c : host) {
      if (!IsHostChar(c)) return invalid("invalid character in host");
    }
  }
  url.host = Lowercase(host);

  if (has_port) {
    if (!AllDigits(port_text) || port_text.size() > 5) {
      return invalid("port must be a number between 1 and 65535");
    }
    int port = 0;
    std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (port < 1 || port > 65535) return invalid("port must be a number between 1 and 65535");
    url.port = port;
    url.explicit_port = true;
  } else {
    url.port = DefaultPort(url.scheme);
  }

  // The path ends at the query or fragment; neither is part of Url.
  const size_t path_end = tail.find_first_of("?#");
  const std::string_view path = tail.substr(0, path_end);
  for (char c : path) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return invalid("path contains whitespace or control characters");
    }
  }
  url.path = path.empty() ? "/" : std::string(path);
  return url;
}

bool IsLoopbackHost(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string lower = Lowercase(host);
  if (lower == "localhost" || lower == "localhost.") return true;
  if (lower == "::1" || lower == "0:0:0:0:0:0:0:1") return true;
  // 127.0.0.0/8 as a dotted quad with decimal octets.
  std::string_view rest = lower;
  for (int i = 0; i < 4; ++i) {
    const size_t dot = rest.find('.');
    const std::string_view octet = rest.substr(0, dot);
    if (!AllDigits(octet) || octet.size() > 3) return false;
    int value = 0;
    std::from_chars(octet.data(), octet.data() + octet.size(), value);
    if (value > 255) return false;
    if (i == 0 && value != 127) return false;
    if (i < 3) {
      if (dot == std::string_view::npos) return false;
      rest = rest.substr(dot + 1);
    } else if (dot != std::string_view::npos) {
      return false;
    }
  }
  return true;
}

Result<Url> ParseEndpoint(std::string_view endpoint) {
  const std::string shown(endpoint.substr(0, 100));
  auto url = ParseUrl(endpoint);
  if (!url) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "bad endpoint \"" + shown + "\": " + url.error().message);
  }
  if (!url->path.empty() && url->path != "/") {
    return MakeError(ErrorCode::kInvalidArgument,
                     "endpoint \"" + shown + "\" must not have a path");
  }
  return url;
}

}  // namespace rebootd::http
