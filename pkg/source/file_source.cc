// SPDX-License-Identifier: Apache-2.0
#include "pkg/source/file_source.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <utility>

namespace rebootd::source {
namespace {

using namespace std::chrono_literals;

// Longest wait of the background thread before it re-reads the clock. Bounds how late a
// ManualClock deadline is noticed; with the real clock the thread waits for the deadline itself.
constexpr auto kPollSlice = 100ms;
constexpr int kDebounceCapFactor = 10;
constexpr int64_t kMaxFileSize = 16 << 20;

constexpr uint32_t kDirMask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE |
                              IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;

std::string ErrnoText(int err) { return std::strerror(err); }

api::FieldError Problem(const std::string& file, std::string message) {
  return api::FieldError{file, 0, "", std::move(message)};
}

// "dir/" -> "dir" (but "/" stays).
std::string TrimSlashes(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

std::string Join(const std::string& dir, const std::string& name) {
  return dir == "/" ? "/" + name : dir + "/" + name;
}

std::string ParentDir(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string BaseName(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool IsManifestName(std::string_view n) {
  if (n.empty() || n.front() == '.' || n.back() == '~') return false;
  return n.ends_with(".yaml") || n.ends_with(".yml") || n.ends_with(".json");
}

// Reads a whole regular file of at most kMaxFileSize bytes. Returns 0 or an errno (EFBIG when
// the file is too large).
int ReadWholeFile(const std::string& path, std::string* out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  int err = 0;
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    err = errno;
  } else if (st.st_size > kMaxFileSize) {
    err = EFBIG;
  } else {
    out->clear();
    out->reserve(static_cast<size_t>(st.st_size));
    char buf[1 << 16];
    while (true) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        err = errno;
        break;
      }
      if (n == 0) break;
      out->append(buf, static_cast<size_t>(n));
      if (static_cast<int64_t>(out->size()) > kMaxFileSize) {
        err = EFBIG;
        break;
      }
    }
  }
  ::close(fd);
  return err;
}

}  // namespace

FileSource::FileSource(FileSourceOptions options, store::RequestCache& cache, Notify notify,
                       Clock& clock)
    : options_(std::move(options)), cache_(cache), notify_(std::move(notify)), clock_(clock) {}

FileSource::~FileSource() { Stop(); }

Status FileSource::Start() {
  std::lock_guard lifecycle(lifecycle_mu_);
  if (started_) return MakeError(ErrorCode::kFailedPrecondition, "file source already started");
  if (options_.paths.empty())
    return MakeError(ErrorCode::kInvalidArgument, "no manifest paths given");
  for (const auto& p : options_.paths) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) {
      int err = errno;
      if (err == ENOENT)
        return MakeError(ErrorCode::kInvalidArgument, "manifest path " + p + " does not exist");
      return MakeError(ErrorCode::kInvalidArgument,
                       "cannot access manifest path " + p + ": " + ErrnoText(err));
    }
    if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
      return MakeError(ErrorCode::kInvalidArgument,
                       "manifest path " + p + " is neither a file nor a directory");
  }
  {
    std::lock_guard scan(scan_mu_);  // Rescan() reads inotify_fd_
    stop_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (stop_fd_ < 0) return MakeError(ErrorCode::kUnavailable, "eventfd: " + ErrnoText(errno));
    if (options_.watch) {
      inotify_fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
      if (inotify_fd_ < 0) {
        int err = errno;
        ::close(stop_fd_);
        stop_fd_ = -1;
        return MakeError(ErrorCode::kUnavailable, "inotify_init1: " + ErrnoText(err));
      }
      // Watch before the first scan, so that no change between the two is lost.
      if (auto st = EnsureWatches(); !st) {
        ::close(inotify_fd_);
        ::close(stop_fd_);
        inotify_fd_ = stop_fd_ = -1;
        return st;
      }
    }
  }
  (void)Rescan();  // problems are in Errors(); paths were checked above
  cache_.MarkSynced();
  started_ = true;
  // The first periodic deadline is taken here, not in the thread, so that it is measured from
  // the initial load whenever the thread gets to run.
  SteadyTime first_rescan = clock_.SteadyNow() + options_.rescan_interval;
  thread_ = std::thread([this, first_rescan] { Run(first_rescan); });
  return OkStatus();
}

void FileSource::Stop() {
  std::lock_guard lifecycle(lifecycle_mu_);
  if (stopped_) return;
  stopped_ = true;
  stop_ = true;
  if (thread_.joinable()) {
    uint64_t one = 1;
    ssize_t n = ::write(stop_fd_, &one, sizeof one);
    (void)n;  // the thread also checks stop_ after every poll slice
    thread_.join();
  }
  std::lock_guard scan(scan_mu_);
  if (inotify_fd_ >= 0) ::close(inotify_fd_);
  if (stop_fd_ >= 0) ::close(stop_fd_);
  inotify_fd_ = stop_fd_ = -1;
}

void FileSource::Run(SteadyTime next_rescan) {
  // Debouncing: while `pending`, file events wait to be handled until pending_deadline.
  bool pending = false;
  SteadyTime first_event{};
  SteadyTime pending_deadline{};
  alignas(struct inotify_event) char buf[16 * 1024];

  while (!stop_) {
    SteadyTime now = clock_.SteadyNow();
    if (pending && now >= pending_deadline) {
      pending = false;
      (void)Rescan();  // its problems reach on_error and Errors(); the next rescan retries
      next_rescan = clock_.SteadyNow() + options_.rescan_interval;
      continue;
    }
    if (now >= next_rescan) {
      (void)Rescan();  // as above
      next_rescan = clock_.SteadyNow() + options_.rescan_interval;
      continue;
    }
    SteadyTime deadline = next_rescan;
    if (pending) deadline = std::min(deadline, pending_deadline);
    auto wait = std::chrono::ceil<std::chrono::milliseconds>(deadline - now);
    wait = std::clamp<std::chrono::milliseconds>(wait, 0ms, kPollSlice);

    struct pollfd fds[2] = {{stop_fd_, POLLIN, 0}, {inotify_fd_, POLLIN, 0}};
    int nfds = inotify_fd_ >= 0 ? 2 : 1;
    int rc = ::poll(fds, nfds, static_cast<int>(wait.count()));
    if (rc < 0 || stop_ || (fds[0].revents & POLLIN)) continue;
    if (nfds < 2 || !(fds[1].revents & POLLIN)) continue;

    bool relevant = false;
    while (true) {
      ssize_t n = ::read(inotify_fd_, buf, sizeof buf);
      if (n <= 0) break;  // EAGAIN: drained
      for (char* p = buf; p < buf + n;) {
        auto* ev = reinterpret_cast<struct inotify_event*>(p);
        std::string_view name = ev->len > 0 ? std::string_view(ev->name) : std::string_view();
        if (Relevant(ev->wd, ev->mask, name)) relevant = true;
        p += sizeof(struct inotify_event) + ev->len;
      }
    }
    if (relevant) {
      now = clock_.SteadyNow();
      if (!pending) first_event = now;
      pending = true;
      pending_deadline =
          std::min(now + options_.debounce, first_event + kDebounceCapFactor * options_.debounce);
    }
  }
}

Status FileSource::EnsureWatches() {
  std::map<std::string, WatchedDir> wanted;
  for (const auto& raw : options_.paths) {
    std::string p = TrimSlashes(raw);
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      WatchedDir& w = wanted[p];
      w.dir = p;
      w.whole = true;
    } else {
      // A file (or a path that is gone): watch its directory, so that editors that replace the
      // file and Kubernetes ConfigMap symlink swaps are seen.
      std::string parent = ParentDir(p);
      WatchedDir& w = wanted[parent];
      w.dir = parent;
      w.names.insert(BaseName(p));
    }
  }
  std::lock_guard lock(watch_mu_);
  for (auto& [dir, w] : wanted) {
    int wd = ::inotify_add_watch(inotify_fd_, dir.c_str(), kDirMask);
    if (wd < 0) {
      int err = errno;
      if (err == ENOENT || err == ENOTDIR) continue;  // gone; the periodic rescan retries
      return MakeError(ErrorCode::kUnavailable,
                       "cannot watch " + dir + ": " + ErrnoText(err) +
                           (err == ENOSPC ? " (raise fs.inotify.max_user_watches)" : ""));
    }
    watches_[wd] = std::move(w);
  }
  return OkStatus();
}

bool FileSource::Relevant(int wd, uint32_t mask, std::string_view name) {
  if (mask & IN_Q_OVERFLOW) return true;  // events were lost
  std::lock_guard lock(watch_mu_);
  auto it = watches_.find(wd);
  if (it == watches_.end()) return false;
  if (mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) {
    // The directory went away or moved; the next rescan re-adds a watch if it comes back.
    if (mask & IN_MOVE_SELF) ::inotify_rm_watch(inotify_fd_, wd);
    if (mask & IN_IGNORED) watches_.erase(it);
    return true;
  }
  if (it->second.whole) return true;
  // Kubernetes' atomic writer swaps a "..data" symlink; the file names stay the same.
  return it->second.names.count(std::string(name)) > 0 || name.starts_with("..");
}

Status FileSource::Rescan() {
  std::lock_guard scan(scan_mu_);
  if (inotify_fd_ >= 0 && !stop_) (void)EnsureWatches();

  std::vector<api::FieldError> errors;
  std::string unavailable;  // first configured path that could not be listed
  std::set<std::string> listed;
  // Directories that could not be listed keep the files last seen in them.
  std::vector<std::string> unlistable_dirs;

  for (const auto& raw : options_.paths) {
    std::string p = TrimSlashes(raw);
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) {
      int err = errno;
      errors.push_back(Problem(p, ErrnoText(err)));
      if (unavailable.empty()) unavailable = p;
      if (err != ENOENT && err != ENOTDIR) unlistable_dirs.push_back(p);
      continue;
    }
    if (S_ISREG(st.st_mode)) {
      listed.insert(p);
      continue;
    }
    if (!S_ISDIR(st.st_mode)) {
      errors.push_back(Problem(p, "neither a file nor a directory"));
      continue;
    }
    DIR* d = ::opendir(p.c_str());
    if (d == nullptr) {
      errors.push_back(Problem(p, "cannot list directory: " + ErrnoText(errno)));
      if (unavailable.empty()) unavailable = p;
      unlistable_dirs.push_back(p);
      continue;
    }
    while (struct dirent* e = ::readdir(d)) {
      std::string_view n = e->d_name;
      if (!IsManifestName(n)) continue;
      std::string full = Join(p, std::string(n));
      struct stat fst {};
      if (::stat(full.c_str(), &fst) == 0 && S_ISREG(fst.st_mode)) listed.insert(full);
    }
    ::closedir(d);
  }
  for (const auto& dir : unlistable_dirs) {
    for (const auto& [path, unused] : files_) {
      if (path == dir || ParentDir(path) == dir) listed.insert(path);
    }
  }

  // Read every file; decode what changed.
  std::map<std::string, FileState> files;
  for (const auto& path : listed) {
    auto old = files_.find(path);
    std::string text;
    if (int err = ReadWholeFile(path, &text); err != 0) {
      if (err == ENOENT || err == ENOTDIR) continue;  // gone since it was listed
      errors.push_back(Problem(
          path, err == EFBIG ? "file is larger than 16 MiB" : "cannot read: " + ErrnoText(err)));
      if (old != files_.end()) {  // keep what it held; a read error is not a deletion
        FileState& state = files[path] = std::move(old->second);
        state.reparsed = false;
      }
      continue;
    }
    if (old != files_.end() && old->second.text == text) {
      FileState& state = files[path] = std::move(old->second);
      state.reparsed = false;
      continue;
    }
    FileState& state = files[path];
    state.decoded = api::DecodeManifests(text, path);
    state.text = std::move(text);
    state.reparsed = true;
  }
  files_ = std::move(files);

  // Decide which file owns each key: the first in path order.
  std::map<std::string, std::string> owner;
  std::map<std::string, const api::RebootRequest*> desired;
  for (const auto& [path, state] : files_) {
    errors.insert(errors.end(), state.decoded.errors.begin(), state.decoded.errors.end());
    std::set<std::string> in_file;
    for (const auto& request : state.decoded.requests) {
      std::string key = request.Key();
      if (!in_file.insert(key).second) continue;  // reported by the decoder; the first wins
      auto [it, inserted] = owner.emplace(key, path);
      if (!inserted) {
        errors.push_back(api::FieldError{path, 0, "metadata.name",
                                         "RebootRequest " + key + " is defined in " + it->second +
                                             " and " + path + "; using the one in " + it->second});
        continue;
      }
      desired[key] = &request;
    }
  }

  // Apply the differences to the cache.
  std::vector<std::string> changed;
  for (const auto& [key, request] : desired) {
    auto previous_owner = owner_.find(key);
    bool same_source = previous_owner != owner_.end() && previous_owner->second == owner[key];
    if (same_source && !files_.at(owner[key]).reparsed) continue;
    api::RebootRequest copy = *request;
    if (previous_owner != owner_.end()) {
      // Like Kubernetes, a spec change bumps metadata.generation.
      if (auto cached = cache_.Get(key)) {
        copy.metadata.generation =
            cached->metadata.generation + (cached->spec == copy.spec ? 0 : 1);
      }
    }
    if (cache_.Upsert(std::move(copy))) changed.push_back(key);
  }
  for (const auto& [key, unused] : owner_) {
    if (!desired.count(key) && cache_.Delete(key)) changed.push_back(key);
  }
  owner_ = std::move(owner);

  // Problems: keep one of each; report new ones.
  std::vector<api::FieldError> unique;
  std::vector<api::FieldError> fresh;
  std::set<std::string> current;
  for (auto& e : errors) {
    std::string text = e.ToString();
    if (!current.insert(text).second) continue;
    if (!reported_.count(text)) fresh.push_back(e);
    unique.push_back(std::move(e));
  }
  std::stable_sort(
      unique.begin(), unique.end(),
      [](const api::FieldError& a, const api::FieldError& b) { return a.file < b.file; });
  reported_ = std::move(current);
  {
    std::lock_guard lock(mu_);
    errors_ = std::move(unique);
  }

  if (options_.on_error) {
    for (const auto& e : fresh) options_.on_error(e);
  }
  if (notify_) {
    for (const auto& key : changed) notify_(key);
  }
  if (!unavailable.empty())
    return MakeError(ErrorCode::kUnavailable, "cannot read manifest path " + unavailable);
  return OkStatus();
}

std::vector<api::FieldError> FileSource::Errors() const {
  std::lock_guard lock(mu_);
  return errors_;
}

}  // namespace rebootd::source
