// SPDX-License-Identifier: Apache-2.0
// ParallelFor: runs fn(i) for i in [0, n) on up to `threads` threads (the calling thread
// included) and returns when all are done. For issuing independent describe calls concurrently;
// the rate limiter still paces them. fn must be thread-safe.
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

// Splits `items` into chunks of at most `chunk` items and calls fetch(chunk) for each on up to
// `threads` threads; returns every result concatenated (in no particular order), or the first
// error (chunks not started yet are skipped once one has failed). fetch must be thread-safe.
template <class In, class Out>
Result<std::vector<Out>> ParallelChunks(
    const std::vector<In>& items, size_t chunk, size_t threads,
    const std::function<Result<std::vector<Out>>(std::span<const In>)>& fetch) {
  const size_t chunks = (items.size() + chunk - 1) / chunk;
  std::vector<Out> out;
  std::mutex mu;
  std::optional<Error> first_error;
  ParallelFor(chunks, threads, [&](size_t c) {
    {
      std::lock_guard lock(mu);
      if (first_error) return;
    }
    const size_t begin = c * chunk;
    auto got =
        fetch(std::span<const In>(items).subspan(begin, std::min(chunk, items.size() - begin)));
    std::lock_guard lock(mu);
    if (!got) {
      if (!first_error) first_error = got.error();
      return;
    }
    for (auto& o : *got) out.push_back(std::move(o));
  });
  if (first_error) return tl::unexpected(std::move(*first_error));
  return out;
}

}  // namespace rebootd::cloud
