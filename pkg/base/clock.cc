// SPDX-License-Identifier: Apache-2.0
#include "pkg/base/clock.h"

#include <cstdio>
#include <ctime>
#include <string>
#include <string_view>
#include <thread>

namespace rebootd {

bool SystemClock::SleepUntil(SteadyTime deadline, std::stop_token stop) {
  std::mutex mu;
  std::condition_variable_any cv;
  std::unique_lock lock(mu);
  // wait_until with a stop_token returns early when stop is requested.
  cv.wait_until(lock, stop, deadline, [] { return false; });
  return !stop.stop_requested();
}

SystemClock& SystemClock::Instance() {
  static SystemClock clock;
  return clock;
}

SystemTime ManualClock::DefaultStart() {
  // 2026-01-01T00:00:00Z
  return SystemTime(std::chrono::seconds(1767225600));
}

ManualClock::ManualClock(SystemTime start) : now_(start), steady_(std::chrono::hours(1000)) {}

SystemTime ManualClock::Now() const {
  std::lock_guard lock(mu_);
  return now_;
}

SteadyTime ManualClock::SteadyNow() const {
  std::lock_guard lock(mu_);
  return steady_;
}

bool ManualClock::SleepUntil(SteadyTime deadline, std::stop_token stop) {
  std::unique_lock lock(mu_);
  ++sleepers_;
  cv_.notify_all();
  bool reached = cv_.wait(lock, stop, [&] { return steady_ >= deadline; });
  --sleepers_;
  cv_.notify_all();
  return reached;
}

void ManualClock::Advance(Duration d) {
  {
    std::lock_guard lock(mu_);
    now_ += std::chrono::duration_cast<SystemTime::duration>(d);
    steady_ += std::chrono::duration_cast<SteadyTime::duration>(d);
  }
  cv_.notify_all();
}

void ManualClock::SetNow(SystemTime t) {
  std::lock_guard lock(mu_);
  now_ = t;
}

int ManualClock::Sleepers() const {
  std::lock_guard lock(mu_);
  return sleepers_;
}

std::string FormatRfc3339(SystemTime t) {
  // Civil date from days since 1970-01-01 (H. Hinnant's algorithm): no gmtime/strftime, which
  // dominated the cost of writing large status records.
  const int64_t secs = std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
  int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  int64_t rem = secs - days * 86400;
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const int64_t doe = days - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const int64_t year = yoe + era * 400 + (month <= 2);
  if (year < 0 || year > 9999) return "0000-01-01T00:00:00Z";
  char buf[21] = "0000-00-00T00:00:00Z";
  auto put = [&](int pos, int64_t v, int width) {
    for (int i = width - 1; i >= 0; --i, v /= 10) buf[pos + i] = static_cast<char>('0' + v % 10);
  };
  put(0, year, 4);
  put(5, month, 2);
  put(8, day, 2);
  put(11, rem / 3600, 2);
  put(14, rem / 60 % 60, 2);
  put(17, rem % 60, 2);
  return std::string(buf, 20);
}

bool ParseRfc3339(std::string_view text, SystemTime* out) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  std::string str(text);
  int consumed = 0;
  if (std::sscanf(str.c_str(), "%4d-%2d-%2dT%2d:%2d%n", &y, &mo, &d, &h, &mi, &consumed) != 5) {
    return false;
  }
  std::string_view rest = text.substr(static_cast<size_t>(consumed));
  if (!rest.empty() && rest[0] == ':') {
    if (rest.size() < 3 || !isdigit(rest[1]) || !isdigit(rest[2])) return false;
    s = (rest[1] - '0') * 10 + (rest[2] - '0');
    rest.remove_prefix(3);
    if (!rest.empty() && rest[0] == '.') {
      rest.remove_prefix(1);
      while (!rest.empty() && isdigit(static_cast<unsigned char>(rest[0]))) rest.remove_prefix(1);
    }
  }
  if (rest != "Z") return false;
  std::optional<SystemTime> t = FromUtcFields(y, mo, d, h, mi, s);
  if (!t) return false;
  *out = *t;
  return true;
}

std::optional<SystemTime> FromUtcFields(int year, int month, int day, int hour, int minute,
                                        int second) {
  if (year < 1970 || year > 2200 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 ||
      hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

}  // namespace rebootd
