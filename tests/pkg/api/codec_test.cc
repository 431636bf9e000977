// SPDX-License-Identifier: Apache-2.0
#include "pkg/api/codec.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/support/support.h"

namespace rebootd::api {
namespace {

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

constexpr const char* kValid = R"(apiVersion: rebootd.io/v1alpha1
kind: RebootRequest
metadata:
  name: web-tier-patch
  namespace: ops
  labels: {team: web}
spec:
  provider: tencent
  region: ap-guangzhou
  instanceIds: [ein-496721al, ein-438242bp]
  mode: SoftFirst
  dryRun: false
  timeoutSeconds: 600
---
apiVersion: rebootd.io/v1alpha1
kind: RebootRequest
metadata: {name: db-tier}
spec:
  provider: aliyun
  region: cn-hangzhou
  instanceIds:
  - i-bp67acfmxazb4ph00001
  dryRun: true
)";

TEST(DecodeManifestsTest, DecodesMultipleDocumentsWithDefaults) {
  DecodeResult r = DecodeManifests(kValid, "two.yaml");
  ASSERT_TRUE(r.errors.empty()) << r.errors[0].ToString();
  ASSERT_EQ(r.requests.size(), 2u);
  const RebootRequest& a = r.requests[0];
  EXPECT_EQ(a.Key(), "ops/web-tier-patch");
  EXPECT_EQ(a.spec.provider, Provider::kTencent);
  EXPECT_EQ(a.spec.region, "ap-guangzhou");
  EXPECT_EQ(a.spec.instance_ids, (std::vector<std::string>{"ein-496721al", "ein-438242bp"}));
  EXPECT_EQ(a.spec.mode, Mode::kSoftFirst);
  EXPECT_FALSE(a.spec.dry_run);
  EXPECT_EQ(a.spec.timeout_seconds, 600);
  EXPECT_EQ(a.metadata.labels.at("team"), "web");
  const RebootRequest& b = r.requests[1];
  EXPECT_EQ(b.Key(), "default/db-tier");
  EXPECT_EQ(b.spec.mode, Mode::kSoft);
  EXPECT_TRUE(b.spec.dry_run);
  EXPECT_EQ(b.spec.timeout_seconds, kDefaultTimeoutSeconds);
}

TEST(DecodeManifestsTest, OneBadDocumentDoesNotHideTheGoodOnes) {
  std::string text = std::string(kValid) +
                     "---\napiVersion: rebootd.io/v1alpha1\nkind: RebootRequest\n"
                     "metadata: {name: bad}\nspec: {provider: gcp, instanceIds: [x]}\n";
  DecodeResult r = DecodeManifests(text, "three.yaml");
  EXPECT_EQ(r.requests.size(), 2u);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].ToString(),
            "three.yaml:28: spec.provider: unknown provider \"gcp\"; must be one of: tencent, "
            "aliyun");
}

TEST(DecodeManifestsTest, SameNameTwiceKeepsTheFirstAndPointsAtTheRepeat) {
  const std::string doc = R"(apiVersion: rebootd.io/v1alpha1
kind: RebootRequest
metadata: {name: a}
spec: {provider: tencent, instanceIds: [ID]}
)";
  auto with = [&](const std::string& id) {
    std::string d = doc;
    d.replace(d.find("ID"), 2, id);
    return d;
  };
  DecodeResult r = DecodeManifests(with("ein-496721al") + "---\n" + with("ein-438242bp"), "x.yaml");
  // Both documents are valid on their own; FileSource uses the first.
  ASSERT_EQ(r.requests.size(), 2u);
  EXPECT_EQ(r.requests[0].spec.instance_ids, std::vector<std::string>{"ein-496721al"});
  ASSERT_EQ(r.errors.size(), 1u);
  // The repeated document starts on line 6; the message says which one is used.
  EXPECT_EQ(r.errors[0].ToString(),
            "x.yaml:6: metadata.name: RebootRequest default/a is defined more than once in this "
            "file; using the first (line 1)");
}

// Found by fuzzing: yaml-cpp 0.7's LoadAll never returned on these (and grew memory without
// bound), so one malformed file would have stopped the file source for good.
TEST(DecodeManifestsTest, StreamsTheYamlParserCannotFinishAreAClearError) {
  for (const char* text : {",?", ",", "a: 1\n---\n,?\n"}) {
    DecodeResult r = DecodeManifests(text, "bad.yaml");
    EXPECT_TRUE(r.requests.empty()) << text;
    ASSERT_EQ(r.errors.size(), 1u) << text;
    EXPECT_NE(r.errors[0].message.find("invalid YAML"), std::string::npos) << r.errors[0].message;
  }
  // Many empty documents are fine: the bound is on documents per byte, not a small count.
  std::string many;
  for (int i = 0; i < 1000; ++i) many += "---\n";
  EXPECT_TRUE(DecodeManifests(many, "empty.yaml").errors.empty());
}

TEST(DecodeManifestsTest, EmptyDocumentsAreSkippedAndStatusIsIgnored) {
  DecodeResult r = DecodeManifests(
      "---\n---\napiVersion: rebootd.io/v1alpha1\nkind: RebootRequest\nmetadata: {name: a}\n"
      "spec: {provider: tencent, instanceIds: [ein-496721al]}\nstatus: {phase: Succeeded}\n",
      "f.yaml");
  ASSERT_TRUE(r.errors.empty()) << r.errors[0].ToString();
  ASSERT_EQ(r.requests.size(), 1u);
  EXPECT_FALSE(r.requests[0].status.has_value());
}

TEST(DecodeManifestsTest, JsonManifestsAreAccepted) {
  DecodeResult r = DecodeManifests(
      R"({"apiVersion":"rebootd.io/v1alpha1","kind":"RebootRequest","metadata":{"name":"j"},
          "spec":{"provider":"tencent","instanceIds":["ein-496721al"],"dryRun":true,
                  "timeoutSeconds":30}})",
      "j.json");
  ASSERT_TRUE(r.errors.empty()) << r.errors[0].ToString();
  ASSERT_EQ(r.requests.size(), 1u);
  EXPECT_TRUE(r.requests[0].spec.dry_run);
  EXPECT_EQ(r.requests[0].spec.timeout_seconds, 30);
}

TEST(DecodeManifestsTest, MoreThanTenThousandIdsAreRejected) {
  std::string text =
      "apiVersion: rebootd.io/v1alpha1\nkind: RebootRequest\nmetadata: {name: big}\nspec:\n"
      "  provider: tencent\n  instanceIds:\n";
  for (int i = 0; i < 10001; ++i) {
    char id[32];
    std::snprintf(id, sizeof id, "  - ein-%08d\n", i);
    text += id;
  }
  DecodeResult r = DecodeManifests(text, "big.yaml");
  EXPECT_TRUE(r.requests.empty());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].ToString(),
            "big.yaml:6: spec.instanceIds: 10001 IDs; at most 10000 are allowed per request");
}

TEST(DecodeManifestsTest, ExactlyTenThousandIdsAreAccepted) {
  std::string text =
      "apiVersion: rebootd.io/v1alpha1\nkind: RebootRequest\nmetadata: {name: big}\nspec:\n"
      "  provider: tencent\n  instanceIds:\n";
  for (int i = 0; i < 10000; ++i) {
    char id[32];
    std::snprintf(id, sizeof id, "  - ein-%08d\n", i);
    text += id;
  }
  DecodeResult r = DecodeManifests(text, "big.yaml");
  ASSERT_TRUE(r.errors.empty());
  EXPECT_EQ(r.requests[0].spec.instance_ids.size(), 10000u);
}

// The corpus: every file under testdata/malformed starts with "# expect: TEXT"; decoding must
// give no request and an error "FILE:LINE: ..." containing TEXT.
TEST(MalformedCorpusTest, EveryFileGetsItsClearError) {
  std::filesystem::path dir =
      std::filesystem::path(rebootd::testing::SourceDir()) / "tests/pkg/api/testdata/malformed";
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::string text = ReadFile(entry.path());
    ASSERT_EQ(text.rfind("# expect: ", 0), 0u) << entry.path();
    std::string expect = text.substr(10, text.find('\n') - 10);
    std::string name = entry.path().filename().string();
    DecodeResult r = DecodeManifests(text, name);
    EXPECT_TRUE(r.requests.empty() || name.find("same-name") != std::string::npos) << name;
    ASSERT_FALSE(r.errors.empty()) << name;
    bool found = false;
    std::string all;
    for (const auto& e : r.errors) {
      std::string s = e.ToString();
      all += s + "\n";
      EXPECT_EQ(s.rfind(name + ":", 0), 0u) << s;
      if (s.find(expect) != std::string::npos) found = true;
    }
    EXPECT_TRUE(found) << name << ": expected \"" << expect << "\" in:\n" << all;
    ++files;
  }
  EXPECT_GE(files, 20);
}

TEST(ValidateTest, InstanceIdPatterns) {
  EXPECT_TRUE(IsValidInstanceId(Provider::kTencent, "ein-496721al"));
  EXPECT_FALSE(IsValidInstanceId(Provider::kTencent, "ein-4967"));
  EXPECT_FALSE(IsValidInstanceId(Provider::kTencent, "ein-496721AL"));
  EXPECT_FALSE(IsValidInstanceId(Provider::kTencent, "ins-496721al"));
  EXPECT_FALSE(IsValidInstanceId(Provider::kTencent, "ein-4967 1al"));
  EXPECT_TRUE(IsValidInstanceId(Provider::kAliyun, "i-bp67acfmxazb4ph00001"));
  EXPECT_FALSE(IsValidInstanceId(Provider::kAliyun, "i-bp67acfmxazb4ph****"));
  EXPECT_FALSE(IsValidInstanceId(Provider::kAliyun, "ein-496721al"));
  EXPECT_FALSE(IsValidInstanceId(Provider::kAliyun, "i-short"));
}

TEST(JsonCodecTest, RoundTripsSpecAndStatus) {
  DecodeResult r = DecodeManifests(kValid, "two.yaml");
  ASSERT_EQ(r.requests.size(), 2u);
  RebootRequest req = r.requests[0];
  RebootRequestStatus st;
  st.phase = Phase::kInProgress;
  st.observed_generation = 1;
  st.started_at = SystemTime(std::chrono::seconds(1767225600));
  InstanceStatus a;
  a.id = "ein-496721al";
  a.state = InstanceState::kSucceeded;
  a.reason = "Rebooted";
  a.request_id = "req-1";
  a.attempts = 1;
  a.requested_at = st.started_at;
  a.accepted_at = st.started_at;
  a.completed_at = SystemTime(std::chrono::seconds(1767225700));
  a.seen_transitional = true;
  InstanceStatus b;
  b.id = "ein-438242bp";
  b.state = InstanceState::kRequesting;
  b.requested_at = st.started_at;
  st.instances = {a, b};
  st.summary = Summarize(st.instances);
  st.conditions.push_back(Condition{"Ready", "False", "InProgress", "1/2 done", st.started_at, 1});
  st.spec_hash = SpecHash(req.spec);
  req.status = st;
  json::Value j = ToJson(req);
  auto back = FromJson(j, /*strict_status=*/true);
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(back->spec, req.spec);
  EXPECT_EQ(back->Key(), req.Key());
  ASSERT_TRUE(back->status.has_value());
  EXPECT_EQ(*back->status, st);
  EXPECT_EQ(back->status->summary.succeeded, 1);
  EXPECT_EQ(back->status->summary.rebooting, 1);
}

TEST(JsonCodecTest, RejectsBadSpecWithFieldPaths) {
  auto v = json::Parse(R"({"apiVersion":"rebootd.io/v1alpha1","kind":"RebootRequest",
    "metadata":{"name":"x"},"spec":{"provider":"tencent","instanceIds":["ein-496721al",7],
    "dryRun":"no","extra":1}})");
  ASSERT_TRUE(v);
  auto r = FromJson(*v);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("spec.extra: unknown field"), std::string::npos);
  EXPECT_NE(r.error().message.find("spec.instanceIds[1]: must be a string"), std::string::npos);
  EXPECT_NE(r.error().message.find("spec.dryRun: must be a boolean"), std::string::npos);
}

TEST(SpecHashTest, ChangesWithEveryRelevantField) {
  RebootRequestSpec s;
  s.instance_ids = {"ein-496721al"};
  std::string h = SpecHash(s);
  RebootRequestSpec t = s;
  t.mode = Mode::kHard;
  EXPECT_NE(SpecHash(t), h);
  t = s;
  t.instance_ids.push_back("ein-438242bp");
  EXPECT_NE(SpecHash(t), h);
  t = s;
  t.dry_run = true;
  EXPECT_NE(SpecHash(t), h);
  EXPECT_EQ(SpecHash(s), h);
}

// A 10,000-instance status must fit a Kubernetes object (etcd: 1.5 MiB) while keeping one entry
// per instance and everything crash safety needs for in-flight instances.
TEST(StatusToJsonTest, CompactsToFitABudgetAndKeepsWhatCrashSafetyNeeds) {
  RebootRequestStatus st;
  st.phase = Phase::kInProgress;
  SystemTime t0;
  ASSERT_TRUE(ParseRfc3339("2026-12-02T03:00:00.123Z", &t0));
  for (int n = 0; n < 10000; ++n) {
    InstanceStatus i;
    char id[32];
    std::snprintf(id, sizeof id, "ein-%08d", n);
    i.id = id;
    i.attempts = 1;
    i.request_id = "4f8d6a0e-1c2b-4e5f-9a8b-7c6d5e4f3a2b";
    i.requested_at = t0;
    i.accepted_at = t0;
    if (n % 10 == 0) {  // in flight
      i.state = InstanceState::kRebooting;
      i.seen_transitional = true;
      i.message = std::string(200, 'm');
    } else if (n % 10 == 1) {
      i.state = InstanceState::kFailed;
      i.reason = "InstanceNotFound";
      i.message = std::string(300, 'x');
      i.completed_at = t0;
    } else {
      i.state = InstanceState::kSucceeded;
      i.reason = "RebootConfirmed";
      i.message = "running again after the reboot call";
      i.completed_at = t0;
    }
    st.instances.push_back(i);
  }
  st.summary = Summarize(st.instances);
  const size_t full = StatusToJson(st).Dump().size();
  const size_t budget = 1024 * 1024;
  ASSERT_GT(full, 2 * budget) << "the test needs a status that does not fit";
  json::Value compact = StatusToJson(st, budget);
  EXPECT_LE(compact.Dump().size(), budget);
  auto back = StatusFromJson(compact);
  ASSERT_TRUE(back.has_value()) << back.error().ToString();
  ASSERT_EQ(back->instances.size(), st.instances.size());
  EXPECT_EQ(back->summary.total, 10000);
  EXPECT_EQ(back->summary.failed, 1000);
  EXPECT_EQ(back->summary.rebooting, 1000);
  for (size_t n = 0; n < st.instances.size(); ++n) {
    const InstanceStatus& want = st.instances[n];
    const InstanceStatus& got = back->instances[n];
    ASSERT_EQ(got.id, want.id);
    ASSERT_EQ(got.state, want.state);
    if (want.state == InstanceState::kRebooting) {
      EXPECT_EQ(got.requested_at, want.requested_at);
      EXPECT_EQ(got.accepted_at, want.accepted_at);
      EXPECT_EQ(got.attempts, 1);
      EXPECT_TRUE(got.seen_transitional);
      EXPECT_EQ(got.request_id, want.request_id);
    }
    if (want.state == InstanceState::kFailed) {
      EXPECT_EQ(got.reason, "InstanceNotFound");
    }
  }
  // Without a budget, or with one it fits, nothing is dropped.
  EXPECT_EQ(StatusToJson(st, 100 * budget).Dump(), StatusToJson(st).Dump());
}

}  // namespace
}  // namespace rebootd::api
