// SPDX-License-Identifier: Apache-2.0
#include "pkg/controller/dispatcher.h"

#include <algorithm>
#include <map>
#include <set>

namespace rebootd::controller {
namespace {

bool SameCall(const RebootWork& a, const RebootWork& b) {
  return a.mode == b.mode && a.force == b.force && a.dry_run == b.dry_run;
}

bool IsIdChar(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; }

}  // namespace

std::vector<std::string> IdsNamedIn(std::string_view message,
                                    const std::vector<std::string>& batch) {
  std::vector<std::string> out;
  for (const auto& id : batch) {
    size_t pos = 0;
    while ((pos = message.find(id, pos)) != std::string_view::npos) {
      size_t end = pos + id.size();
      bool left_ok = pos == 0 || !IsIdChar(message[pos - 1]);
      bool right_ok = end >= message.size() || !IsIdChar(message[end]);
      if (left_ok && right_ok) {
        out.push_back(id);
        break;
      }
      pos = end;
    }
  }
  return out;
}

Dispatcher::Dispatcher(cloud::CloudProvider& provider, Clock& clock, DispatcherOptions options,
                       Deliver deliver)
    : provider_(provider), clock_(clock), options_(options), deliver_(std::move(deliver)) {
  int n = std::max(1, options_.workers);
  for (int i = 0; i < n; ++i) {
    workers_.emplace_back([this](std::stop_token st) { WorkerLoop(st); });
  }
}

Dispatcher::~Dispatcher() { Stop(); }

void Dispatcher::Submit(std::vector<RebootWork> work) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    for (auto& w : work) queue_.push_back(Batch{{std::move(w)}, 0});
  }
  cv_.notify_all();
}

size_t Dispatcher::Queued() const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& b : queue_) n += b.items.size();
  return n;
}

size_t Dispatcher::InFlight() const {
  std::lock_guard lock(mu_);
  return in_flight_;
}

void Dispatcher::Stop() {
  std::deque<Batch> left;
  {
    std::lock_guard lock(mu_);
    if (stopping_ && workers_.empty()) return;
    stopping_ = true;
    left.swap(queue_);
  }
  cv_.notify_all();
  for (auto& w : workers_) w.request_stop();
  cv_.notify_all();
  for (auto& w : workers_) {
    if (w.joinable()) w.join();
  }
  workers_.clear();
  std::map<std::string, std::vector<RebootOutcome>> by_key;
  for (auto& b : left) {
    for (auto& w : b.items) {
      RebootOutcome o;
      o.id = w.id;
      o.kind = RebootOutcome::Kind::kNotSent;
      o.at = clock_.Now();
      o.dry_run = w.dry_run;
      by_key[w.key].push_back(std::move(o));
    }
  }
  for (auto& [key, outs] : by_key) deliver_(key, std::move(outs));
}

void Dispatcher::Cancel(const std::string& key) {
  std::vector<RebootOutcome> outs;
  {
    std::lock_guard lock(mu_);
    for (auto& b : queue_) {
      std::erase_if(b.items, [&](const RebootWork& w) {
        if (w.key != key) return false;
        RebootOutcome o;
        o.id = w.id;
        o.kind = RebootOutcome::Kind::kNotSent;
        o.at = clock_.Now();
        o.dry_run = w.dry_run;
        outs.push_back(std::move(o));
        return true;
      });
    }
    std::erase_if(queue_, [](const Batch& b) { return b.items.empty(); });
  }
  if (!outs.empty()) deliver_(key, std::move(outs));
}

// Packs single items queued behind the head into one call when they share the call shape.
// A bisected batch (retries or more than one item) is taken as it is.
bool Dispatcher::TakeBatchLocked(Batch* out) {
  if (queue_.empty()) return false;
  *out = std::move(queue_.front());
  queue_.pop_front();
  size_t max = std::max<size_t>(1, provider_.MaxRebootBatch());
  if (out->items.size() == 1 && out->retries == 0) {
    std::set<std::string> ids{out->items[0].id};
    for (auto it = queue_.begin(); it != queue_.end() && out->items.size() < max;) {
      if (it->items.size() == 1 && it->retries == 0 && SameCall(it->items[0], out->items[0]) &&
          !ids.count(it->items[0].id)) {
        ids.insert(it->items[0].id);
        out->items.push_back(std::move(it->items[0]));
        it = queue_.erase(it);
      } else {
        ++it;
      }
    }
  }
  ++in_flight_;
  return true;
}

void Dispatcher::WorkerLoop(std::stop_token stop) {
  while (!stop.stop_requested()) {
    Batch batch;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, stop, [&] { return !queue_.empty() || stopping_; });
      if (stop.stop_requested() || stopping_) return;
      if (!TakeBatchLocked(&batch)) continue;
    }
    Process(std::move(batch), stop);
    {
      std::lock_guard lock(mu_);
      --in_flight_;
    }
    cv_.notify_all();
  }
}

void Dispatcher::Requeue(Batch batch, bool front) {
  {
    std::lock_guard lock(mu_);
    if (front) {
      queue_.push_front(std::move(batch));
    } else {
      queue_.push_back(std::move(batch));
    }
  }
  cv_.notify_all();
}

void Dispatcher::Process(Batch batch, std::stop_token stop) {
  cloud::RebootCall call;
  call.mode = batch.items[0].mode;
  call.force = batch.items[0].force;
  call.dry_run = batch.items[0].dry_run;
  for (const auto& w : batch.items) call.ids.push_back(w.id);

  auto deliver_all = [&](const std::vector<RebootWork>& items, RebootOutcome::Kind kind,
                         const std::string& request_id, const Error& error) {
    std::map<std::string, std::vector<RebootOutcome>> by_key;
    SystemTime now = clock_.Now();
    for (const auto& w : items) {
      RebootOutcome o;
      o.id = w.id;
      o.kind = kind;
      o.request_id = request_id;
      o.error = error;
      o.at = now;
      o.force = w.force;
      o.dry_run = w.dry_run;
      by_key[w.key].push_back(std::move(o));
    }
    for (auto& [key, outs] : by_key) deliver_(key, std::move(outs));
  };

  auto result = provider_.Reboot(call, stop);
  if (result) {
    deliver_all(batch.items,
                result->dry_run_passed || call.dry_run ? RebootOutcome::Kind::kDryRunPassed
                                                       : RebootOutcome::Kind::kAccepted,
                result->request_id, Error{});
    return;
  }
  const Error& err = result.error();
  if (err.ambiguous) {
    deliver_all(batch.items, RebootOutcome::Kind::kAmbiguous, "", err);
    return;
  }
  switch (err.code) {
    case ErrorCode::kCancelled:
      deliver_all(batch.items, RebootOutcome::Kind::kNotSent, "", err);
      return;
    case ErrorCode::kResourceExhausted:
    case ErrorCode::kUnavailable:
    case ErrorCode::kDeadlineExceeded:
    case ErrorCode::kAborted:
    case ErrorCode::kInternal:
      // Nothing happened (not ambiguous): send again later, slowed by the bucket.
      if (++batch.retries > options_.max_retries || stop.stop_requested()) {
        deliver_all(batch.items, RebootOutcome::Kind::kNotSent, "", err);
        return;
      }
      if (err.code != ErrorCode::kResourceExhausted) {
        if (!clock_.SleepFor(options_.retry_delay, stop)) {
          deliver_all(batch.items, RebootOutcome::Kind::kNotSent, "", err);
          return;
        }
      }
      Requeue(std::move(batch), /*front=*/true);
      return;
    default:
      break;
  }
  // A definite refusal. Nothing happened to any instance of the batch.
  RebootOutcome::Kind kind = err.code == ErrorCode::kFailedPrecondition
                                 ? RebootOutcome::Kind::kWrongState
                                 : RebootOutcome::Kind::kRejected;
  bool per_instance = err.code != ErrorCode::kUnauthenticated;
  if (batch.items.size() == 1 || !per_instance) {
    deliver_all(batch.items, kind, "", err);
    return;
  }
  std::vector<std::string> named = IdsNamedIn(err.message, call.ids);
  if (!named.empty()) {
    std::set<std::string> bad(named.begin(), named.end());
    std::vector<RebootWork> culprits, rest;
    for (auto& w : batch.items) (bad.count(w.id) ? culprits : rest).push_back(std::move(w));
    deliver_all(culprits, kind, "", err);
    if (!rest.empty()) Requeue(Batch{std::move(rest), batch.retries + 1}, /*front=*/true);
    return;
  }
  // Nothing usable in the message: bisect.
  size_t half = batch.items.size() / 2;
  Batch a{std::vector<RebootWork>(std::make_move_iterator(batch.items.begin()),
                                  std::make_move_iterator(batch.items.begin() + half)),
          batch.retries + 1};
  Batch b{std::vector<RebootWork>(std::make_move_iterator(batch.items.begin() + half),
                                  std::make_move_iterator(batch.items.end())),
          batch.retries + 1};
  Requeue(std::move(b), /*front=*/true);
  Requeue(std::move(a), /*front=*/true);
}

}  // namespace rebootd::controller
