// SPDX-License-Identifier: Apache-2.0
#include "tests/support/fake_transport.h"

#include <gtest/gtest.h>

#include <cctype>
#include <string_view>
#include <utility>

namespace rebootd::testing {
namespace {

// Only header-inline parts of pkg/http are used here (this library does not link rebootd::http).
bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

const std::string* FindHeader(const http::Request& request, std::string_view name) {
  for (const auto& [n, v] : request.headers.items) {
    if (EqualsIgnoreCase(n, name)) return &v;
  }
  return nullptr;
}

// The raw value of query parameter `name` ("" when absent). Action names need no decoding.
std::string QueryValue(const std::string& url, std::string_view name) {
  size_t q = url.find('?');
  if (q == std::string::npos) return "";
  std::string_view query(url);
  query.remove_prefix(q + 1);
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      return eq == std::string_view::npos ? "" : std::string(pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return "";
}

Error Unexpected(std::string message) {
  Error error;
  error.code = ErrorCode::kInternal;
  error.message = "FakeTransport: " + std::move(message);
  return error;
}

}  // namespace

FakeTransport::~FakeTransport() {
  bool verify;
  {
    std::lock_guard lock(mu_);
    verify = verify_on_destruction_;
  }
  if (verify) VerifyAllUsed();
}

FakeTransport& FakeTransport::Expect(Result<http::Response> answer, Matcher matcher,
                                     std::string label) {
  std::lock_guard lock(mu_);
  script_.push_back(Expectation{std::move(matcher), std::move(answer), std::move(label)});
  return *this;
}

FakeTransport& FakeTransport::Respond(int status, std::string body, Matcher matcher) {
  http::Response response;
  response.status = status;
  response.body = std::move(body);
  return Expect(std::move(response), std::move(matcher));
}

FakeTransport& FakeTransport::RespondJson(int status, std::string body, Matcher matcher) {
  http::Response response;
  response.status = status;
  response.body = std::move(body);
  response.headers.items.emplace_back("Content-Type", "application/json");
  return Expect(std::move(response), std::move(matcher));
}

FakeTransport& FakeTransport::Fail(Error error, Matcher matcher) {
  return Expect(tl::unexpected(std::move(error)), std::move(matcher));
}

FakeTransport::Matcher FakeTransport::Method(std::string method) {
  return [method = std::move(method)](const http::Request& r) -> std::string {
    if (r.method == method) return "";
    return "expected method " + method + ", got " + r.method;
  };
}

FakeTransport::Matcher FakeTransport::Action(std::string action) {
  return [action = std::move(action)](const http::Request& r) -> std::string {
    std::string got = ActionOf(r);
    if (got == action) return "";
    return "expected action " + action + ", got \"" + got + "\"";
  };
}

FakeTransport::Matcher FakeTransport::MethodAndAction(std::string method, std::string action) {
  Matcher m = Method(std::move(method));
  Matcher a = Action(std::move(action));
  return [m, a](const http::Request& r) -> std::string {
    std::string why = m(r);
    return why.empty() ? a(r) : why;
  };
}

std::string FakeTransport::ActionOf(const http::Request& request) {
  if (const std::string* h = FindHeader(request, "X-TC-Action")) return *h;
  if (const std::string* h = FindHeader(request, "x-acs-action")) return *h;
  return QueryValue(request.url, "Action");
}

Result<http::Response> FakeTransport::Send(const http::Request& request) {
  Expectation next;
  size_t index;
  {
    std::lock_guard lock(mu_);
    requests_.push_back(request);
    index = requests_.size();
    if (script_.empty()) {
      ADD_FAILURE() << "FakeTransport: unexpected call #" << index << " " << request.method
                    << " action=" << ActionOf(request) << " (no scripted answer left)";
      return tl::unexpected(Unexpected("unexpected call (no scripted answer left)"));
    }
    next = std::move(script_.front());
    script_.pop_front();
  }
  if (next.matcher) {
    std::string why = next.matcher(request);
    if (!why.empty()) {
      ADD_FAILURE() << "FakeTransport: call #" << index
                    << (next.label.empty() ? "" : " (" + next.label + ")")
                    << " does not match: " << why;
      return tl::unexpected(Unexpected("call does not match the script: " + why));
    }
  }
  return next.answer;
}

std::vector<http::Request> FakeTransport::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

size_t FakeTransport::request_count() const {
  std::lock_guard lock(mu_);
  return requests_.size();
}

http::Request FakeTransport::last_request() const {
  std::lock_guard lock(mu_);
  return requests_.empty() ? http::Request{} : requests_.back();
}

size_t FakeTransport::pending() const {
  std::lock_guard lock(mu_);
  return script_.size();
}

void FakeTransport::VerifyAllUsed() {
  size_t left = pending();
  if (left != 0) ADD_FAILURE() << "FakeTransport: " << left << " scripted answer(s) never used";
}

void FakeTransport::set_verify_on_destruction(bool v) {
  std::lock_guard lock(mu_);
  verify_on_destruction_ = v;
}

}  // namespace rebootd::testing
