// SPDX-License-Identifier: Apache-2.0
// Random: the only source of randomness in pkg/ (backoff jitter, nonces, simulator faults).
// SeededRandom is deterministic for a given seed; both implementations are thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <random>
#include <string>

namespace rebootd {

class Random {
 public:
  virtual ~Random() = default;
  virtual uint64_t Next() = 0;
  // Uniform in [0, 1).
  double Uniform01();
  // Uniform integer in [0, n); n must be > 0.
  uint64_t Below(uint64_t n);
  // A random (version 4) UUID in lowercase hex, e.g. for Aliyun's SignatureNonce.
  std::string Uuid4();
};

// Deterministic pseudo-random numbers (std::mt19937_64) from a seed.
class SeededRandom final : public Random {
 public:
  explicit SeededRandom(uint64_t seed) : engine_(seed) {}
  uint64_t Next() override;

 private:
  std::mutex mu_;
  std::mt19937_64 engine_;  // guarded by mu_
};

// Seeded once from std::random_device; for production use.
class SystemRandom final : public Random {
 public:
  SystemRandom();
  uint64_t Next() override;

 private:
  std::mutex mu_;
  std::mt19937_64 engine_;  // guarded by mu_
};

}  // namespace rebootd
