// SPDX-License-Identifier: Apache-2.0
// StatusStore: durable per-request RUN RECORDS (the spec a run started with, plus its status).
// The reconciler writes a record before every non-idempotent cloud call (DESIGN.md §4) and reads
// it back after a restart. Implementations must be thread-safe; calls for the SAME key must be
// serialised by the caller (the work queue hands a key to one worker at a time).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "pkg/api/types.h"
#include "pkg/base/result.h"

namespace rebootd::store {

// One run record. `request.metadata` identifies the request (its Key() is the record key);
// `request.spec` is the spec the run STARTED with, so a later changed manifest can be rejected
// while the run continues with the original; `request.status` is the run's status.
struct Record {
  api::RebootRequest request;
};

// What List() found: the readable records (sorted by key) and one kInternal error per record
// that could not be read (the message names the file or key). Problems never hide the others.
struct ListResult {
  std::vector<Record> records;
  std::vector<Error> problems;
};

class StatusStore {
 public:
  virtual ~StatusStore();

  // The record for `key` ("namespace/name"), or nullopt when there is none.
  // Errors: kInvalidArgument for a malformed key (do not retry); kInternal when the stored record
  // is corrupt (the message names it; a Save() replaces it); kUnavailable for I/O failures
  // (retry with backoff).
  [[nodiscard]] virtual Result<std::optional<Record>> Load(const std::string& key) = 0;

  // Stores `record` under record.request.Key(), replacing any previous one. Atomic (a reader or
  // a crash sees the old or the new record, never a mix) and DURABLE ON RETURN: the caller may
  // make a non-idempotent cloud call (a reboot) only after Save() of the intent returned OK.
  // Errors: kInvalidArgument for a request whose name or namespace cannot be stored (do not
  // retry); kUnavailable for I/O failures (retry; do NOT make the cloud call).
  [[nodiscard]] virtual Status Save(const Record& record) = 0;

  // Every record. Fails as a whole (kUnavailable) only when the store cannot be listed at all;
  // unreadable single records are reported in ListResult::problems.
  [[nodiscard]] virtual Result<ListResult> List() = 0;

  // Removes the record for `key`; OK when there was none. Durable on return.
  // Errors: kInvalidArgument for a malformed key; kUnavailable for I/O failures (retry).
  [[nodiscard]] virtual Status Delete(const std::string& key) = 0;

  // How many more bytes the record for `key` may grow by before the store would refuse it, as
  // of the last Save() of that key (0 when it is already at or over the limit). nullopt when
  // the store has no size limit (the default) or nothing was saved under `key` yet. Writers
  // that add detail in steps (the controller's intents) hold back when it runs out.
  virtual std::optional<size_t> RoomBytes(const std::string& key) const {
    (void)key;
    return std::nullopt;
  }
};

}  // namespace rebootd::store
