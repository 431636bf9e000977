// SPDX-License-Identifier: Apache-2.0
#include "pkg/kube/events.h"

#include <gtest/gtest.h>

#include "tests/pkg/kube/kube_test_util.h"

namespace rebootd::kube {
namespace {

using namespace std::chrono_literals;
using testutil::Call;

ObjectRef Ref(const std::string& name = "web") {
  ObjectRef r;
  r.namespace_ = "ops";
  r.name = name;
  r.uid = "uid-" + name;
  return r;
}

class EventRecorderTest : public ::testing::Test {
 protected:
  EventOptions Options() {
    EventOptions o;
    o.host = "node_1";
    o.burst = 2;
    o.refill = 10s;
    return o;
  }
  testing::FakeTransport transport_;
  ManualClock clock_;
  SeededRandom random_{7};
  Client client_{testutil::TestConfig(), transport_, clock_};
  EventRecorder events_{Options(), client_, clock_, random_};
};

TEST_F(EventRecorderTest, RepeatsAreOneEventWithCountAndLastTimestamp) {
  events_.Emit(Ref(), "Normal", "Started", "reboot of 3 instances started");
  transport_.RespondJson(201, "{}", Call("POST", "/api/v1/namespaces/ops/events"));
  EXPECT_EQ(events_.Flush(), 1);
  auto created = json::Parse(transport_.last_request().body);
  ASSERT_TRUE(created);
  EXPECT_EQ((*created)["involvedObject"]["kind"].AsString(), "RebootRequest");
  EXPECT_EQ((*created)["involvedObject"]["uid"].AsString(), "uid-web");
  EXPECT_EQ((*created)["reason"].AsString(), "Started");
  EXPECT_EQ((*created)["count"].AsInt(), 1);
  EXPECT_EQ((*created)["source"]["host"].AsString(), "node_1");
  std::string name = (*created)["metadata"]["name"].AsString();
  EXPECT_EQ(name.rfind("web.", 0), 0u);

  clock_.Advance(30s);
  events_.Emit(Ref(), "Normal", "Started", "again");
  events_.Emit(Ref(), "Normal", "Started", "and again");
  transport_.RespondJson(200, "{}", Call("PATCH", "/api/v1/namespaces/ops/events/" + name));
  EXPECT_EQ(events_.Flush(), 1);
  auto patch = json::Parse(transport_.last_request().body);
  ASSERT_TRUE(patch);
  EXPECT_EQ((*patch)["count"].AsInt(), 3);
  EXPECT_EQ((*patch)["message"].AsString(), "and again");
  EXPECT_EQ((*patch)["lastTimestamp"].AsString(), "2026-01-01T00:00:30Z");
  EXPECT_EQ(events_.Flush(), 0);  // nothing new
}

TEST_F(EventRecorderTest, RateBoundedPerObjectAndCoalescedNotLost) {
  transport_.RespondJson(201, "{}");
  transport_.RespondJson(201, "{}");
  events_.Emit(Ref(), "Normal", "A", "a");
  events_.Emit(Ref(), "Normal", "B", "b");
  events_.Emit(Ref(), "Warning", "C", "c");
  EXPECT_EQ(events_.Flush(), 2);  // burst 2
  for (int i = 0; i < 100; ++i) events_.Emit(Ref(), "Normal", "A", "a");
  EXPECT_EQ(events_.Flush(), 0);  // no tokens: held back
  clock_.Advance(10s);
  transport_.RespondJson(200, "{}", Call("PATCH", "/events/"));  // one token: A's update
  EXPECT_EQ(events_.Flush(), 1);
  auto patch = json::Parse(transport_.last_request().body);
  ASSERT_TRUE(patch);
  EXPECT_EQ((*patch)["count"].AsInt(), 101);  // every occurrence counted
  clock_.Advance(10s);
  transport_.RespondJson(201, "{}", Call("POST", "/events"));  // then C, held back so far
  EXPECT_EQ(events_.Flush(), 1);
  EXPECT_EQ(events_.CountForTest(Ref(), "Normal", "A"), 101);
}

TEST_F(EventRecorderTest, ExpiredEventIsCreatedAgain) {
  transport_.RespondJson(201, "{}");
  events_.Emit(Ref(), "Normal", "A", "a");
  events_.Flush();
  events_.Emit(Ref(), "Normal", "A", "a");
  transport_.RespondJson(404, testutil::StatusJson(404, "NotFound", "gone"), Call("PATCH", ""));
  transport_.RespondJson(201, "{}", Call("POST", "/events"));
  EXPECT_EQ(events_.Flush(), 2);
}

// A long-lived daemon sees requests come and go: what it keeps per Event and per object must go
// with them, or it grows forever and, at max_pending, drops every new Event.
TEST_F(EventRecorderTest, SentAggregatesAndFullBucketsAreForgottenAfterTheWindow) {
  for (int i = 0; i < 3; ++i) transport_.RespondJson(201, "{}");
  events_.Emit(Ref("a"), "Normal", "Started", "a");
  events_.Emit(Ref("b"), "Normal", "Started", "b");
  events_.Emit(Ref("c"), "Normal", "Started", "c");
  EXPECT_EQ(events_.Flush(), 3);
  EXPECT_EQ(events_.AggregatesForTest(), 3u);
  EXPECT_EQ(events_.BucketsForTest(), 3u);

  clock_.Advance(9min);  // inside the window: a repeat updates the same Event
  events_.Emit(Ref("a"), "Normal", "Started", "a again");
  transport_.RespondJson(200, "{}", Call("PATCH", "/events/a."));
  EXPECT_EQ(events_.Flush(), 1);
  EXPECT_EQ(events_.CountForTest(Ref("a"), "Normal", "Started"), 2);
  EXPECT_EQ(events_.AggregatesForTest(), 3u);
  EXPECT_EQ(events_.BucketsForTest(), 1u);  // b's and c's buckets are full again

  clock_.Advance(2min);  // b and c: 11 min quiet; a: 2 min
  EXPECT_EQ(events_.Flush(), 0);
  EXPECT_EQ(events_.AggregatesForTest(), 1u);
  EXPECT_EQ(events_.CountForTest(Ref("b"), "Normal", "Started"), 0);
  EXPECT_EQ(events_.BucketsForTest(), 0u);

  // b recurs after the window: a new Event, counted from 1.
  events_.Emit(Ref("b"), "Normal", "Started", "b again");
  transport_.RespondJson(201, "{}", Call("POST", "/api/v1/namespaces/ops/events"));
  EXPECT_EQ(events_.Flush(), 1);
  auto created = json::Parse(transport_.last_request().body);
  ASSERT_TRUE(created);
  EXPECT_EQ((*created)["count"].AsInt(), 1);
}

TEST_F(EventRecorderTest, UnsentAggregatesAreNeverForgotten) {
  transport_.RespondJson(503, "{}");  // the send fails: retried, so kept however long it takes
  events_.Emit(Ref(), "Warning", "RecordWriteFailed", "disk full");
  EXPECT_EQ(events_.Flush(), 1);
  clock_.Advance(30min);
  transport_.RespondJson(201, "{}", Call("POST", "/api/v1/namespaces/ops/events"));
  EXPECT_EQ(events_.Flush(), 1);
  EXPECT_EQ(events_.CountForTest(Ref(), "Warning", "RecordWriteFailed"), 1);
}

TEST(EventRecorderCapTest, TheCapOnlyBitesWithinOneWindow) {
  testing::FakeTransport transport;
  ManualClock clock;
  SeededRandom random{7};
  Client client{testutil::TestConfig(), transport, clock};
  EventOptions o;
  o.max_pending = 2;
  EventRecorder events{o, client, clock, random};
  for (int i = 0; i < 3; ++i) transport.RespondJson(201, "{}");
  events.Emit(Ref("a"), "Normal", "Started", "a");
  events.Emit(Ref("b"), "Normal", "Started", "b");
  events.Emit(Ref("c"), "Normal", "Started", "c");  // over the cap within the window: dropped
  EXPECT_EQ(events.Flush(), 2);
  EXPECT_EQ(events.CountForTest(Ref("c"), "Normal", "Started"), 0);
  clock.Advance(11min);
  events.Emit(Ref("c"), "Normal", "Started", "c");  // a and b are forgotten at the next flush
  EXPECT_EQ(events.Flush(), 0);
  events.Emit(Ref("c"), "Normal", "Started", "c");
  EXPECT_EQ(events.Flush(), 1);
  EXPECT_EQ(events.CountForTest(Ref("c"), "Normal", "Started"), 1);
}

TEST(EventRecorderProblemsTest, RefusedByRbacIsReportedAsLastingAndRetriedFailuresAreNot) {
  testing::FakeTransport transport;
  ManualClock clock;
  SeededRandom random{7};
  Client client{testutil::TestConfig(), transport, clock};
  std::vector<std::pair<std::string, bool>> problems;
  EventOptions options;
  options.on_problem = [&](const std::string& m, bool lasting) {
    problems.emplace_back(m, lasting);
  };
  EventRecorder events{options, client, clock, random};
  events.Emit(Ref(), "Warning", "Forbidden", "x");
  transport.RespondJson(
      403, testutil::StatusJson(403, "Forbidden", "events is forbidden: cannot create"));
  events.Flush();
  events.Emit(Ref("db"), "Normal", "Flaky", "y");
  transport.RespondJson(503, testutil::StatusJson(503, "ServiceUnavailable", "try later"));
  events.Flush();
  ASSERT_GE(problems.size(), 2u);
  EXPECT_NE(problems[0].first.find("forbidden"), std::string::npos) << problems[0].first;
  EXPECT_TRUE(problems[0].second);
  EXPECT_FALSE(problems[1].second);
}

api::RebootRequest Request(int n) {
  api::RebootRequest r;
  r.metadata.name = "big";
  r.metadata.namespace_ = "ops";
  r.metadata.uid = "u";
  for (int i = 0; i < n; ++i) r.spec.instance_ids.push_back("ein-" + std::to_string(100000 + i));
  return r;
}

TEST(KubeEventRecorderTest, TenThousandInstancesMakeAFewSummaryEvents) {
  testing::FakeTransport transport;
  ManualClock clock;
  SeededRandom random(1);
  Client client(testutil::TestConfig(), transport, clock);
  EventRecorder events(EventOptions{}, client, clock, random);
  KubeEventRecorder rec(events, clock, 30s);
  api::RebootRequest r = Request(10000);
  rec.RequestStarted(r);
  for (int i = 0; i < 10000; ++i) {
    api::InstanceStatus s;
    s.id = r.spec.instance_ids[i];
    s.state = i % 100 == 0 ? api::InstanceState::kFailed : api::InstanceState::kSucceeded;
    s.reason = i % 100 == 0 ? "Timeout" : "Rebooted";
    rec.InstanceFinished(r, s);
    if (i % 1000 == 0) clock.Advance(10s);
  }
  r.status = api::RebootRequestStatus{};
  r.status->phase = api::Phase::kFailed;
  r.status->summary = api::Summary{10000, 0, 0, 9900, 100};
  rec.RequestFinished(r);
  ObjectRef ref = RefOf(r);
  EXPECT_EQ(events.CountForTest(ref, "Normal", "Started"), 1);
  EXPECT_EQ(events.CountForTest(ref, "Warning", "Failed"), 1);
  // Summaries, a few dozen at most, each an update of one aggregated Event.
  int64_t summaries = events.CountForTest(ref, "Normal", "InstancesSucceeded");
  EXPECT_GT(summaries, 0);
  EXPECT_LT(summaries, 20);
  EXPECT_EQ(events.CountForTest(ref, "Warning", "InstancesTimedOut"),
            events.CountForTest(ref, "Warning", "InstancesFailed"));
  // Five distinct Events in all → at most five creates now.
  for (int i = 0; i < 5; ++i) transport.RespondJson(201, "{}");
  EXPECT_EQ(events.Flush(), 5);
}

}  // namespace
}  // namespace rebootd::kube
