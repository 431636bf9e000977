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
  std::time_t secs = std::chrono::system_clock::to_time_t(
      std::chrono::time_point_cast<std::chrono::seconds>(t));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
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
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return false;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  std::time_t secs = timegm(&tm);
  *out = std::chrono::system_clock::from_time_t(secs);
  return true;
}

}  // namespace rebootd
