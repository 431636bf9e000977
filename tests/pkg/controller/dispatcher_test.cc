// SPDX-License-Identifier: Apache-2.0
#include "pkg/controller/dispatcher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

namespace rebootd::controller {
namespace {

TEST(IdsNamedInTest, FindsWholeIdsOnly) {
  std::vector<std::string> batch = {"ein-aaaa0001", "ein-aaaa000", "ein-bbbb0002"};
  auto named = IdsNamedIn("The instance `ein-aaaa0001` does not exist.", batch);
  EXPECT_EQ(named, std::vector<std::string>{"ein-aaaa0001"});
  EXPECT_TRUE(IdsNamedIn("nothing here", batch).empty());
  EXPECT_EQ(IdsNamedIn("ein-bbbb0002,ein-aaaa000", batch),
            (std::vector<std::string>{"ein-aaaa000", "ein-bbbb0002"}));
}

// One ID per call; each call blocks until released.
class GatedProvider final : public cloud::CloudProvider {
 public:
  cloud::Provider kind() const override { return cloud::Provider::kAliyun; }
  std::string scope() const override { return "aliyun/test"; }
  size_t MaxRebootBatch() const override { return 1; }
  bool SupportsDryRun() const override { return false; }
  Result<cloud::RebootAccepted> Reboot(const cloud::RebootCall& call, std::stop_token) override {
    std::unique_lock lock(mu_);
    ++started_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return released_; });
    sent_.push_back(call.ids[0]);
    return cloud::RebootAccepted{"req-" + call.ids[0], false};
  }
  Status Observe(const std::vector<std::string>&, std::stop_token,
                 const cloud::ChunkSink&) override {
    return OkStatus();
  }
  cloud::Sign Read(std::string_view, const cloud::Observation&) const override {
    return cloud::Sign::kUnchangedMaybe;
  }
  std::string FailureReason(const Error&) const override { return "RebootFailed"; }
  void WaitStarted(int n) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return started_ >= n; });
  }
  void Release() {
    std::lock_guard lock(mu_);
    released_ = true;
    cv_.notify_all();
  }
  std::vector<std::string> Sent() {
    std::lock_guard lock(mu_);
    return sent_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int started_ = 0;
  bool released_ = false;
  std::vector<std::string> sent_;
};

TEST(DispatcherTest, CancelTakesBackQueuedWorkOfOneRequestOnly) {
  GatedProvider provider;
  ManualClock clock;
  std::mutex mu;
  std::map<std::string, std::vector<RebootOutcome>> delivered;
  DispatcherOptions options;
  options.workers = 1;
  Dispatcher d(provider, clock, options,
               [&](const std::string& key, std::vector<RebootOutcome> outs) {
                 std::lock_guard lock(mu);
                 for (auto& o : outs) delivered[key].push_back(std::move(o));
               });
  d.Submit({{"ns/a", "i-a0000001"},
            {"ns/a", "i-a0000002"},
            {"ns/b", "i-b0000001"},
            {"ns/a", "i-a0000003"}});
  provider.WaitStarted(1);  // i-a0000001 is in flight
  d.Cancel("ns/a");
  {
    std::lock_guard lock(mu);
    ASSERT_EQ(delivered["ns/a"].size(), 2u);
    for (const auto& o : delivered["ns/a"]) EXPECT_EQ(o.kind, RebootOutcome::Kind::kNotSent);
  }
  provider.Release();
  for (int i = 0; i < 5000 && provider.Sent().size() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  d.Stop();
  EXPECT_EQ(provider.Sent(), (std::vector<std::string>{"i-a0000001", "i-b0000001"}));
}

}  // namespace
}  // namespace rebootd::controller
