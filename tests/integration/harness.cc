// SPDX-License-Identifier: Apache-2.0
#include "tests/integration/harness.h"

#include <gtest/gtest.h>

#include "pkg/sim/demo_credentials.h"

namespace rebootd::integration {
namespace {

http::CpprestTransportOptions TransportOptions() {
  http::CpprestTransportOptions options;
  options.connect_timeout = std::chrono::seconds(2);  // loopback: connecting is immediate
  return options;
}

}  // namespace

sim::Inventory DefaultInventory() {
  using sim::AliyunInitialState;
  using sim::TencentInitialState;
  sim::Inventory inventory;
  inventory.tencent = {{"ein-running1", TencentInitialState::kRunning},
                       {"ein-running2", TencentInitialState::kRunning},
                       {"ein-running3", TencentInitialState::kRunning},
                       {"ein-stopped1", TencentInitialState::kStopped}};
  inventory.aliyun = {{"i-run1", "cn-hangzhou", AliyunInitialState::kRunning},
                      {"i-run2", "cn-hangzhou", AliyunInitialState::kRunning},
                      {"i-run3", "cn-hangzhou", AliyunInitialState::kRunning},
                      {"i-stop1", "cn-hangzhou", AliyunInitialState::kStopped},
                      {"i-lock1", "cn-hangzhou", AliyunInitialState::kLocked},
                      {"i-bj1", "cn-beijing", AliyunInitialState::kRunning}};
  return inventory;
}

sim::SimOptions DefaultSimOptions() {
  sim::SimOptions options;
  options.inventory = DefaultInventory();
  options.reboot_seconds = 10;
  options.reboot_jitter = 0;
  options.seed = 11;
  options.start_time_with_seconds = true;
  return options;
}

cloud::aliyun::EcsClientOptions FastEcsOptions() {
  cloud::aliyun::EcsClientOptions options;
  options.region = "cn-hangzhou";
  options.reboot_timeout = std::chrono::seconds(5);
  options.describe_status_timeout = std::chrono::seconds(5);
  options.describe_instances_timeout = std::chrono::seconds(5);
  options.backoff_base = std::chrono::milliseconds(10);
  options.throttle_backoff_base = std::chrono::milliseconds(20);
  options.backoff_cap = std::chrono::milliseconds(200);
  return options;
}

cloud::tencent::EcmClientOptions FastEcmOptions() {
  cloud::tencent::EcmClientOptions options;
  options.timeout = std::chrono::seconds(5);
  options.backoff_base = std::chrono::milliseconds(10);
  options.throttle_backoff_base = std::chrono::milliseconds(20);
  options.backoff_cap = std::chrono::milliseconds(200);
  return options;
}

sim::FaultRule Always(sim::FaultKind kind, std::string action) {
  return sim::FaultRule{kind, std::move(action), 1.0};
}

Harness::Harness(sim::SimOptions options, bool real_time)
    : real_time_(real_time),
      sim_clock_(SystemClock::Instance().Now()),
      transport_(TransportOptions()) {
  options.listen = "127.0.0.1:0";
  Clock& clock = real_time ? static_cast<Clock&>(SystemClock::Instance()) : sim_clock_;
  auto created = sim::Simulator::Create(std::move(options), clock);
  if (!created) {
    ADD_FAILURE() << "simulator: " << created.error().message;
    return;
  }
  sim_ = std::move(*created);
  if (auto started = sim_->Start(); !started) {
    ADD_FAILURE() << "simulator start: " << started.error().message;
  }
}

Harness::~Harness() {
  if (sim_) sim_->Stop();
}

void Harness::AdvanceSim(Duration d) {
  ASSERT_FALSE(real_time_) << "AdvanceSim needs the simulated clock";
  sim_clock_.Advance(d);
}

void Harness::Record(const cloud::CallRecord& record) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    attempts_.push_back(record);
  }
  if (on_attempt) on_attempt(record);
}

std::vector<cloud::CallRecord> Harness::Attempts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return attempts_;
}

std::vector<std::string> Harness::AttemptCodes() const {
  std::vector<std::string> codes;
  for (const auto& r : Attempts()) codes.push_back(r.code);
  return codes;
}

std::unique_ptr<cloud::aliyun::EcsClient> Harness::Ecs(cloud::aliyun::SignatureMethod method,
                                                       cloud::aliyun::EcsClientOptions options,
                                                       const cloud::Credentials* credentials,
                                                       ratelimit::Limiter* limiter) {
  options.endpoint = endpoint();
  options.signature = method;
  options.observer = [this](const cloud::CallRecord& r) { Record(r); };
  auto client = cloud::aliyun::EcsClient::Create(
      std::move(options), credentials ? *credentials : sim::DemoAliyunCredentials(), transport_,
      SystemClock::Instance(), random_, limiter);
  EXPECT_TRUE(client.has_value()) << (client ? "" : client.error().message);
  return client ? std::move(*client) : nullptr;
}

std::unique_ptr<cloud::tencent::EcmClient> Harness::Ecm(cloud::tencent::EcmClientOptions options,
                                                        const cloud::Credentials* credentials,
                                                        ratelimit::Limiter* limiter) {
  options.endpoint = endpoint();
  options.observer = [this](const cloud::CallRecord& r) { Record(r); };
  auto client = cloud::tencent::EcmClient::Create(
      std::move(options), credentials ? *credentials : sim::DemoTencentCredentials(), transport_,
      SystemClock::Instance(), random_, limiter);
  EXPECT_TRUE(client.has_value()) << (client ? "" : client.error().message);
  return client ? std::move(*client) : nullptr;
}

sim::ActionReport Harness::TencentAction(const std::string& action) const {
  auto report = sim_->GetReport();
  auto it = report.tencent.actions.find(action);
  return it == report.tencent.actions.end() ? sim::ActionReport{} : it->second;
}

sim::ActionReport Harness::AliyunAction(const std::string& action) const {
  auto report = sim_->GetReport();
  auto it = report.aliyun.actions.find(action);
  return it == report.aliyun.actions.end() ? sim::ActionReport{} : it->second;
}

int64_t Harness::TencentReboots(const std::string& id) const {
  return sim_->RebootCount(cloud::Provider::kTencent, id);
}

int64_t Harness::AliyunReboots(const std::string& id) const {
  return sim_->RebootCount(cloud::Provider::kAliyun, id);
}

}  // namespace rebootd::integration
