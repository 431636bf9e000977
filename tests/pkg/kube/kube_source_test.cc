// SPDX-License-Identifier: Apache-2.0
#include "pkg/kube/kube_source.h"

#include <gtest/gtest.h>

#include <mutex>
#include <vector>

#include "tests/pkg/kube/kube_test_util.h"

namespace rebootd::kube {
namespace {

using testutil::Call;
using testutil::RebootRequestJson;
using testutil::StatusJson;

std::string ListJson(const std::string& rv, const std::vector<std::string>& items,
                     const std::string& cont = "") {
  std::string out = R"({"kind":"RebootRequestList","metadata":{"resourceVersion":")" + rv + "\"";
  if (!cont.empty()) out += R"(,"continue":")" + cont + "\"";
  out += "},\"items\":[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + items[i];
  return out + "]}";
}

std::string Event(const std::string& type, const std::string& object) {
  return R"({"type":")" + type + R"(","object":)" + object + "}\n";
}

class KubeSourceTest : public ::testing::Test {
 protected:
  KubeSourceTest()
      : client_(testutil::TestConfig(), transport_, clock_),
        source_(
            Options(), client_, cache_,
            [this](const std::string& key) {
              std::lock_guard lock(mu_);
              notified_.push_back(key);
            },
            clock_, random_) {}

  KubeSourceOptions Options() {
    KubeSourceOptions o;
    o.namespace_ = "";
    o.page_size = 2;
    o.on_problem = [this](const std::string& m) {
      std::lock_guard lock(mu_);
      problems_.push_back(m);
    };
    return o;
  }
  std::vector<std::string> TakeNotified() {
    std::lock_guard lock(mu_);
    return std::exchange(notified_, {});
  }

  testing::FakeTransport transport_;
  ManualClock clock_;
  SeededRandom random_{1};
  Client client_;
  store::RequestCache cache_;
  std::mutex mu_;
  std::vector<std::string> notified_;
  std::vector<std::string> problems_;
  KubeSource source_;
};

TEST_F(KubeSourceTest, ListsAllPagesMarksSyncedAndNotifies) {
  transport_.RespondJson(
      200,
      ListJson("10", {RebootRequestJson("ops", "a", "7"), RebootRequestJson("ops", "b", "8")},
               "next"),
      Call("GET", "/apis/rebootd.io/v1alpha1/rebootrequests?limit=2"));
  transport_.RespondJson(200, ListJson("10", {RebootRequestJson("dev", "c", "9")}),
                         Call("GET", "continue=next"));
  ASSERT_TRUE(source_.RelistForTest());
  EXPECT_TRUE(cache_.Synced());
  EXPECT_EQ(cache_.Keys(), (std::vector<std::string>{"dev/c", "ops/a", "ops/b"}));
  EXPECT_EQ(source_.resource_version(), "10");
  EXPECT_EQ(TakeNotified().size(), 3u);
  auto a = cache_.Get("ops/a");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->metadata.uid, "uid-1");
}

TEST_F(KubeSourceTest, WatchAppliesEventsAndBookmarksMoveTheVersion) {
  transport_.RespondJson(200, ListJson("10", {RebootRequestJson("ops", "a", "7"),
                                              RebootRequestJson("ops", "b", "8")}));
  ASSERT_TRUE(source_.RelistForTest());
  TakeNotified();
  std::string modified_status_only =
      RebootRequestJson("ops", "a", "11", "uid-1", R"({"phase":"InProgress"})");
  std::string bad = R"({"apiVersion":"rebootd.io/v1alpha1","kind":"RebootRequest",)"
                    R"("metadata":{"name":"bad","namespace":"ops","resourceVersion":"13"},)"
                    R"("spec":{"provider":"gcp","instanceIds":[]}})";
  transport_.RespondJson(
      200,
      Event("ADDED", RebootRequestJson("ops", "n", "11")) +
          Event("MODIFIED", modified_status_only) +
          Event("DELETED", RebootRequestJson("ops", "b", "12")) + Event("ADDED", bad) +
          Event("BOOKMARK", R"({"kind":"RebootRequest","metadata":{"resourceVersion":"20"}})"),
      Call("GET", "watch=true&resourceVersion=10&allowWatchBookmarks=true"));
  ASSERT_TRUE(source_.WatchOnceForTest());
  EXPECT_EQ(cache_.Keys(), (std::vector<std::string>{"ops/a", "ops/n"}));
  // A status-only change (our own status write) does not notify; add and delete do.
  EXPECT_EQ(TakeNotified(), (std::vector<std::string>{"ops/n", "ops/b"}));
  EXPECT_EQ(source_.resource_version(), "20");
  std::lock_guard lock(mu_);
  ASSERT_EQ(problems_.size(), 1u);
  EXPECT_NE(problems_[0].find("ops/bad"), std::string::npos);
}

TEST_F(KubeSourceTest, GoneRelistsAndDropsWhatDisappeared) {
  transport_.RespondJson(200, ListJson("10", {RebootRequestJson("ops", "a", "7"),
                                              RebootRequestJson("ops", "b", "8")}));
  ASSERT_TRUE(source_.RelistForTest());
  TakeNotified();
  transport_.RespondJson(200,
                         "{\"type\":\"ERROR\",\"object\":" +
                             StatusJson(410, "Expired", "too old resource version") + "}\n",
                         Call("GET", "watch=true&resourceVersion=10"));
  // After the 410, the relist shows b gone and c new (an API server restart, say).
  transport_.RespondJson(
      200,
      ListJson("50", {RebootRequestJson("ops", "a", "7"), RebootRequestJson("ops", "c", "49")}),
      Call("GET", "rebootrequests?limit=2"));
  ASSERT_TRUE(source_.WatchOnceForTest());
  EXPECT_EQ(cache_.Keys(), (std::vector<std::string>{"ops/a", "ops/c"}));
  EXPECT_EQ(source_.resource_version(), "50");
  auto notified = TakeNotified();
  EXPECT_NE(std::find(notified.begin(), notified.end(), "ops/b"), notified.end());
  EXPECT_NE(std::find(notified.begin(), notified.end(), "ops/c"), notified.end());
}

TEST_F(KubeSourceTest, StartFailsWhenTheCrdIsMissing) {
  transport_.RespondJson(404, StatusJson(404, "NotFound", "the server could not find it"));
  auto s = source_.Start();
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(cache_.Synced());
}

TEST_F(KubeSourceTest, BrokenStreamsReconnectWithBackoffFromTheLastVersion) {
  // Scripted before Start(): the loop begins watching at once.
  transport_.RespondJson(200, ListJson("10", {}));
  // The loop's first watch breaks; it must come back (after a backoff sleep) from version 10.
  Error broken{ErrorCode::kUnavailable, "stream broke off", {}, {}, 0, true};
  transport_.Fail(broken, Call("GET", "watch=true&resourceVersion=10"));
  transport_.RespondJson(200, Event("ADDED", RebootRequestJson("ops", "late", "11")),
                         Call("GET", "watch=true&resourceVersion=10"));
  ASSERT_TRUE(source_.Start());
  for (int i = 0; i < 2000 && transport_.pending() > 0; ++i) {
    // Sleepers first, then pending: a sleeper seen while an answer is still scripted is the
    // backoff after the broken watch (the loop sleeps again only after taking the last answer),
    // so the clock is never advanced past the final watch into an unscripted call (it was, now
    // and then, under TSan).
    if (clock_.Sleepers() > 0 && transport_.pending() > 0) clock_.Advance(std::chrono::seconds(1));
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(transport_.pending(), 0u);
  for (int i = 0; i < 2000 && !cache_.Get("ops/late"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_TRUE(cache_.Get("ops/late"));
  // Let the loop park in a backoff sleep before stopping, so no unscripted call happens.
  for (int i = 0; i < 2000 && clock_.Sleepers() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  source_.Stop();
}

}  // namespace
}  // namespace rebootd::kube
