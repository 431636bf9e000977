// SPDX-License-Identifier: Apache-2.0
#include "pkg/store/file_status_store.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "pkg/api/codec.h"
#include "pkg/json/json.h"
#include "tests/support/support.h"

namespace rebootd::store {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

std::string InstanceId(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "ein-%08d", i);
  return buf;
}

// A request with a status: `instances` instances, half of them already Succeeded.
Record MakeRecord(const std::string& ns, const std::string& name, int instances = 2) {
  Record rec;
  api::RebootRequest& r = rec.request;
  r.metadata.namespace_ = ns;
  r.metadata.name = name;
  r.metadata.generation = 3;
  r.metadata.labels["team"] = "web";
  r.spec.provider = Provider::kTencent;
  r.spec.mode = api::Mode::kSoftFirst;
  r.spec.timeout_seconds = 600;
  for (int i = 0; i < instances; ++i) r.spec.instance_ids.push_back(InstanceId(i));

  api::RebootRequestStatus st;
  st.phase = api::Phase::kInProgress;
  st.observed_generation = 3;
  SystemTime t0 = ManualClock::DefaultStart();
  st.started_at = t0;
  st.spec_hash = api::SpecHash(r.spec);
  for (int i = 0; i < instances; ++i) {
    api::InstanceStatus is;
    is.id = InstanceId(i);
    is.attempts = 1;
    is.requested_at = t0 + 1s;
    if (i % 2 == 0) {
      is.state = api::InstanceState::kSucceeded;
      is.reason = "Rebooted";
      is.request_id = "6a1b2c3d-0000-4000-8000-00000000000" + std::to_string(i % 10);
      is.accepted_at = t0 + 2s;
      is.completed_at = t0 + 60s;
      is.seen_transitional = true;
    } else {
      is.state = api::InstanceState::kRequesting;
    }
    st.instances.push_back(is);
  }
  st.summary = api::Summarize(st.instances);
  r.status = st;
  return rec;
}

class FileStatusStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = testing::MakeTempDir("store-test");
    dir_ = root_ + "/state";
    auto store = FileStatusStore::Open(dir_);
    ASSERT_TRUE(store) << store.error().ToString();
    store_ = std::move(*store);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  std::vector<std::string> Entries(const std::string& dir) {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename());
    std::sort(names.begin(), names.end());
    return names;
  }

  std::string root_;
  std::string dir_;
  std::unique_ptr<FileStatusStore> store_;
};

TEST_F(FileStatusStoreTest, InitCreatesPrivateDirectory) {
  struct stat st {};
  ASSERT_EQ(::stat(dir_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  // Idempotent on an existing directory.
  EXPECT_TRUE(FileStatusStore(dir_).Init());
}

TEST_F(FileStatusStoreTest, InitFailsClearlyWhenPathIsAFile) {
  std::string file = root_ + "/plain";
  WriteFile(file, "x");
  auto st = FileStatusStore(file).Init();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(st.error().message.find(file), std::string::npos) << st.error().message;

  auto below = FileStatusStore(file + "/sub").Init();
  ASSERT_FALSE(below);
  EXPECT_EQ(below.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(below.error().message.find(file + "/sub"), std::string::npos);
}

// Runs as root too (CI does): a regular file where the directory should be, or as one of its
// parents, cannot be worked around by permissions.
TEST_F(FileStatusStoreTest, InitFailsWhenPathIsNotADirectory) {
  std::string file = root_ + "/plain-file";
  {
    std::ofstream out(file);
    out << "x";
  }
  auto st = FileStatusStore(file).Init();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(st.error().message.find(file), std::string::npos) << st.error().message;
  auto st2 = FileStatusStore(file + "/state").Init();
  ASSERT_FALSE(st2);
  EXPECT_EQ(st2.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(st2.error().message.find(file + "/state"), std::string::npos) << st2.error().message;
}

TEST_F(FileStatusStoreTest, LoadOfUnknownKeyIsEmpty) {
  auto got = store_->Load("ops/nothing");
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_FALSE(got->has_value());
}

TEST_F(FileStatusStoreTest, SaveLoadRoundTripIncludingStatus) {
  Record rec = MakeRecord("ops", "web-tier-patch", 4);
  ASSERT_TRUE(store_->Save(rec));
  auto got = store_->Load("ops/web-tier-patch");
  ASSERT_TRUE(got) << got.error().ToString();
  ASSERT_TRUE(got->has_value());
  const api::RebootRequest& r = (*got)->request;
  EXPECT_EQ(r.Key(), "ops/web-tier-patch");
  EXPECT_EQ(r.metadata.generation, 3);
  EXPECT_EQ(r.metadata.labels, rec.request.metadata.labels);
  EXPECT_EQ(r.spec, rec.request.spec);
  ASSERT_TRUE(r.status.has_value());
  EXPECT_EQ(*r.status, *rec.request.status);
}

TEST_F(FileStatusStoreTest, FileIsCompactJsonWithTrailingNewline) {
  ASSERT_TRUE(store_->Save(MakeRecord("ops", "a", 3)));
  std::string text = ReadFile(dir_ + "/ops/a.json");
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  EXPECT_EQ(text.find('\n'), text.size() - 1) << "one line only";
  auto v = json::Parse(text);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->Find("status")->Find("phase")->AsString(), "InProgress");
  struct stat st {};
  ASSERT_EQ(::stat((dir_ + "/ops/a.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

// The record is written without building its whole JSON tree; the text must still be exactly
// what the codec produces, for every kind of instance entry and condition.
TEST_F(FileStatusStoreTest, FileIsExactlyTheCodecsJson) {
  Record rec = MakeRecord("ops", "exact", 7);
  auto& st = *rec.request.status;
  st.instances[1].message = "quote \" backslash \\ newline \n tab \t \u00e9 \x01 end";
  st.instances[3].state = api::InstanceState::kFailed;
  st.instances[3].reason = "InstanceNotFound";
  st.instances[3].completed_at = st.started_at;
  st.instances[5].escalated = true;
  st.conditions.push_back(api::Condition{"Complete", "False", "InProgress", "3 of 7", {}, 3});
  rec.request.metadata.annotations["note"] = "\"instances\":[]";
  for (Record r : {rec, MakeRecord("ops", "exact", 0), MakeRecord("ops", "exact", 1)}) {
    ASSERT_TRUE(store_->Save(r));
    EXPECT_EQ(ReadFile(dir_ + "/ops/exact.json"),
              api::ToJson(r.request, /*include_status=*/true).Dump() + "\n");
  }
  Record no_status = MakeRecord("ops", "exact", 2);
  no_status.request.status.reset();
  ASSERT_TRUE(store_->Save(no_status));
  EXPECT_EQ(ReadFile(dir_ + "/ops/exact.json"),
            api::ToJson(no_status.request, /*include_status=*/true).Dump() + "\n");
}

TEST_F(FileStatusStoreTest, SaveReplacesAndLeavesNoTemporaryFiles) {
  Record rec = MakeRecord("ops", "a");
  ASSERT_TRUE(store_->Save(rec));
  rec.request.status->phase = api::Phase::kSucceeded;
  ASSERT_TRUE(store_->Save(rec));
  auto got = store_->Load("ops/a");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ((*got)->request.status->phase, api::Phase::kSucceeded);
  EXPECT_EQ(Entries(dir_ + "/ops"), (std::vector<std::string>{"a.json"}));
}

TEST_F(FileStatusStoreTest, NamespacesAreDirectoriesAndListIsSortedByKey) {
  ASSERT_TRUE(store_->Save(MakeRecord("ops", "b")));
  ASSERT_TRUE(store_->Save(MakeRecord("ops", "a")));
  ASSERT_TRUE(store_->Save(MakeRecord("a-b", "x")));
  ASSERT_TRUE(store_->Save(MakeRecord("default", "z.y")));
  EXPECT_EQ(Entries(dir_), (std::vector<std::string>{"a-b", "default", "ops"}));
  EXPECT_EQ(Entries(dir_ + "/ops"), (std::vector<std::string>{"a.json", "b.json"}));

  auto list = store_->List();
  ASSERT_TRUE(list) << list.error().ToString();
  EXPECT_TRUE(list->problems.empty());
  std::vector<std::string> keys;
  for (const auto& r : list->records) keys.push_back(r.request.Key());
  EXPECT_EQ(keys, (std::vector<std::string>{"a-b/x", "default/z.y", "ops/a", "ops/b"}));
  EXPECT_TRUE(list->records[0].request.status.has_value());
}

TEST_F(FileStatusStoreTest, DeleteRemovesRecordAndIsIdempotent) {
  ASSERT_TRUE(store_->Save(MakeRecord("ops", "a")));
  ASSERT_TRUE(store_->Save(MakeRecord("ops", "b")));
  ASSERT_TRUE(store_->Delete("ops/a"));
  EXPECT_FALSE(fs::exists(dir_ + "/ops/a.json"));
  auto got = store_->Load("ops/a");
  ASSERT_TRUE(got);
  EXPECT_FALSE(got->has_value());
  EXPECT_TRUE(store_->Delete("ops/a"));
  EXPECT_TRUE(store_->Delete("nowhere/a"));
  auto list = store_->List();
  ASSERT_TRUE(list);
  ASSERT_EQ(list->records.size(), 1u);
  EXPECT_EQ(list->records[0].request.Key(), "ops/b");
}

TEST_F(FileStatusStoreTest, MalformedKeysAreRejected) {
  for (std::string key :
       {"noslash", "../etc/passwd", "ops/../x", "ops/a/b", "Ops/a", "ops/", "/a", "ops/.hidden"}) {
    auto got = store_->Load(key);
    ASSERT_FALSE(got) << key;
    EXPECT_EQ(got.error().code, ErrorCode::kInvalidArgument) << key;
    auto del = store_->Delete(key);
    ASSERT_FALSE(del) << key;
    EXPECT_EQ(del.error().code, ErrorCode::kInvalidArgument) << key;
  }
  // Valid DNS subdomains (labels of at most 63) of exactly the limit, and one longer.
  std::string longest(FileStatusStore::kMaxNameLength, 'a');
  for (size_t i = 49; i + 1 < longest.size(); i += 50) longest[i] = '.';
  ASSERT_TRUE(api::IsDns1123Subdomain(longest));
  ASSERT_TRUE(api::IsDns1123Subdomain(longest + "b"));
  auto st = store_->Save(MakeRecord("ops", longest + "b"));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kInvalidArgument);
  auto saved = store_->Save(MakeRecord("ops", longest));
  ASSERT_TRUE(saved) << saved.error().ToString();
  EXPECT_TRUE(store_->Load("ops/" + longest));
}

TEST_F(FileStatusStoreTest, StaleTemporaryFilesAreIgnoredAndRemoved) {
  ASSERT_TRUE(store_->Save(MakeRecord("ops", "a")));
  // The pid of a process that is gone.
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) ::_exit(0);
  ASSERT_EQ(::waitpid(child, nullptr, 0), child);
  std::string dead = ".json.tmp-" + std::to_string(child) + "-0123456789abcdef-7";
  WriteFile(dir_ + "/ops/a" + dead, "{\"partial");
  WriteFile(dir_ + "/ops/b" + dead, "{\"partial");  // a crash before the first rename
  WriteFile(dir_ + "/ops/c.json.tmp-garbage", "");
  // A temporary file of a live process (our parent) is somebody's write in progress: kept.
  std::string live = dir_ + "/ops/d.json.tmp-" + std::to_string(::getppid()) + "-0-0";
  WriteFile(live, "{");

  auto list = store_->List();
  ASSERT_TRUE(list) << list.error().ToString();
  EXPECT_TRUE(list->problems.empty());
  ASSERT_EQ(list->records.size(), 1u);
  EXPECT_EQ(list->records[0].request.Key(), "ops/a");
  EXPECT_EQ(
      Entries(dir_ + "/ops"),
      (std::vector<std::string>{"a.json", "d.json.tmp-" + std::to_string(::getppid()) + "-0-0"}));

  // A fresh store (a restarted process) also cleans on Load.
  WriteFile(dir_ + "/ops/a" + dead, "{\"partial");
  FileStatusStore other(dir_);
  auto got = other.Load("ops/a");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_FALSE(fs::exists(dir_ + "/ops/a" + dead));
  EXPECT_TRUE(fs::exists(live));
}

TEST_F(FileStatusStoreTest, CorruptRecordIsReportedAndDoesNotHideOthers) {
  ASSERT_TRUE(store_->Save(MakeRecord("ops", "a", 50)));
  ASSERT_TRUE(store_->Save(MakeRecord("ops", "b", 50)));
  ASSERT_TRUE(store_->Save(MakeRecord("ops", "c", 50)));
  std::string b = dir_ + "/ops/b.json";
  std::string text = ReadFile(b);
  WriteFile(b, text.substr(0, text.size() / 2));  // truncated
  // A well-formed record in the wrong file is corrupt too.
  WriteFile(dir_ + "/ops/c.json", ReadFile(dir_ + "/ops/a.json"));

  auto list = store_->List();
  ASSERT_TRUE(list) << list.error().ToString();
  ASSERT_EQ(list->records.size(), 1u);
  EXPECT_EQ(list->records[0].request.Key(), "ops/a");
  ASSERT_EQ(list->problems.size(), 2u);
  EXPECT_EQ(list->problems[0].code, ErrorCode::kInternal);
  EXPECT_NE(list->problems[0].message.find(b), std::string::npos) << list->problems[0].message;
  EXPECT_NE(list->problems[1].message.find("c.json"), std::string::npos);

  auto got = store_->Load("ops/b");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, ErrorCode::kInternal);
  EXPECT_NE(got.error().message.find(b), std::string::npos);

  // Saving over a corrupt record repairs it.
  ASSERT_TRUE(store_->Save(MakeRecord("ops", "b")));
  EXPECT_TRUE(store_->Load("ops/b"));
}

TEST_F(FileStatusStoreTest, ListIgnoresForeignEntries) {
  ASSERT_TRUE(store_->Save(MakeRecord("ops", "a")));
  WriteFile(dir_ + "/README", "hello");
  fs::create_directory(dir_ + "/lost+found");
  WriteFile(dir_ + "/ops/notes.txt", "x");
  WriteFile(dir_ + "/ops/.hidden.json", "x");
  auto list = store_->List();
  ASSERT_TRUE(list);
  EXPECT_EQ(list->records.size(), 1u);
  EXPECT_TRUE(list->problems.empty());
}

TEST_F(FileStatusStoreTest, ListOfMissingDirectoryIsNotFound) {
  FileStatusStore missing(root_ + "/nope");
  auto list = missing.List();
  ASSERT_FALSE(list);
  EXPECT_EQ(list.error().code, ErrorCode::kNotFound);
  EXPECT_NE(list.error().message.find(root_ + "/nope"), std::string::npos);
}

TEST_F(FileStatusStoreTest, ConcurrentSavesOfDifferentKeys) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < 10; ++i) {
        Record rec = MakeRecord("ns" + std::to_string(t % 2), "r" + std::to_string(t));
        rec.request.status->observed_generation = i;
        EXPECT_TRUE(store_->Save(rec));
        EXPECT_TRUE(store_->List());
      }
    });
  }
  for (auto& th : threads) th.join();
  auto list = store_->List();
  ASSERT_TRUE(list);
  EXPECT_EQ(list->records.size(), 4u);
  EXPECT_TRUE(list->problems.empty());
  for (const auto& r : list->records) EXPECT_EQ(r.request.status->observed_generation, 9);
}

// Timing is printed, not asserted (machines differ); the target is well under 50 ms.
TEST_F(FileStatusStoreTest, LargeRecordSaveAndLoadTiming) {
  Record rec = MakeRecord("ops", "big", api::kMaxInstances);
  constexpr int kRounds = 5;
  std::chrono::nanoseconds best_save = std::chrono::hours(1), best_load = best_save;
  for (int i = 0; i < kRounds; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    ASSERT_TRUE(store_->Save(rec));
    auto t1 = std::chrono::steady_clock::now();
    auto got = store_->Load("ops/big");
    auto t2 = std::chrono::steady_clock::now();
    ASSERT_TRUE(got && got->has_value());
    ASSERT_EQ((*got)->request.status->instances.size(), size_t{api::kMaxInstances});
    best_save = std::min<std::chrono::nanoseconds>(best_save, t1 - t0);
    best_load = std::min<std::chrono::nanoseconds>(best_load, t2 - t1);
  }
  auto size = fs::file_size(dir_ + "/ops/big.json");
  std::printf(
      "[ timing ] 10000-instance record: %ju bytes, Save %.2f ms, Load %.2f ms (best of %d)\n",
      static_cast<uintmax_t>(size), best_save.count() / 1e6, best_load.count() / 1e6, kRounds);
}

// A child saves the same record in a loop, each time with a higher observedGeneration, and is
// SIGKILLed at random moments. After every kill the record must be a complete old or new version.
TEST_F(FileStatusStoreTest, KilledWriterLeavesOldOrNewCompleteRecord) {
  constexpr int kIterations = 10;
  constexpr int kInstances = 2000;  // big enough that a write takes a while
  const std::string path = dir_ + "/ops/crash.json";
  Record base = MakeRecord("ops", "crash", kInstances);
  base.request.status->observed_generation = 0;
  ASSERT_TRUE(store_->Save(base));

  std::mt19937 rng(20260101);
  int64_t last_seen = 0;
  int advanced = 0;
  for (int iter = 0; iter < kIterations; ++iter) {
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::close(ready[0]);
      FileStatusStore store(dir_);
      Record rec = base;
      char byte = 1;
      (void)::write(ready[1], &byte, 1);
      for (int64_t gen = last_seen + 1; gen < last_seen + 100000; ++gen) {
        rec.request.status->observed_generation = gen;
        if (!store.Save(rec)) ::_exit(3);
      }
      ::_exit(0);
    }
    ::close(ready[1]);
    char byte = 0;
    ASSERT_EQ(::read(ready[0], &byte, 1), 1);
    ::close(ready[0]);
    std::this_thread::sleep_for(std::chrono::microseconds(1000 + rng() % 30000));
    ASSERT_EQ(::kill(child, SIGKILL), 0);
    int wstatus = 0;
    ASSERT_EQ(::waitpid(child, &wstatus, 0), child);
    ASSERT_TRUE(WIFSIGNALED(wstatus)) << "the writer ended on its own: " << wstatus;

    // Read the file directly: it must parse completely.
    auto value = json::Parse(ReadFile(path));
    ASSERT_TRUE(value) << "iteration " << iter << ": " << value.error().ToString();
    auto request = api::FromJson(*value, /*strict_status=*/true);
    ASSERT_TRUE(request) << request.error().ToString();
    ASSERT_TRUE(request->status.has_value());
    EXPECT_EQ(request->status->instances.size(), size_t{kInstances});
    int64_t gen = request->status->observed_generation;
    EXPECT_GE(gen, last_seen) << "went back in time";
    if (gen > last_seen) ++advanced;
    last_seen = gen;

    // And the store agrees, cleaning whatever temporary file the kill left behind.
    auto list = store_->List();
    ASSERT_TRUE(list);
    EXPECT_TRUE(list->problems.empty());
    ASSERT_EQ(list->records.size(), 1u);
    EXPECT_EQ(Entries(dir_ + "/ops"), (std::vector<std::string>{"crash.json"}));
  }
  std::printf("[ crash  ] %d of %d kills happened after at least one more complete save\n",
              advanced, kIterations);
}

}  // namespace
}  // namespace rebootd::store
