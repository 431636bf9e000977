// SPDX-License-Identifier: Apache-2.0
#include "pkg/controller/dispatcher.h"

#include <gtest/gtest.h>

namespace rebootd::controller {
namespace {

TEST(IdsNamedInTest, FindsWholeIdsOnly) {
  std::vector<std::string> batch = {"ein-aaaa0001", "ein-aaaa000", "ein-bbbb0002"};
  auto named = IdsNamedIn("The instance `ein-aaaa0001` does not exist.", batch);
  EXPECT_EQ(named, std::vector<std::string>{"ein-aaaa0001"});
  EXPECT_TRUE(IdsNamedIn("nothing here", batch).empty());
  EXPECT_EQ(IdsNamedIn("ein-bbbb0002,ein-aaaa000", batch),
            (std::vector<std::string>{"ein-aaaa000", "ein-bbbb0002"}));
}

}  // namespace
}  // namespace rebootd::controller
