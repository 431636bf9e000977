// SPDX-License-Identifier: Apache-2.0
// The cloud-neutral rules of proof (pkg/cloud/evidence.h): Sign x watch facts -> Verdict, every
// combination, and the coverage arithmetic.
#include "pkg/cloud/evidence.h"

#include <gtest/gtest.h>

namespace rebootd::cloud {
namespace {

using std::chrono::seconds;

// The expected verdict, written out as the rules read (not computed the way Judge computes it).
Verdict Expected(Sign sign, const WatchFacts& f) {
  if (sign == Sign::kInProgress) return Verdict::kNotYet;
  if (sign == Sign::kRebooted) return Verdict::kYes;
  if (sign == Sign::kRebootFailed) return Verdict::kFailed;
  if (sign == Sign::kNotRunning) {
    return (f.accepted || f.seen_in_progress) ? Verdict::kNotYet : Verdict::kFailed;
  }
  if (f.seen_in_progress) return Verdict::kYes;
  if (!f.settled) return Verdict::kNotYet;
  if (f.accepted)
    return (sign == Sign::kUnchangedMaybe && !f.watched_closely) ? Verdict::kCannotTell
                                                                 : Verdict::kNotYet;
  if (sign == Sign::kUnchanged) return Verdict::kNo;
  return f.watched_closely ? Verdict::kNo : Verdict::kCannotTell;
}

TEST(Judge, EveryCombination) {
  const Sign signs[] = {Sign::kInProgress, Sign::kRebooted,       Sign::kRebootFailed,
                        Sign::kUnchanged,  Sign::kUnchangedMaybe, Sign::kNotRunning};
  int cannot_tell = 0, no = 0;
  for (Sign sign : signs) {
    for (int bits = 0; bits < 16; ++bits) {
      WatchFacts f;
      f.accepted = bits & 1;
      f.seen_in_progress = bits & 2;
      f.settled = bits & 4;
      f.watched_closely = bits & 8;
      Verdict got = Judge(sign, f);
      EXPECT_EQ(got, Expected(sign, f))
          << SignName(sign) << " accepted=" << f.accepted << " seen=" << f.seen_in_progress
          << " settled=" << f.settled << " close=" << f.watched_closely;
      cannot_tell += got == Verdict::kCannotTell;
      no += got == Verdict::kNo;
    }
  }
  // A new call only for unanswered calls that settled with nothing seen: kUnchanged (2 watch
  // variants) plus kUnchangedMaybe watched closely (1).
  EXPECT_EQ(no, 3);
  // Cannot tell: kUnchangedMaybe, settled, nothing seen, not watched closely (accepted or not).
  EXPECT_EQ(cannot_tell, 2);
}

TEST(Judge, NeverASecondCallOnAGuessNorASuccessOnAGuess) {
  WatchFacts f;
  f.settled = true;
  // An unanswered call, a baseline that already showed a finished reboot, a gap in the watch.
  EXPECT_EQ(Judge(Sign::kUnchangedMaybe, f), Verdict::kCannotTell);
  // The same, watched closely the whole time: the call cannot have taken effect unseen.
  f.watched_closely = true;
  EXPECT_EQ(Judge(Sign::kUnchangedMaybe, f), Verdict::kNo);
  // An accepted call is never "not applied", and running is not proof without a sign.
  f.accepted = true;
  EXPECT_EQ(Judge(Sign::kUnchangedMaybe, f), Verdict::kNotYet);
  EXPECT_EQ(Judge(Sign::kUnchanged, f), Verdict::kNotYet);
}

TEST(Coverage, GapsShorterThanTheShortestRebootCoverEverything) {
  const SystemTime t0 = SystemTime(std::chrono::hours(24 * 365 * 56));
  Coverage c(t0, seconds(10));
  c.Observed(t0 + seconds(1), t0 + seconds(2));
  c.Observed(t0 + seconds(5), t0 + seconds(11));  // 11 - 1 = 10: not shorter
  EXPECT_FALSE(c.Unbroken());
  EXPECT_EQ(c.max_gap(), seconds(10));

  Coverage d(t0, seconds(10));
  d.Observed(t0 + seconds(3), t0 + seconds(4));
  d.Observed(t0 + seconds(9), t0 + seconds(12));   // 12 - 3 = 9
  d.Observed(t0 + seconds(15), t0 + seconds(18));  // 18 - 9 = 9
  EXPECT_TRUE(d.Unbroken());
  EXPECT_EQ(d.max_gap(), seconds(9));

  // The first observation counts from the intent.
  Coverage late(t0, seconds(10));
  late.Observed(t0 + seconds(12), t0 + seconds(12));
  EXPECT_FALSE(late.Unbroken());

  EXPECT_FALSE(Coverage().Unbroken());  // nothing was watched
}

}  // namespace
}  // namespace rebootd::cloud
