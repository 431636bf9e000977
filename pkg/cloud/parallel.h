// SPDX-License-Identifier: Apache-2.0
// ParallelFor: runs fn(i) for i in [0, n) on up to `threads` threads (the calling thread
// included) and returns when all are done. For issuing independent describe calls concurrently;
// the rate limiter still paces them. fn must be thread-safe.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <thread>
#include <vector>

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

}  // namespace rebootd::cloud
