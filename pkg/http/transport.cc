// SPDX-License-Identifier: Apache-2.0
#include "pkg/http/transport.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>

namespace rebootd::http {
namespace {

bool NameEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

void Headers::Set(std::string name, std::string value) {
  // Replace the first occurrence in place (keeps its position) and drop any later duplicates.
  auto first = std::find_if(items.begin(), items.end(),
                            [&](const auto& item) { return NameEquals(item.first, name); });
  if (first == items.end()) {
    items.emplace_back(std::move(name), std::move(value));
    return;
  }
  first->first = std::move(name);
  first->second = std::move(value);
  const std::string& kept = first->first;
  items.erase(std::remove_if(std::next(first), items.end(),
                             [&](const auto& item) { return NameEquals(item.first, kept); }),
              items.end());
}

void Headers::Add(std::string name, std::string value) {
  items.emplace_back(std::move(name), std::move(value));
}

const std::string* Headers::Get(std::string_view name) const {
  for (const auto& [key, value] : items) {
    if (NameEquals(key, name)) return &value;
  }
  return nullptr;
}

std::string Headers::GetOr(std::string_view name, std::string fallback) const {
  const std::string* value = Get(name);
  return value != nullptr ? *value : std::move(fallback);
}

bool FeedLines(std::string_view data, std::string& pending, const Transport::LineHandler& on_line) {
  pending.append(data);
  size_t start = 0;
  bool go_on = true;
  while (go_on) {
    size_t nl = pending.find('\n', start);
    if (nl == std::string::npos) break;
    std::string_view line(pending.data() + start, nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    go_on = on_line(line);
    start = nl + 1;
  }
  pending.erase(0, start);
  return go_on;
}

namespace {
constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
}  // namespace

std::string FormatHttpDate(SystemTime t) {
  std::time_t secs =
      std::chrono::system_clock::to_time_t(std::chrono::time_point_cast<std::chrono::seconds>(t));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday % 7],
                tm.tm_mday, kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

std::optional<SystemTime> ParseHttpDate(std::string_view text) {
  // "Www, DD Mmm YYYY HH:MM:SS GMT": exactly 29 characters.
  if (text.size() != 29 || text.substr(3, 2) != ", " || text.substr(25) != " GMT") {
    return std::nullopt;
  }
  auto digits = [&](size_t pos, size_t n, int* out) {
    int v = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      v = v * 10 + (text[i] - '0');
    }
    *out = v;
    return true;
  };
  int day = 0, year = 0, hour = 0, minute = 0, second = 0, month = -1;
  for (int m = 0; m < 12; ++m) {
    if (text.substr(8, 3) == kMonths[m]) month = m;
  }
  if (month < 0 || text[7] != ' ' || text[11] != ' ' || text[16] != ' ' || text[19] != ':' ||
      text[22] != ':' || !digits(5, 2, &day) || !digits(12, 4, &year) || !digits(17, 2, &hour) ||
      !digits(20, 2, &minute) || !digits(23, 2, &second)) {
    return std::nullopt;
  }
  return FromUtcFields(year, month + 1, day, hour, minute, second);
}

Result<Response> Transport::Stream(const Request& request, const LineHandler& on_line,
                                   std::stop_token stop) {
  if (stop.stop_requested()) return MakeError(ErrorCode::kCancelled, "stream cancelled");
  REBOOTD_ASSIGN_OR_RETURN(Response response, Send(request));
  if (response.status < 200 || response.status > 299) return response;
  std::string pending;
  std::string body = std::move(response.body);
  response.body.clear();
  if (FeedLines(body, pending, on_line) && !pending.empty()) {
    std::string_view rest = pending;
    if (rest.back() == '\r') rest.remove_suffix(1);
    on_line(rest);
  }
  return response;
}

}  // namespace rebootd::http
