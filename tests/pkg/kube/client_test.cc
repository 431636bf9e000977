// SPDX-License-Identifier: Apache-2.0
#include "pkg/kube/client.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "tests/pkg/kube/kube_test_util.h"
#include "tests/support/support.h"

namespace rebootd::kube {
namespace {

using testutil::Call;
using testutil::StatusJson;

TEST(ClientTest, PathsHeadersAndBodies) {
  testing::FakeTransport t;
  ManualClock clock;
  Client c(testutil::TestConfig(), t, clock);
  t.RespondJson(200, "{}",
                Call("GET", "/apis/rebootd.io/v1alpha1/namespaces/ops/rebootrequests/a"));
  t.RespondJson(200, R"({"items":[]})",
                Call("GET", "/apis/rebootd.io/v1alpha1/rebootrequests?limit=10"));
  t.RespondJson(201, "{}", Call("POST", "/api/v1/namespaces/ops/events"));
  t.RespondJson(200, "{}", Call("PUT", "/namespaces/ops/rebootrequests/a/status"));
  t.RespondJson(200, "{}", Call("PATCH", "/api/v1/namespaces/ops/events/e1"));
  ASSERT_TRUE(c.Get(RebootRequests(), "ops", "a"));
  ListOptions lo;
  lo.limit = 10;
  ASSERT_TRUE(c.List(RebootRequests(), "", lo));
  ASSERT_TRUE(c.Create(Events(), "ops", json::Value::MakeObject()));
  ASSERT_TRUE(c.UpdateStatus(RebootRequests(), "ops", "a", json::Value::MakeObject()));
  ASSERT_TRUE(c.MergePatch(Events(), "ops", "e1", json::Value::MakeObject()));
  auto reqs = t.requests();
  ASSERT_EQ(reqs.size(), 5u);
  EXPECT_EQ(reqs[0].headers.GetOr("Authorization"), "Bearer tok");
  EXPECT_EQ(reqs[2].headers.GetOr("Content-Type"), "application/json");
  EXPECT_EQ(reqs[4].headers.GetOr("Content-Type"), "application/merge-patch+json");
  EXPECT_EQ(reqs[4].body, "{}");
}

TEST(ClientTest, StatusErrorsMapToCodes) {
  struct Case {
    int status;
    std::string reason;
    ErrorCode code;
  };
  std::vector<Case> cases = {
      {400, "BadRequest", ErrorCode::kInvalidArgument},
      {401, "Unauthorized", ErrorCode::kUnauthenticated},
      {403, "Forbidden", ErrorCode::kPermissionDenied},
      {404, "NotFound", ErrorCode::kNotFound},
      {409, "Conflict", ErrorCode::kAborted},
      {409, "AlreadyExists", ErrorCode::kAlreadyExists},
      {410, "Expired", ErrorCode::kFailedPrecondition},
      {422, "Invalid", ErrorCode::kInvalidArgument},
      {429, "TooManyRequests", ErrorCode::kResourceExhausted},
      {500, "InternalError", ErrorCode::kUnavailable},
      {503, "ServiceUnavailable", ErrorCode::kUnavailable},
  };
  for (const auto& tc : cases) {
    testing::FakeTransport t;
    ManualClock clock;
    Client c(testutil::TestConfig(), t, clock);
    t.RespondJson(tc.status, StatusJson(tc.status, tc.reason, "the message"));
    auto r = c.Get(Leases(), "default", "l");
    ASSERT_FALSE(r) << tc.status;
    EXPECT_EQ(r.error().code, tc.code) << tc.status << " " << tc.reason;
    EXPECT_EQ(r.error().http_status, tc.status);
    EXPECT_EQ(r.error().provider_code, tc.reason);
    EXPECT_NE(r.error().message.find("the message"), std::string::npos);
    EXPECT_EQ(IsGone(r.error()), tc.status == 410);
  }
  // A body that is not a Status still maps by HTTP status.
  auto e = ErrorFromResponse("GET /x", 503, "<html>");
  EXPECT_EQ(e.code, ErrorCode::kUnavailable);
}

TEST(ClientTest, A401RereadsARotatedTokenFileOnce) {
  std::string dir = testing::MakeTempDir("token");
  std::ofstream(dir + "/token") << "old";
  Config cfg = testutil::TestConfig();
  cfg.token.clear();
  cfg.token_file = dir + "/token";
  testing::FakeTransport t;
  ManualClock clock;
  Client c(cfg, t, clock);
  t.RespondJson(200, "{}");
  ASSERT_TRUE(c.Get(Secrets(), "ops", "s"));
  std::ofstream(dir + "/token") << "new";  // same size, same second: only a 401 reveals it
  t.RespondJson(401, StatusJson(401, "Unauthorized", "token expired"));
  t.RespondJson(200, "{}");
  ASSERT_TRUE(c.Get(Secrets(), "ops", "s"));
  auto reqs = t.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[2].headers.GetOr("Authorization"), "Bearer new");
  std::filesystem::remove_all(dir);
}

TEST(ClientTest, WatchDecodesEventsAndQueryParameters) {
  testing::FakeTransport t;
  ManualClock clock;
  Client c(testutil::TestConfig(), t, clock);
  t.RespondJson(200,
                "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\"}}}\n"
                "\n"
                "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"9\"}}}\r\n"
                "{\"type\":\"DELETED\",\"object\":{\"metadata\":{\"name\":\"a\"}}}",
                Call("GET",
                     "/namespaces/ops/rebootrequests?watch=true&resourceVersion=5&"
                     "allowWatchBookmarks=true&timeoutSeconds=60"));
  WatchOptions wo;
  wo.resource_version = "5";
  wo.timeout_seconds = 60;
  std::vector<std::string> types;
  auto s = c.Watch(RebootRequests(), "ops", wo, [&](const WatchEvent& ev) {
    types.push_back(ev.type);
    return true;
  });
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(types, (std::vector<std::string>{"ADDED", "BOOKMARK", "DELETED"}));
}

// Found by fuzzing: an event of no known type (here a misspelt key) or without an object was
// handed on with an empty type. It ends the watch with an error now, before any later event.
TEST(ClientTest, WatchEventsWithoutAKnownTypeOrAnObjectAreErrors) {
  testing::FakeTransport t;
  ManualClock clock;
  Client c(testutil::TestConfig(), t, clock);
  for (std::string bad :
       {"{\"typle\":\"ADDED\",\"object\":{}}", "{\"type\":\"ADDED\"}",
        "{\"type\":\"UPSERTED\",\"object\":{}}", "{\"type\":\"MODIFIED\",\"object\":[]}"}) {
    t.RespondJson(200, bad + "\n{\"type\":\"ADDED\",\"object\":{}}\n");
    int events = 0;
    auto s = c.Watch(RebootRequests(), "", {}, [&](const WatchEvent&) {
      ++events;
      return true;
    });
    ASSERT_FALSE(s) << bad;
    EXPECT_EQ(s.error().code, ErrorCode::kInternal) << bad;
    EXPECT_EQ(events, 0) << bad;
  }
}

TEST(ClientTest, WatchErrorEventWith410IsGone) {
  testing::FakeTransport t;
  ManualClock clock;
  Client c(testutil::TestConfig(), t, clock);
  t.RespondJson(200, "{\"type\":\"ERROR\",\"object\":" +
                         StatusJson(410, "Expired", "too old resource version: 5 (40)") + "}\n");
  auto s = c.Watch(RebootRequests(), "", {}, [](const WatchEvent&) { return true; });
  ASSERT_FALSE(s);
  EXPECT_TRUE(IsGone(s.error()));
  // The same as an HTTP answer.
  t.RespondJson(410, StatusJson(410, "Gone", "gone"));
  auto h = c.Watch(RebootRequests(), "", {}, [](const WatchEvent&) { return true; });
  ASSERT_FALSE(h);
  EXPECT_TRUE(IsGone(h.error()));
  // Garbage in the stream is an error, not a silent skip.
  t.RespondJson(200, "not json\n");
  auto g = c.Watch(RebootRequests(), "", {}, [](const WatchEvent&) { return true; });
  ASSERT_FALSE(g);
  EXPECT_EQ(g.error().code, ErrorCode::kInternal);
}

}  // namespace
}  // namespace rebootd::kube
