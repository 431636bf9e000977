// SPDX-License-Identifier: Apache-2.0
// Logging setup (spdlog): one named logger per component, all writing to one shared,
// thread-safe sink (stderr unless a test replaces it). Levels are set per component from a flag
// spec, and the line format is text or JSON. Process-wide state; every function is thread-safe.
//
// Messages are lowercase with key=value context: "rebooting request=ns/name instance=ein-x".
// Never log secrets, Authorization headers or signed URLs.
#pragma once

#include <spdlog/logger.h>
#include <spdlog/sinks/sink.h>

#include <array>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "pkg/base/result.h"

namespace rebootd::log {

// The known components; a level spec may name only these.
inline constexpr std::array<std::string_view, 10> kComponents = {
    "main",      "controller", "source", "kube",  "cloud",
    "ratelimit", "http",       "sim",    "store", "metrics"};

struct LogOptions {
  // "text": 2026-01-01T00:00:00.123Z INFO  controller: message
  // "json": {"ts":"2026-01-01T00:00:00.123Z","level":"info","logger":"controller","msg":"message"}
  //         plus one string field per key=value token of the message (keys that would shadow
  //         ts/level/logger/msg are left in msg only).
  std::string format = "text";
  // A default level and/or COMPONENT=LEVEL overrides, comma-separated, in any order:
  // "info", "info,cloud=debug,controller=trace", "cloud=debug" (default stays info).
  // Levels: trace, debug, info, warn (or warning), error, critical, off.
  std::string level = "info";
};

// The parsed form of LogOptions::level.
struct LevelSpec {
  spdlog::level::level_enum default_level = spdlog::level::info;
  std::map<std::string, spdlog::level::level_enum, std::less<>> components;

  spdlog::level::level_enum For(std::string_view component) const;
};

// Parses a level spec. kInvalidArgument naming the offending item for an unknown level, an
// unknown component, a repeated component, or more than one default level. Pure.
[[nodiscard]] Result<LevelSpec> ParseLevelSpec(std::string_view spec);

// Applies `options` to every existing logger and to loggers created later. On error
// (kInvalidArgument: unknown format, bad level spec) nothing changes. May be called again.
[[nodiscard]] Status Setup(const LogOptions& options);

// The logger for `component`, created on first use with the current format and level. Names
// outside kComponents are allowed (they follow the default level). Never null; cache it.
std::shared_ptr<spdlog::logger> Get(std::string_view component);

// Routes every logger's output to `sink` (formatted with the current format), or back to stderr
// when `sink` is null. For tests, e.g. with spdlog::sinks::ostream_sink_mt.
void SetSinkForTest(std::shared_ptr<spdlog::sinks::sink> sink);

}  // namespace rebootd::log
