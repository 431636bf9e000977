// SPDX-License-Identifier: Apache-2.0
// FakeTransport: an http::Transport that answers from a FIFO script of expected calls and
// records every request it is sent. A call with no scripted answer left (or one that does not
// match the expectation) returns an Error and records a gtest failure. Thread-safe.
#pragma once

#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "pkg/base/result.h"
#include "pkg/http/transport.h"

namespace rebootd::testing {

class FakeTransport final : public http::Transport {
 public:
  // A check run on the request of one scripted call; return "" when it matches, else a
  // description of the mismatch (reported as a gtest failure; the call then fails).
  using Matcher = std::function<std::string(const http::Request&)>;

  struct Expectation {
    Matcher matcher;  // may be empty: any request matches
    Result<http::Response> answer;
    std::string label;  // for failure messages
  };

  FakeTransport() = default;
  ~FakeTransport() override;

  // Queues the answer for the next call. The Respond* forms build the Response.
  FakeTransport& Expect(Result<http::Response> answer, Matcher matcher = {},
                        std::string label = {});
  FakeTransport& Respond(int status, std::string body, Matcher matcher = {});
  FakeTransport& RespondJson(int status, std::string body, Matcher matcher = {});
  FakeTransport& Fail(Error error, Matcher matcher = {});

  // Matchers. Actions are read from the Aliyun "Action" query parameter, the Aliyun ACS3
  // "x-acs-action" header or the Tencent "X-TC-Action" header, whichever is present.
  static Matcher Method(std::string method);
  static Matcher Action(std::string action);
  static Matcher MethodAndAction(std::string method, std::string action);

  // The action a request carries (see above), or "".
  static std::string ActionOf(const http::Request& request);

  Result<http::Response> Send(const http::Request& request) override;

  std::vector<http::Request> requests() const;  // every request sent, in order
  size_t request_count() const;
  http::Request last_request() const;  // a default Request when none was sent
  size_t pending() const;              // scripted answers not used yet
  // Records a gtest failure when scripted answers are left over (also done by the destructor
  // unless disabled).
  void VerifyAllUsed();
  void set_verify_on_destruction(bool v);

 private:
  mutable std::mutex mu_;
  std::deque<Expectation> script_;       // guarded by mu_
  std::vector<http::Request> requests_;  // guarded by mu_
  bool verify_on_destruction_ = true;    // guarded by mu_
};

}  // namespace rebootd::testing
