// SPDX-License-Identifier: Apache-2.0
#include "pkg/log/log.h"

#include <spdlog/formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <utility>
#include <vector>

namespace rebootd::log {
namespace {

enum class Format { kText, kJson };

std::string_view View(spdlog::string_view_t s) { return std::string_view(s.data(), s.size()); }

void Append(spdlog::memory_buf_t& dest, std::string_view s) {
  dest.append(s.data(), s.data() + s.size());
}

// "2026-01-01T00:00:00.123Z" (UTC, milliseconds).
void AppendTimestamp(spdlog::memory_buf_t& dest, spdlog::log_clock::time_point time) {
  auto seconds = std::chrono::floor<std::chrono::seconds>(time);
  auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(time - seconds).count();
  std::time_t tt = std::chrono::system_clock::to_time_t(seconds);
  std::tm utc{};
  gmtime_r(&tt, &utc);
  char buf[40];
  int n = std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                        utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                        static_cast<int>(millis));
  if (n > 0) Append(dest, std::string_view(buf, std::min<size_t>(n, sizeof(buf) - 1)));
}

std::string_view TextLevel(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
      return "TRACE";
    case spdlog::level::debug:
      return "DEBUG";
    case spdlog::level::info:
      return "INFO ";
    case spdlog::level::warn:
      return "WARN ";
    case spdlog::level::err:
      return "ERROR";
    case spdlog::level::critical:
      return "CRIT ";
    default:
      return "     ";
  }
}

std::string_view JsonLevel(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
      return "trace";
    case spdlog::level::debug:
      return "debug";
    case spdlog::level::info:
      return "info";
    case spdlog::level::warn:
      return "warn";
    case spdlog::level::err:
      return "error";
    case spdlog::level::critical:
      return "critical";
    default:
      return "off";
  }
}

// Length of the valid UTF-8 sequence at the start of `s` (RFC 3629: no overlongs, no
// surrogates, nothing above U+10FFFF), or 0 when it is not valid.
size_t Utf8SequenceLength(std::string_view s) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char lead = byte(0);
  size_t len = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    len = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    len = 3;
    if (lead == 0xE0) lo = 0xA0;
    if (lead == 0xED) hi = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    len = 4;
    if (lead == 0xF0) lo = 0x90;
    if (lead == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (s.size() < len) return 0;
  if (byte(1) < lo || byte(1) > hi) return 0;
  for (size_t i = 2; i < len; ++i) {
    if (byte(i) < 0x80 || byte(i) > 0xBF) return 0;
  }
  return len;
}

// Appends `s` as a JSON string literal (with quotes). Control characters are escaped and
// invalid UTF-8 bytes become U+FFFD, so every line is valid JSON whatever the message holds.
void AppendJsonString(spdlog::memory_buf_t& dest, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  dest.push_back('"');
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      size_t len = Utf8SequenceLength(s.substr(i));
      if (len == 0) {
        Append(dest, "\\ufffd");
        ++i;
      } else {
        Append(dest, s.substr(i, len));
        i += len;
      }
      continue;
    }
    switch (c) {
      case '"':
        Append(dest, "\\\"");
        break;
      case '\\':
        Append(dest, "\\\\");
        break;
      case '\n':
        Append(dest, "\\n");
        break;
      case '\r':
        Append(dest, "\\r");
        break;
      case '\t':
        Append(dest, "\\t");
        break;
      case '\b':
        Append(dest, "\\b");
        break;
      case '\f':
        Append(dest, "\\f");
        break;
      default:
        if (c < 0x20) {
          Append(dest, "\\u00");
          dest.push_back(kHex[c >> 4]);
          dest.push_back(kHex[c & 0xF]);
        } else {
          dest.push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  dest.push_back('"');
}

bool IsKeyStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsKeyChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
}

// The key=value tokens of a message: key = [A-Za-z_][A-Za-z0-9_.-]*, value up to the next
// space, or a double-quoted string with \" and \\ escapes. Other words are skipped.
std::vector<std::pair<std::string_view, std::string>> KeyValues(std::string_view msg) {
  std::vector<std::pair<std::string_view, std::string>> out;
  size_t i = 0;
  auto skip_word = [&] {
    while (i < msg.size() && msg[i] != ' ') ++i;
  };
  while (i < msg.size()) {
    if (msg[i] == ' ') {
      ++i;
      continue;
    }
    size_t key_begin = i;
    if (!IsKeyStart(msg[i])) {
      skip_word();
      continue;
    }
    while (i < msg.size() && IsKeyChar(msg[i])) ++i;
    if (i >= msg.size() || msg[i] != '=') {
      skip_word();
      continue;
    }
    std::string_view key = msg.substr(key_begin, i - key_begin);
    ++i;  // '='
    std::string value;
    if (i < msg.size() && msg[i] == '"') {
      ++i;
      bool closed = false;
      while (i < msg.size()) {
        char c = msg[i++];
        if (c == '\\' && i < msg.size()) {
          value.push_back(msg[i++]);
        } else if (c == '"') {
          closed = true;
          break;
        } else {
          value.push_back(c);
        }
      }
      if (!closed) break;  // an unterminated quote: keep what was found before it
    } else {
      size_t begin = i;
      skip_word();
      value.assign(msg.substr(begin, i - begin));
    }
    out.emplace_back(key, std::move(value));
  }
  return out;
}

class RebootdFormatter final : public spdlog::formatter {
 public:
  explicit RebootdFormatter(Format format) : format_(format) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    if (format_ == Format::kJson) {
      FormatJson(msg, dest);
    } else {
      FormatText(msg, dest);
    }
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<RebootdFormatter>(format_);
  }

 private:
  static void FormatText(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
    AppendTimestamp(dest, msg.time);
    dest.push_back(' ');
    Append(dest, TextLevel(msg.level));
    dest.push_back(' ');
    Append(dest, View(msg.logger_name));
    Append(dest, ": ");
    // One record per line: line breaks inside the message are written as \n and \r.
    for (char c : View(msg.payload)) {
      if (c == '\n') {
        Append(dest, "\\n");
      } else if (c == '\r') {
        Append(dest, "\\r");
      } else {
        dest.push_back(c);
      }
    }
    dest.push_back('\n');
  }

  static void FormatJson(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
    std::string_view text = View(msg.payload);
    Append(dest, "{\"ts\":\"");
    AppendTimestamp(dest, msg.time);
    Append(dest, "\",\"level\":\"");
    Append(dest, JsonLevel(msg.level));
    Append(dest, "\",\"logger\":");
    AppendJsonString(dest, View(msg.logger_name));
    Append(dest, ",\"msg\":");
    AppendJsonString(dest, text);
    std::vector<std::string_view> seen = {"ts", "level", "logger", "msg"};
    for (const auto& [key, value] : KeyValues(text)) {
      if (std::find(seen.begin(), seen.end(), key) != seen.end()) continue;
      seen.push_back(key);
      dest.push_back(',');
      AppendJsonString(dest, key);
      dest.push_back(':');
      AppendJsonString(dest, value);
    }
    Append(dest, "}\n");
  }

  const Format format_;
};

// The one sink every logger writes to. It forwards to a replaceable target (stderr, or a test
// sink), so loggers never change their sink list while other threads log through them.
class RouterSink final : public spdlog::sinks::sink {
 public:
  RouterSink() { SetTarget(nullptr); }

  void log(const spdlog::details::log_msg& msg) override {
    std::shared_ptr<spdlog::sinks::sink> target;
    {
      std::lock_guard<std::mutex> lock(mu_);
      target = target_;
    }
    target->log(msg);
  }

  void flush() override {
    std::shared_ptr<spdlog::sinks::sink> target;
    {
      std::lock_guard<std::mutex> lock(mu_);
      target = target_;
    }
    target->flush();
  }

  // Patterns are not used: the format is chosen with set_formatter.
  void set_pattern(const std::string&) override {}

  void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override {
    std::lock_guard<std::mutex> lock(mu_);
    formatter_ = std::move(formatter);
    target_->set_formatter(formatter_->clone());
  }

  // Null restores stderr.
  void SetTarget(std::shared_ptr<spdlog::sinks::sink> target) {
    if (target == nullptr) target = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    std::lock_guard<std::mutex> lock(mu_);
    target->set_formatter(formatter_->clone());
    target_ = std::move(target);
  }

 private:
  std::mutex mu_;
  std::unique_ptr<spdlog::formatter> formatter_ =
      std::make_unique<RebootdFormatter>(Format::kText);  // guarded by mu_
  std::shared_ptr<spdlog::sinks::sink> target_;           // guarded by mu_; never null
};

struct State {
  std::mutex mu;
  const std::shared_ptr<RouterSink> sink = std::make_shared<RouterSink>();
  LevelSpec levels;                                                             // guarded by mu
  std::map<std::string, std::shared_ptr<spdlog::logger>, std::less<>> loggers;  // guarded by mu
};

// Never destroyed, so that code logging during static destruction still finds its logger.
State& GlobalState() {
  static State* state = new State();
  return *state;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

Result<spdlog::level::level_enum> ParseLevel(std::string_view text, std::string_view item) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  static const std::pair<std::string_view, spdlog::level::level_enum> kLevels[] = {
      {"trace", spdlog::level::trace},       {"debug", spdlog::level::debug},
      {"info", spdlog::level::info},         {"warn", spdlog::level::warn},
      {"warning", spdlog::level::warn},      {"error", spdlog::level::err},
      {"critical", spdlog::level::critical}, {"off", spdlog::level::off}};
  for (const auto& [name, level] : kLevels) {
    if (lower == name) return level;
  }
  return MakeError(ErrorCode::kInvalidArgument,
                   "invalid log level \"" + std::string(text) + "\" in \"" + std::string(item) +
                       "\" (want trace, debug, info, warn, error, critical or off)");
}

}  // namespace

spdlog::level::level_enum LevelSpec::For(std::string_view component) const {
  auto it = components.find(component);
  return it == components.end() ? default_level : it->second;
}

Result<LevelSpec> ParseLevelSpec(std::string_view spec) {
  LevelSpec out;
  if (Trim(spec).empty()) return out;
  bool have_default = false;
  while (true) {
    size_t comma = spec.find(',');
    std::string_view item = Trim(spec.substr(0, comma));
    if (item.empty()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "invalid log level spec \"" + std::string(spec) + "\": empty item");
    }
    size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      if (have_default) {
        return MakeError(
            ErrorCode::kInvalidArgument,
            "invalid log level spec: more than one default level (\"" + std::string(item) + "\")");
      }
      REBOOTD_ASSIGN_OR_RETURN(out.default_level, ParseLevel(item, item));
      have_default = true;
    } else {
      std::string_view component = Trim(item.substr(0, eq));
      if (std::find(kComponents.begin(), kComponents.end(), component) == kComponents.end()) {
        std::string known;
        for (std::string_view c : kComponents)
          known += (known.empty() ? "" : ", ") + std::string(c);
        return MakeError(ErrorCode::kInvalidArgument,
                         "unknown log component \"" + std::string(component) + "\" in \"" +
                             std::string(item) + "\" (known: " + known + ")");
      }
      if (out.components.contains(component)) {
        return MakeError(ErrorCode::kInvalidArgument,
                         "log component \"" + std::string(component) + "\" given twice");
      }
      REBOOTD_ASSIGN_OR_RETURN(spdlog::level::level_enum level,
                               ParseLevel(Trim(item.substr(eq + 1)), item));
      out.components.emplace(std::string(component), level);
    }
    if (comma == std::string_view::npos) break;
    spec.remove_prefix(comma + 1);
  }
  return out;
}

Status Setup(const LogOptions& options) {
  Format format;
  if (options.format == "text") {
    format = Format::kText;
  } else if (options.format == "json") {
    format = Format::kJson;
  } else {
    return MakeError(ErrorCode::kInvalidArgument,
                     "invalid log format \"" + options.format + "\" (want text or json)");
  }
  REBOOTD_ASSIGN_OR_RETURN(LevelSpec levels, ParseLevelSpec(options.level));
  State& state = GlobalState();
  std::lock_guard<std::mutex> lock(state.mu);
  state.sink->set_formatter(std::make_unique<RebootdFormatter>(format));
  state.levels = std::move(levels);
  for (auto& [name, logger] : state.loggers) logger->set_level(state.levels.For(name));
  return OkStatus();
}

std::shared_ptr<spdlog::logger> Get(std::string_view component) {
  State& state = GlobalState();
  std::lock_guard<std::mutex> lock(state.mu);
  auto it = state.loggers.find(component);
  if (it != state.loggers.end()) return it->second;
  auto logger = std::make_shared<spdlog::logger>(std::string(component), state.sink);
  logger->set_level(state.levels.For(component));
  state.loggers.emplace(std::string(component), logger);
  return logger;
}

void SetSinkForTest(std::shared_ptr<spdlog::sinks::sink> sink) {
  GlobalState().sink->SetTarget(std::move(sink));
}

}  // namespace rebootd::log
