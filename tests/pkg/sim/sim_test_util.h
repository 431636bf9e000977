// SPDX-License-Identifier: Apache-2.0
// Helpers for the simulator tests: a simulator on a ManualClock and requests signed with our
// own signers (pkg/cloud/*/signer.h).
#pragma once

#include <memory>
#include <string>

#include "pkg/base/clock.h"
#include "pkg/cloud/aliyun/signer.h"
#include "pkg/cloud/credentials.h"
#include "pkg/http/server.h"
#include "pkg/json/json.h"
#include "pkg/sim/simulator.h"

namespace rebootd::sim::testing {

inline constexpr const char* kHost = "127.0.0.1:18080";

// The default inventory: ein-running1, ein-running2, ein-running3 (RUNNING), ein-stopped1
// (STOPPED); i-run1, i-run2 (cn-hangzhou, Running), i-stop1 (Stopped), i-lock1 (Locked),
// i-bj1 (cn-beijing, Running).
Inventory TestInventory();

struct SimFixture {
  explicit SimFixture(SimOptions options = DefaultOptions());
  static SimOptions DefaultOptions();
  ManualClock clock;
  std::unique_ptr<Simulator> sim;
  int nonce = 0;
};

struct TencentCall {
  std::string action = "RebootInstances";
  std::string body = "{}";
  std::string version = "2019-07-19";
  std::string service = "ecm";
  std::string signed_host = kHost;  // host used for signing
  std::string sent_host = kHost;    // Host header sent
  int64_t timestamp = 0;            // 0 = the clock's now
  cloud::Credentials credentials;   // empty key_id = the demo pair
  bool send_token = true;           // send credentials.token as X-TC-Token when set
};
http::ServerRequest SignTencent(const SimFixture& f, const TencentCall& call);

// Parsed Tencent answer: "" code on success.
struct TencentAnswer {
  std::string code;
  std::string message;
  json::Value response;  // the "Response" object
};
TencentAnswer CallTencent(SimFixture& f, const TencentCall& call);

struct AliyunCall {
  std::string method = "GET";
  cloud::aliyun::Params params;  // Action and business params; Version/Format added if absent
  bool json = true;              // Format=JSON
  bool in_body = false;          // POST form body instead of the query
  SystemTime time{};             // {} = the clock's now
  std::string nonce;             // "" = a fresh one
  cloud::Credentials credentials;
};
http::ServerRequest SignAliyunRpc(SimFixture& f, const AliyunCall& call);

struct AliyunAcs3Call {
  std::string action;
  cloud::aliyun::Params query;
  SystemTime time{};
  std::string nonce;
  cloud::Credentials credentials;
};
http::ServerRequest SignAliyunAcs3(SimFixture& f, const AliyunAcs3Call& call);

struct AliyunAnswer {
  int status = 0;
  std::string code;  // "" on success
  std::string message;
  json::Value body;
  std::string raw;
};
AliyunAnswer Send(SimFixture& f, const http::ServerRequest& request);
AliyunAnswer CallAliyun(SimFixture& f, const AliyunCall& call);

std::string TencentIds(const std::vector<std::string>& ids);

}  // namespace rebootd::sim::testing
