// SPDX-License-Identifier: Apache-2.0
#include "pkg/store/request_cache.h"

#include <gtest/gtest.h>

#include <thread>

namespace rebootd::store {
namespace {

api::RebootRequest MakeRequest(const std::string& ns, const std::string& name) {
  api::RebootRequest r;
  r.metadata.namespace_ = ns;
  r.metadata.name = name;
  r.spec.provider = Provider::kTencent;
  r.spec.instance_ids = {"ein-496721al"};
  return r;
}

TEST(RequestCacheTest, UpsertReportsNewAndChangedOnly) {
  RequestCache cache;
  api::RebootRequest r = MakeRequest("ops", "a");
  EXPECT_TRUE(cache.Upsert(r));
  EXPECT_FALSE(cache.Upsert(r));

  r.spec.mode = api::Mode::kHard;
  EXPECT_TRUE(cache.Upsert(r));
  r.metadata.labels["team"] = "web";
  EXPECT_TRUE(cache.Upsert(r));
  r.metadata.generation = 2;
  EXPECT_TRUE(cache.Upsert(r));
  EXPECT_FALSE(cache.Upsert(r));
}

TEST(RequestCacheTest, NonSpecFieldsAreStoredWithoutCountingAsChange) {
  RequestCache cache;
  api::RebootRequest r = MakeRequest("ops", "a");
  ASSERT_TRUE(cache.Upsert(r));
  r.metadata.resource_version = "42";
  r.metadata.annotations["note"] = "x";
  EXPECT_FALSE(cache.Upsert(r));
  auto got = cache.Get("ops/a");
  ASSERT_TRUE(got != nullptr);
  EXPECT_EQ(got->metadata.resource_version, "42");
  EXPECT_EQ(got->metadata.annotations.at("note"), "x");
}

TEST(RequestCacheTest, StatusIsNotCached) {
  RequestCache cache;
  api::RebootRequest r = MakeRequest("ops", "a");
  r.status = api::RebootRequestStatus{};
  r.status->phase = api::Phase::kSucceeded;
  ASSERT_TRUE(cache.Upsert(r));
  EXPECT_FALSE(cache.Get("ops/a")->status.has_value());
}

TEST(RequestCacheTest, GetDeleteKeysSize) {
  RequestCache cache;
  EXPECT_FALSE((cache.Get("ops/a") != nullptr));
  cache.Upsert(MakeRequest("ops", "b"));
  cache.Upsert(MakeRequest("default", "z"));
  cache.Upsert(MakeRequest("ops", "a"));
  EXPECT_EQ(cache.Size(), 3u);
  EXPECT_EQ(cache.Keys(), (std::vector<std::string>{"default/z", "ops/a", "ops/b"}));
  EXPECT_EQ(cache.Get("ops/a")->metadata.name, "a");

  EXPECT_TRUE(cache.Delete("ops/a"));
  EXPECT_FALSE(cache.Delete("ops/a"));
  EXPECT_FALSE((cache.Get("ops/a") != nullptr));
  EXPECT_EQ(cache.Size(), 2u);
}

TEST(RequestCacheTest, SyncedAfterMarkSynced) {
  RequestCache cache;
  EXPECT_FALSE(cache.Synced());
  cache.MarkSynced();
  EXPECT_TRUE(cache.Synced());
}

TEST(RequestCacheTest, ConcurrentWritersAndReaders) {
  RequestCache cache;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&cache, t] {
      for (int i = 0; i < 200; ++i) {
        std::string name = "r" + std::to_string(t) + "-" + std::to_string(i);
        cache.Upsert(MakeRequest("ops", name));
        (void)cache.Keys();
        (void)cache.Get("ops/" + name);
        if (i % 2 == 0) cache.Delete("ops/" + name);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(cache.Size(), 400u);
}

}  // namespace
}  // namespace rebootd::store
