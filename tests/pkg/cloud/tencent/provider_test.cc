// SPDX-License-Identifier: Apache-2.0
// TencentProvider over an EcmClient on a scripted FakeTransport: which describe calls a polling
// round makes, and which plan it reports (LastPlan).
#include "pkg/cloud/tencent/provider.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "pkg/json/json.h"
#include "tests/support/fake_transport.h"

namespace rebootd::cloud::tencent {
namespace {

using ::rebootd::testing::FakeTransport;

// A DescribeInstances answer listing `ids` (RUNNING) with the given TotalCount.
std::string Page(const std::vector<std::string>& ids, int64_t total) {
  json::Value set = json::Value::MakeArray();
  for (const auto& id : ids) {
    json::Value item = json::Value::MakeObject();
    item.Set("InstanceId", id);
    item.Set("InstanceState", "RUNNING");
    set.PushBack(std::move(item));
  }
  json::Value response = json::Value::MakeObject();
  response.Set("TotalCount", json::Value(total));
  response.Set("InstanceSet", std::move(set));
  response.Set("RequestId", "REQ-1");
  json::Value body = json::Value::MakeObject();
  body.Set("Response", std::move(response));
  return body.Dump();
}

// The "Offset" of a recorded DescribeInstances request, and whether it had filters.
int64_t OffsetOf(const http::Request& r) { return json::Parse(r.body)->Find("Offset")->AsInt(); }
bool HasFilters(const http::Request& r) { return json::Parse(r.body)->Find("Filters") != nullptr; }

class TencentProviderTest : public ::testing::Test {
 protected:
  TencentProvider Make() {
    EcmClientOptions options;
    options.endpoint = "http://127.0.0.1:9";
    auto client = EcmClient::Create(options, Credentials{"AKIDkey", "secret-value", ""}, transport_,
                                    clock_, random_, nullptr);
    EXPECT_TRUE(client.has_value());
    TencentProviderOptions provider_options;
    provider_options.describe_concurrency = 1;  // deterministic call order
    return TencentProvider(std::move(*client), provider_options);
  }

  FakeTransport transport_;
  ManualClock clock_;
  SeededRandom random_{1};
};

// Found by the integration test: a first round whose single scan page held every watched ID
// reported kPerId although it made no per-ID call.
TEST_F(TencentProviderTest, FirstRoundAnsweredByTheFirstScanPageReportsAnAccountScan) {
  const std::vector<std::string> ids = {"ein-a1", "ein-a2", "ein-a3", "ein-a4", "ein-a5", "ein-a6"};
  std::vector<std::string> account = ids;
  account.push_back("ein-other1");
  transport_.RespondJson(200, Page(account, 7));
  TencentProvider provider = Make();
  auto observed = provider.Describe(ids, {});
  ASSERT_TRUE(observed.has_value()) << observed.error().ToString();
  EXPECT_EQ(observed->size(), 6u);
  ASSERT_EQ(transport_.request_count(), 1u);
  EXPECT_FALSE(HasFilters(transport_.last_request()));
  EXPECT_EQ(provider.LastPlan(), PollPlan::kAccountScan);
}

TEST_F(TencentProviderTest, FirstRoundFallsBackToPerIdCallsForWhatTheFirstPageMissed) {
  std::vector<std::string> ids = {"ein-b1", "ein-b2", "ein-b3", "ein-b4", "ein-b5", "ein-b6"};
  // Page 1 of a 1000-instance account holds b1 only; 5 IDs left: 1 per-ID call < 9 pages.
  std::vector<std::string> first_page = {"ein-b1"};
  for (int i = 0; i < 99; ++i) first_page.push_back("ein-x" + std::to_string(i));
  transport_.RespondJson(200, Page(first_page, 1000));
  transport_.RespondJson(200, Page({"ein-b2", "ein-b3", "ein-b4", "ein-b5", "ein-b6"}, 5));
  TencentProvider provider = Make();
  auto observed = provider.Describe(ids, {});
  ASSERT_TRUE(observed.has_value()) << observed.error().ToString();
  EXPECT_EQ(observed->size(), 6u);
  const auto requests = transport_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_FALSE(HasFilters(requests[0]));
  EXPECT_EQ(OffsetOf(requests[0]), 0);
  EXPECT_TRUE(HasFilters(requests[1]));
  EXPECT_EQ(provider.LastPlan(), PollPlan::kPerId);
}

}  // namespace
}  // namespace rebootd::cloud::tencent
