// SPDX-License-Identifier: Apache-2.0
// ParallelFor: runs fn(i) for i in [0, n) on up to `threads` threads (the calling thread
// included) and returns when all are done; ForEachChunk: the same over chunks of a list. For
// issuing independent describe calls concurrently; the rate limiter still paces them. fn must be
// thread-safe.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <thread>
#include <vector>

#include "pkg/base/result.h"

namespace rebootd::cloud {

inline void ParallelFor(size_t n, size_t threads, const std::function<void(size_t)>& fn) {
  if (n == 0) return;
  threads = std::max<size_t>(1, std::min(threads, n));
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < n; i = next++) fn(i);
  };
  std::vector<std::jthread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
}

// Splits `items` into chunks of at most `chunk` items and calls fn(chunk) for each on up to
// `threads` threads. Returns OK, or the first error (chunks not started yet are skipped once one
// has failed). fn must be thread-safe.
template <class In>
Status ForEachChunk(const std::vector<In>& items, size_t chunk, size_t threads,
                    const std::function<Status(std::span<const In>)>& fn) {
  const size_t chunks = (items.size() + chunk - 1) / chunk;
  std::mutex mu;
  std::optional<Error> first_error;
  ParallelFor(chunks, threads, [&](size_t c) {
    {
      std::lock_guard lock(mu);
      if (first_error) return;
    }
    const size_t begin = c * chunk;
    Status s = fn(std::span<const In>(items).subspan(begin, std::min(chunk, items.size() - begin)));
    if (!s) {
      std::lock_guard lock(mu);
      if (!first_error) first_error = s.error();
    }
  });
  if (first_error) return tl::unexpected(std::move(*first_error));
  return {};
}

}  // namespace rebootd::cloud
