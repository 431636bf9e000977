# SPDX-License-Identifier: Apache-2.0
"""End-to-end scenarios: rebootd against rebootd-cloudsim over loopback.

Each test asserts from the simulator's report (who was rebooted how often, calls per action,
throttled calls, the busiest second) and from `rebootd status -o json` (per-instance state and
reason), never from log text alone.
"""

import json
import os
import re
import signal
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib  # noqa: E402
from e2elib import manifest  # noqa: E402


class Scenarios(e2elib.E2ETestCase):

    def test_mixed_providers_several_requests(self):
        t = e2elib.tencent_ids(24, "mix")
        hz = e2elib.aliyun_ids(4, "bpmix")
        sh = e2elib.aliyun_ids(3, "ufmix")
        sim = self.simulator(tencent=[(i, "RUNNING") for i in t],
                             aliyun=[(i, "cn-hangzhou", "Running") for i in hz] +
                             [(i, "cn-shanghai", "Running") for i in sh],
                             reboot_seconds=0.6, reboot_jitter=0.3)
        e2elib.write_manifests(os.path.join(self.manifests, "tencent.yaml"), [
            manifest("web-a", "tencent", t[:8]),
            manifest("web-b", "tencent", t[8:16], region="ap-guangzhou"),
            manifest("web-hard", "tencent", t[16:], mode="Hard"),
        ])
        e2elib.write_manifests(os.path.join(self.manifests, "aliyun.yaml"), [
            manifest("db-hz", "aliyun", hz, region="cn-hangzhou"),
            manifest("db-sh", "aliyun", sh, region="cn-shanghai", mode="Hard", namespace="other"),
        ])
        self.run_rebootd(sim, expect_rc=0)
        report = sim.report()
        st = e2elib.status(self.state)
        self.assertEqual(set(st), {"e2e/web-a", "e2e/web-b", "e2e/web-hard", "e2e/db-hz",
                                   "other/db-sh"})
        self.assertPhases(st, {k: "Succeeded" for k in st})
        self.assertInstances(st, {i: ("Succeeded", None) for i in t + hz + sh})
        for _, inst in e2elib.instance_map(st).values():
            self.assertEqual(inst["attempts"], 1, inst)
            self.assertTrue(inst.get("requestId"), inst)
        for item in st.values():
            self.assertEqual(item["status"]["summary"]["succeeded"],
                             len(item["spec"]["instanceIds"]))
        self.assertRebootedExactlyOnce(report, t + hz + sh)
        self.assertRateLimitsHeld(report)
        self.assertNoAuthFailures(report)
        tc = report["providers"]["tencent"]["actions"]["RebootInstances"]
        # Batching across requests: the 16 Soft IDs of two requests share calls; Hard goes apart.
        self.assertLessEqual(tc["calls"], 3, tc)
        self.assertEqual(report["providers"]["aliyun"]["actions"]["RebootInstance"]["calls"],
                         len(hz) + len(sh))

    def test_dry_run_reboots_nothing(self):
        t = e2elib.tencent_ids(5, "dry")
        a = e2elib.aliyun_ids(4, "bpdry")
        sim = self.simulator(tencent=[(i, "RUNNING") for i in t[:4]] + [(t[4], "STOPPED")],
                             aliyun=[(i, "cn-hangzhou", "Running") for i in a[:2]] +
                             [(a[2], "cn-hangzhou", "Stopped"), (a[3], "cn-hangzhou", "Locked")])
        missing_t, missing_a = "ein-drynothere1", "i-bpdrynothere000001"
        e2elib.write_manifests(os.path.join(self.manifests, "dry.yaml"), [
            manifest("dry-t", "tencent", t + [missing_t], dry_run=True),
            manifest("dry-a", "aliyun", a + [missing_a], region="cn-hangzhou", dry_run=True,
                     mode="Hard"),
        ])
        self.run_rebootd(sim, expect_rc=1)
        report = sim.report()
        self.assertEqual(report["totals"]["reboots"], 0)
        self.assertEqual(e2elib.reboots(report), {})
        # ECM has no dry run: nothing may be sent to RebootInstances at all.
        self.assertEqual(report["providers"]["tencent"]["actions"]["RebootInstances"]["calls"], 0)
        st = e2elib.status(self.state)
        expected = {i: ("Succeeded", "DryRunPassed") for i in t[:4] + a[:2]}
        expected.update({t[4]: ("Failed", "NotRunning"), missing_t: ("Failed", "InstanceNotFound"),
                         a[2]: ("Failed", "NotRunning"), a[3]: ("Failed", "InstanceLocked"),
                         missing_a: ("Failed", "InstanceNotFound")})
        self.assertInstances(st, expected)
        self.assertPhases(st, {"e2e/dry-t": "Failed", "e2e/dry-a": "Failed"})
        self.assertRateLimitsHeld(report)
        # Nothing changed state in the cloud.
        inst = sim.instances()
        self.assertTrue(all(i["state"] in ("RUNNING", "STOPPED") for i in inst["tencent"]))

    def test_bad_instances_fail_good_ones_succeed(self):
        good_t = e2elib.tencent_ids(40, "bad")
        stopped_t, missing_t = "ein-badstopped01", "ein-badmissing01"
        good_a = e2elib.aliyun_ids(3, "bpbad")
        stopped_a, locked_a, missing_a = ("i-bpbadstopped0000001", "i-bpbadlocked00000001",
                                          "i-bpbadmissing0000001")
        sim = self.simulator(
            tencent=[(i, "RUNNING") for i in good_t] + [(stopped_t, "STOPPED")],
            aliyun=[(i, "cn-hangzhou", "Running") for i in good_a] +
            [(stopped_a, "cn-hangzhou", "Stopped"), (locked_a, "cn-hangzhou", "Locked")])
        # One Tencent request whose single batch holds a nonexistent and a stopped ID.
        ids = good_t[:20] + [missing_t] + good_t[20:30] + [stopped_t] + good_t[30:]
        e2elib.write_manifests(os.path.join(self.manifests, "bad.yaml"), [
            manifest("batch", "tencent", ids),
            manifest("ecs", "aliyun", [good_a[0], stopped_a, good_a[1], locked_a, missing_a,
                                       good_a[2]], region="cn-hangzhou"),
        ])
        self.run_rebootd(sim, expect_rc=1)
        report = sim.report()
        st = e2elib.status(self.state)
        expected = {i: ("Succeeded", None) for i in good_t + good_a}
        expected.update({stopped_t: ("Failed", "NotRunning"),
                         missing_t: ("Failed", "InstanceNotFound"),
                         stopped_a: ("Failed", "NotRunning"),
                         locked_a: ("Failed", "InstanceLocked"),
                         missing_a: ("Failed", "InstanceNotFound")})
        self.assertInstances(st, expected)
        self.assertPhases(st, {"e2e/batch": "Failed", "e2e/ecs": "Failed"})
        self.assertRebootedExactlyOnce(report, good_t + good_a,
                                       [stopped_t, missing_t, stopped_a, locked_a, missing_a])
        self.assertRateLimitsHeld(report)
        tc = report["providers"]["tencent"]["actions"]["RebootInstances"]
        # The error names the culprits: one failed call per error class, then one good call.
        self.assertLessEqual(tc["calls"], 4, tc)
        self.assertEqual(tc["effects"], 1, tc)
        self.assertEqual(tc["batch_sizes"], {str(len(good_t)): 1}, tc)
        messages = {i: s["message"] for i, (_, s) in e2elib.instance_map(st).items()}
        self.assertIn(missing_t, messages[missing_t])
        self.assertIn("STOPPED", messages[stopped_t])

    def test_soft_first_on_aliyun(self):
        a = e2elib.aliyun_ids(6, "bpsoft")
        sim = self.simulator(aliyun=[(i, "cn-hangzhou", "Running") for i in a],
                             reboot_seconds=0.8, reboot_jitter=0.2)
        e2elib.write_manifests(os.path.join(self.manifests, "soft.yaml"), [
            manifest("soft-first", "aliyun", a, region="cn-hangzhou", mode="SoftFirst",
                     timeout_seconds=60)])
        self.run_rebootd(sim, expect_rc=0)
        report = sim.report()
        st = e2elib.status(self.state)
        self.assertInstances(st, {i: ("Succeeded", None) for i in a})
        # The soft reboot finished well within timeoutSeconds/3: no escalation, one call each.
        self.assertRebootedExactlyOnce(report, a)
        self.assertEqual(report["providers"]["aliyun"]["actions"]["RebootInstance"]["calls"],
                         len(a))
        for _, inst in e2elib.instance_map(st).values():
            self.assertEqual(inst["attempts"], 1, inst)
        self.assertRateLimitsHeld(report)

    def test_too_short_timeout_fails_with_timeout(self):
        t = e2elib.tencent_ids(3, "slow")
        a = e2elib.aliyun_ids(2, "bpslow")
        sim = self.simulator(tencent=[(i, "RUNNING") for i in t],
                             aliyun=[(i, "cn-hangzhou", "Running") for i in a],
                             reboot_seconds=4, reboot_jitter=0)
        e2elib.write_manifests(os.path.join(self.manifests, "slow.yaml"), [
            manifest("slow-t", "tencent", t, timeout_seconds=1),
            manifest("slow-a", "aliyun", a, region="cn-hangzhou", timeout_seconds=1),
        ])
        self.run_rebootd(sim, expect_rc=1)
        report = sim.report()
        st = e2elib.status(self.state)
        self.assertInstances(st, {i: ("Failed", "Timeout") for i in t + a})
        self.assertPhases(st, {"e2e/slow-t": "Failed", "e2e/slow-a": "Failed"})
        # The reboots were accepted once each; the deadline passed before they finished.
        self.assertRebootedExactlyOnce(report, t + a)
        self.assertRateLimitsHeld(report)

    def test_secrets_never_leak(self):
        t = e2elib.tencent_ids(4, "sec")
        a = e2elib.aliyun_ids(2, "bpsec")
        sim = self.simulator(tencent=[(i, "RUNNING") for i in t] + [("ein-secstopped1", "STOPPED")],
                             aliyun=[(i, "cn-hangzhou", "Running") for i in a])
        e2elib.write_manifests(os.path.join(self.manifests, "sec.yaml"), [
            manifest("sec-t", "tencent", t + ["ein-secstopped1", "ein-secmissing1"]),
            manifest("sec-a", "aliyun", a + ["i-bpsecmissing0000001"], region="cn-hangzhou"),
        ])
        log_path = os.path.join(self.work, "rebootd.log")
        # Daemon mode (no --until-done) with debug logs, metrics on a loopback port.
        proc = e2elib.start_rebootd(sim, self.manifests, self.state, log_path, until_done=False,
                                    metrics="127.0.0.1:0",
                                    extra=["--log-level", "debug", "--log-format", "json",
                                           "--progress-interval", "200ms"])
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        port = e2elib.wait_for(
            lambda: (re.findall(r"metrics=(\d+)", e2elib.tail(log_path)) or [None])[0], 15,
            what="the metrics port in the log")
        # The start-up line counts requests (two in one file), not manifest paths.
        self.assertRegex(e2elib.tail(log_path), r"running source=files requests=2 paths=1 ")

        def finished():
            try:
                st = e2elib.status(self.state)
            except AssertionError:
                return False
            return len(st) == 2 and all(i["status"].get("phase") in ("Succeeded", "Failed")
                                        for i in st.values())
        e2elib.wait_for(finished, 60, what="both requests finished", log=log_path)
        metrics = e2elib.http_get("http://127.0.0.1:%s/metrics" % port)
        self.assertIn("rebootd_cloud_api_requests_total", metrics)
        self.assertIn("rebootd_instance_reboots_total", metrics)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
        st = e2elib.status(self.state)
        self.assertInstances(st, {i: ("Succeeded", None) for i in t + a})
        self.assertInstances(st, {"ein-secstopped1": ("Failed", "NotRunning"),
                                  "ein-secmissing1": ("Failed", "InstanceNotFound"),
                                  "i-bpsecmissing0000001": ("Failed", "InstanceNotFound")})
        report = sim.report()
        self.assertRebootedExactlyOnce(report, t + a, ["ein-secstopped1"])
        self.assertRateLimitsHeld(report)
        self.assertNoAuthFailures(report)
        with open(log_path, errors="replace") as f:
            log = f.read()
        self.assertIn("InstanceNotFound", log)  # the error paths were logged
        # Under --log-format json every line is a JSON object, progress lines included (with
        # typed fields), and no value carries punctuation from the text form.
        progress = []
        for line in log.splitlines():
            if not line.strip():
                continue
            entry = json.loads(line)
            self.assertIn("msg", entry, line)
            for key, value in entry.items():
                if isinstance(value, str) and key != "msg":
                    self.assertFalse(value.endswith((";", ",")), "%s in %s" % (key, line))
            if entry.get("logger") == "progress":
                progress.append(entry)
        self.assertTrue(progress, "no progress lines in the JSON log")
        for entry in progress:
            self.assertIsInstance(entry["done"], int)
            self.assertIsInstance(entry["total"], int)
            self.assertIn(entry["request"], ("e2e/sec-t", "e2e/sec-a"))
        places = {"log": log, "metrics": metrics,
                  "status": str(st)}
        for root, _, files in os.walk(self.state):
            for name in files:
                with open(os.path.join(root, name), "rb") as f:
                    places[os.path.join(root, name)] = f.read().decode("utf-8", "replace")
        for where, text in places.items():
            for secret in e2elib.SECRETS:
                self.assertNotIn(secret, text, "secret found in %s" % where)
            self.assertNotRegex(text, r"Signature=[A-Za-z0-9%+/=]{16,}", where)


if __name__ == "__main__":
    unittest.main(verbosity=2)
