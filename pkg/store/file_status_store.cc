// SPDX-License-Identifier: Apache-2.0
#include "pkg/store/file_status_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <utility>
#include <vector>

#include "pkg/api/codec.h"
#include "pkg/base/random.h"
#include "pkg/json/json.h"

namespace rebootd::store {
namespace {

constexpr std::string_view kRecordSuffix = ".json";
constexpr std::string_view kTempMarker = ".json.tmp-";

std::string ErrnoText(int err) { return std::strerror(err); }

tl::unexpected<Error> IoError(ErrorCode code, std::string_view what, const std::string& path,
                              int err) {
  return MakeError(code, std::string(what) + " " + path + ": " + ErrnoText(err));
}

// Closes a file descriptor on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Close(); }
  int get() const { return fd_; }
  // Returns the errno of a failed close(), 0 otherwise.
  int Close() {
    if (fd_ < 0) return 0;
    int rc = ::close(fd_);
    fd_ = -1;
    return rc == 0 ? 0 : errno;
  }

 private:
  int fd_;
};

struct Key {
  std::string ns;
  std::string name;
};

Result<Key> ParseKey(const std::string& key) {
  size_t slash = key.find('/');
  if (slash == std::string::npos)
    return MakeError(ErrorCode::kInvalidArgument,
                     "status record key \"" + key + "\" is not of the form namespace/name");
  Key k{key.substr(0, slash), key.substr(slash + 1)};
  if (!api::IsDns1123Label(k.ns))
    return MakeError(ErrorCode::kInvalidArgument,
                     "status record key \"" + key + "\": invalid namespace");
  if (!api::IsDns1123Subdomain(k.name))
    return MakeError(ErrorCode::kInvalidArgument,
                     "status record key \"" + key + "\": invalid name");
  if (k.name.size() > FileStatusStore::kMaxNameLength)
    return MakeError(ErrorCode::kInvalidArgument,
                     "status record key \"" + key + "\": names longer than " +
                         std::to_string(FileStatusStore::kMaxNameLength) +
                         " characters cannot be stored in a state directory");
  return k;
}

// Reads a whole file. Returns 0 or the errno of the failure.
int ReadWholeFile(const std::string& path, std::string* out) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return errno;
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return errno;
  if (!S_ISREG(st.st_mode)) return EISDIR;
  out->clear();
  out->reserve(static_cast<size_t>(st.st_size));
  char buf[1 << 16];
  while (true) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) break;
    out->append(buf, static_cast<size_t>(n));
  }
  return 0;
}

// Writes all of `data`. Returns 0 or errno.
int WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return 0;
}

// fsync()s a directory so that entries created, renamed or removed in it are durable.
Status SyncDir(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return IoError(ErrorCode::kUnavailable, "open directory", path, errno);
  if (::fsync(fd.get()) != 0) return IoError(ErrorCode::kUnavailable, "fsync", path, errno);
  return OkStatus();
}

// Entry names of a directory (without "." and ".."), sorted. Returns 0 or errno.
int ReadDirNames(const std::string& path, std::vector<std::string>* names) {
  DIR* d = ::opendir(path.c_str());
  if (d == nullptr) return errno;
  names->clear();
  errno = 0;
  while (struct dirent* e = ::readdir(d)) {
    std::string_view n = e->d_name;
    if (n != "." && n != "..") names->emplace_back(n);
    errno = 0;
  }
  int err = errno;
  ::closedir(d);
  std::sort(names->begin(), names->end());
  return err;
}

bool IsDirectory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// A token that tells this process's temporary files apart from those of an earlier process that
// had the same pid (pid 1 in every container).
const std::string& ProcessToken() {
  static const std::string token = [] {
    SystemRandom random;
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(random.Next()));
    return std::string(buf);
  }();
  return token;
}

std::string TempSuffix() {
  static std::atomic<uint64_t> counter{0};
  return std::string(kTempMarker) + std::to_string(::getpid()) + "-" + ProcessToken() + "-" +
         std::to_string(counter.fetch_add(1));
}

bool IsTempName(std::string_view name) { return name.find(kTempMarker) != std::string_view::npos; }

// True when a temporary file may still be written by a live process and must be left alone.
bool TempOwnerAlive(std::string_view name) {
  std::string_view rest = name.substr(name.rfind(kTempMarker) + kTempMarker.size());
  size_t dash = rest.find('-');
  if (dash == std::string_view::npos) return false;
  std::string_view pid_text = rest.substr(0, dash);
  std::string_view after_pid = rest.substr(dash + 1);
  if (pid_text.empty() || pid_text.size() > 9 ||
      !std::all_of(pid_text.begin(), pid_text.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return false;
  pid_t pid = static_cast<pid_t>(std::stol(std::string(pid_text)));
  if (pid <= 0) return false;
  if (pid == ::getpid()) return after_pid.substr(0, after_pid.find('-')) == ProcessToken();
  return ::kill(pid, 0) == 0 || errno == EPERM;
}

void RemoveStaleTemps(const std::string& ns_dir, const std::vector<std::string>& names) {
  for (const auto& n : names) {
    if (IsTempName(n) && !TempOwnerAlive(n)) ::unlink((ns_dir + "/" + n).c_str());
  }
}

// Parses a record file; kInternal naming the file when it is corrupt.
Result<Record> DecodeRecord(const std::string& path, const std::string& text,
                            const std::string& expected_key) {
  auto corrupt = [&](const std::string& why) {
    return MakeError(ErrorCode::kInternal, "corrupt status record " + path + ": " + why);
  };
  auto value = json::Parse(text);
  if (!value) return corrupt(value.error().message);
  auto request = api::FromJson(*value, /*strict_status=*/true);
  if (!request) return corrupt(request.error().message);
  if (request->Key() != expected_key)
    return corrupt("holds " + request->Key() + ", expected " + expected_key);
  return Record{std::move(*request)};
}

// mkdir -p with mode 0700 for every directory it creates. Returns 0 or errno.
int MakeDirs(const std::string& path) {
  if (path.empty()) return ENOENT;
  size_t pos = 0;
  while (true) {
    pos = path.find('/', pos + 1);
    std::string prefix = path.substr(0, pos);
    if (!prefix.empty() && ::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) return errno;
    if (pos == std::string::npos) return 0;
  }
}

// The record as compact JSON, byte for byte api::ToJson(request).Dump(), with the instance list
// serialised one entry at a time. A json::Value holds every alternative inline (about 100 bytes
// a node), so the tree of a 10,000-instance status costs tens of MB while its text is about
// 3 MB; building it on every write set the daemon's peak memory.
std::string EncodeRecord(const api::RebootRequest& request) {
  if (!request.status || request.status->instances.empty()) {
    return api::ToJson(request, /*include_status=*/true).Dump();
  }
  api::RebootRequest shell = request;
  shell.status->instances.clear();
  shell.status->instances.shrink_to_fit();
  const json::Value outer = api::ToJson(shell, /*include_status=*/true);

  std::string out;
  auto append_instances = [&] {
    out.push_back('[');
    bool first = true;
    for (const auto& instance : request.status->instances) {
      if (!first) out.push_back(',');
      first = false;
      out += api::InstanceStatusToJson(instance).Dump();
    }
    out.push_back(']');
  };
  // Objects dump as {"key":value,...} in insertion order (json::Value::Dump).
  auto append_object = [&](const json::Value& object, auto&& value_of) {
    out.push_back('{');
    bool first = true;
    for (const auto& [key, value] : object.AsObject()) {
      if (!first) out.push_back(',');
      first = false;
      out += json::Quote(key);
      out.push_back(':');
      value_of(key, value);
    }
    out.push_back('}');
  };
  append_object(outer, [&](const std::string& key, const json::Value& value) {
    if (key != "status") {
      out += value.Dump();
      return;
    }
    append_object(value, [&](const std::string& k, const json::Value& v) {
      if (k == "instances") {
        append_instances();
      } else {
        out += v.Dump();
      }
    });
  });
  return out;
}

}  // namespace

FileStatusStore::FileStatusStore(std::string dir) : dir_(std::move(dir)) {}

Status FileStatusStore::Init() {
  if (dir_.empty()) return MakeError(ErrorCode::kInvalidArgument, "state directory is empty");
  if (int err = MakeDirs(dir_); err != 0) {
    ErrorCode code = (err == EACCES || err == EPERM || err == EROFS || err == ENOTDIR ||
                      err == EEXIST || err == ENAMETOOLONG)
                         ? ErrorCode::kInvalidArgument
                         : ErrorCode::kUnavailable;
    return IoError(code, "cannot create state directory", dir_, err);
  }
  struct stat st {};
  if (::stat(dir_.c_str(), &st) != 0)
    return IoError(ErrorCode::kUnavailable, "cannot stat state directory", dir_, errno);
  if (!S_ISDIR(st.st_mode))
    return MakeError(ErrorCode::kInvalidArgument,
                     "state directory " + dir_ + " exists but is not a directory");
  if (::access(dir_.c_str(), W_OK | X_OK) != 0) {
    int err = errno;
    return IoError(
        err == EACCES || err == EROFS ? ErrorCode::kInvalidArgument : ErrorCode::kUnavailable,
        "state directory is not writable:", dir_, err);
  }
  return OkStatus();
}

Result<std::unique_ptr<FileStatusStore>> FileStatusStore::Open(std::string dir) {
  auto store = std::make_unique<FileStatusStore>(std::move(dir));
  REBOOTD_RETURN_IF_ERROR(store->Init());
  return store;
}

Result<std::string> FileStatusStore::PathForKey(const std::string& key) const {
  REBOOTD_ASSIGN_OR_RETURN(Key k, ParseKey(key));
  return dir_ + "/" + k.ns + "/" + k.name + std::string(kRecordSuffix);
}

void FileStatusStore::CleanNamespaceOnce(const std::string& ns_dir) {
  {
    std::lock_guard lock(mu_);
    if (!cleaned_namespaces_.insert(ns_dir).second) return;
  }
  std::vector<std::string> names;
  if (ReadDirNames(ns_dir, &names) == 0) RemoveStaleTemps(ns_dir, names);
}

Result<std::optional<Record>> FileStatusStore::Load(const std::string& key) {
  REBOOTD_ASSIGN_OR_RETURN(Key k, ParseKey(key));
  std::string ns_dir = dir_ + "/" + k.ns;
  std::string path = ns_dir + "/" + k.name + std::string(kRecordSuffix);
  if (IsDirectory(ns_dir)) CleanNamespaceOnce(ns_dir);
  std::string text;
  if (int err = ReadWholeFile(path, &text); err != 0) {
    if (err == ENOENT || err == ENOTDIR) return std::optional<Record>();
    return IoError(ErrorCode::kUnavailable, "cannot read status record", path, err);
  }
  REBOOTD_ASSIGN_OR_RETURN(Record record, DecodeRecord(path, text, key));
  return std::optional<Record>(std::move(record));
}

Status FileStatusStore::Save(const Record& record) {
  const std::string key = record.request.Key();
  REBOOTD_ASSIGN_OR_RETURN(Key k, ParseKey(key));
  std::string ns_dir = dir_ + "/" + k.ns;
  std::string path = ns_dir + "/" + k.name + std::string(kRecordSuffix);

  if (::mkdir(ns_dir.c_str(), 0700) == 0) {
    // A new namespace directory: make its entry in the state directory durable too.
    REBOOTD_RETURN_IF_ERROR(SyncDir(dir_));
  } else if (errno != EEXIST) {
    return IoError(ErrorCode::kUnavailable, "cannot create directory", ns_dir, errno);
  }
  CleanNamespaceOnce(ns_dir);

  std::string data = EncodeRecord(record.request);
  data.push_back('\n');

  std::string tmp = path.substr(0, path.size() - kRecordSuffix.size()) + TempSuffix();
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (fd.get() < 0) return IoError(ErrorCode::kUnavailable, "cannot create", tmp, errno);
  auto fail = [&](std::string_view what, int err) {
    fd.Close();
    ::unlink(tmp.c_str());
    return IoError(ErrorCode::kUnavailable, what, tmp, err);
  };
  if (int err = WriteAll(fd.get(), data); err != 0) return fail("cannot write", err);
  if (::fsync(fd.get()) != 0) return fail("fsync", errno);
  if (int err = fd.Close(); err != 0) return fail("close", err);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return IoError(ErrorCode::kUnavailable, "cannot rename into place", path, err);
  }
  return SyncDir(ns_dir);
}

Result<ListResult> FileStatusStore::List() {
  std::vector<std::string> namespaces;
  if (int err = ReadDirNames(dir_, &namespaces); err != 0) {
    return IoError(err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kUnavailable,
                   "cannot list state directory", dir_, err);
  }
  ListResult result;
  for (const auto& ns : namespaces) {
    if (!api::IsDns1123Label(ns)) continue;  // not ours (hidden files, lost+found, ...)
    std::string ns_dir = dir_ + "/" + ns;
    if (!IsDirectory(ns_dir)) continue;
    std::vector<std::string> names;
    if (int err = ReadDirNames(ns_dir, &names); err != 0) {
      result.problems.push_back(
          IoError(ErrorCode::kUnavailable, "cannot list", ns_dir, err).value());
      continue;
    }
    RemoveStaleTemps(ns_dir, names);
    {
      std::lock_guard lock(mu_);
      cleaned_namespaces_.insert(ns_dir);
    }
    for (const auto& n : names) {
      if (IsTempName(n) || n.size() <= kRecordSuffix.size() || n.starts_with('.') ||
          !n.ends_with(kRecordSuffix))
        continue;
      std::string name = n.substr(0, n.size() - kRecordSuffix.size());
      std::string path = ns_dir + "/" + n;
      std::string key = ns + "/" + name;
      if (!ParseKey(key)) {
        result.problems.push_back(Error::Internal("corrupt status record " + path +
                                                  ": file name is not a valid request name"));
        continue;
      }
      std::string text;
      if (int err = ReadWholeFile(path, &text); err != 0) {
        if (err == ENOENT) continue;  // deleted meanwhile
        result.problems.push_back(
            IoError(ErrorCode::kUnavailable, "cannot read status record", path, err).value());
        continue;
      }
      auto record = DecodeRecord(path, text, key);
      if (!record) {
        result.problems.push_back(std::move(record).error());
        continue;
      }
      result.records.push_back(std::move(*record));
    }
  }
  std::sort(result.records.begin(), result.records.end(),
            [](const Record& a, const Record& b) { return a.request.Key() < b.request.Key(); });
  return result;
}

Status FileStatusStore::Delete(const std::string& key) {
  REBOOTD_ASSIGN_OR_RETURN(Key k, ParseKey(key));
  std::string ns_dir = dir_ + "/" + k.ns;
  std::string path = ns_dir + "/" + k.name + std::string(kRecordSuffix);
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return OkStatus();
    return IoError(ErrorCode::kUnavailable, "cannot delete status record", path, errno);
  }
  return SyncDir(ns_dir);
}

}  // namespace rebootd::store
