# SPDX-License-Identifier: Apache-2.0
"""Crash test: `kill -9` rebootd at seeded random moments of a 1,200-instance run, restarting it
on the same state dir each time, against ONE simulator that keeps running. At the end nothing
was rebooted twice (simulator report), nothing was lost (every instance Succeeded and rebooted
exactly once) and everything finished (the last run exits 0).

Repeated with earlier history (half the instances were rebooted before the run): there a kill
can leave an instance whose call's outcome is unknown and whose evidence cannot decide (its
baseline already showed a finished reboot, and the restart is longer than a reboot). It must
then end Failed/RebootUnverified, never Succeeded on a guess and never called twice; every other
instance is rebooted exactly once and Succeeded.

Environment: REBOOTD, REBOOTD_CLOUDSIM (binaries), CRASH_SEED (default 20261202),
CRASH_KILLS (default 24).
"""

import datetime
import os
import random
import signal
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import e2elib  # noqa: E402
from e2elib import manifest  # noqa: E402

N_TENCENT = 1000
N_ALIYUN = 200
# rebootd's own limits. The simulator enforces 20/s on every action; a restarted rebootd starts
# with a fresh bucket while the killed one's calls are still inside the simulator's 1-second
# window, so the client side keeps a margin (the limit holds per process, not across processes).
RATES = {"tencent.RebootInstances": 10, "tencent.DescribeInstances": 10,
         "aliyun.RebootInstance": 10, "aliyun.DescribeInstanceStatus": 10,
         "aliyun.DescribeInstances": 10}


class Crash(e2elib.E2ETestCase):

    def test_kill_9_and_restart_loses_nothing_and_reboots_nothing_twice(self):
        run, report, st, t, a, _ = self.crash_run(history=False)
        self.assertEqual(run.returncode, 0, run.output[-6000:])
        self.assertPhases(st, {k: "Succeeded" for k in st})
        self.assertInstances(st, {i: ("Succeeded", None) for i in t + a})
        self.assertRebootedExactlyOnce(report, t + a)
        self.assertEqual(report["providers"]["tencent"]["total_reboots"], N_TENCENT)
        self.assertEqual(report["providers"]["aliyun"]["total_reboots"], N_ALIYUN)

    def test_kill_9_with_earlier_history_claims_nothing_it_cannot_prove(self):
        run, report, st, t, a, history = self.crash_run(history=True)
        self.assertIn(run.returncode, (0, 1), run.output[-6000:])
        counts = e2elib.reboots(report)
        unverified = rebooted_unverified = 0
        for i in t + a:
            _, inst = e2elib.instance_map(st)[i]
            n = counts.get(i, 0)
            self.assertLessEqual(n, 1, "instance %s rebooted %d times" % (i, n))
            if inst["state"] == "Succeeded":
                self.assertEqual(n, 1, "instance %s Succeeded but was not rebooted" % i)
                continue
            # Only an instance whose history already showed a reboot may be left undecided.
            self.assertIn(i, history, "instance %s: %s" % (i, inst))
            self.assertEqual((inst["state"], inst["reason"]), ("Failed", "RebootUnverified"),
                             "instance %s: %s" % (i, inst))
            unverified += 1
            rebooted_unverified += n
        print("crash with history: %d of %d instances RebootUnverified (%d of them had in fact "
              "been rebooted once, %d never)" % (unverified, len(t) + len(a), rebooted_unverified,
                                                 unverified - rebooted_unverified),
              file=sys.stderr)
        self.assertEqual(run.returncode, 1 if unverified else 0)

    def crash_run(self, history):
        seed = int(os.environ.get("CRASH_SEED", "20261202"))
        kills_wanted = int(os.environ.get("CRASH_KILLS", "24"))
        rng = random.Random(seed)
        t = e2elib.tencent_ids(N_TENCENT, "crash")
        a = e2elib.aliyun_ids(N_ALIYUN, "bpcrash")
        recent = (datetime.datetime.now(datetime.timezone.utc) -
                  datetime.timedelta(seconds=20)).strftime("%Y-%m-%dT%H:%MZ")
        earlier = set(t[0::2] + a[0::2]) if history else set()
        sim = self.simulator(
            tencent=[(i, "RUNNING", "RebootInstances", "SUCCESS") if i in earlier
                     else (i, "RUNNING") for i in t],
            aliyun=[(i, "cn-hangzhou", "Running", recent) if i in earlier
                    else (i, "cn-hangzhou", "Running") for i in a],
            reboot_seconds=1.0, reboot_jitter=0.3, seed=seed)
        # The Aliyun requests are there from the start (one call per instance, the long part);
        # the Tencent ones arrive one file per restart, so ECM batches are cut by kills too.
        aliyun_docs = [manifest("db-%02d" % (k // 50), "aliyun", a[k:k + 50], region="cn-hangzhou",
                                mode=["Soft", "Hard"][(k // 50) % 2])
                       for k in range(0, N_ALIYUN, 50)]
        modes = ["Soft", "Hard", "SoftFirst"]
        tencent_docs = [manifest("web-%02d" % (k // 125), "tencent", t[k:k + 125],
                                 mode=modes[(k // 125) % 3])
                        for k in range(0, N_TENCENT, 125)]
        e2elib.write_manifests(os.path.join(self.manifests, "aliyun.yaml"), aliyun_docs)
        docs = aliyun_docs + tencent_docs
        extra = ["--rate-limit=%s=%d" % kv for kv in RATES.items()]
        log_path = os.path.join(self.work, "rebootd.log")

        # The Aliyun part alone needs N_ALIYUN / 10 = 20 s of rebootd running (its own limit),
        # and the 24 seeded delays add up to about 18 s, so the run cannot finish before the
        # last kill on any machine: every kill lands in the middle of the work.
        kills = 0
        delays = []
        finished_early = False
        for n in range(kills_wanted):
            if n < len(tencent_docs):
                e2elib.write_manifests(os.path.join(self.manifests, "tencent-%02d.yaml" % n),
                                       [tencent_docs[n]])
            with open(log_path, "a") as f:
                f.write("=== start %d\n" % (kills + 1))
            proc = e2elib.start_rebootd(sim, self.manifests, self.state, log_path, extra=extra)
            delay = rng.uniform(0.05, 2.0)
            try:
                rc = proc.wait(timeout=delay)
                # It finished before the kill: the run is over.
                self.assertEqual(rc, 0, e2elib.tail(log_path))
                finished_early = True
                break
            except subprocess.TimeoutExpired:
                pass
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            kills += 1
            delays.append(delay)

        report = sim.report()
        done = sum(report["providers"][p]["total_reboots"] for p in ("tencent", "aliyun"))
        print("\ncrash: %d kills (seed %d, delays %.2f..%.2f s), %d/%d reboots before the final "
              "run, finished early: %s" % (kills, seed, min(delays or [0]), max(delays or [0]),
                                           done, N_TENCENT + N_ALIYUN, finished_early),
              file=sys.stderr)
        self.assertGreaterEqual(kills, 20, "the run finished after %d kills; make it longer" %
                                kills)
        self.assertLess(done, N_TENCENT + N_ALIYUN, "all reboots happened before the last kill")

        # The last run on the same state dir finishes the work.
        run = self.run_rebootd(sim, timeout=150, extra=extra)
        report = sim.report()
        st = e2elib.status(self.state)
        self.assertEqual(len(st), len(docs))
        self.assertEqual(report["providers"]["tencent"]["instances_rebooted_more_than_once"], [])
        self.assertEqual(report["providers"]["aliyun"]["instances_rebooted_more_than_once"], [])
        self.assertRateLimitsHeld(report)
        self.assertNoAuthFailures(report)
        return run, report, st, t, a, earlier


if __name__ == "__main__":
    unittest.main(verbosity=2)
