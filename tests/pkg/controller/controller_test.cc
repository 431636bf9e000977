// SPDX-License-Identifier: Apache-2.0
// Controller end-to-end on the in-memory FakeProvider, a ManualClock and a MemoryStatusStore.
// The dispatcher and poller run real threads; the test advances the clock in small steps and
// drives the reconcile loop with RunOnce() until the runs finish (bounded).
#include "pkg/controller/controller.h"

#include <dirent.h>

#include <gtest/gtest.h>

#include <atomic>
#include <future>

#include <functional>
#include <map>
#include <thread>

#include "pkg/cloud/fake/fake_provider.h"
#include "tests/support/forwarding_provider.h"
#include "tests/support/memory_status_store.h"

namespace rebootd::controller {
namespace {

using namespace std::chrono_literals;
using cloud::fake::FakeProvider;
using State = FakeProvider::State;

// Answers each reboot call only after 100 ms of simulated time (a call in flight, as on a real
// network), so that outcomes reach the controller one call at a time.
class SlowRebootProvider final : public testing::ForwardingProvider {
 public:
  SlowRebootProvider(cloud::CloudProvider& inner, Clock& clock)
      : ForwardingProvider(inner), clock_(clock) {}
  Result<cloud::RebootAccepted> Reboot(const cloud::RebootCall& call,
                                       std::stop_token stop) override {
    if (!clock_.SleepFor(100ms, stop)) return MakeError(ErrorCode::kCancelled, "stopped");
    return inner().Reboot(call, stop);
  }

 private:
  Clock& clock_;
};

class SingleProviderFactory : public ProviderFactory {
 public:
  explicit SingleProviderFactory(cloud::CloudProvider* p) : p_(p) {}
  Result<cloud::CloudProvider*> ProviderFor(const api::RebootRequest&) override {
    if (fail_) {
      return MakeError(fail_code_, fail_code_ == ErrorCode::kUnauthenticated
                                       ? "TENCENTCLOUD_SECRET_ID is not set"
                                       : "Secret ops/creds (spec.credentialsSecretRef) not found");
    }
    return p_;
  }
  bool fail_ = false;
  ErrorCode fail_code_ = ErrorCode::kUnauthenticated;

 private:
  cloud::CloudProvider* p_;
};

class CountingRecorder : public Recorder {
 public:
  void InstanceFinished(const api::RebootRequest&, const api::InstanceStatus&) override {
    ++finished;
  }
  void Warning(const std::string&, const std::string& reason, const std::string&) override {
    warnings.push_back(reason);
  }
  void RecordWriteFailed(const std::string&, const Error&) override { ++write_failures; }
  int finished = 0;
  std::atomic<int> write_failures{0};
  std::vector<std::string> warnings;
};

std::string TencentId(int i) {
  char b[32];
  std::snprintf(b, sizeof b, "ein-%08d", i);
  return b;
}

api::RebootRequest MakeRequest(const std::string& name, cloud::Provider p,
                               std::vector<std::string> ids) {
  api::RebootRequest r;
  r.metadata.name = name;
  r.metadata.namespace_ = "ops";
  r.spec.provider = p;
  if (p == cloud::Provider::kAliyun) r.spec.region = "cn-hangzhou";
  r.spec.instance_ids = std::move(ids);
  r.spec.timeout_seconds = 120;
  return r;
}

class ControllerTest : public ::testing::Test {
 protected:
  void SetUp() override { MakeProvider(cloud::Provider::kTencent); }

  void MakeProvider(cloud::Provider kind) {
    controller_.reset();
    cloud::fake::FakeOptions fo;
    fo.kind = kind;
    fo.max_batch = kind == cloud::Provider::kTencent ? 100 : 1;
    fo.reboot_duration = 3s;
    provider_ = std::make_unique<FakeProvider>(fo, clock_);
    factory_ = std::make_unique<SingleProviderFactory>(provider_.get());
  }

  void StartController() {
    ControllerOptions o;
    o.poller.interval = 2s;
    o.poller.after_reboot_delay = 500ms;
    o.poller.min_gap = 100ms;
    o.dispatcher.retry_delay = 200ms;
    o.logic.settle = 10s;
    // The fake's reboots last 3 s: close watching must look more often than that.
    o.logic.min_reboot = 2s;
    o.poller.close_interval = 500ms;
    o.logic.wrong_state_retry = 1s;
    o.persist_interval = 0ms;
    o.persist_interval_per_instance = 0ms;
    if (tweak_) tweak_(o);
    controller_ =
        std::make_unique<Controller>(o, cache_, store_, *factory_, recorder_, clock_, random_);
    ASSERT_TRUE(controller_->Init());
  }

  void Add(const api::RebootRequest& r) {
    cache_.Upsert(r);
    if (controller_) controller_->Enqueue(r.Key());
  }

  // Advances simulated time in 100 ms steps until every desired run is finished, or `limit` of
  // simulated time passed. Before each step the pollers must have acted on the current time and
  // the dispatchers idle or waiting for time (bounded by 2 s of real time per step), so the
  // observations are as close in simulated time as configured however slow the machine (sanitizer
  // builds) is.
  bool Drive(Duration limit = 600s) {
    SteadyTime end = clock_.SteadyNow() + limit;
    while (clock_.SteadyNow() < end) {
      controller_->RunOnce();
      if (controller_->AllFinished()) return true;
      WaitForWorkers();
      controller_->RunOnce();
      clock_.Advance(100ms);
    }
    return controller_->AllFinished();
  }

  void WaitForWorkers() {
    const SteadyTime now = clock_.SteadyNow();
    const auto give_up = std::chrono::steady_clock::now() + 2s;
    while (!controller_->WorkersCaughtUp(now, clock_.Sleepers()) &&
           std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(100us);
    }
  }

  api::RebootRequestStatus StatusOf(const std::string& key) {
    auto rec = store_.Get(key);
    EXPECT_TRUE(rec.has_value()) << key;
    return rec ? *rec->request.status : api::RebootRequestStatus{};
  }

  const api::InstanceStatus* Find(const api::RebootRequestStatus& st, const std::string& id) {
    for (const auto& i : st.instances)
      if (i.id == id) return &i;
    return nullptr;
  }

  ManualClock clock_;
  SeededRandom random_{7};
  store::RequestCache cache_;
  testing::MemoryStatusStore store_;
  CountingRecorder recorder_;
  std::unique_ptr<FakeProvider> provider_;
  std::unique_ptr<ProviderFactory> factory_;
  std::unique_ptr<Controller> controller_;
  std::function<void(ControllerOptions&)> tweak_;
};

TEST_F(ControllerTest, RebootsEveryTencentInstanceOnceInBatchesOfAHundred) {
  std::vector<std::string> ids;
  for (int i = 0; i < 250; ++i) {
    ids.push_back(TencentId(i));
    provider_->AddInstance(ids.back());
  }
  cache_.MarkSynced();
  StartController();
  Add(MakeRequest("big", cloud::Provider::kTencent, ids));
  ASSERT_TRUE(Drive());
  auto st = StatusOf("ops/big");
  EXPECT_EQ(st.phase, api::Phase::kSucceeded);
  EXPECT_EQ(st.summary.succeeded, 250);
  for (const auto& id : ids) EXPECT_EQ(provider_->RebootsOf(id), 1) << id;
  EXPECT_EQ(provider_->RebootCalls(), 3);
  for (size_t n : provider_->BatchSizes()) EXPECT_LE(n, 100u);
  for (const auto& i : st.instances) {
    EXPECT_EQ(i.state, api::InstanceState::kSucceeded);
    EXPECT_EQ(i.attempts, 1);
    EXPECT_FALSE(i.request_id.empty());
    EXPECT_TRUE(i.completed_at.has_value());
  }
}

TEST_F(ControllerTest, IntentsOfABigRequestAreWrittenInHalfWindowSteps) {
  // 3,000 IDs through a Requesting window of 1,000: the intents go to the store in a handful of
  // writes (each rewrites the whole record), not one write per answered call of 100.
  std::vector<std::string> ids;
  for (int i = 0; i < 3000; ++i) {
    ids.push_back(TencentId(i));
    provider_->AddInstance(ids.back());
  }
  SlowRebootProvider slow(*provider_, clock_);
  factory_ = std::make_unique<SingleProviderFactory>(&slow);
  tweak_ = [](ControllerOptions& o) {
    o.max_requesting_per_request = 1000;
    o.persist_interval = 1h;  // only intents and the end are written
    o.dispatcher.workers = 1;
  };
  cache_.MarkSynced();
  StartController();
  Add(MakeRequest("huge", cloud::Provider::kTencent, ids));
  ASSERT_TRUE(Drive());
  auto st = StatusOf("ops/huge");
  EXPECT_EQ(st.phase, api::Phase::kSucceeded);
  for (const auto& id : ids) EXPECT_EQ(provider_->RebootsOf(id), 1) << id;
  EXPECT_EQ(provider_->RebootCalls(), 30);
  // 1,000 intents at first, then 500 or more at a time: at most 5 intent writes, plus the
  // first record and the final one.
  EXPECT_LE(store_.Saves(), 8);
  controller_.reset();  // stops the workers before `slow` goes away
}

TEST_F(ControllerTest, CallsWaitWhileTheStatusIsNearTheObjectSizeLimit) {
  // 1,000 IDs whose in-flight entries cannot all fit the store's object limit at once (as a
  // 10,000-ID request does not fit etcd's 1.5 MiB): calls are paced so that no write is ever
  // refused, and every instance is still rebooted exactly once.
  std::vector<std::string> ids;
  for (int i = 0; i < 1000; ++i) {
    ids.push_back(TencentId(i));
    provider_->AddInstance(ids.back());
  }
  store_.SetSizeLimit(120 * 1000);
  cache_.MarkSynced();
  StartController();
  Add(MakeRequest("paced", cloud::Provider::kTencent, ids));
  ASSERT_TRUE(Drive());
  auto st = StatusOf("ops/paced");
  EXPECT_EQ(st.phase, api::Phase::kSucceeded);
  for (const auto& id : ids) EXPECT_EQ(provider_->RebootsOf(id), 1) << id;
  EXPECT_EQ(store_.Refused(), 0);
  EXPECT_GT(store_.MaxInFlight(), 0);
  EXPECT_LT(store_.MaxInFlight(), 1000);  // paced: never all at once
  const api::Condition* paced = nullptr;
  for (const auto& c : st.conditions) {
    if (c.type == "StatusSizeLimit") paced = &c;
  }
  ASSERT_NE(paced, nullptr);
  EXPECT_EQ(paced->status, "False");  // shown while it held calls back, cleared after
  EXPECT_NE(std::find(recorder_.warnings.begin(), recorder_.warnings.end(), "StatusSizeLimit"),
            recorder_.warnings.end());
}

TEST_F(ControllerTest, BatchesAcrossRequestsAndIsolatesBadIds) {
  std::vector<std::string> a, b;
  for (int i = 0; i < 60; ++i) {
    a.push_back(TencentId(i));
    provider_->AddInstance(a.back());
  }
  for (int i = 60; i < 120; ++i) {
    b.push_back(TencentId(i));
    provider_->AddInstance(b.back());
  }
  a.push_back("ein-missing1");  // does not exist
  provider_->AddInstance("ein-stopped1", State::kStopped);
  b.push_back("ein-stopped1");
  cache_.MarkSynced();
  StartController();
  Add(MakeRequest("a", cloud::Provider::kTencent, a));
  Add(MakeRequest("b", cloud::Provider::kTencent, b));
  ASSERT_TRUE(Drive());
  auto sa = StatusOf("ops/a");
  auto sb = StatusOf("ops/b");
  EXPECT_EQ(sa.phase, api::Phase::kFailed);
  EXPECT_EQ(sa.summary.succeeded, 60);
  EXPECT_EQ(Find(sa, "ein-missing1")->reason, "InstanceNotFound");
  EXPECT_EQ(Find(sb, "ein-stopped1")->state, api::InstanceState::kFailed);
  EXPECT_EQ(Find(sb, "ein-stopped1")->reason, "NotRunning");
  EXPECT_EQ(sb.summary.succeeded, 60);
  for (int i = 0; i < 120; ++i) EXPECT_EQ(provider_->RebootsOf(TencentId(i)), 1);
  EXPECT_EQ(provider_->RebootsOf("ein-stopped1"), 0);
  // 122 IDs: the failed calls name the culprits, so only a handful of calls are needed.
  EXPECT_LE(provider_->RebootCalls(), 6);
}

TEST_F(ControllerTest, AmbiguousFailureAfterEffectIsResolvedByPollingNotResent) {
  provider_->AddInstance("ein-aaaaaaa1");
  provider_->AddInstance("ein-aaaaaaa2");
  Error e{ErrorCode::kUnavailable, "connection reset", "", "", 0, /*ambiguous=*/true};
  provider_->ScriptReboot({e, /*apply_effect=*/true});
  cache_.MarkSynced();
  StartController();
  Add(MakeRequest("amb", cloud::Provider::kTencent, {"ein-aaaaaaa1", "ein-aaaaaaa2"}));
  ASSERT_TRUE(Drive());
  auto st = StatusOf("ops/amb");
  EXPECT_EQ(st.phase, api::Phase::kSucceeded);
  EXPECT_EQ(provider_->RebootsOf("ein-aaaaaaa1"), 1);
  EXPECT_EQ(provider_->RebootsOf("ein-aaaaaaa2"), 1);
  EXPECT_EQ(provider_->RebootCalls(), 1);
}

TEST_F(ControllerTest, AmbiguousFailureWithoutEffectIsRetriedOnceAfterSettling) {
  provider_->AddInstance("ein-bbbbbbb1");
  Error e{ErrorCode::kDeadlineExceeded, "timed out", "", "", 0, /*ambiguous=*/true};
  provider_->ScriptReboot({e, /*apply_effect=*/false});
  cache_.MarkSynced();
  StartController();
  Add(MakeRequest("amb2", cloud::Provider::kTencent, {"ein-bbbbbbb1"}));
  ASSERT_TRUE(Drive());
  auto st = StatusOf("ops/amb2");
  EXPECT_EQ(st.phase, api::Phase::kSucceeded);
  EXPECT_EQ(provider_->RebootsOf("ein-bbbbbbb1"), 1);
  EXPECT_EQ(provider_->RebootCalls(), 2);
  EXPECT_EQ(st.instances[0].attempts, 2);
}

TEST_F(ControllerTest, RestartWithIntentRecordedResolvesByPollingAndDoesNotRebootAgain) {
  // A previous process wrote the intent, made the call (it took effect) and crashed.
  provider_->AddInstance("ein-ccccccc1");
  provider_->AddInstance("ein-ccccccc2");
  ASSERT_TRUE(provider_->Reboot({{"ein-ccccccc1"}, cloud::RebootMode::kSoft, false, false}, {}));
  auto req = MakeRequest("crash", cloud::Provider::kTencent, {"ein-ccccccc1", "ein-ccccccc2"});
  store::Record rec;
  rec.request = req;
  api::RebootRequestStatus st;
  st.phase = api::Phase::kInProgress;
  st.started_at = clock_.Now();
  st.spec_hash = api::SpecHash(req.spec);
  api::InstanceStatus i1;
  i1.id = "ein-ccccccc1";
  i1.state = api::InstanceState::kRequesting;
  i1.requested_at = clock_.Now();
  i1.attempts = 1;
  api::InstanceStatus i2;
  i2.id = "ein-ccccccc2";
  i2.state = api::InstanceState::kRequesting;
  i2.requested_at = clock_.Now();
  i2.attempts = 1;  // this call never reached the cloud
  st.instances = {i1, i2};
  rec.request.status = st;
  store_.Put(rec);
  cache_.Upsert(req);
  cache_.MarkSynced();
  StartController();
  ASSERT_TRUE(Drive());
  auto out = StatusOf("ops/crash");
  EXPECT_EQ(out.phase, api::Phase::kSucceeded);
  EXPECT_EQ(provider_->RebootsOf("ein-ccccccc1"), 1);
  EXPECT_EQ(provider_->RebootsOf("ein-ccccccc2"), 1);
  EXPECT_EQ(Find(out, "ein-ccccccc2")->attempts, 2)
      << Find(out, "ein-ccccccc2")->reason << ": " << Find(out, "ein-ccccccc2")->message;
}

// Proof of reboot (issue: an earlier reboot in an instance's history was reported as this run's).
// Half the fleet was rebooted before; calls fail before taking effect, after taking effect, and
// with unknown outcome. Every instance that ends Succeeded was rebooted exactly once by the run,
// none twice, and (everything being watched closely) all of them succeed.
TEST_F(ControllerTest, EarlierRebootsAreNeverTakenForThisRunsAndFaultsAreResolved) {
  std::vector<std::string> ids;
  for (int i = 0; i < 400; ++i) {
    ids.push_back(TencentId(i));
    provider_->AddInstance(ids.back(), State::kRunning, /*rebooted_before=*/i % 2 == 0);
  }
  Error timeout{ErrorCode::kDeadlineExceeded, "timed out", "", "", 0, /*ambiguous=*/true};
  Error reset{ErrorCode::kUnavailable, "connection reset", "", "", 0, /*ambiguous=*/true};
  Error internal{ErrorCode::kUnavailable, "InternalError", "InternalError", "r", 200, true};
  provider_->ScriptReboot({timeout, /*apply_effect=*/false});   // 100 IDs, nothing happened
  provider_->ScriptReboot({reset, /*apply_effect=*/true});      // 100 IDs, rebooted
  provider_->ScriptReboot({internal, /*apply_effect=*/false});  // 100 IDs, nothing happened
  cache_.MarkSynced();
  StartController();
  Add(MakeRequest("history", cloud::Provider::kTencent, ids));
  ASSERT_TRUE(Drive());
  auto st = StatusOf("ops/history");
  EXPECT_EQ(st.phase, api::Phase::kSucceeded);
  int succeeded = 0;
  std::map<std::string, int> others;  // "reason: message" of the instances that did not succeed
  for (const auto& i : st.instances) {
    EXPECT_EQ(provider_->RebootsOf(i.id), i.state == api::InstanceState::kSucceeded ? 1 : 0)
        << i.id << " " << i.reason << ": " << i.message;
    succeeded += i.state == api::InstanceState::kSucceeded;
    if (i.state != api::InstanceState::kSucceeded) ++others[i.reason + ": " + i.message];
    EXPECT_FALSE(i.baseline.empty()) << i.id;
  }
  EXPECT_EQ(succeeded, 400) << ::testing::PrintToString(others);
  // 4 first calls, then the 200 instances of the two calls that did nothing, again.
  EXPECT_EQ(provider_->RebootCalls(), 6);
}

// A restart after an outage longer than a reboot: an instance whose baseline already showed a
// finished reboot cannot be proven either way. It ends RebootUnverified, with no second call,
// whether or not the call before the crash took effect; a fresh one is decided by its evidence.
TEST_F(ControllerTest, RestartAfterALongOutageCannotTellAndDoesNotCallAgain) {
  provider_->AddInstance("ein-hist0001", State::kRunning, /*rebooted_before=*/true);
  provider_->AddInstance("ein-hist0002", State::kRunning, /*rebooted_before=*/true);
  provider_->AddInstance("ein-frsh0001");
  provider_->AddInstance("ein-frsh0002");
  const SystemTime intent = clock_.Now();
  // The crashed process's calls: these two took effect, the other two never left.
  ASSERT_TRUE(provider_->Reboot({{"ein-hist0001"}, cloud::RebootMode::kSoft, false, false}, {}));
  ASSERT_TRUE(provider_->Reboot({{"ein-frsh0001"}, cloud::RebootMode::kSoft, false, false}, {}));
  auto req = MakeRequest("outage", cloud::Provider::kTencent,
                         {"ein-hist0001", "ein-hist0002", "ein-frsh0001", "ein-frsh0002"});
  store::Record rec;
  rec.request = req;
  api::RebootRequestStatus st;
  st.phase = api::Phase::kInProgress;
  st.started_at = intent;
  st.spec_hash = api::SpecHash(req.spec);
  for (const auto& id : req.spec.instance_ids) {
    api::InstanceStatus i;
    i.id = id;
    i.state = api::InstanceState::kRequesting;
    i.requested_at = intent;
    i.attempts = 1;
    i.baseline = id.starts_with("ein-hist") ? "RUNNING RebootInstances:SUCCESS" : "RUNNING -";
    st.instances.push_back(i);
  }
  rec.request.status = st;
  store_.Put(rec);
  cache_.Upsert(req);
  cache_.MarkSynced();
  clock_.Advance(60s);  // rebootd was down for a minute; the reboots (3 s) came and went
  const int calls_before = provider_->RebootCalls();
  StartController();
  ASSERT_TRUE(Drive());
  auto out = StatusOf("ops/outage");
  EXPECT_EQ(Find(out, "ein-hist0001")->reason, "RebootUnverified");
  EXPECT_EQ(Find(out, "ein-hist0002")->reason, "RebootUnverified");
  EXPECT_EQ(Find(out, "ein-hist0001")->state, api::InstanceState::kFailed);
  EXPECT_NE(Find(out, "ein-hist0002")->message.find("not rebooted again"), std::string::npos);
  EXPECT_EQ(Find(out, "ein-frsh0001")->reason, "Rebooted");  // its last operation moved
  EXPECT_EQ(Find(out, "ein-frsh0002")->state, api::InstanceState::kSucceeded);
  EXPECT_EQ(Find(out, "ein-frsh0002")->attempts, 2);  // not applied, sent once more
  EXPECT_EQ(provider_->RebootCalls() - calls_before, 1);
  EXPECT_EQ(provider_->RebootsOf("ein-hist0001"), 1);
  EXPECT_EQ(provider_->RebootsOf("ein-hist0002"), 0);
  EXPECT_EQ(provider_->RebootsOf("ein-frsh0001"), 1);
  EXPECT_EQ(provider_->RebootsOf("ein-frsh0002"), 1);
  EXPECT_EQ(out.phase, api::Phase::kFailed);
}

TEST_F(ControllerTest, RefusedCredentialsFailInstancesWaitingForTheirBaseline) {
  provider_->AddInstance("ein-jjjjjjj1");
  provider_->AddInstance("ein-jjjjjjj2");
  Error refused{ErrorCode::kUnauthenticated,
                "tencent DescribeInstances: AuthFailure.SecretIdNotFound",
                "AuthFailure.SecretIdNotFound",
                "r",
                200,
                false};
  provider_->FailDescribes(1000, refused);
  cache_.MarkSynced();
  StartController();
  Add(MakeRequest("refused", cloud::Provider::kTencent, {"ein-jjjjjjj1", "ein-jjjjjjj2"}));
  ASSERT_TRUE(Drive(30s));
  auto st = StatusOf("ops/refused");
  EXPECT_EQ(st.phase, api::Phase::kFailed);
  for (const auto& i : st.instances) {
    EXPECT_EQ(i.reason, "Unauthenticated") << i.id;
    EXPECT_NE(i.message.find("SecretIdNotFound"), std::string::npos) << i.message;
  }
  EXPECT_EQ(provider_->RebootCalls(), 0);
}

TEST_F(ControllerTest, TencentDryRunRebootsNothing) {
  provider_->AddInstance("ein-ddddddd1");
  provider_->AddInstance("ein-ddddddd2", State::kStopped);
  cache_.MarkSynced();
  StartController();
  auto req = MakeRequest("dry", cloud::Provider::kTencent,
                         {"ein-ddddddd1", "ein-ddddddd2", "ein-nothere1"});
  req.spec.dry_run = true;
  Add(req);
  ASSERT_TRUE(Drive());
  auto st = StatusOf("ops/dry");
  EXPECT_EQ(provider_->RebootCalls(), 0);
  EXPECT_EQ(Find(st, "ein-ddddddd1")->reason, "DryRunPassed");
  EXPECT_EQ(Find(st, "ein-ddddddd1")->state, api::InstanceState::kSucceeded);
  EXPECT_EQ(Find(st, "ein-ddddddd2")->reason, "NotRunning");
  EXPECT_EQ(Find(st, "ein-nothere1")->reason, "InstanceNotFound");
  EXPECT_EQ(st.phase, api::Phase::kFailed);
}

TEST_F(ControllerTest, AliyunDryRunUsesTheApiFlag) {
  MakeProvider(cloud::Provider::kAliyun);
  provider_->AddInstance("i-aliyun000001");
  provider_->AddInstance("i-aliyun000002", State::kLocked);
  cache_.MarkSynced();
  StartController();
  auto req = MakeRequest("adry", cloud::Provider::kAliyun, {"i-aliyun000001", "i-aliyun000002"});
  req.spec.dry_run = true;
  Add(req);
  ASSERT_TRUE(Drive());
  auto st = StatusOf("ops/adry");
  EXPECT_EQ(provider_->RebootsOf("i-aliyun000001"), 0);
  EXPECT_EQ(Find(st, "i-aliyun000001")->reason, "DryRunPassed");
  EXPECT_EQ(Find(st, "i-aliyun000002")->reason, "InstanceLocked");
}

TEST_F(ControllerTest, AliyunHardModeForcesAndAliyunCallsAreSingle) {
  MakeProvider(cloud::Provider::kAliyun);
  std::vector<std::string> ids;
  for (int i = 0; i < 12; ++i) {
    ids.push_back("i-aliyun1000" + std::to_string(10 + i));
    provider_->AddInstance(ids.back());
  }
  cache_.MarkSynced();
  StartController();
  auto req = MakeRequest("hard", cloud::Provider::kAliyun, ids);
  req.spec.mode = api::Mode::kHard;
  Add(req);
  ASSERT_TRUE(Drive());
  EXPECT_EQ(StatusOf("ops/hard").phase, api::Phase::kSucceeded);
  EXPECT_EQ(provider_->RebootCalls(), 12);
  for (const auto& id : ids) {
    EXPECT_EQ(provider_->RebootsOf(id), 1);
    EXPECT_TRUE(provider_->LastForce(id));
  }
}

TEST_F(ControllerTest, InstanceThatNeverComesBackTimesOut) {
  cloud::fake::FakeOptions fo;
  fo.reboot_duration = 1000s;
  provider_ = std::make_unique<FakeProvider>(fo, clock_);
  factory_ = std::make_unique<SingleProviderFactory>(provider_.get());
  provider_->AddInstance("ein-eeeeeee1");
  cache_.MarkSynced();
  StartController();
  auto req = MakeRequest("slow", cloud::Provider::kTencent, {"ein-eeeeeee1"});
  req.spec.timeout_seconds = 30;
  Add(req);
  ASSERT_TRUE(Drive(120s));
  auto st = StatusOf("ops/slow");
  EXPECT_EQ(st.phase, api::Phase::kFailed);
  EXPECT_EQ(st.instances[0].reason, "Timeout");
  EXPECT_EQ(provider_->RebootsOf("ein-eeeeeee1"), 1);
}

// rebootd_instances_past_deadline comes from Progress(): non-zero only while an instance is past
// its deadline and the controller has not looked at it yet (a stuck controller keeps it up).
TEST_F(ControllerTest, ProgressCountsInstancesPastTheirDeadlineUntilTheyTimeOut) {
  cloud::fake::FakeOptions fo;
  fo.reboot_duration = 1000s;
  provider_ = std::make_unique<FakeProvider>(fo, clock_);
  factory_ = std::make_unique<SingleProviderFactory>(provider_.get());
  provider_->AddInstance("ein-eeeeeee1");
  provider_->AddInstance("ein-eeeeeee2");
  cache_.MarkSynced();
  StartController();
  auto req = MakeRequest("slow", cloud::Provider::kTencent, {"ein-eeeeeee1", "ein-eeeeeee2"});
  req.spec.timeout_seconds = 30;
  Add(req);
  EXPECT_FALSE(Drive(5s));
  auto progress = controller_->Progress();
  ASSERT_EQ(progress.size(), 1u);
  EXPECT_EQ(progress[0].summary.rebooting, 2);
  EXPECT_EQ(progress[0].past_deadline, 0);
  clock_.Advance(40s);  // nobody reconciles: a stuck controller
  EXPECT_EQ(controller_->Progress()[0].past_deadline, 2);
  ASSERT_TRUE(Drive(10s));
  EXPECT_EQ(controller_->Progress()[0].past_deadline, 0);
  EXPECT_EQ(StatusOf("ops/slow").instances[1].reason, "Timeout");
}

TEST_F(ControllerTest, NoCallIsMadeWhenTheIntentCannotBeWritten) {
  provider_->AddInstance("ein-fffffff1");
  cache_.MarkSynced();
  StartController();
  store_.FailNextSaves(3);
  Add(MakeRequest("disk", cloud::Provider::kTencent, {"ein-fffffff1"}));
  // Two steps with the workers caught up after each: had the intent's failed write been
  // ignored, the call would have been handed to the dispatcher and made by now.
  controller_->RunOnce();
  WaitForWorkers();
  controller_->RunOnce();
  WaitForWorkers();
  EXPECT_EQ(provider_->RebootCalls(), 0);
  ASSERT_TRUE(Drive());
  EXPECT_EQ(provider_->RebootsOf("ein-fffffff1"), 1);
  EXPECT_EQ(StatusOf("ops/disk").phase, api::Phase::kSucceeded);
}

TEST_F(ControllerTest, AHangingStoreDoesNotBlockProgress) {
  // The daemon's loop (signals, leadership) reads Progress() every 200 ms: a record write that
  // hangs (a stuck disk, an API server that never answers) must not hold it.
  provider_->AddInstance("ein-hhhhhhh1");
  cache_.MarkSynced();
  StartController();
  store_.Hold();
  Add(MakeRequest("hang", cloud::Provider::kTencent, {"ein-hhhhhhh1"}));
  std::thread loop([&] { controller_->RunOnce(); });
  ASSERT_TRUE(store_.WaitHeld(5000ms));
  auto progress = std::async(std::launch::async, [&] { return controller_->Progress(); });
  EXPECT_EQ(progress.wait_for(2s), std::future_status::ready);
  auto finished = std::async(std::launch::async, [&] { return controller_->AllFinished(); });
  EXPECT_EQ(finished.wait_for(2s), std::future_status::ready);
  store_.Release();
  loop.join();
  EXPECT_EQ(progress.get().size(), 1u);
  ASSERT_TRUE(Drive());
  EXPECT_EQ(provider_->RebootsOf("ein-hhhhhhh1"), 1);
}

// One provider per request (as a rotated credentials Secret gives each new request), counting
// what is handed out and given back.
class PerRequestFactory : public ProviderFactory {
 public:
  PerRequestFactory(cloud::fake::FakeOptions options, Clock& clock)
      : options_(options), clock_(clock) {}
  Result<cloud::CloudProvider*> ProviderFor(const api::RebootRequest& r) override {
    std::lock_guard lock(mu_);
    auto p = std::make_unique<FakeProvider>(options_, clock_);
    for (const auto& id : r.spec.instance_ids) p->AddInstance(id);
    cloud::CloudProvider* raw = p.get();
    live_.emplace(raw, std::move(p));
    ++handed_out_;
    return raw;
  }
  void Release(cloud::CloudProvider* p) override {
    std::lock_guard lock(mu_);
    released_.push_back(static_cast<FakeProvider*>(p)->RebootCalls());
    live_.erase(p);
  }
  int HandedOut() {
    std::lock_guard lock(mu_);
    return handed_out_;
  }
  size_t Live() {
    std::lock_guard lock(mu_);
    return live_.size();
  }
  std::vector<int> Released() {
    std::lock_guard lock(mu_);
    return released_;
  }

 private:
  cloud::fake::FakeOptions options_;
  Clock& clock_;
  std::mutex mu_;
  std::map<cloud::CloudProvider*, std::unique_ptr<FakeProvider>> live_;
  std::vector<int> released_;  // reboot calls each released provider had received
  int handed_out_ = 0;
};

int ThreadCount() {
  int n = 0;
  if (DIR* d = ::opendir("/proc/self/task")) {
    while (::readdir(d) != nullptr) ++n;
    ::closedir(d);
  }
  return n - 2;  // . and ..
}

TEST_F(ControllerTest, ProvidersAreReleasedWithTheirThreadsWhenNoRunUsesThem) {
  // 50 requests one after another, each with a provider of its own (50 rotations of a
  // credentials Secret): each provider is given back when its run finishes, its dispatcher and
  // poller threads joined, so the thread count is what it was.
  cloud::fake::FakeOptions fo;
  fo.reboot_duration = 3s;
  auto owned = std::make_unique<PerRequestFactory>(fo, clock_);
  PerRequestFactory& factory = *owned;
  factory_ = std::move(owned);
  cache_.MarkSynced();
  StartController();
  int threads_before = -1;
  for (int i = 0; i < 50; ++i) {
    Add(MakeRequest("rot-" + std::to_string(i), cloud::Provider::kTencent,
                    {TencentId(5000 + 2 * i), TencentId(5001 + 2 * i)}));
    ASSERT_TRUE(Drive()) << i;
    EXPECT_EQ(factory.Live(), 0u) << i;
    if (i == 0) threads_before = ThreadCount();
  }
  EXPECT_EQ(factory.HandedOut(), 50);
  ASSERT_EQ(factory.Released().size(), 50u);
  for (int calls : factory.Released()) EXPECT_EQ(calls, 1);  // each did its run's reboot
  EXPECT_EQ(ThreadCount(), threads_before);
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(StatusOf("ops/rot-" + std::to_string(i)).phase, api::Phase::kSucceeded);
  }
  controller_.reset();
}

TEST_F(ControllerTest, AFullDiskHoldsCallsReportsItAndTheRunResumesByItself) {
  // The disk is full for 40 writes (minutes of backoff): no call, every failure counted, and
  // once writes succeed the run goes on with no help; the record says what happened.
  for (int i = 0; i < 3; ++i) provider_->AddInstance(TencentId(900 + i));
  cache_.MarkSynced();
  StartController();
  store_.FailNextSaves(40);
  Add(MakeRequest("full", cloud::Provider::kTencent,
                  {TencentId(900), TencentId(901), TencentId(902)}));
  for (int i = 0; i < 50 && recorder_.write_failures < 5; ++i) {
    controller_->RunOnce();
    clock_.Advance(1s);
  }
  EXPECT_GE(recorder_.write_failures, 5);
  EXPECT_EQ(provider_->RebootCalls(), 0);  // no intent is durable, so no call
  ASSERT_TRUE(Drive(3600s));
  EXPECT_GE(recorder_.write_failures, 40);
  auto st = StatusOf("ops/full");
  EXPECT_EQ(st.phase, api::Phase::kSucceeded);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(provider_->RebootsOf(TencentId(900 + i)), 1);
  const api::Condition* written = nullptr;
  for (const auto& c : st.conditions) {
    if (c.type == "RecordWriteFailed") written = &c;
  }
  ASSERT_NE(written, nullptr);
  EXPECT_EQ(written->status, "False");
  EXPECT_EQ(written->reason, "Recovered");
  EXPECT_NE(written->message.find("failed from"), std::string::npos) << written->message;
}

TEST_F(ControllerTest, ChangedSpecIsRejectedAndTheRunContinues) {
  provider_->AddInstance("ein-ggggggg1");
  provider_->AddInstance("ein-ggggggg2");
  cache_.MarkSynced();
  StartController();
  auto req = MakeRequest("imm", cloud::Provider::kTencent, {"ein-ggggggg1"});
  Add(req);
  controller_->RunOnce();
  req.spec.instance_ids.push_back("ein-ggggggg2");
  Add(req);
  ASSERT_TRUE(Drive());
  auto st = StatusOf("ops/imm");
  EXPECT_EQ(st.instances.size(), 1u);
  EXPECT_EQ(provider_->RebootsOf("ein-ggggggg2"), 0);
  bool rejected = false;
  for (const auto& c : st.conditions)
    rejected |= c.type == "SpecChangeRejected" && c.status == "True";
  EXPECT_TRUE(rejected);
  EXPECT_NE(std::find(recorder_.warnings.begin(), recorder_.warnings.end(), "SpecChangeRejected"),
            recorder_.warnings.end());
}

TEST_F(ControllerTest, MissingCredentialsKeepTheRequestPendingWithACondition) {
  provider_->AddInstance("ein-hhhhhhh1");
  static_cast<SingleProviderFactory&>(*factory_).fail_ = true;
  cache_.MarkSynced();
  StartController();
  Add(MakeRequest("creds", cloud::Provider::kTencent, {"ein-hhhhhhh1"}));
  controller_->RunOnce();
  auto st = StatusOf("ops/creds");
  EXPECT_EQ(st.phase, api::Phase::kPending);
  ASSERT_FALSE(st.conditions.empty());
  EXPECT_EQ(st.conditions[0].type, "ProviderReady");
  EXPECT_EQ(st.conditions[0].status, "False");
  EXPECT_EQ(provider_->RebootCalls(), 0);
  static_cast<SingleProviderFactory&>(*factory_).fail_ = false;
  ASSERT_TRUE(Drive());
  EXPECT_EQ(StatusOf("ops/creds").phase, api::Phase::kSucceeded);
}

TEST_F(ControllerTest, MissingCredentialsSecretFailsTheRequestWithoutCalls) {
  provider_->AddInstance("ein-hhhhhhh2");
  static_cast<SingleProviderFactory&>(*factory_).fail_ = true;
  static_cast<SingleProviderFactory&>(*factory_).fail_code_ =
      ErrorCode::kNotFound;  // what a missing Secret gives
  cache_.MarkSynced();
  StartController();
  Add(MakeRequest("nosecret", cloud::Provider::kTencent, {"ein-hhhhhhh2"}));
  controller_->RunOnce();
  auto st = StatusOf("ops/nosecret");
  EXPECT_EQ(st.phase, api::Phase::kFailed);
  ASSERT_EQ(st.instances.size(), 1u);
  EXPECT_EQ(st.instances[0].reason, "CredentialsError");
  EXPECT_NE(st.instances[0].message.find("Secret ops/creds"), std::string::npos);
  EXPECT_EQ(provider_->RebootCalls(), 0);
  EXPECT_TRUE(controller_->AllFinished());
}

TEST_F(ControllerTest, SameNameWithANewUidIsANewRun) {
  provider_->AddInstance("ein-iiiiiii1");
  provider_->AddInstance("ein-iiiiiii2");
  cache_.MarkSynced();
  StartController();
  auto first = MakeRequest("again", cloud::Provider::kTencent, {"ein-iiiiiii1"});
  first.metadata.uid = "uid-1";
  Add(first);
  ASSERT_TRUE(Drive());
  ASSERT_EQ(StatusOf("ops/again").phase, api::Phase::kSucceeded);
  // Deleted and created again (Kubernetes gives it a new uid): it runs from the start.
  cache_.Delete("ops/again");
  controller_->Enqueue("ops/again");
  controller_->RunOnce();
  auto second = MakeRequest("again", cloud::Provider::kTencent, {"ein-iiiiiii2"});
  second.metadata.uid = "uid-2";
  Add(second);
  ASSERT_TRUE(Drive());
  auto st = StatusOf("ops/again");
  EXPECT_EQ(st.phase, api::Phase::kSucceeded);
  ASSERT_EQ(st.instances.size(), 1u);
  EXPECT_EQ(st.instances[0].id, "ein-iiiiiii2");
  EXPECT_EQ(provider_->RebootsOf("ein-iiiiiii1"), 1);
  EXPECT_EQ(provider_->RebootsOf("ein-iiiiiii2"), 1);
}

}  // namespace
}  // namespace rebootd::controller
