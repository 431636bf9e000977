// SPDX-License-Identifier: Apache-2.0
// Hashes, MACs and encodings for request signing. The only OpenSSL user in the project.
// Pure functions: no I/O, no state, thread-safe. "Raw" results are binary strings.
#pragma once

#include <string>
#include <string_view>

#include "pkg/base/result.h"

namespace rebootd::crypto {

// SHA-256 of `data` (32 raw bytes).
std::string Sha256(std::string_view data);
// Lowercase hex SHA-256 of `data` (64 characters).
std::string Sha256Hex(std::string_view data);
// HMAC-SHA1 (20 raw bytes) and HMAC-SHA256 (32 raw bytes).
std::string HmacSha1(std::string_view key, std::string_view data);
std::string HmacSha256(std::string_view key, std::string_view data);

// Lowercase hex of raw bytes.
std::string HexEncode(std::string_view bytes);
// Standard base64 (RFC 4648 §4, with '=' padding, no line breaks).
std::string Base64Encode(std::string_view bytes);
// Accepts standard base64 with or without padding; whitespace is not allowed.
// kInvalidArgument for anything else.
Result<std::string> Base64Decode(std::string_view text);

// Compares in time independent of where the inputs differ (for signature checks).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace rebootd::crypto
