# SPDX-License-Identifier: Apache-2.0
"""Proof of reboot end to end: fleets whose instances carry an earlier reboot in their history
(ECM LatestOperation RebootInstances SUCCESS; ECS a recent StartTime), reboot calls that fail
before taking effect, after taking effect, reset and hang, and a restart after an outage longer
than a reboot. What must hold: every instance that ends Succeeded was rebooted exactly once by
the run (simulator report), none twice, no success and no second call on a guess.
"""

import datetime
import json
import os
import signal
import sys
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib  # noqa: E402
from e2elib import manifest  # noqa: E402


def set_faults(sim, faults):
    req = urllib.request.Request(sim.url + "/_sim/faults", method="POST",
                                 data=json.dumps({"faults": faults}).encode(),
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=10).read()


def recent_start(seconds_ago):
    t = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=seconds_ago)
    return t.strftime("%Y-%m-%dT%H:%MZ")  # the API's minute precision


def reboot_faults(report, provider, action):
    return report["providers"][provider]["actions"][action]["faults"]


class History(e2elib.E2ETestCase):

    def assertNothingClaimedWithoutProof(self, report, st):
        """Succeeded = rebooted exactly once by this run; nothing rebooted twice."""
        counts = e2elib.reboots(report)
        for key, (_, inst) in e2elib.instance_map(st).items():
            n = counts.get(key, 0)
            self.assertLessEqual(n, 1, "instance %s rebooted %d times" % (key, n))
            if inst["state"] == "Succeeded":
                self.assertEqual(n, 1, "instance %s reported %s but was never rebooted: %s" %
                                 (key, inst.get("reason"), inst))
        self.assertEqual(report["totals"]["instances_rebooted_more_than_once"], 0)

    def test_half_the_fleet_rebooted_before_and_calls_failing(self):
        t = e2elib.tencent_ids(600, "hst")
        a = e2elib.aliyun_ids(60, "bphst")
        # Every other instance was rebooted before rebootd came: the evidence an old rebootd took
        # for proof of its own reboot.
        tencent = [(i, "RUNNING", "RebootInstances", "SUCCESS") if n % 2 == 0 else (i, "RUNNING")
                   for n, i in enumerate(t)]
        aliyun = [(i, "cn-hangzhou", "Running", recent_start(20)) if n % 2 == 0
                  else (i, "cn-hangzhou", "Running") for n, i in enumerate(a)]
        kinds = ["error-before", "reset", "error-after", "reset-after"]
        sim = self.simulator(tencent=tencent, aliyun=aliyun, reboot_seconds=3.0,
                             reboot_jitter=0.3, seed=20261203,
                             faults=["%s:%s=0.12" % (k, action) for k in kinds
                                     for action in ("tencent.RebootInstances",
                                                    "aliyun.RebootInstance")])
        e2elib.write_manifests(os.path.join(self.manifests, "fleet.yaml"), [
            manifest("web-%d" % k, "tencent", t[k * 150:(k + 1) * 150],
                     mode=["Soft", "Hard"][k % 2]) for k in range(4)] + [
            manifest("db", "aliyun", a, region="cn-hangzhou")])
        self.run_rebootd(sim, expect_rc=0, timeout=150)
        report = sim.report()
        st = e2elib.status(self.state)
        self.assertNothingClaimedWithoutProof(report, st)
        self.assertInstances(st, {i: ("Succeeded", "Rebooted") for i in t + a})
        self.assertRateLimitsHeld(report)
        # The faults hit reboot calls on both sides of the effect, on both clouds.
        hit = {}
        for p, action in (("tencent", "RebootInstances"), ("aliyun", "RebootInstance")):
            for kind, n in reboot_faults(report, p, action).items():
                hit[kind] = hit.get(kind, 0) + n
        self.assertEqual(set(hit), set(kinds), hit)
        # Some instance with history went through an unanswered call that had done nothing, and
        # was called again only because it was watched closely enough to know (attempts 2).
        history = set(t[0::2]) | set(a[0::2])
        again = [i for i, (_, s) in e2elib.instance_map(st).items()
                 if i in history and s["attempts"] == 2]
        self.assertTrue(again, "no instance with history was resolved as not applied")

    def test_hangs_on_a_fleet_with_history(self):
        # A hung call costs the client's HTTP timeout (30 s): hangs are on until the first reboot
        # call of each provider hung (before the effect on Tencent, after it on Aliyun).
        t = e2elib.tencent_ids(60, "hsh")
        a = e2elib.aliyun_ids(6, "bphsh")
        tencent = [(i, "RUNNING", "RebootInstances", "SUCCESS") for i in t[:30]] + \
                  [(i, "RUNNING") for i in t[30:]]
        aliyun = [(i, "cn-hangzhou", "Running", recent_start(10)) for i in a]
        sim = self.simulator(tencent=tencent, aliyun=aliyun, reboot_seconds=2.0,
                             reboot_jitter=0.3, seed=5,
                             faults=["hang:tencent.RebootInstances=1",
                                     "hang-after:aliyun.RebootInstance=1"])
        e2elib.write_manifests(os.path.join(self.manifests, "fleet.yaml"), [
            manifest("web", "tencent", t), manifest("db", "aliyun", a, region="cn-hangzhou")])
        log_path = os.path.join(self.work, "rebootd.log")
        proc = e2elib.start_rebootd(sim, self.manifests, self.state, log_path)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())

        def both_hung():
            r = sim.report()
            return (reboot_faults(r, "tencent", "RebootInstances").get("hang", 0) > 0 and
                    reboot_faults(r, "aliyun", "RebootInstance").get("hang-after", 0) > 0)
        e2elib.wait_for(both_hung, 30, what="a hung reboot call on each provider", log=log_path)
        set_faults(sim, [])
        rc = proc.wait(timeout=150)
        self.assertEqual(rc, 0, e2elib.tail(log_path))
        report = sim.report()
        st = e2elib.status(self.state)
        self.assertNothingClaimedWithoutProof(report, st)
        self.assertInstances(st, {i: ("Succeeded", "Rebooted") for i in t + a})
        self.assertRebootedExactlyOnce(report, t + a)

    def test_restart_after_an_outage_longer_than_a_reboot(self):
        # Two kill -9s while a reboot call hangs: once after the call took effect (request a,
        # resolved by the next start), once before (request b, resolved by the last start). Each
        # time rebootd stays down longer than a reboot. An instance whose history already showed
        # a finished reboot cannot be proven either way: RebootUnverified, and no second call. A
        # fresh instance is decided by its evidence: rebooted, or not applied and sent once more.
        hist_a, fresh_a = "ein-hstouta1", "ein-frsouta1"
        hist_b, fresh_b = "ein-hstoutb1", "ein-frsoutb1"
        sim = self.simulator(tencent=[(hist_a, "RUNNING", "RebootInstances", "SUCCESS"),
                                      (fresh_a, "RUNNING"),
                                      (hist_b, "RUNNING", "RebootInstances", "SUCCESS"),
                                      (fresh_b, "RUNNING")],
                             reboot_seconds=1.0, reboot_jitter=0.2, seed=9,
                             faults=["hang-after:tencent.RebootInstances=1"])
        log_path = os.path.join(self.work, "rebootd.log")

        def crash_while_hung(kind):
            # Until the kill, rebootd must not look at the instances after its call: if it saw
            # one REBOOTING, it would rightly know more than an outage leaves it. A slow poll
            # (and close watch: a third of --min-reboot-duration) keeps the first look after the
            # call minutes away, however slowly this machine or a sanitizer runs; the baseline
            # look before the call is not paced by the interval.
            normal_min_reboot_ms, sim.min_reboot_ms = sim.min_reboot_ms, 600_000
            proc = e2elib.start_rebootd(sim, self.manifests, self.state, log_path,
                                        poll_interval="1h")
            sim.min_reboot_ms = normal_min_reboot_ms  # the last start judges with the usual one
            e2elib.wait_for(
                lambda: reboot_faults(sim.report(), "tencent", "RebootInstances").get(kind, 0) > 0,
                30, what="a %s reboot call" % kind, log=log_path)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            time.sleep(3.0)  # the outage: three times the longest reboot

        e2elib.write_manifests(os.path.join(self.manifests, "a.yaml"),
                               [manifest("a", "tencent", [hist_a, fresh_a])])
        crash_while_hung("hang-after")
        set_faults(sim, [{"kind": "hang", "action": "tencent.RebootInstances",
                          "probability": 1}])
        e2elib.write_manifests(os.path.join(self.manifests, "b.yaml"),
                               [manifest("b", "tencent", [hist_b, fresh_b], mode="Hard")])
        crash_while_hung("hang")
        set_faults(sim, [])
        calls_before = sim.report()["providers"]["tencent"]["actions"]["RebootInstances"]["calls"]
        self.run_rebootd(sim, expect_rc=1)
        report = sim.report()
        st = e2elib.status(self.state)
        self.assertNothingClaimedWithoutProof(report, st)
        self.assertInstances(st, {hist_a: ("Failed", "RebootUnverified"),
                                  hist_b: ("Failed", "RebootUnverified"),
                                  fresh_a: ("Succeeded", "Rebooted"),
                                  fresh_b: ("Succeeded", "Rebooted")})
        counts = e2elib.reboots(report)
        self.assertEqual(counts.get(hist_a, 0), 1)  # its call took effect before the crash
        self.assertEqual(counts.get(hist_b, 0), 0)  # its call never took effect
        # After the restart, the only call is the one for fresh_b (not applied, sent again).
        calls_after = report["providers"]["tencent"]["actions"]["RebootInstances"]["calls"]
        self.assertEqual(calls_after - calls_before, 1)
        msg = e2elib.instance_map(st)[hist_b][1]["message"]
        self.assertIn("RebootInstances:SUCCESS", msg)
        self.assertIn("not rebooted again", msg)


if __name__ == "__main__":
    unittest.main(verbosity=2)
