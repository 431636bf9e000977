// SPDX-License-Identifier: Apache-2.0
// FileSource against the real filesystem and real inotify. Waits are bounded poll loops on the
// real clock (at most 5 s each); the periodic-rescan test uses a ManualClock.
#include "pkg/source/file_source.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <thread>

#include "tests/support/support.h"

namespace rebootd::source {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string Manifest(const std::string& name, const std::string& ids,
                     const std::string& ns = "ops") {
  return "apiVersion: rebootd.io/v1alpha1\n"
         "kind: RebootRequest\n"
         "metadata: {name: " +
         name + ", namespace: " + ns +
         "}\n"
         "spec:\n"
         "  provider: tencent\n"
         "  instanceIds: [" +
         ids + "]\n";
}

// A document that fails validation on line 6 (instance ID format).
std::string BadManifest(const std::string& name) {
  return "apiVersion: rebootd.io/v1alpha1\n"
         "kind: RebootRequest\n"
         "metadata: {name: " +
         name +
         ", namespace: ops}\n"
         "spec:\n"
         "  provider: tencent\n"
         "  instanceIds: [not-an-id]\n";
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

// Writes a sibling temporary file, then renames it over `path` (what editors and kubectl-style
// tools do).
void ReplaceFile(const std::string& path, const std::string& text) {
  std::string tmp = fs::path(path).parent_path() / ".tmp-replace";
  WriteFile(tmp, text);
  fs::rename(tmp, path);
}

bool WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds limit = 5s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

class FileSourceTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testing::MakeTempDir("source-test"); }
  void TearDown() override {
    if (source_) source_->Stop();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  FileSourceOptions Options(std::vector<std::string> paths) {
    FileSourceOptions o;
    o.paths = std::move(paths);
    o.debounce = 20ms;
    o.rescan_interval = 1h;  // inotify only, unless a test says otherwise
    o.on_error = [this](const api::FieldError& e) {
      std::lock_guard lock(mu_);
      reported_.push_back(e.ToString());
    };
    return o;
  }

  void MakeSource(FileSourceOptions options, Clock& clock = SystemClock::Instance()) {
    source_ = std::make_unique<FileSource>(
        std::move(options), cache_,
        [this](const std::string& key) {
          std::lock_guard lock(mu_);
          notified_.push_back(key);
        },
        clock);
  }

  std::vector<std::string> Notified() {
    std::lock_guard lock(mu_);
    return notified_;
  }
  std::vector<std::string> Reported() {
    std::lock_guard lock(mu_);
    return reported_;
  }
  bool WasNotified(const std::string& key) {
    auto n = Notified();
    return std::find(n.begin(), n.end(), key) != n.end();
  }
  void ClearNotified() {
    std::lock_guard lock(mu_);
    notified_.clear();
  }
  std::vector<std::string> ErrorTexts() {
    std::vector<std::string> out;
    for (const auto& e : source_->Errors()) out.push_back(e.ToString());
    return out;
  }
  std::vector<std::string> Ids(const std::string& key) {
    auto r = cache_.Get(key);
    return r ? r->spec.instance_ids : std::vector<std::string>{};
  }

  std::string dir_;
  store::RequestCache cache_;
  std::unique_ptr<FileSource> source_;
  std::mutex mu_;
  std::vector<std::string> notified_;  // guarded by mu_
  std::vector<std::string> reported_;  // guarded by mu_
};

TEST_F(FileSourceTest, InitialLoadReadsValidDocumentsAndReportsMalformedOnes) {
  WriteFile(dir_ + "/good.yaml",
            Manifest("a", "ein-00000001") + "---\n" + Manifest("b", "ein-00000002"));
  WriteFile(dir_ + "/bad.yaml", BadManifest("c"));
  WriteFile(dir_ + "/mixed.yml", BadManifest("d") + "---\n" + Manifest("e", "ein-00000005"));
  WriteFile(dir_ + "/f.json", R"({"apiVersion":"rebootd.io/v1alpha1","kind":"RebootRequest",)"
                              R"("metadata":{"name":"f","namespace":"ops"},)"
                              R"("spec":{"provider":"tencent","instanceIds":["ein-00000006"]}})");
  WriteFile(dir_ + "/garbage.yaml", "{{{: [\n");
  // Skipped: hidden, editor leftovers, other extensions, subdirectories.
  WriteFile(dir_ + "/.hidden.yaml", Manifest("h1", "ein-00000011"));
  WriteFile(dir_ + "/.#lock.yaml", Manifest("h2", "ein-00000012"));
  WriteFile(dir_ + "/backup.yaml~", Manifest("h3", "ein-00000013"));
  WriteFile(dir_ + "/x.yaml.swp", Manifest("h4", "ein-00000014"));
  WriteFile(dir_ + "/notes.txt", Manifest("h5", "ein-00000015"));
  fs::create_directory(dir_ + "/sub");
  WriteFile(dir_ + "/sub/deep.yaml", Manifest("h6", "ein-00000016"));

  MakeSource(Options({dir_}));
  ASSERT_TRUE(source_->Start());
  EXPECT_TRUE(cache_.Synced());
  EXPECT_EQ(cache_.Keys(), (std::vector<std::string>{"ops/a", "ops/b", "ops/e", "ops/f"}));
  EXPECT_EQ(Ids("ops/e"), (std::vector<std::string>{"ein-00000005"}));

  auto errors = ErrorTexts();
  ASSERT_EQ(errors.size(), 3u) << ::testing::PrintToString(errors);
  EXPECT_EQ(errors[0].rfind(dir_ + "/bad.yaml:6: spec.instanceIds[0]: ", 0), 0u) << errors[0];
  EXPECT_EQ(errors[1].rfind(dir_ + "/garbage.yaml:", 0), 0u) << errors[1];
  EXPECT_EQ(errors[2].rfind(dir_ + "/mixed.yml:6: spec.instanceIds[0]: ", 0), 0u) << errors[2];
  EXPECT_EQ(Reported(), errors);

  // Reported once: a rescan with the same problems reports nothing new.
  EXPECT_TRUE(source_->Rescan());
  EXPECT_EQ(Reported().size(), 3u);
  EXPECT_EQ(ErrorTexts(), errors);
}

TEST_F(FileSourceTest, StartFailsForMissingPath) {
  MakeSource(Options({dir_, dir_ + "/missing.yaml"}));
  auto st = source_->Start();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(st.error().message.find(dir_ + "/missing.yaml"), std::string::npos)
      << st.error().message;
  EXPECT_FALSE(cache_.Synced());

  MakeSource(Options({}));
  EXPECT_EQ(source_->Start().error().code, ErrorCode::kInvalidArgument);
}

TEST_F(FileSourceTest, StartTwiceFails) {
  MakeSource(Options({dir_}));
  ASSERT_TRUE(source_->Start());
  auto st = source_->Start();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kFailedPrecondition);
}

TEST_F(FileSourceTest, AddChangeRemoveArePickedUpByInotify) {
  MakeSource(Options({dir_}));
  ASSERT_TRUE(source_->Start());
  EXPECT_EQ(cache_.Size(), 0u);

  WriteFile(dir_ + "/a.yaml", Manifest("a", "ein-00000001"));
  ASSERT_TRUE(WaitFor([&] { return WasNotified("ops/a"); }));
  EXPECT_EQ(Ids("ops/a"), (std::vector<std::string>{"ein-00000001"}));
  EXPECT_EQ(cache_.Get("ops/a")->metadata.generation, 1);

  ClearNotified();
  WriteFile(dir_ + "/a.yaml", Manifest("a", "ein-00000001, ein-00000002"));
  ASSERT_TRUE(WaitFor([&] { return WasNotified("ops/a"); }));
  EXPECT_EQ(Ids("ops/a"), (std::vector<std::string>{"ein-00000001", "ein-00000002"}));
  EXPECT_EQ(cache_.Get("ops/a")->metadata.generation, 2) << "a spec change bumps generation";

  ClearNotified();
  fs::remove(dir_ + "/a.yaml");
  ASSERT_TRUE(WaitFor([&] { return WasNotified("ops/a"); }));
  EXPECT_FALSE((cache_.Get("ops/a") != nullptr));
  EXPECT_EQ(Notified(), (std::vector<std::string>{"ops/a"}));
}

TEST_F(FileSourceTest, RenameIntoPlaceIsPickedUp) {
  WriteFile(dir_ + "/a.yaml", Manifest("a", "ein-00000001"));
  MakeSource(Options({dir_}));
  ASSERT_TRUE(source_->Start());
  ASSERT_TRUE(cache_.Get("ops/a"));

  ReplaceFile(dir_ + "/b.yaml", Manifest("b", "ein-00000002"));
  ASSERT_TRUE(WaitFor([&] { return (cache_.Get("ops/b") != nullptr); }));

  ReplaceFile(dir_ + "/a.yaml", Manifest("a", "ein-00000003"));
  ASSERT_TRUE(WaitFor([&] { return Ids("ops/a") == std::vector<std::string>{"ein-00000003"}; }));

  // Moving a manifest out of the directory deletes its request.
  fs::rename(dir_ + "/b.yaml", dir_ + "/b.yaml.disabled");
  ASSERT_TRUE(WaitFor([&] { return !(cache_.Get("ops/b") != nullptr); }));
  EXPECT_TRUE(WasNotified("ops/b"));
}

TEST_F(FileSourceTest, ExplicitFileIsWatchedThroughItsDirectory) {
  std::string file = dir_ + "/requests.conf";  // named explicitly: read whatever its name
  WriteFile(file, Manifest("a", "ein-00000001"));
  WriteFile(dir_ + "/other.yaml", Manifest("other", "ein-00000009"));
  MakeSource(Options({file}));
  ASSERT_TRUE(source_->Start());
  EXPECT_EQ(cache_.Keys(), (std::vector<std::string>{"ops/a"}));

  ReplaceFile(file, Manifest("a", "ein-00000002"));
  ASSERT_TRUE(WaitFor([&] { return Ids("ops/a") == std::vector<std::string>{"ein-00000002"}; }));

  // The named file going away removes its requests and is reported.
  fs::remove(file);
  ASSERT_TRUE(WaitFor([&] { return !(cache_.Get("ops/a") != nullptr); }));
  ASSERT_TRUE(WaitFor([&] { return !source_->Errors().empty(); }));
  EXPECT_EQ(source_->Errors()[0].file, file);
  // ... and coming back is seen too.
  WriteFile(file, Manifest("a", "ein-00000004"));
  ASSERT_TRUE(WaitFor([&] { return Ids("ops/a") == std::vector<std::string>{"ein-00000004"}; }));
  EXPECT_TRUE(WaitFor([&] { return source_->Errors().empty(); }));
  EXPECT_EQ(cache_.Keys(), (std::vector<std::string>{"ops/a"}));
}

TEST_F(FileSourceTest, FixingAMalformedFileClearsItsError) {
  WriteFile(dir_ + "/c.yaml", BadManifest("c"));
  MakeSource(Options({dir_}));
  ASSERT_TRUE(source_->Start());
  ASSERT_EQ(source_->Errors().size(), 1u);
  EXPECT_EQ(Reported().size(), 1u);
  EXPECT_FALSE(cache_.Get("ops/c"));

  WriteFile(dir_ + "/c.yaml", Manifest("c", "ein-00000003"));
  ASSERT_TRUE(WaitFor([&] { return (cache_.Get("ops/c") != nullptr); }));
  EXPECT_TRUE(source_->Errors().empty());

  // Broken again: the problem is reported again, and the last good request is withdrawn.
  WriteFile(dir_ + "/c.yaml", BadManifest("c"));
  ASSERT_TRUE(WaitFor([&] { return !(cache_.Get("ops/c") != nullptr); }));
  EXPECT_EQ(source_->Errors().size(), 1u);
  EXPECT_EQ(Reported().size(), 2u);
}

TEST_F(FileSourceTest, DuplicateKeyAcrossFilesFirstFileWins) {
  WriteFile(dir_ + "/a.yaml", Manifest("same", "ein-00000001"));
  WriteFile(dir_ + "/b.yaml",
            Manifest("same", "ein-00000002") + "---\n" + Manifest("only-b", "ein-00000003"));
  MakeSource(Options({dir_}), SystemClock::Instance());
  ASSERT_TRUE(source_->Start());
  EXPECT_EQ(Ids("ops/same"), (std::vector<std::string>{"ein-00000001"}));
  EXPECT_TRUE(cache_.Get("ops/only-b"));
  auto errors = source_->Errors();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].file, dir_ + "/b.yaml");
  EXPECT_NE(errors[0].message.find("defined in " + dir_ + "/a.yaml and " + dir_ + "/b.yaml"),
            std::string::npos)
      << errors[0].ToString();

  // When the winner goes away, the other definition takes over and the problem clears.
  ClearNotified();
  fs::remove(dir_ + "/a.yaml");
  ASSERT_TRUE(source_->Rescan());
  EXPECT_EQ(Ids("ops/same"), (std::vector<std::string>{"ein-00000002"}));
  EXPECT_TRUE(source_->Errors().empty());
  EXPECT_TRUE(WasNotified("ops/same"));
}

TEST_F(FileSourceTest, DeletionNotifiesWithTheKey) {
  WriteFile(dir_ + "/two.yaml",
            Manifest("a", "ein-00000001") + "---\n" + Manifest("b", "ein-00000002", "dev"));
  FileSourceOptions o = Options({dir_});
  o.watch = false;
  MakeSource(std::move(o));
  ASSERT_TRUE(source_->Start());
  EXPECT_EQ(cache_.Keys(), (std::vector<std::string>{"dev/b", "ops/a"}));
  ClearNotified();

  WriteFile(dir_ + "/two.yaml", Manifest("a", "ein-00000001"));
  ASSERT_TRUE(source_->Rescan());
  EXPECT_EQ(Notified(), (std::vector<std::string>{"dev/b"}));
  EXPECT_EQ(cache_.Keys(), (std::vector<std::string>{"ops/a"}));

  ClearNotified();
  fs::remove(dir_ + "/two.yaml");
  ASSERT_TRUE(source_->Rescan());
  EXPECT_EQ(Notified(), (std::vector<std::string>{"ops/a"}));
  EXPECT_EQ(cache_.Size(), 0u);
}

TEST_F(FileSourceTest, RescanFindsChangesWithoutInotify) {
  WriteFile(dir_ + "/a.yaml", Manifest("a", "ein-00000001"));
  ManualClock clock;
  FileSourceOptions o = Options({dir_});
  o.watch = false;
  o.rescan_interval = 30s;
  MakeSource(std::move(o), clock);
  ASSERT_TRUE(source_->Start());
  ClearNotified();

  // A same-size rewrite: content, not timestamps, decides.
  WriteFile(dir_ + "/a.yaml", Manifest("a", "ein-00000002"));
  EXPECT_EQ(Ids("ops/a"), (std::vector<std::string>{"ein-00000001"}));
  ASSERT_TRUE(source_->Rescan());
  EXPECT_EQ(Ids("ops/a"), (std::vector<std::string>{"ein-00000002"}));
  EXPECT_EQ(Notified(), (std::vector<std::string>{"ops/a"}));

  // An unchanged rescan notifies nothing.
  ClearNotified();
  ASSERT_TRUE(source_->Rescan());
  EXPECT_TRUE(Notified().empty());

  // The periodic safety-net rescan runs on the injected clock.
  WriteFile(dir_ + "/b.yaml", Manifest("b", "ein-00000003"));
  clock.Advance(29s);
  clock.Advance(1s);
  EXPECT_TRUE(WaitFor([&] { return (cache_.Get("ops/b") != nullptr); }));
}

// Threads of this process (/proc/self/task).
int ThreadCount() {
  int n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/task")) ++n;
  return n;
}

TEST_F(FileSourceTest, StopIsPromptAndIdempotent) {
  MakeSource(Options({dir_}));
  source_->Stop();  // before Start: harmless
  MakeSource(Options({dir_}));
  const int threads_before = ThreadCount();
  ASSERT_TRUE(source_->Start());
  EXPECT_EQ(ThreadCount(), threads_before + 1);  // the watcher
  auto t0 = std::chrono::steady_clock::now();
  source_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  source_->Stop();
  // Nothing is watched any more: the watcher thread is gone (joined), so nothing can pick up a
  // file written now, however long one waits.
  EXPECT_EQ(ThreadCount(), threads_before);
}

}  // namespace
}  // namespace rebootd::source
