// SPDX-License-Identifier: Apache-2.0
#include "pkg/kube/status_store.h"

#include <utility>
#include <vector>

#include "pkg/api/codec.h"

namespace rebootd::kube {
namespace {

std::string MetaString(const json::Value& object, std::string_view field) {
  const json::Value* m = object.Find("metadata");
  const json::Value* v = m ? m->Find(field) : nullptr;
  return v && v->is_string() ? v->AsString() : std::string();
}

Result<std::pair<std::string, std::string>> SplitKey(const std::string& key) {
  size_t slash = key.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == key.size() ||
      key.find('/', slash + 1) != std::string::npos) {
    return MakeError(ErrorCode::kInvalidArgument, "malformed key \"" + key + "\"");
  }
  return std::make_pair(key.substr(0, slash), key.substr(slash + 1));
}

Result<store::Record> RecordFrom(json::Value object) {
  if (!object.Find("apiVersion")) object.Set("apiVersion", RebootRequests().ApiVersion());
  if (!object.Find("kind")) object.Set("kind", "RebootRequest");
  bool has_status = object.Find("status") && object.Find("status")->is_object() &&
                    object.Find("status")->size() > 0;
  auto decoded = api::FromJson(object);
  if (!decoded) return MakeError(ErrorCode::kInternal, decoded.error().message);
  store::Record r;
  r.request = std::move(*decoded);
  if (has_status) {
    auto st = api::StatusFromJson(*object.Find("status"));
    if (!st) {
      return MakeError(ErrorCode::kInternal,
                       r.request.Key() + ": status is unreadable: " + st.error().message);
    }
    // A status written by someone else (no run fingerprint) is not a run record.
    if (!st->spec_hash.empty()) r.request.status = std::move(*st);
  }
  if (r.request.status && r.request.status->spec_hash.empty()) r.request.status.reset();
  return r;
}

}  // namespace

int CompactStatus(json::Value& object, const api::RebootRequestStatus& run, size_t max_bytes) {
  json::Value* status = object.Find("status");
  if (status == nullptr || object.Dump().size() <= max_bytes) return 0;
  // The status gets what the rest of the object (metadata, spec) leaves of the budget; the codec
  // compacts finished instances first and keeps what a restart needs of in-flight ones.
  json::Value rest = object;
  rest.Erase("status");
  const size_t other = rest.Dump().size() + 16;  // + ,"status": and some slack
  *status = api::StatusToJson(run, max_bytes > other ? max_bytes - other : 1);
  const int reached = 1;
  json::Value& conditions = (*status)["conditions"];
  if (!conditions.is_array()) conditions = json::Value::MakeArray();
  for (auto& c : conditions.AsArray()) {
    if (c.Find("type") && c["type"].AsString() == "StatusCompacted") {
      c.Set("status", "True");
      return reached;
    }
  }
  json::Value c = json::Value::MakeObject();
  c.Set("type", "StatusCompacted");
  c.Set("status", "True");
  c.Set("reason", "ObjectSizeLimit");
  c.Set("message",
        "per-instance details (request IDs, messages, timestamps) of finished instances are left "
        "out to keep the object under the API server's size limit; counts and states are "
        "complete");
  if (const json::Value* t = status->Find("startedAt")) c.Set("lastTransitionTime", *t);
  if (const json::Value* g = status->Find("observedGeneration")) c.Set("observedGeneration", *g);
  conditions.PushBack(std::move(c));
  return reached;
}

KubeStatusStore::KubeStatusStore(KubeStatusStoreOptions options, Client& client)
    : options_(std::move(options)), client_(client) {}

Result<std::optional<store::Record>> KubeStatusStore::Load(const std::string& key) {
  REBOOTD_ASSIGN_OR_RETURN(auto nn, SplitKey(key));
  auto object = client_.Get(RebootRequests(), nn.first, nn.second);
  if (!object) {
    if (object.error().code == ErrorCode::kNotFound) return std::optional<store::Record>();
    return MakeError(object.error());
  }
  {
    std::lock_guard lock(mu_);
    versions_[key] = MetaString(*object, "resourceVersion");
  }
  REBOOTD_ASSIGN_OR_RETURN(store::Record r, RecordFrom(std::move(*object)));
  return std::optional<store::Record>(std::move(r));
}

Status KubeStatusStore::Save(const store::Record& record) {
  const api::RebootRequest& req = record.request;
  const std::string key = req.Key();
  if (!req.status) return MakeError(ErrorCode::kInvalidArgument, key + ": record has no status");
  const std::string& ns = req.metadata.namespace_;
  const std::string& name = req.metadata.name;
  std::string version;
  {
    std::lock_guard lock(mu_);
    auto it = versions_.find(key);
    if (it != versions_.end()) version = it->second;
  }
  // The body: the request with the run's status; the server keeps only status from it.
  json::Value body = api::ToJson(req, /*include_status=*/true);
  std::string uid = req.metadata.uid;
  for (int attempt = 0;; ++attempt) {
    if (version.empty()) {
      auto current = client_.Get(RebootRequests(), ns, name);
      if (!current) {
        if (current.error().code == ErrorCode::kNotFound) {
          return MakeError(ErrorCode::kNotFound,
                           "RebootRequest " + key + " no longer exists; status not written");
        }
        return MakeError(current.error());
      }
      std::string current_uid = MetaString(*current, "uid");
      if (!uid.empty() && !current_uid.empty() && uid != current_uid) {
        return MakeError(ErrorCode::kNotFound, "RebootRequest " + key +
                                                   " was deleted and created again; the old "
                                                   "run's status is not written to the new one");
      }
      if (uid.empty()) uid = current_uid;
      version = MetaString(*current, "resourceVersion");
      // Send the server's spec back unchanged (it ignores spec on the status subresource anyway).
      if (const json::Value* spec = current->Find("spec")) body.Set("spec", *spec);
    }
    json::Value& meta = body["metadata"];
    meta.Set("resourceVersion", version);
    if (!uid.empty()) meta.Set("uid", uid);
    if (attempt == 0) CompactStatus(body, *req.status, options_.max_object_bytes);
    const size_t size = body.Dump().size();
    auto written = client_.UpdateStatus(RebootRequests(), ns, name, body);
    if (written) {
      std::lock_guard lock(mu_);
      versions_[key] = MetaString(*written, "resourceVersion");
      sizes_[key] = size;
      return OkStatus();
    }
    const Error& e = written.error();
    if (e.code == ErrorCode::kAborted && attempt < options_.max_conflict_retries) {
      version.clear();  // re-read, then write again
      continue;
    }
    {
      std::lock_guard lock(mu_);
      versions_.erase(key);
    }
    if (e.code == ErrorCode::kNotFound) {
      return MakeError(ErrorCode::kNotFound,
                       "RebootRequest " + key + " no longer exists; status not written");
    }
    return MakeError(e);
  }
}

std::optional<size_t> KubeStatusStore::RoomBytes(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = sizes_.find(key);
  if (it == sizes_.end()) return std::nullopt;
  const size_t target = options_.object_limit_bytes / 10 * 9;
  return it->second >= target ? 0 : target - it->second;
}

Result<store::ListResult> KubeStatusStore::List() {
  store::ListResult out;
  ListOptions lo;
  lo.limit = 500;
  while (true) {
    auto list = client_.List(RebootRequests(), options_.namespace_, lo);
    if (!list) return MakeError(list.error());
    if (json::Value* items = list->Find("items"); items && items->is_array()) {
      for (auto& item : items->AsArray()) {
        std::string key = MetaString(item, "namespace") + "/" + MetaString(item, "name");
        std::string rv = MetaString(item, "resourceVersion");
        auto r = RecordFrom(std::move(item));
        if (!r) {
          out.problems.push_back(r.error());
          continue;
        }
        {
          std::lock_guard lock(mu_);
          versions_[key] = rv;
        }
        out.records.push_back(std::move(*r));
      }
    }
    const json::Value* meta = list->Find("metadata");
    const json::Value* cont = meta ? meta->Find("continue") : nullptr;
    if (!cont || !cont->is_string() || cont->AsString().empty()) break;
    lo.continue_token = cont->AsString();
  }
  return out;
}

Status KubeStatusStore::Delete(const std::string& key) {
  REBOOTD_RETURN_IF_ERROR(SplitKey(key));
  std::lock_guard lock(mu_);
  versions_.erase(key);
  sizes_.erase(key);
  return OkStatus();
}

}  // namespace rebootd::kube
