// SPDX-License-Identifier: Apache-2.0
#include "pkg/kube/status_store.h"

#include <gtest/gtest.h>

#include "pkg/api/codec.h"
#include "tests/pkg/kube/kube_test_util.h"

namespace rebootd::kube {
namespace {

using testutil::Call;
using testutil::RebootRequestJson;
using testutil::StatusJson;

constexpr const char* kPath = "/apis/rebootd.io/v1alpha1/namespaces/ops/rebootrequests/a";

store::Record MakeRun(const std::string& uid = "uid-1") {
  auto obj = json::Parse(RebootRequestJson("ops", "a", "3", uid));
  auto req = api::FromJson(*obj);
  store::Record r;
  r.request = *req;
  api::RebootRequestStatus st;
  st.phase = api::Phase::kInProgress;
  st.spec_hash = api::SpecHash(r.request.spec);
  api::InstanceStatus i;
  i.id = "ein-496721al";
  i.state = api::InstanceState::kRequesting;
  i.attempts = 1;
  st.instances.push_back(i);
  st.summary = api::Summarize(st.instances);
  r.request.status = st;
  return r;
}

// The resourceVersion a status write carried.
std::string SentVersion(const http::Request& r) {
  auto body = json::Parse(r.body);
  return body ? (*body)["metadata"]["resourceVersion"].AsString() : "";
}

class KubeStatusStoreTest : public ::testing::Test {
 protected:
  testing::FakeTransport transport_;
  ManualClock clock_;
  Client client_{testutil::TestConfig(), transport_, clock_};
  KubeStatusStoreOptions Options() {
    KubeStatusStoreOptions o;
    o.max_conflict_retries = 3;
    return o;
  }
  KubeStatusStore store_{Options(), client_};
};

TEST_F(KubeStatusStoreTest, SaveReadsTheVersionThenWritesTheStatusSubresource) {
  transport_.RespondJson(200, RebootRequestJson("ops", "a", "5"), Call("GET", kPath));
  transport_.RespondJson(200, RebootRequestJson("ops", "a", "6"),
                         Call("PUT", std::string(kPath) + "/status"));
  // The next save uses the version the last write returned: no read.
  transport_.RespondJson(200, RebootRequestJson("ops", "a", "7"),
                         Call("PUT", std::string(kPath) + "/status"));
  ASSERT_TRUE(store_.Save(MakeRun()));
  ASSERT_TRUE(store_.Save(MakeRun()));
  auto reqs = transport_.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(SentVersion(reqs[1]), "5");
  EXPECT_EQ(SentVersion(reqs[2]), "6");
  auto body = json::Parse(reqs[1].body);
  ASSERT_TRUE(body);
  EXPECT_EQ((*body)["metadata"]["uid"].AsString(), "uid-1");
  auto st = api::StatusFromJson((*body)["status"]);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->instances[0].state, api::InstanceState::kRequesting);
}

TEST_F(KubeStatusStoreTest, ConflictRereadsAndRetriesUntilAccepted) {
  transport_.RespondJson(200, RebootRequestJson("ops", "a", "5"), Call("GET", kPath));
  transport_.RespondJson(409, StatusJson(409, "Conflict", "the object has been modified"),
                         Call("PUT", "/status"));
  transport_.RespondJson(200, RebootRequestJson("ops", "a", "8"), Call("GET", kPath));
  transport_.RespondJson(200, RebootRequestJson("ops", "a", "9"), Call("PUT", "/status"));
  ASSERT_TRUE(store_.Save(MakeRun()));
  auto reqs = transport_.requests();
  ASSERT_EQ(reqs.size(), 4u);
  EXPECT_EQ(SentVersion(reqs[1]), "5");
  EXPECT_EQ(SentVersion(reqs[3]), "8");
}

TEST_F(KubeStatusStoreTest, EndlessConflictsGiveAbortedAndNoSuccess) {
  for (int i = 0; i < 4; ++i) {
    transport_.RespondJson(200, RebootRequestJson("ops", "a", std::to_string(5 + i)),
                           Call("GET", kPath));
    transport_.RespondJson(409, StatusJson(409, "Conflict", "modified"), Call("PUT", "/status"));
  }
  auto s = store_.Save(MakeRun());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kAborted);
}

TEST_F(KubeStatusStoreTest, DeletedOrReplacedObjectIsNotFound) {
  transport_.RespondJson(404, StatusJson(404, "NotFound", "not found"), Call("GET", kPath));
  auto gone = store_.Save(MakeRun());
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, ErrorCode::kNotFound);
  // Deleted and created again under the same name: a different uid. Never write the old run.
  transport_.RespondJson(200, RebootRequestJson("ops", "a", "5", "uid-2"), Call("GET", kPath));
  auto replaced = store_.Save(MakeRun("uid-1"));
  ASSERT_FALSE(replaced);
  EXPECT_EQ(replaced.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(transport_.request_count(), 2u);
}

TEST_F(KubeStatusStoreTest, ServerErrorsAreRetryableAndNotSuccess) {
  transport_.RespondJson(200, RebootRequestJson("ops", "a", "5"), Call("GET", kPath));
  transport_.RespondJson(500, StatusJson(500, "InternalError", "etcd timeout"),
                         Call("PUT", "/status"));
  auto s = store_.Save(MakeRun());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kUnavailable);
}

TEST_F(KubeStatusStoreTest, LoadAndListReadRunRecordsFromObjects) {
  std::string status = api::StatusToJson(*MakeRun().request.status).Dump();
  transport_.RespondJson(200, RebootRequestJson("ops", "a", "5", "uid-1", status),
                         Call("GET", kPath));
  auto loaded = store_.Load("ops/a");
  ASSERT_TRUE(loaded && *loaded);
  ASSERT_TRUE((*loaded)->request.status);
  EXPECT_EQ((*loaded)->request.status->instances[0].state, api::InstanceState::kRequesting);

  transport_.RespondJson(404, StatusJson(404, "NotFound", "x"), Call("GET", kPath));
  auto missing = store_.Load("ops/a");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(*missing);

  transport_.RespondJson(200,
                         R"({"metadata":{"resourceVersion":"9"},"items":[)" +
                             RebootRequestJson("ops", "a", "5", "uid-1", status) + "," +
                             RebootRequestJson("ops", "fresh", "6") + "," +
                             RebootRequestJson("ops", "odd", "7", "u", R"({"phase":"Bogus"})") +
                             "]}",
                         Call("GET", "/apis/rebootd.io/v1alpha1/rebootrequests?limit=500"));
  auto listed = store_.List();
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->records.size() + listed->problems.size(), 3u);
  int with_status = 0;
  for (const auto& r : listed->records) with_status += r.request.status.has_value();
  EXPECT_EQ(with_status, 1);  // only the started run; "fresh" has none
  EXPECT_TRUE(store_.Delete("ops/a"));
  EXPECT_FALSE(store_.Delete("bad-key"));
}

TEST(CompactStatusTest, DropsDetailsOfFinishedInstancesFirstAndKeepsWhatRestartsNeed) {
  api::RebootRequest r;
  r.metadata.name = "big";
  api::RebootRequestStatus st;
  st.started_at = ManualClock::DefaultStart();
  st.spec_hash = "h";
  auto add = [&](int i, api::InstanceState state) {
    api::InstanceStatus s;
    s.id = "ein-" + std::to_string(10000000 + i);
    r.spec.instance_ids.push_back(s.id);
    s.state = state;
    s.reason = state == api::InstanceState::kFailed ? "Timeout" : "Rebooted";
    s.message = "a message that takes some room in the object";
    s.request_id = "fb82c096-c4cf-4120-b7fe-a23fbb404846";
    s.attempts = 1;
    s.requested_at = s.accepted_at = s.completed_at = ManualClock::DefaultStart();
    st.instances.push_back(s);
  };
  for (int i = 0; i < 9000; ++i) add(i, api::InstanceState::kSucceeded);
  for (int i = 9000; i < 9500; ++i) add(i, api::InstanceState::kRebooting);
  for (int i = 9500; i < 9700; ++i) add(i, api::InstanceState::kRequesting);
  for (int i = 9700; i < 10000; ++i) add(i, api::InstanceState::kFailed);
  st.summary = api::Summarize(st.instances);
  r.status = st;
  json::Value full = api::ToJson(r);
  ASSERT_GT(full.Dump().size(), 2000000u);
  json::Value small = full;
  EXPECT_EQ(CompactStatus(small, st, 1000000), 1);
  EXPECT_LE(small.Dump().size(), 1000000u);
  auto back = api::StatusFromJson(small["status"]);
  ASSERT_TRUE(back) << back.error().message;
  ASSERT_EQ(back->instances.size(), 10000u);
  EXPECT_EQ(api::Summarize(back->instances), st.summary);  // counts and states are complete
  const auto& rebooting = back->instances[9000];
  EXPECT_TRUE(rebooting.accepted_at.has_value());  // deadlines and SoftFirst need it
  // Completion evidence after a restart (Aliyun StartTime) is compared with the intent time.
  EXPECT_EQ(rebooting.requested_at, st.instances[9000].requested_at);
  EXPECT_EQ(rebooting.request_id, st.instances[9000].request_id);
  EXPECT_EQ(rebooting.attempts, 1);
  const auto& requesting = back->instances[9500];
  api::InstanceStatus intent = st.instances[9500];
  intent.message.clear();  // in flight: only the message may go
  EXPECT_EQ(requesting, intent);
  EXPECT_EQ(back->instances[9999].reason, "Timeout");
  bool flagged = false;
  for (const auto& c : back->conditions) flagged |= c.type == "StatusCompacted";
  EXPECT_TRUE(flagged);
  // Small objects are written whole.
  json::Value tiny = api::ToJson(r);
  tiny["status"]["instances"].AsArray().resize(3);
  EXPECT_EQ(CompactStatus(tiny, st, 1000000), 0);
}

}  // namespace
}  // namespace rebootd::kube
