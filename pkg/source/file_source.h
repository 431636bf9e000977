// SPDX-License-Identifier: Apache-2.0
// FileSource: desired RebootRequests from manifest files (`rebootd run --manifests PATH`...).
// Loads every manifest, keeps the store::RequestCache in line with the files, and reports
// problems as api::FieldErrors ("FILE:LINE: field.path: message"). Watches with inotify on a
// background thread (debounced) and rescans everything every `rescan_interval` as a safety net.
// Thread-safe: every public method may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "pkg/api/codec.h"
#include "pkg/base/clock.h"
#include "pkg/source/source.h"
#include "pkg/store/request_cache.h"

namespace rebootd::source {

struct FileSourceOptions {
  // Files or directories (the repeatable --manifests flag). In a directory, every regular file
  // (symlinks followed) named *.yaml, *.yml or *.json is read; hidden files (".x", emacs ".#x")
  // and editor leftovers ("x~", "x.swp") are skipped, and subdirectories are NOT descended into.
  // A file named explicitly is read whatever its name.
  std::vector<std::string> paths;
  // Full rescan period (safety net for missed events), measured on the injected Clock.
  Duration rescan_interval = std::chrono::seconds(30);
  // Quiet time after the last file event before rescanning, so that an editor's burst of writes
  // is read once. Under a continuous stream of events the rescan still happens after at most
  // 10 x debounce.
  Duration debounce = std::chrono::milliseconds(200);
  // False: no inotify, periodic rescans only (e.g. for network filesystems).
  bool watch = true;
  // Called once for each distinct problem when it first appears (again if it reappears after
  // having been fixed), e.g. so that the daemon logs it. Same threading rules as Notify.
  std::function<void(const api::FieldError&)> on_error;
};

class FileSource final : public Source {
 public:
  // `cache` and `clock` must outlive this object. `notify` may be empty.
  FileSource(FileSourceOptions options, store::RequestCache& cache, Notify notify, Clock& clock);
  ~FileSource() override;  // Stop()s.
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

  // Checks that every path exists (kInvalidArgument naming the first that does not, or that is
  // neither a file nor a directory; also for an empty path list), sets up the watches
  // (kUnavailable when inotify cannot be used, e.g. the watch limit is reached), loads all
  // files synchronously (malformed files are not an error: see Errors()), calls
  // cache.MarkSynced(), and starts the background thread. kFailedPrecondition when called twice.
  [[nodiscard]] Status Start() override;
  // Ends the background thread promptly (well under a second). Idempotent.
  void Stop() override;

  // Reads every file now and applies the differences to the cache (the safety-net rescan; tests
  // call it directly). Every file is read; only files whose content changed are decoded again
  // (content, not timestamps, decides: timestamps are too coarse to tell quick rewrites apart).
  // Ownership: when two files define the same key, the first in sorted path order wins and the
  // other gets a "defined in A and B" problem. A file that cannot be read (other than being
  // gone) keeps its previously loaded requests. A file or directory that disappeared removes its
  // requests. Returns kUnavailable naming the path when a configured path could not be listed
  // (it is also in Errors()); everything else is applied anyway. May be called before Start().
  [[nodiscard]] Status Rescan();

  // The current problems, in path order. A problem disappears when its file is fixed or gone.
  std::vector<api::FieldError> Errors() const;

 private:
  struct FileState {
    std::string text;  // as last read; a file is decoded again only when this changes
    api::DecodeResult decoded;
    bool reparsed = false;  // decoded during the current scan
  };
  struct WatchedDir {
    std::string dir;
    bool whole = false;           // a configured directory: any entry matters
    std::set<std::string> names;  // parent of configured files: these entries matter
  };

  // The background thread: debounced rescans on file events, periodic rescans from next_rescan.
  void Run(SteadyTime next_rescan);
  // Adds an inotify watch for each configured directory and for the parent of each configured
  // file. Returns kUnavailable naming the directory when a watch cannot be added.
  Status EnsureWatches();
  // True when the event (already read from the inotify fd) should trigger a rescan.
  bool Relevant(int wd, uint32_t mask, std::string_view name);

  // Constant after construction.
  const FileSourceOptions options_;
  store::RequestCache& cache_;
  const Notify notify_;
  Clock& clock_;

  std::mutex lifecycle_mu_;  // serialises Start()/Stop()
  bool started_ = false;     // guarded by lifecycle_mu_
  bool stopped_ = false;     // guarded by lifecycle_mu_
  std::thread thread_;       // guarded by lifecycle_mu_
  // Set in Start() before the thread starts and closed in Stop() after it ended, both under
  // scan_mu_; the thread reads them without a lock.
  int inotify_fd_ = -1;
  int stop_fd_ = -1;  // eventfd that wakes the thread on Stop()
  std::atomic<bool> stop_{false};

  std::mutex scan_mu_;                        // serialises scans
  std::map<std::string, FileState> files_;    // guarded by scan_mu_
  std::map<std::string, std::string> owner_;  // key -> file; guarded by scan_mu_
  std::set<std::string> reported_;            // ToString() of current problems; scan_mu_

  mutable std::mutex mu_;
  std::vector<api::FieldError> errors_;  // guarded by mu_

  std::mutex watch_mu_;
  std::map<int, WatchedDir> watches_;  // by watch descriptor; guarded by watch_mu_
};

}  // namespace rebootd::source
