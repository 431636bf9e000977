# SPDX-License-Identifier: Apache-2.0
"""End-to-end SoftFirst escalation on Aliyun: rebootd against rebootd-cloudsim whose soft reboots
hang for chosen instances (fault `soft-stuck`: the OS ignores the ACPI shutdown, the instance
stays Stopping until a ForceStop=true call).

SoftFirst must make exactly one extra call (ForceStop=true) for each stuck instance, after the
soft timeout (timeoutSeconds/3), and none for the others; Soft mode must never escalate and
lets a stuck instance fail with Timeout. Asserted from the simulator's per-call log
(`reboot_calls`: ForceStop of every RebootInstance call per instance) and from
`rebootd status -o json`.
"""

import datetime
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib  # noqa: E402
from e2elib import manifest  # noqa: E402

SOFT_OK = {"force_stop": False, "dry_run": False, "code": "OK"}
FORCE_OK = {"force_stop": True, "dry_run": False, "code": "OK"}


def stuck_fault(ids):
    return "soft-stuck:aliyun.RebootInstance@%s=1" % ",".join(ids)


def parse_time(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


class Escalation(e2elib.E2ETestCase):

    def reboot_calls(self, report):
        return report["providers"]["aliyun"]["reboot_calls"]

    def test_soft_first_escalates_stuck_instances_exactly_once(self):
        a = e2elib.aliyun_ids(8, "bpesc")
        stuck, fine = a[:3], a[3:]
        sim = self.simulator(aliyun=[(i, "cn-hangzhou", "Running") for i in a],
                             reboot_seconds=0.5, reboot_jitter=0.2, seed=5,
                             faults=[stuck_fault(stuck)])
        # timeoutSeconds=6: the soft timeout is 2 s, far above the 0.6 s a good reboot takes.
        e2elib.write_manifests(os.path.join(self.manifests, "soft-first.yaml"), [
            manifest("soft-first", "aliyun", a, region="cn-hangzhou", mode="SoftFirst",
                     timeout_seconds=6)])
        run = self.run_rebootd(sim, expect_rc=0, timeout=40)
        report = sim.report()
        st = e2elib.status(self.state)
        self.assertPhases(st, {"e2e/soft-first": "Succeeded"})
        self.assertInstances(st, {i: ("Succeeded", None) for i in a})

        # The simulator saw one soft call per instance, then one ForceStop=true call for each
        # stuck instance and nothing else.
        calls = self.reboot_calls(report)
        self.assertEqual(set(calls), set(a), calls)
        for i in stuck:
            self.assertEqual(calls[i], [SOFT_OK, FORCE_OK], i)
        for i in fine:
            self.assertEqual(calls[i], [SOFT_OK], i)
        action = report["providers"]["aliyun"]["actions"]["RebootInstance"]
        self.assertEqual(action["calls"], len(a) + len(stuck), action)
        self.assertEqual(action["faults"], {"soft-stuck": len(stuck)}, action)
        # One stop/start cycle per instance: the forced call completed the stuck reboot.
        self.assertRebootedExactlyOnce(report, a)
        self.assertTrue(all(i["status"] == "Running" for i in sim.instances()["aliyun"]))
        self.assertRateLimitsHeld(report)
        self.assertNoAuthFailures(report)

        # Status: escalated and two attempts for the stuck ones only.
        insts = {i: s for i, (_, s) in e2elib.instance_map(st).items()}
        started = parse_time(st["e2e/soft-first"]["status"]["startedAt"])
        for i in stuck:
            self.assertTrue(insts[i].get("escalated"), insts[i])
            self.assertEqual(insts[i]["attempts"], 2, insts[i])
            self.assertTrue(insts[i].get("requestId"), insts[i])
            # The escalation intent was written no earlier than the soft timeout allows
            # (timeoutSeconds/3 after the soft call was accepted, itself after the start).
            escalated_at = parse_time(insts[i]["requestedAt"])
            self.assertGreaterEqual((escalated_at - started).total_seconds(), 1.9, insts[i])
        for i in fine:
            self.assertFalse(insts[i].get("escalated", False), insts[i])
            self.assertEqual(insts[i]["attempts"], 1, insts[i])
        # The Escalated hook fired once per stuck instance (logged as a warning in file mode).
        for i in a:
            lines = [ln for ln in run.output.splitlines()
                     if "escalating to a forced reboot" in ln and i in ln]
            self.assertEqual(len(lines), 1 if i in stuck else 0, "%s: %s" % (i, lines))

    def test_soft_mode_never_escalates_and_times_out(self):
        a = e2elib.aliyun_ids(5, "bpstk")
        stuck, fine, hard = a[:2], a[2:4], a[4]
        # The stuck list includes the Hard instance: a forced reboot is never stuck.
        sim = self.simulator(aliyun=[(i, "cn-hangzhou", "Running") for i in a],
                             reboot_seconds=0.5, reboot_jitter=0.0,
                             faults=[stuck_fault(stuck + [hard])])
        e2elib.write_manifests(os.path.join(self.manifests, "soft.yaml"), [
            manifest("soft", "aliyun", stuck + fine, region="cn-hangzhou", mode="Soft",
                     timeout_seconds=3),
            manifest("hard", "aliyun", [hard], region="cn-hangzhou", mode="Hard",
                     timeout_seconds=3)])
        self.run_rebootd(sim, expect_rc=1, timeout=40)
        report = sim.report()
        st = e2elib.status(self.state)
        self.assertPhases(st, {"e2e/soft": "Failed", "e2e/hard": "Succeeded"})
        expected = {i: ("Failed", "Timeout") for i in stuck}
        expected.update({i: ("Succeeded", None) for i in fine + [hard]})
        self.assertInstances(st, expected)
        insts = {i: s for i, (_, s) in e2elib.instance_map(st).items()}
        for i in stuck:
            self.assertIn("Stopping", insts[i].get("message", ""), insts[i])
        for i in a:
            self.assertEqual(insts[i]["attempts"], 1, insts[i])
            self.assertFalse(insts[i].get("escalated", False), insts[i])

        calls = self.reboot_calls(report)
        for i in stuck + fine:
            self.assertEqual(calls.get(i), [SOFT_OK], i)
        self.assertEqual(calls.get(hard), [FORCE_OK])
        action = report["providers"]["aliyun"]["actions"]["RebootInstance"]
        self.assertEqual(action["calls"], len(a), action)
        self.assertEqual(action["faults"], {"soft-stuck": len(stuck)}, action)
        self.assertRebootedExactlyOnce(report, a)
        # The stuck instances are still Stopping: nobody forced them.
        status = {i["id"]: i["status"] for i in sim.instances()["aliyun"]}
        self.assertEqual({i: status[i] for i in stuck}, {i: "Stopping" for i in stuck})
        self.assertEqual({i: status[i] for i in fine + [hard]},
                         {i: "Running" for i in fine + [hard]})
        self.assertRateLimitsHeld(report)
        self.assertNoAuthFailures(report)


if __name__ == "__main__":
    unittest.main(verbosity=2)
