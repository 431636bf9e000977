// SPDX-License-Identifier: Apache-2.0
// The simulator's inventory (DESIGN.md §8, fixed format, YAML or JSON):
//   tencent:
//     - {id: ein-496721al, state: RUNNING}                                  # RUNNING | STOPPED
//   aliyun:
//     - {id: i-bp67acfmxazb4ph0001, region: cn-hangzhou, state: Running}    # Running | Stopped |
//     Locked
// `state` defaults to running. IDs not in the inventory do not exist. An entry may also give the
// instance's history before the simulator started, as the clouds report it:
//   tencent: latestOperation (e.g. RebootInstances, StartInstances; letters only) and
//            latestOperationState (SUCCESS | FAILED; needs latestOperation)
//   aliyun:  startTime (RFC 3339 UTC, with or without seconds, e.g. 2026-12-02T09:15Z): when it
//            last started (default: its creation time)
// Pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pkg/base/clock.h"
#include "pkg/base/result.h"

namespace rebootd::sim {

enum class TencentInitialState { kRunning, kStopped };
enum class AliyunInitialState { kRunning, kStopped, kLocked };

struct TencentEntry {
  TencentEntry() = default;
  TencentEntry(std::string id_, TencentInitialState state_ = TencentInitialState::kRunning)
      : id(std::move(id_)), state(state_) {}
  std::string id;
  TencentInitialState state = TencentInitialState::kRunning;
  std::string latest_operation;        // "" = none
  std::string latest_operation_state;  // "" | "SUCCESS" | "FAILED"
};
struct AliyunEntry {
  AliyunEntry() = default;
  AliyunEntry(std::string id_, std::string region_,
              AliyunInitialState state_ = AliyunInitialState::kRunning)
      : id(std::move(id_)), region(std::move(region_)), state(state_) {}
  std::string id;
  std::string region;
  AliyunInitialState state = AliyunInitialState::kRunning;
  std::optional<SystemTime> start_time;  // nullopt = its creation time
};
struct Inventory {
  std::vector<TencentEntry> tencent;
  std::vector<AliyunEntry> aliyun;
};

// Parses an inventory document. kInvalidArgument naming the entry and field for unknown keys,
// unknown states, missing or malformed IDs ("ein-" + 1..32 [a-z0-9]; "i-" + 1..64 [a-z0-9]),
// missing aliyun regions and duplicate IDs. An empty document is an empty inventory.
Result<Inventory> ParseInventory(std::string_view text);
// Reads and parses a file; the error message starts with the path.
Result<Inventory> LoadInventoryFile(const std::string& path);

// Deterministic generated IDs, n >= 1:
//   Tencent: "ein-" + n in base 36 (0-9a-z), zero-padded to 8 characters: 1 -> "ein-00000001",
//            36 -> "ein-00000010".
//   Aliyun:  "i-sim" + n in decimal, zero-padded to 16 digits: 1 -> "i-sim0000000000000001".
std::string GeneratedTencentId(uint64_t n);
std::string GeneratedAliyunId(uint64_t n);

// ID syntax checks used by the inventory and the APIs.
bool IsValidTencentId(std::string_view id);
bool IsValidAliyunId(std::string_view id);

}  // namespace rebootd::sim
