// SPDX-License-Identifier: Apache-2.0
// Errors as values: Error, Result<T> (tl::expected) and Status, with abseil-style canonical codes
// that carry retry semantics. No exception crosses a pkg/ boundary.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include <tl/expected.hpp>

namespace rebootd {

// Canonical codes (a subset of abseil's). What the caller should do is part of the contract:
enum class ErrorCode {
  kInvalidArgument,     // bad input; do not retry until the input changes
  kNotFound,            // the thing does not exist; terminal
  kAlreadyExists,       // terminal
  kFailedPrecondition,  // wrong state now (e.g. instance not running); re-check, do not blindly
                        // retry
  kAborted,             // concurrency conflict (e.g. HTTP 409); retry the read-modify-write
  kUnavailable,         // transient (5xx, network); retry with backoff
  kDeadlineExceeded,    // timed out; the operation may or may not have happened
  kResourceExhausted,   // throttled or quota; retry after a shared backoff
  kPermissionDenied,    // authenticated but not allowed; terminal
  kUnauthenticated,     // bad or missing credentials or signature; terminal
  kInternal,            // a bug or an unparseable answer
  kCancelled,           // stopped by the caller
};

std::string_view ErrorCodeName(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  // Vendor detail, when the error came from a cloud API (empty otherwise).
  std::string provider_code;        // e.g. "Throttling.User", "ResourceNotFound.InstanceNotExist"
  std::string provider_request_id;  // the cloud's RequestId, when it answered
  int http_status = 0;              // 0 when no HTTP answer was received
  // True when the request may have reached the server and taken effect even though the caller
  // saw a failure (read timeout, connection reset after sending, 5xx). Non-idempotent calls
  // (reboots) must then be resolved by polling, never by blindly re-sending.
  bool ambiguous = false;

  // Named constructors: Error::Of(code, message), or one per code, e.g.
  // Error::Unavailable("...").Ambiguous(). The details above default to "none".
  static Error Of(ErrorCode code, std::string message) {
    Error e;
    e.code = code;
    e.message = std::move(message);
    return e;
  }
  static Error InvalidArgument(std::string m) {
    return Of(ErrorCode::kInvalidArgument, std::move(m));
  }
  static Error NotFound(std::string m) { return Of(ErrorCode::kNotFound, std::move(m)); }
  static Error FailedPrecondition(std::string m) {
    return Of(ErrorCode::kFailedPrecondition, std::move(m));
  }
  static Error Unavailable(std::string m) { return Of(ErrorCode::kUnavailable, std::move(m)); }
  static Error DeadlineExceeded(std::string m) {
    return Of(ErrorCode::kDeadlineExceeded, std::move(m));
  }
  static Error AlreadyExists(std::string m) { return Of(ErrorCode::kAlreadyExists, std::move(m)); }
  static Error Aborted(std::string m) { return Of(ErrorCode::kAborted, std::move(m)); }
  static Error ResourceExhausted(std::string m) {
    return Of(ErrorCode::kResourceExhausted, std::move(m));
  }
  static Error PermissionDenied(std::string m) {
    return Of(ErrorCode::kPermissionDenied, std::move(m));
  }
  static Error Unauthenticated(std::string m) {
    return Of(ErrorCode::kUnauthenticated, std::move(m));
  }
  static Error Internal(std::string m) { return Of(ErrorCode::kInternal, std::move(m)); }
  static Error Cancelled(std::string m) { return Of(ErrorCode::kCancelled, std::move(m)); }
  // Marks (or clears) "may have taken effect"; see `ambiguous`.
  Error Ambiguous(bool value = true) && {
    ambiguous = value;
    return std::move(*this);
  }

  // "CODE: message" plus the provider code, for logs and status messages. Never holds secrets.
  std::string ToString() const;
};

// Result<T>: a T or an Error (tl::expected). [[nodiscard]] on the type makes every function
// that returns a Result or a Status nodiscard: dropping one is a compile error under
// REBOOTD_WERROR. Where dropping it is the decision, say so with `(void)` and a comment why.
template <class T>
class [[nodiscard]] Result : public tl::expected<T, Error> {
 public:
  using Base = tl::expected<T, Error>;
  using Base::Base;
  using Base::operator=;
  Result() = default;
  Result(const Base& other) : Base(other) {}        // NOLINT: implicit by design
  Result(Base&& other) : Base(std::move(other)) {}  // NOLINT: implicit by design
};
using Status = Result<void>;

inline tl::unexpected<Error> MakeError(ErrorCode code, std::string message) {
  return tl::unexpected<Error>(Error::Of(code, std::move(message)));
}
inline tl::unexpected<Error> MakeError(Error error) {
  return tl::unexpected<Error>(std::move(error));
}
inline Status OkStatus() { return {}; }

// True for codes where retrying the same call later can succeed (Unavailable, DeadlineExceeded,
// ResourceExhausted, Aborted). Callers of non-idempotent operations must also check `ambiguous`.
bool IsRetryable(const Error& error);

}  // namespace rebootd

#define REBOOTD_CONCAT_INNER_(a, b) a##b
#define REBOOTD_CONCAT_(a, b) REBOOTD_CONCAT_INNER_(a, b)

// Returns the error of a Status/Result expression from the enclosing function.
#define REBOOTD_RETURN_IF_ERROR(expr)                                       \
  do {                                                                      \
    auto&& rebootd_status_ = (expr);                                        \
    if (!rebootd_status_) return ::tl::unexpected(rebootd_status_.error()); \
  } while (0)

// REBOOTD_ASSIGN_OR_RETURN(auto x, MakeX()): binds the value or returns the error.
#define REBOOTD_ASSIGN_OR_RETURN(lhs, expr) \
  REBOOTD_ASSIGN_OR_RETURN_IMPL_(REBOOTD_CONCAT_(rebootd_result_, __LINE__), lhs, expr)
#define REBOOTD_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr)       \
  auto tmp = (expr);                                         \
  if (!tmp) return ::tl::unexpected(std::move(tmp).error()); \
  lhs = std::move(tmp).value()
