// SPDX-License-Identifier: Apache-2.0
#include "tests/pkg/sim/sim_test_util.h"

#include <gtest/gtest.h>

#include "pkg/cloud/tencent/signer.h"
#include "pkg/sim/demo_credentials.h"

namespace rebootd::sim::testing {

Inventory TestInventory() {
  Inventory inventory;
  inventory.tencent = {{"ein-running1", TencentInitialState::kRunning},
                       {"ein-running2", TencentInitialState::kRunning},
                       {"ein-running3", TencentInitialState::kRunning},
                       {"ein-stopped1", TencentInitialState::kStopped}};
  inventory.aliyun = {{"i-run1", "cn-hangzhou", AliyunInitialState::kRunning},
                      {"i-run2", "cn-hangzhou", AliyunInitialState::kRunning},
                      {"i-stop1", "cn-hangzhou", AliyunInitialState::kStopped},
                      {"i-lock1", "cn-hangzhou", AliyunInitialState::kLocked},
                      {"i-bj1", "cn-beijing", AliyunInitialState::kRunning}};
  return inventory;
}

SimOptions SimFixture::DefaultOptions() {
  SimOptions options;
  options.inventory = TestInventory();
  options.reboot_seconds = 10;
  options.reboot_jitter = 0;
  options.seed = 7;
  return options;
}

SimFixture::SimFixture(SimOptions options) {
  auto created = Simulator::Create(std::move(options), clock);
  EXPECT_TRUE(created.has_value()) << (created ? "" : created.error().message);
  if (created) sim = std::move(*created);
}

http::ServerRequest SignTencent(const SimFixture& f, const TencentCall& call) {
  cloud::Credentials credentials =
      call.credentials.key_id.empty() ? DemoTencentCredentials() : call.credentials;
  cloud::tencent::Tc3Input input;
  input.host = call.signed_host;
  input.service = call.service;
  input.payload = call.body;
  input.content_type = "application/json";
  input.timestamp =
      call.timestamp != 0
          ? call.timestamp
          : std::chrono::duration_cast<std::chrono::seconds>(f.clock.Now().time_since_epoch())
                .count();
  cloud::tencent::Tc3Signed signed_request = cloud::tencent::SignTc3(input, credentials);
  http::ServerRequest request;
  request.method = "POST";
  request.target = "/";
  request.path = "/";
  request.body = call.body;
  request.peer = "127.0.0.1:40000";
  request.headers.Set("Host", call.sent_host);
  request.headers.Set("Content-Type", "application/json");
  request.headers.Set("X-TC-Action", call.action);
  request.headers.Set("X-TC-Version", call.version);
  request.headers.Set("X-TC-Timestamp", std::to_string(input.timestamp));
  request.headers.Set("Authorization", signed_request.authorization);
  if (call.send_token && !credentials.token.empty()) {
    request.headers.Set("X-TC-Token", credentials.token);
  }
  return request;
}

TencentAnswer CallTencent(SimFixture& f, const TencentCall& call) {
  http::ServerResponse response = f.sim->Handle(SignTencent(f, call));
  EXPECT_EQ(response.status, 200);
  TencentAnswer answer;
  auto parsed = json::Parse(response.body);
  EXPECT_TRUE(parsed.has_value()) << response.body;
  if (!parsed) return answer;
  const json::Value* inner = parsed->Find("Response");
  EXPECT_NE(inner, nullptr) << response.body;
  if (inner == nullptr) return answer;
  answer.response = *inner;
  EXPECT_NE(inner->Find("RequestId"), nullptr) << response.body;
  if (const json::Value* error = inner->Find("Error")) {
    answer.code = error->Find("Code")->AsString();
    answer.message = error->Find("Message")->AsString();
  }
  return answer;
}

http::ServerRequest SignAliyunRpc(SimFixture& f, const AliyunCall& call) {
  cloud::Credentials credentials =
      call.credentials.key_id.empty() ? DemoAliyunCredentials() : call.credentials;
  cloud::aliyun::Params params = call.params;
  if (!params.count("Version")) params["Version"] = "2014-05-26";
  if (call.json) params["Format"] = "JSON";
  SystemTime time = call.time == SystemTime{} ? f.clock.Now() : call.time;
  std::string nonce = call.nonce.empty() ? "nonce-" + std::to_string(++f.nonce) : call.nonce;
  cloud::aliyun::RpcSigned signed_request =
      cloud::aliyun::SignRpc(call.method, params, credentials, time, nonce);
  http::ServerRequest request;
  request.method = call.method;
  request.path = "/";
  request.peer = "127.0.0.1:40000";
  request.headers.Set("Host", kHost);
  if (call.in_body) {
    request.target = "/";
    request.body = signed_request.query;
    request.headers.Set("Content-Type", "application/x-www-form-urlencoded");
  } else {
    request.query = signed_request.query;
    request.target = "/?" + signed_request.query;
  }
  return request;
}

http::ServerRequest SignAliyunAcs3(SimFixture& f, const AliyunAcs3Call& call) {
  cloud::Credentials credentials =
      call.credentials.key_id.empty() ? DemoAliyunCredentials() : call.credentials;
  cloud::aliyun::Acs3Input input;
  input.method = "POST";
  input.host = kHost;
  input.action = call.action;
  input.query = call.query;
  SystemTime time = call.time == SystemTime{} ? f.clock.Now() : call.time;
  std::string nonce = call.nonce.empty() ? "acs3-" + std::to_string(++f.nonce) : call.nonce;
  cloud::aliyun::Acs3Signed signed_request =
      cloud::aliyun::SignAcs3(input, credentials, time, nonce);
  http::ServerRequest request;
  request.method = "POST";
  request.path = "/";
  request.query = signed_request.query;
  request.target = "/?" + signed_request.query;
  request.peer = "127.0.0.1:40000";
  for (const auto& [name, value] : signed_request.headers) request.headers.Set(name, value);
  return request;
}

AliyunAnswer Send(SimFixture& f, const http::ServerRequest& request) {
  http::ServerResponse response = f.sim->Handle(request);
  AliyunAnswer answer;
  answer.status = response.status;
  answer.raw = response.body;
  if (response.body.rfind("<?xml", 0) == 0) return answer;
  auto parsed = json::Parse(response.body);
  EXPECT_TRUE(parsed.has_value()) << response.body;
  if (!parsed) return answer;
  answer.body = *parsed;
  EXPECT_NE(parsed->Find("RequestId"), nullptr) << response.body;
  if (const json::Value* code = parsed->Find("Code")) {
    answer.code = code->AsString();
    answer.message = parsed->Find("Message")->AsString();
    EXPECT_EQ(parsed->Find("HostId")->AsString(), "ecs.aliyuncs.com");
    EXPECT_NE(parsed->Find("Recommend"), nullptr);
  }
  return answer;
}

AliyunAnswer CallAliyun(SimFixture& f, const AliyunCall& call) {
  return Send(f, SignAliyunRpc(f, call));
}

std::string TencentIds(const std::vector<std::string>& ids) {
  json::Value list = json::Value::MakeArray();
  for (const auto& id : ids) list.PushBack(json::Value(id));
  json::Value body = json::Value::MakeObject();
  body.Set("InstanceIdSet", std::move(list));
  return body.Dump();
}

}  // namespace rebootd::sim::testing
