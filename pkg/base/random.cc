// SPDX-License-Identifier: Apache-2.0
#include "pkg/base/random.h"

#include <cstdio>

namespace rebootd {

double Random::Uniform01() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

uint64_t Random::Below(uint64_t n) { return n == 0 ? 0 : Next() % n; }

std::string Random::Uuid4() {
  uint64_t hi = Next();
  uint64_t lo = Next();
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 10
  char buf[37];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xffff), static_cast<unsigned>(hi & 0xffff),
                static_cast<unsigned>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return buf;
}

uint64_t SeededRandom::Next() {
  std::lock_guard lock(mu_);
  return engine_();
}

SystemRandom::SystemRandom() {
  std::random_device rd;
  engine_.seed((static_cast<uint64_t>(rd()) << 32) ^ rd());
}

uint64_t SystemRandom::Next() {
  std::lock_guard lock(mu_);
  return engine_();
}

}  // namespace rebootd
