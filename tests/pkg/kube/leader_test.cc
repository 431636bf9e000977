// SPDX-License-Identifier: Apache-2.0
#include "pkg/kube/leader.h"

#include <gtest/gtest.h>

#include <mutex>
#include <optional>
#include <vector>

#include "tests/pkg/kube/kube_test_util.h"

namespace rebootd::kube {
namespace {

using namespace std::chrono_literals;

// A one-Lease API server: GET, POST (create), PUT with resourceVersion precondition, and a
// switch that makes every call fail (a partition).
class FakeLeaseServer {
 public:
  Result<http::Response> Handle(const http::Request& r) {
    std::lock_guard lock(mu_);
    if (down_) return MakeError(ErrorCode::kUnavailable, "connection refused");
    http::Response resp;
    if (r.method == "GET") {
      if (!lease_) return Answer(404, testutil::StatusJson(404, "NotFound", "no lease"));
      return Answer(200, lease_->Dump());
    }
    auto body = json::Parse(r.body);
    if (!body) return Answer(400, testutil::StatusJson(400, "BadRequest", "json"));
    if (r.method == "POST") {
      if (lease_) return Answer(409, testutil::StatusJson(409, "AlreadyExists", "exists"));
    } else if (r.method == "PUT") {
      if (!lease_) return Answer(404, testutil::StatusJson(404, "NotFound", "no lease"));
      if ((*body)["metadata"]["resourceVersion"].AsString() != std::to_string(version_)) {
        return Answer(409, testutil::StatusJson(409, "Conflict", "modified"));
      }
    }
    ++version_;
    (*body)["metadata"].Set("resourceVersion", std::to_string(version_));
    lease_ = *body;
    ++writes_;
    return Answer(r.method == "POST" ? 201 : 200, lease_->Dump());
  }
  std::string Holder() {
    std::lock_guard lock(mu_);
    return lease_ ? (*lease_)["spec"]["holderIdentity"].AsString() : "";
  }
  int64_t Transitions() {
    std::lock_guard lock(mu_);
    return lease_ ? (*lease_)["spec"]["leaseTransitions"].AsInt() : -1;
  }
  void SetDown(bool down) {
    std::lock_guard lock(mu_);
    down_ = down;
  }

 private:
  static Result<http::Response> Answer(int status, std::string body) {
    http::Response r;
    r.status = status;
    r.body = std::move(body);
    return r;
  }
  std::mutex mu_;
  std::optional<json::Value> lease_;
  int version_ = 0;
  int writes_ = 0;
  bool down_ = false;
};

struct Candidate {
  Candidate(FakeLeaseServer& server, ManualClock& clock, std::string id)
      : transport([&server](const http::Request& r) { return server.Handle(r); }),
        client(testutil::TestConfig(), transport, clock),
        elector(Options(std::move(id)), client, clock) {}
  LeaderElectionOptions Options(std::string id) {
    LeaderElectionOptions o;
    o.namespace_ = "rebootd";
    o.identity = std::move(id);
    o.on_change = [this](bool leader) { changes.push_back(leader); };
    return o;
  }
  http::FunctionTransport transport;
  Client client;
  std::vector<bool> changes;
  LeaderElector elector;
};

TEST(LeaderElectorTest, FirstCandidateCreatesTheLeaseOthersWaitForExpiry) {
  FakeLeaseServer server;
  ManualClock clock;
  Candidate a(server, clock, "host-a_1"), b(server, clock, "host-b_2");
  EXPECT_TRUE(a.elector.Step());
  EXPECT_EQ(server.Holder(), "host-a_1");
  EXPECT_FALSE(b.elector.Step());
  EXPECT_EQ(a.changes, std::vector<bool>{true});
  EXPECT_TRUE(b.changes.empty());
  // a renews every retry period: b never takes over.
  for (int i = 0; i < 20; ++i) {
    clock.Advance(2s);
    EXPECT_TRUE(a.elector.Step());
    EXPECT_FALSE(b.elector.Step());
  }
  EXPECT_EQ(server.Transitions(), 0);
}

TEST(LeaderElectorTest, TakeoverOnlyAfterTheLeaseExpiresOnTheLocalClock) {
  FakeLeaseServer server;
  ManualClock clock;
  Candidate a(server, clock, "a"), b(server, clock, "b");
  ASSERT_TRUE(a.elector.Step());
  EXPECT_FALSE(b.elector.Step());  // b observes the record now
  // a dies (kill -9): no more renewals. b must wait the full lease duration from its observation.
  clock.Advance(14s);
  EXPECT_FALSE(b.elector.Step());
  clock.Advance(1s);
  EXPECT_TRUE(b.elector.Step());
  EXPECT_EQ(server.Holder(), "b");
  EXPECT_EQ(server.Transitions(), 1);
  EXPECT_EQ(b.changes, std::vector<bool>{true});
}

TEST(LeaderElectorTest, LeaderStepsDownWhenItCannotRenewWithinTheDeadline) {
  FakeLeaseServer server;
  ManualClock clock;
  Candidate a(server, clock, "a");
  ASSERT_TRUE(a.elector.Step());
  server.SetDown(true);
  clock.Advance(2s);
  EXPECT_TRUE(a.elector.Step());  // one failed renewal is tolerated
  clock.Advance(6s);
  EXPECT_TRUE(a.elector.Step());  // 8 s since the last renewal
  clock.Advance(2s);
  EXPECT_FALSE(a.elector.Step());  // 10 s: the renew deadline; stop acting
  EXPECT_EQ(a.changes, (std::vector<bool>{true, false}));
  EXPECT_FALSE(a.elector.IsLeader());
}

// A renew call can hang (up to the client's timeout) inside Step(); whoever acts on leadership
// must be able to see the deadline pass without Step() returning.
TEST(LeaderElectorTest, RenewedWithinDeadlineTurnsFalseOnTimeWithoutAStep) {
  FakeLeaseServer server;
  ManualClock clock;
  Candidate a(server, clock, "a");
  EXPECT_FALSE(a.elector.RenewedWithinDeadline(clock.SteadyNow()));  // not leading yet
  ASSERT_TRUE(a.elector.Step());
  EXPECT_TRUE(a.elector.RenewedWithinDeadline(clock.SteadyNow()));
  clock.Advance(2s);
  ASSERT_TRUE(a.elector.Step());  // renewed at +2 s
  clock.Advance(9s);              // no Step since: the renew call is stuck
  EXPECT_TRUE(a.elector.RenewedWithinDeadline(clock.SteadyNow()));
  EXPECT_TRUE(a.elector.IsLeader());
  clock.Advance(1s);  // 10 s after the last renewal
  EXPECT_FALSE(a.elector.RenewedWithinDeadline(clock.SteadyNow()));
  EXPECT_TRUE(a.elector.IsLeader());  // Step() has not returned to say so
}

TEST(LeaderElectorTest, ReleaseClearsTheHolderSoASuccessorNeedNotWait) {
  FakeLeaseServer server;
  ManualClock clock;
  Candidate a(server, clock, "a"), b(server, clock, "b");
  ASSERT_TRUE(a.elector.Step());
  EXPECT_FALSE(b.elector.Step());
  a.elector.Release();
  EXPECT_EQ(server.Holder(), "");
  EXPECT_EQ(a.changes, (std::vector<bool>{true, false}));
  EXPECT_TRUE(b.elector.Step());  // at once, no expiry wait
  EXPECT_EQ(server.Holder(), "b");
}

TEST(LeaderElectorTest, RunLoopsOnTheClockAndReleasesOnStop) {
  FakeLeaseServer server;
  ManualClock clock;
  Candidate a(server, clock, "a");
  std::stop_source stop;
  std::thread t([&] { a.elector.Run(stop.get_token()); });
  for (int i = 0; i < 2000 && !a.elector.IsLeader(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_TRUE(a.elector.IsLeader());
  stop.request_stop();
  t.join();
  EXPECT_FALSE(a.elector.IsLeader());
  EXPECT_EQ(server.Holder(), "");
}

TEST(LeaderElectorTest, IdentityIsHostnameUnderscoreUuid) {
  EXPECT_EQ(MakeIdentity("node-1", "0f1e"), "node-1_0f1e");
}

}  // namespace
}  // namespace rebootd::kube
