// SPDX-License-Identifier: Apache-2.0
#include "pkg/base/random.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>

namespace rebootd {
namespace {

TEST(RandomTest, SeededRandomIsDeterministic) {
  SeededRandom a(42), b(42), c(43);
  uint64_t va = a.Next();
  EXPECT_EQ(va, b.Next());
  EXPECT_NE(va, c.Next());
}

TEST(RandomTest, Uniform01StaysInRange) {
  SeededRandom r(1);
  for (int i = 0; i < 10000; ++i) {
    double u = r.Uniform01();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
  }
}

TEST(RandomTest, Uuid4HasVersionAndVariantAndIsUnique) {
  SystemRandom r;
  std::regex re("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string u = r.Uuid4();
    ASSERT_TRUE(std::regex_match(u, re)) << u;
    seen.insert(u);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

}  // namespace
}  // namespace rebootd
