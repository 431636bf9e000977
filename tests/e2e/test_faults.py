# SPDX-License-Identifier: Apache-2.0
"""End-to-end fault injection: errors before and after the effect, connection resets, 503s,
throttling answers and hangs, from a seeded simulator. Whatever the faults, every good instance
must be rebooted exactly once (an ambiguous failure is resolved by polling, never by a blind
second call) and end Succeeded.
"""

import json
import os
import sys
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib  # noqa: E402
from e2elib import manifest  # noqa: E402

REBOOT_ACTIONS = (("tencent", "RebootInstances"), ("aliyun", "RebootInstance"))


def fault_counts(report, provider, action):
    return report["providers"][provider]["actions"][action]["faults"]


class Faults(e2elib.E2ETestCase):

    def workload(self, n_tencent, n_aliyun, prefix):
        t = e2elib.tencent_ids(n_tencent, prefix)
        a = e2elib.aliyun_ids(n_aliyun, "bp" + prefix)
        third = n_tencent // 3
        e2elib.write_manifests(os.path.join(self.manifests, "work.yaml"), [
            manifest("soft", "tencent", t[:third]),
            manifest("hard", "tencent", t[third:2 * third], mode="Hard"),
            manifest("soft-first", "tencent", t[2 * third:], mode="SoftFirst"),
            manifest("ecs-soft", "aliyun", a[:n_aliyun // 2], region="cn-hangzhou"),
            manifest("ecs-hard", "aliyun", a[n_aliyun // 2:], region="cn-hangzhou", mode="Hard"),
        ])
        return t, a

    def assertAllRebootedOnce(self, sim, ids):
        report = sim.report()
        st = e2elib.status(self.state)
        self.assertInstances(st, {i: ("Succeeded", None) for i in ids})
        self.assertPhases(st, {k: "Succeeded" for k in st})
        self.assertRebootedExactlyOnce(report, ids)
        self.assertRateLimitsHeld(report)
        # Retries after resets are freshly signed (no SignatureNonceUsed from a replay).
        self.assertNoAuthFailures(report)
        return report, st

    def test_errors_and_resets_before_and_after_effect(self):
        t, a = self.workload(240, 40, "flt")
        kinds = ["error-before", "error-after", "reset", "reset-after", "unavailable", "throttle"]
        sim = self.simulator(tencent=[(i, "RUNNING") for i in t],
                             aliyun=[(i, "cn-hangzhou", "Running") for i in a],
                             reboot_seconds=0.5, reboot_jitter=0.3, seed=20261202,
                             faults=["%s=0.06" % k for k in kinds])
        self.run_rebootd(sim, expect_rc=0, timeout=120)
        report, st = self.assertAllRebootedOnce(sim, t + a)
        # The faults really happened, to reboot calls too, on both sides of the effect.
        hit = {}
        for p in ("tencent", "aliyun"):
            for action, rep in report["providers"][p]["actions"].items():
                for kind, n in rep["faults"].items():
                    hit[kind] = hit.get(kind, 0) + n
        self.assertEqual(set(hit), set(kinds), "fault kinds hit: %s" % hit)
        on_reboots = {}
        for p, action in REBOOT_ACTIONS:
            for kind, n in fault_counts(report, p, action).items():
                on_reboots[kind] = on_reboots.get(kind, 0) + n
        self.assertGreater(on_reboots.get("error-after", 0) + on_reboots.get("reset-after", 0), 0,
                           "no after-effect fault hit a reboot call: %s" % on_reboots)
        self.assertGreater(on_reboots.get("error-before", 0) + on_reboots.get("reset", 0), 0,
                           "no before-effect fault hit a reboot call: %s" % on_reboots)
        # Every ECM batch went out whole (no spurious splitting by the faults).
        tc = report["providers"]["tencent"]["actions"]["RebootInstances"]
        self.assertEqual(sum(int(k) * v for k, v in tc["batch_sizes"].items()), len(t), tc)

    def test_hangs_before_and_after_effect(self):
        # A hung call costs the client's full HTTP timeout (about 30 s), so hangs are switched on
        # only until the first reboot call of each provider hung, then switched off.
        t, a = self.workload(30, 8, "hng")
        sim = self.simulator(tencent=[(i, "RUNNING") for i in t],
                             aliyun=[(i, "cn-hangzhou", "Running") for i in a],
                             reboot_seconds=0.5, reboot_jitter=0.3, seed=7,
                             faults=["hang-after:tencent.RebootInstances=1",
                                     "hang:aliyun.RebootInstance=1"])
        log_path = os.path.join(self.work, "rebootd.log")
        proc = e2elib.start_rebootd(sim, self.manifests, self.state, log_path)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())

        def both_hung():
            r = sim.report()
            return (fault_counts(r, "tencent", "RebootInstances").get("hang-after", 0) > 0 and
                    fault_counts(r, "aliyun", "RebootInstance").get("hang", 0) > 0)
        e2elib.wait_for(both_hung, 30, what="a hung reboot call on each provider", log=log_path)
        req = urllib.request.Request(sim.url + "/_sim/faults", method="POST",
                                     data=json.dumps({"faults": []}).encode(),
                                     headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=10).read()
        rc = proc.wait(timeout=150)
        self.assertEqual(rc, 0, e2elib.tail(log_path))
        report, st = self.assertAllRebootedOnce(sim, t + a)
        tc = fault_counts(report, "tencent", "RebootInstances")
        self.assertGreaterEqual(tc.get("hang-after", 0), 1, tc)
        # The hung-after batch took effect: its instances were confirmed by polling, not re-sent.
        self.assertEqual(report["providers"]["tencent"]["actions"]["RebootInstances"]["effects"],
                         report["providers"]["tencent"]["actions"]["RebootInstances"]["ok"] +
                         tc.get("hang-after", 0))


if __name__ == "__main__":
    unittest.main(verbosity=2)
