// SPDX-License-Identifier: Apache-2.0
// FileStatusStore: the StatusStore of file mode. One compact JSON file per request,
// <dir>/<namespace>/<name>.json, holding api::ToJson(request, /*include_status=*/true).Dump()
// plus a newline (compact on purpose: a record can hold 10,000 instances).
//
// Writes are atomic and crash-safe: the record goes to <name>.json.tmp-<pid>-<token>-<n> in the
// same directory, is fsync'd, renamed over the target, and the directory is fsync'd. Temporary
// files left behind by a crashed process are ignored by reads and removed (by List(), and by the
// first Load() or Save() touching a namespace); those of a live process are left alone, so a
// reader such as `rebootd status` never disturbs the daemon's writes.
//
// Thread-safe. Calls for the same key must be serialised by the caller (see StatusStore).
#pragma once

#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "pkg/store/status_store.h"

namespace rebootd::store {

class FileStatusStore final : public StatusStore {
 public:
  // Longest metadata.name this store accepts: the file name, with its temporary suffix, must fit
  // in 255 bytes. Longer names give kInvalidArgument.
  static constexpr size_t kMaxNameLength = 200;

  // Does no I/O; call Init() (or use Open()) before the first use.
  explicit FileStatusStore(std::string dir);

  // Creates `dir` and missing parents with mode 0700 (an existing directory keeps its mode) and
  // checks that it is a writable directory. Errors, each naming the path: kInvalidArgument when
  // it exists but is not a directory or cannot be created or written for lack of permission
  // (a configuration error: do not retry); kUnavailable for other I/O failures.
  [[nodiscard]] Status Init();
  // FileStatusStore(dir) + Init().
  [[nodiscard]] static Result<std::unique_ptr<FileStatusStore>> Open(std::string dir);

  const std::string& dir() const { return dir_; }
  // The record file for `key`; kInvalidArgument for a malformed key.
  [[nodiscard]] Result<std::string> PathForKey(const std::string& key) const;

  // StatusStore. Load/Save/Delete as documented there. List() gives kNotFound when `dir` does
  // not exist and kUnavailable when it cannot be read; corrupt record files (unparseable, not a
  // RebootRequest, or holding a different key than their path) are reported as kInternal
  // problems naming the file.
  [[nodiscard]] Result<std::optional<Record>> Load(const std::string& key) override;
  [[nodiscard]] Status Save(const Record& record) override;
  [[nodiscard]] Result<ListResult> List() override;
  [[nodiscard]] Status Delete(const std::string& key) override;

 private:
  // Removes stale temporary files of the namespace directory once per store lifetime.
  void CleanNamespaceOnce(const std::string& ns_dir);

  const std::string dir_;  // constant after construction

  std::mutex mu_;
  std::set<std::string> cleaned_namespaces_;  // guarded by mu_
};

}  // namespace rebootd::store
