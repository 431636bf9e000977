// SPDX-License-Identifier: Apache-2.0
// Decoding and validation of RebootRequest manifests (YAML, multi-document; JSON is read by the
// same path since JSON is YAML flow syntax), and the JSON codec used by the state store, the
// CLI and the Kubernetes client. Pure functions; thread-safe.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "pkg/api/types.h"
#include "pkg/base/result.h"
#include "pkg/json/json.h"

namespace rebootd::api {

// One problem in one manifest: "FILE:LINE: field.path: message".
struct FieldError {
  std::string file;
  int line = 0;      // 1-based; 0 when unknown
  std::string path;  // e.g. "spec.instanceIds[3]"
  std::string message;
  std::string ToString() const;
};

struct DecodeResult {
  std::vector<RebootRequest> requests;  // the documents that are valid
  std::vector<FieldError> errors;       // problems of the invalid ones (and parse errors)
};

// Parses every document of `text` (documents separated by "---"; empty ones are skipped) and
// validates each: apiVersion/kind, metadata.name/namespace, unknown fields anywhere, wrong types,
// unknown provider or mode, region required for aliyun, instance ID format for the provider,
// duplicates, 1..10000 IDs, timeoutSeconds in 1..86400. A `status` block in a manifest is
// ignored (status belongs to the controller). Never throws.
DecodeResult DecodeManifests(std::string_view text, std::string_view file_name);

// Maps a field path to a source line (0 when unknown).
using LineLocator = std::function<int(const std::string& path)>;
// Semantic checks on an already-typed request (IDs, counts, region, timeout, metadata names).
std::vector<FieldError> Validate(const RebootRequest& request, std::string_view file_name = {},
                                 const LineLocator& locate = {});

// Instance ID format per provider: tencent "ein-" + 6..16 of [a-z0-9]; aliyun "i-" + 8..32 of
// [a-z0-9]. The published examples have 8 and 20 characters; the formal patterns are not
// published (cloud-apis.md §1.14, §2.10), so the bounds are deliberately a little wider.
bool IsValidInstanceId(Provider provider, std::string_view id);
// DNS-1123 subdomain (names) and label (namespaces).
bool IsDns1123Subdomain(std::string_view s);
bool IsDns1123Label(std::string_view s);

// JSON (Kubernetes wire shape, camelCase fields).
json::Value ToJson(const RebootRequest& request, bool include_status = true);
// `max_bytes` (0: no limit) bounds the serialized size for stores with an object size limit
// (Kubernetes: etcd refuses objects over 1.5 MiB; a 10,000-instance status with every field is
// about 3 MB). Over the limit, per-instance entries are written compactly, in two steps, still
// one entry per instance:
//   1. finished instances keep id, state, reason and completedAt; messages are cut to 80 chars;
//   2. finished instances keep id and state (and reason when Failed); in-flight ones lose only
//      their message (crash safety needs requestedAt, acceptedAt, attempts, escalated,
//      seenTransitional, baseline; requestId and reason are kept for people).
// The summary, phase and conditions are always complete. The result may still exceed
// `max_bytes` (e.g. 10,000 instances all in flight); the store reports that as an error.
json::Value StatusToJson(const RebootRequestStatus& status, size_t max_bytes = 0);
// One entry of status.instances, every field (what StatusToJson writes without a budget).
json::Value InstanceStatusToJson(const InstanceStatus& instance);
// Reads an object in the Kubernetes shape. Spec problems give kInvalidArgument with the
// "field.path: message" list; an absent or malformed status is dropped (status is rebuilt by
// the controller) unless `strict_status` is set.
Result<RebootRequest> FromJson(const json::Value& value, bool strict_status = false);
Result<RebootRequestStatus> StatusFromJson(const json::Value& value);

}  // namespace rebootd::api
