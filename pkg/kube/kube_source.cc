// SPDX-License-Identifier: Apache-2.0
#include "pkg/kube/kube_source.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "pkg/api/codec.h"

namespace rebootd::kube {
namespace {

std::string ResourceVersionOf(const json::Value& object) {
  const json::Value* m = object.Find("metadata");
  const json::Value* rv = m ? m->Find("resourceVersion") : nullptr;
  return rv && rv->is_string() ? rv->AsString() : std::string();
}

std::string KeyOf(const json::Value& object) {
  const json::Value* m = object.Find("metadata");
  if (!m) return {};
  const json::Value* ns = m->Find("namespace");
  const json::Value* name = m->Find("name");
  if (!name || !name->is_string()) return {};
  return (ns && ns->is_string() && !ns->AsString().empty() ? ns->AsString() : "default") + "/" +
         name->AsString();
}

}  // namespace

KubeSource::KubeSource(KubeSourceOptions options, Client& client, store::RequestCache& cache,
                       source::Notify notify, Clock& clock, Random& random)
    : options_(std::move(options)),
      client_(client),
      cache_(cache),
      notify_(std::move(notify)),
      clock_(clock),
      random_(random) {}

KubeSource::~KubeSource() { Stop(); }

void KubeSource::Problem(const std::string& message) {
  if (options_.on_problem) options_.on_problem(message);
}

std::string KubeSource::resource_version() const {
  std::lock_guard lock(mu_);
  return resource_version_;
}

std::string KubeSource::Apply(const json::Value& raw, bool notify_unchanged) {
  json::Value object = raw;
  // List items of custom resources carry apiVersion and kind, but be lenient.
  if (!object.Find("apiVersion")) object.Set("apiVersion", RebootRequests().ApiVersion());
  if (!object.Find("kind")) object.Set("kind", "RebootRequest");
  auto decoded = api::FromJson(object);
  std::string key = KeyOf(object);
  if (!decoded) {
    Problem("RebootRequest " + (key.empty() ? std::string("?") : key) +
            " ignored: " + decoded.error().message);
    // An object that no longer decodes is no longer a valid desired request.
    if (!key.empty() && cache_.Delete(key)) {
      {
        std::lock_guard lock(mu_);
        known_.erase(key);
      }
      notify_(key);
    }
    return {};
  }
  key = decoded->Key();
  bool changed = cache_.Upsert(std::move(*decoded));
  {
    std::lock_guard lock(mu_);
    known_.insert(key);
  }
  if (changed || notify_unchanged) notify_(key);
  return key;
}

Status KubeSource::Relist() {
  std::set<std::string> seen;
  std::vector<json::Value> items;
  ListOptions lo;
  lo.limit = options_.page_size;
  std::string rv;
  while (true) {
    REBOOTD_ASSIGN_OR_RETURN(json::Value list,
                             client_.List(RebootRequests(), options_.namespace_, lo));
    if (json::Value* its = list.Find("items"); its && its->is_array()) {
      for (auto& item : its->AsArray()) items.push_back(std::move(item));
    }
    const json::Value* meta = list.Find("metadata");
    const json::Value* cont = meta ? meta->Find("continue") : nullptr;
    if (meta) {
      if (const json::Value* r = meta->Find("resourceVersion"); r && r->is_string()) {
        rv = r->AsString();
      }
    }
    if (!cont || !cont->is_string() || cont->AsString().empty()) break;
    lo.continue_token = cont->AsString();
  }
  for (const auto& item : items) {
    std::string key = Apply(item, /*notify_unchanged=*/true);
    if (!key.empty()) seen.insert(key);
  }
  std::vector<std::string> gone;
  {
    std::lock_guard lock(mu_);
    for (const auto& key : known_) {
      if (!seen.count(key)) gone.push_back(key);
    }
    for (const auto& key : gone) known_.erase(key);
    resource_version_ = rv;
  }
  for (const auto& key : gone) {
    if (cache_.Delete(key)) notify_(key);
  }
  cache_.MarkSynced();
  return OkStatus();
}

Status KubeSource::WatchOnce(std::stop_token stop, int64_t timeout_seconds) {
  WatchOptions wo;
  wo.resource_version = resource_version();
  wo.allow_bookmarks = true;
  wo.timeout_seconds = timeout_seconds;
  return client_.Watch(
      RebootRequests(), options_.namespace_, wo,
      [&](const WatchEvent& ev) {
        std::string rv = ResourceVersionOf(ev.object);
        if (ev.type == "ADDED" || ev.type == "MODIFIED") {
          Apply(ev.object, /*notify_unchanged=*/false);
        } else if (ev.type == "DELETED") {
          std::string key = KeyOf(ev.object);
          if (!key.empty()) {
            {
              std::lock_guard lock(mu_);
              known_.erase(key);
            }
            if (cache_.Delete(key)) notify_(key);
          }
        } else if (ev.type != "BOOKMARK") {
          Problem("watch: unexpected event type \"" + ev.type + "\"");
        }
        if (!rv.empty()) {
          std::lock_guard lock(mu_);
          resource_version_ = rv;
        }
        return true;
      },
      stop);
}

Status KubeSource::WatchOnceForTest() {
  Status s = WatchOnce({}, options_.watch_timeout_seconds);
  if (!s && IsGone(s.error())) return Relist();
  return s;
}

Status KubeSource::Start() {
  REBOOTD_RETURN_IF_ERROR(Relist());
  thread_ = std::jthread([this](std::stop_token stop) { Loop(stop); });
  return OkStatus();
}

void KubeSource::Stop() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
}

void KubeSource::Loop(std::stop_token stop) {
  Duration backoff = options_.backoff_initial;
  SteadyTime next_resync = clock_.SteadyNow() + options_.resync;
  bool need_relist = false;
  while (!stop.stop_requested()) {
    SteadyTime now = clock_.SteadyNow();
    if (need_relist || now >= next_resync) {
      Status s = Relist();
      if (!s) {
        Problem("list RebootRequests: " + s.error().message);
      } else {
        need_relist = false;
        next_resync = clock_.SteadyNow() + options_.resync;
        backoff = options_.backoff_initial;
      }
      if (!s) {
        auto jitter = std::chrono::duration_cast<Duration>(backoff * (0.5 + random_.Uniform01()));
        if (!clock_.SleepFor(jitter, stop)) return;
        backoff = std::min(backoff * 2, options_.backoff_max);
        continue;
      }
    }
    // The watch ends by itself before the next resync is due.
    auto until_resync =
        std::chrono::duration_cast<std::chrono::seconds>(next_resync - clock_.SteadyNow()).count();
    int64_t timeout = std::clamp<int64_t>(until_resync, 1, options_.watch_timeout_seconds);
    SteadyTime started = clock_.SteadyNow();
    Status s = WatchOnce(stop, timeout);
    if (stop.stop_requested()) return;
    if (s) {
      // A normal end of the stream (server timeout): reconnect from the last version. Streams
      // that end at once repeatedly are treated like failures so they cannot spin.
      if (clock_.SteadyNow() - started >= std::chrono::seconds(1)) {
        backoff = options_.backoff_initial;
        continue;
      }
    } else if (IsGone(s.error())) {
      // The version is too old (compaction, apiserver restart): list again, now.
      need_relist = true;
      continue;
    } else {
      Problem("watch RebootRequests: " + s.error().message);
      if (s.error().code == ErrorCode::kInternal) need_relist = true;
    }
    auto jitter = std::chrono::duration_cast<Duration>(backoff * (0.5 + random_.Uniform01()));
    if (!clock_.SleepFor(jitter, stop)) return;
    backoff = std::min(backoff * 2, options_.backoff_max);
  }
}

}  // namespace rebootd::kube
