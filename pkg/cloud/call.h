// SPDX-License-Identifier: Apache-2.0
// CallRecord/CallObserver: one record per HTTP attempt a cloud client makes, for metrics
// (rebootd_cloud_api_requests_total{provider,action,code}, request duration, rate-limit wait,
// batch size). Plus small helpers both clients share to keep answers and secrets out of errors.
// Header-only; the helpers are pure functions and thread-safe.
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "pkg/base/clock.h"
#include "pkg/base/random.h"
#include "pkg/base/result.h"

namespace rebootd::cloud {

struct CallRecord {
  std::string provider;  // "aliyun" | "tencent"
  std::string action;    // e.g. "RebootInstance", "DescribeInstances"
  // "OK" on success; otherwise the vendor code ("Throttling.User", "DryRunOperation", ...) or a
  // transport/answer code: "Timeout", "ConnectionReset", "ConnectionFailed", "TransportError",
  // "BadResponse" (unparseable answer), "HTTP4xx"/"HTTP5xx" (error status without a vendor code).
  std::string code;
  Duration latency{0};    // Transport::Send time on the client's Clock (steady)
  Duration rate_wait{0};  // time spent waiting for the rate limiter before this attempt
  int batch_size = 0;     // instance IDs carried by the call (0 when it selects none)
  int http_status = 0;    // 0 when no HTTP answer was received
  int attempt = 1;        // 1-based attempt number within one client call
};

// Called synchronously on the calling thread, once per HTTP attempt (not for calls rejected
// client-side or cancelled while waiting for the rate limiter). Must not throw; must be cheap.
using CallObserver = std::function<void(const CallRecord&)>;

// The record code for an Error returned by http::Transport::Send.
inline std::string TransportCallCode(const Error& error) {
  if (error.code == ErrorCode::kDeadlineExceeded) return "Timeout";
  if (error.code == ErrorCode::kUnavailable) {
    return error.ambiguous ? "ConnectionReset" : "ConnectionFailed";
  }
  return "TransportError";
}

// "HTTP4xx" / "HTTP5xx" / "HTTP2xx" for an HTTP status (bounded metric label values).
inline std::string HttpClassCode(int http_status) {
  if (http_status < 100 || http_status > 999) return "HTTPxxx";
  return "HTTP" + std::to_string(http_status / 100) + "xx";
}

// Backoff before retry number `retry` (1 = the first retry): d = min(base * 2^(retry-1), cap),
// jittered uniformly to [d/2, d) (the official Aliyun SDK's throttling backoff shape).
inline Duration JitteredBackoff(Duration base, Duration cap, int retry, Random& random) {
  Duration delay = base;
  for (int i = 1; i < retry && delay < cap; ++i) delay *= 2;
  delay = std::min(delay, cap);
  return delay / 2 + std::chrono::duration_cast<Duration>((delay / 2) * random.Uniform01());
}

// A short, printable excerpt of an answer body for error messages: control characters and
// non-ASCII bytes become spaces/'?', runs of whitespace collapse, at most `max_chars` characters
// ("..." appended when cut). Callers redact secrets before or after (see Redactor).
inline std::string BodySnippet(std::string_view body, size_t max_chars = 200) {
  std::string out;
  out.reserve(std::min(body.size(), max_chars) + 3);
  bool last_space = true;  // also trims leading whitespace
  for (char raw : body) {
    auto c = static_cast<unsigned char>(raw);
    char mapped;
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      if (last_space) continue;
      mapped = ' ';
    } else if (c < 0x20 || c == 0x7f) {
      mapped = ' ';
    } else if (c >= 0x80) {
      mapped = '?';
    } else {
      mapped = static_cast<char>(c);
    }
    last_space = mapped == ' ';
    if (out.size() >= max_chars) {
      out += "...";
      return out;
    }
    out.push_back(mapped);
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (out.empty()) return "<empty body>";
  return out;
}

// Replaces every occurrence of the registered secret values (and the forms they take on the
// wire: percent-encoded once and twice) with "<redacted>". Values shorter than 3 characters are
// ignored so that a message cannot be shredded by a degenerate value. Not thread-safe to mutate;
// const use is thread-safe.
class Redactor {
 public:
  // `encode` is the percent-encoder of the wire format (e.g. http::PercentEncode); may be null.
  using Encoder = std::string (*)(std::string_view);
  explicit Redactor(Encoder encode = nullptr) : encode_(encode) {}

  void Add(std::string_view value) {
    if (value.size() < 3) return;
    values_.emplace_back(value);
    if (encode_ != nullptr) {
      std::string once = encode_(value);
      std::string twice = encode_(once);
      if (once != value) values_.push_back(once);
      if (twice != once) values_.push_back(std::move(twice));
    }
    // Longest first, so that a value that contains another is replaced whole.
    std::stable_sort(
        values_.begin(), values_.end(),
        [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  }

  std::string Apply(std::string text) const {
    for (const std::string& v : values_) {
      size_t pos = 0;
      while ((pos = text.find(v, pos)) != std::string::npos) {
        text.replace(pos, v.size(), kRedacted);
        pos += kRedacted.size();
      }
    }
    return text;
  }

 private:
  static constexpr std::string_view kRedacted = "<redacted>";
  Encoder encode_;
  std::vector<std::string> values_;
};

// Reports one HTTP attempt of a cloud client: the observer sees `record` exactly once, through
// Finish() or Fail(), and every error that leaves through Fail() has the redactor's values taken
// out of all its text (message, vendor code, request ID) and of the record's code.
class AttemptReporter {
 public:
  // All three must outlive the reporter.
  AttemptReporter(CallRecord& record, const CallObserver& observer, const Redactor& redactor)
      : record_(record), observer_(observer), redactor_(redactor) {}

  void Finish(std::string code) {
    record_.code = std::move(code);
    if (observer_) observer_(record_);
  }

  Error Fail(Error error, std::string code) {
    error.message = redactor_.Apply(std::move(error.message));
    error.provider_code = redactor_.Apply(std::move(error.provider_code));
    error.provider_request_id = redactor_.Apply(std::move(error.provider_request_id));
    Finish(redactor_.Apply(std::move(code)));
    return error;
  }

  // A Transport::Send failure: "<prefix>request failed: ...", no HTTP status, and a timeout of a
  // non-idempotent call is ambiguous (it may have been carried out).
  Error FailTransport(std::string_view prefix, Error error, bool idempotent) {
    error.message = std::string(prefix) + "request failed: " +
                    BodySnippet(redactor_.Apply(std::move(error.message)), 300);
    error.http_status = 0;
    if (!idempotent && error.code == ErrorCode::kDeadlineExceeded) error.ambiguous = true;
    std::string code = TransportCallCode(error);
    return Fail(std::move(error), std::move(code));
  }

 private:
  CallRecord& record_;
  const CallObserver& observer_;
  const Redactor& redactor_;
};

}  // namespace rebootd::cloud
