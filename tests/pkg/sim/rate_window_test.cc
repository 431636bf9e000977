// SPDX-License-Identifier: Apache-2.0
// The simulator's rate windows when calls are recorded out of arrival order (a call stamped on
// arrival may take the engine lock after a later one).
#include <gtest/gtest.h>

#include <deque>

#include "pkg/sim/engine.h"

namespace rebootd::sim {
namespace {

using namespace std::chrono_literals;

SteadyTime At(std::chrono::milliseconds ms) { return SteadyTime{} + 1h + ms; }

TEST(RateWindow, InOrderCountsTheWindowEndingAtTheNewCall) {
  std::deque<SteadyTime> w;
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(BusiestWindowWith(w, At(i * 50ms)), i + 1);
    InsertSorted(w, At(i * 50ms));
  }
  // (t - 1 s, t] is half-open: the call at 0 ms has left the window ending at 1000 ms.
  EXPECT_EQ(BusiestWindowWith(w, At(1000ms)), 20);
  EXPECT_EQ(BusiestWindowWith(w, At(999ms)), 21);
}

TEST(RateWindow, ALateRecordedCallCountsInTheWindowsAfterItsArrival) {
  std::deque<SteadyTime> w;
  // Calls at 0, 100, ..., 900 ms, and then one that arrived at 950 ms but is recorded after a
  // call that arrived at 1050 ms.
  for (int i = 0; i < 10; ++i) InsertSorted(w, At(i * 100ms));
  InsertSorted(w, At(1050ms));
  // Windows ending at 950 ms hold 0..900 (10) + it; ending at 1050 ms: 100..900 (9), 1050 and it.
  EXPECT_EQ(BusiestWindowWith(w, At(950ms)), 11);
  InsertSorted(w, At(950ms));
  ASSERT_EQ(w.size(), 12u);
  EXPECT_TRUE(std::is_sorted(w.begin(), w.end()));
  EXPECT_EQ(w[10], At(950ms));
}

TEST(RateWindow, OldEntriesArePrunedBeyondTwoSeconds) {
  std::deque<SteadyTime> w;
  InsertSorted(w, At(0ms));
  InsertSorted(w, At(1500ms));
  EXPECT_EQ(w.size(), 2u);
  InsertSorted(w, At(2000ms));
  EXPECT_EQ(w.size(), 2u);  // 0 ms is 2 s older than the newest
  EXPECT_EQ(w.front(), At(1500ms));
}

}  // namespace
}  // namespace rebootd::sim
