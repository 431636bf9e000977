# SPDX-License-Identifier: Apache-2.0
"""End-to-end process lifecycle: SIGTERM in the middle of a run and a restart on the same state
dir; the malformed-manifest corpus dropped into a watched --manifests folder of a running daemon.
"""

import glob
import os
import re
import shutil
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib  # noqa: E402
from e2elib import manifest  # noqa: E402

CORPUS = os.path.join(e2elib.REPO, "tests", "pkg", "api", "testdata", "malformed")


def expected_error(path):
    """The corpus convention: the first line is '# expect: TEXT'."""
    with open(path, "rb") as f:
        first = f.readline().decode("utf-8", "replace").strip()
    m = re.match(r"#\s*expect:\s*(.+)$", first)
    if not m:
        raise AssertionError("%s: no '# expect:' first line" % path)
    return m.group(1)


class Lifecycle(e2elib.E2ETestCase):

    def test_sigterm_mid_run_then_restart_finishes_without_double_reboots(self):
        t = e2elib.tencent_ids(300, "term")
        a = e2elib.aliyun_ids(80, "bpterm")
        sim = self.simulator(tencent=[(i, "RUNNING") for i in t],
                             aliyun=[(i, "cn-hangzhou", "Running") for i in a],
                             reboot_seconds=1.5, reboot_jitter=0.3, seed=3)
        e2elib.write_manifests(os.path.join(self.manifests, "term.yaml"), [
            manifest("web", "tencent", t[:150]),
            manifest("web-hard", "tencent", t[150:], mode="Hard"),
            manifest("db", "aliyun", a, region="cn-hangzhou"),
        ])
        log_path = os.path.join(self.work, "rebootd.log")
        proc = e2elib.start_rebootd(sim, self.manifests, self.state, log_path)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())

        # Aliyun reboots go out one call at a time at 20/s: stop somewhere in the middle.
        def mid_run():
            n = sim.report()["providers"]["aliyun"]["total_reboots"]
            return 10 <= n < len(a) - 10
        e2elib.wait_for(mid_run, 30, interval=0.05, what="aliyun reboots under way", log=log_path)
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=10)
        except Exception:
            self.fail("rebootd did not exit within 10 s of SIGTERM:\n" + e2elib.tail(log_path))
        took = time.monotonic() - sent
        self.assertGreaterEqual(rc, 0, "rebootd died of a signal: %d" % rc)
        self.assertIn("SIGTERM", e2elib.tail(log_path))
        first = e2elib.status(self.state)
        unfinished = [i for i, (_, s) in e2elib.instance_map(first).items()
                      if s["state"] not in ("Succeeded", "Failed")]
        self.assertTrue(unfinished, "the run had already finished; SIGTERM came too late")
        report = sim.report()
        self.assertLess(report["providers"]["aliyun"]["total_reboots"], len(a))
        self.assertRebootedExactlyOnce(report, [i for i, n in e2elib.reboots(report).items()])

        # The restart resumes from the state dir and finishes everything. It waits out the
        # simulator's 1-second window first: rate limits hold per process, and the new process
        # cannot know how many calls the old one made in its last second.
        time.sleep(1.1)
        run = self.run_rebootd(sim, expect_rc=0, timeout=90)
        report = sim.report()
        st = e2elib.status(self.state)
        self.assertInstances(st, {i: ("Succeeded", None) for i in t + a})
        self.assertPhases(st, {k: "Succeeded" for k in st})
        self.assertRebootedExactlyOnce(report, t + a)
        self.assertRateLimitsHeld(report)
        self.assertLess(took, 10.0)
        self.assertNotIn("SIGTERM", run.output)

    def test_malformed_corpus_in_watched_folder(self):
        corpus = sorted(glob.glob(os.path.join(CORPUS, "*.yaml")))
        self.assertGreaterEqual(len(corpus), 20, "corpus missing at %s" % CORPUS)
        t = e2elib.tencent_ids(6, "mal")
        a = e2elib.aliyun_ids(2, "bpmal")
        sim = self.simulator(tencent=[(i, "RUNNING") for i in t],
                             aliyun=[(i, "cn-hangzhou", "Running") for i in a])
        # Half the corpus is there at start-up (initial scan); the rest is dropped in later
        # (the watcher), next to good manifests.
        early, late = corpus[::2], corpus[1::2]
        for path in early:
            shutil.copy(path, self.manifests)
        e2elib.write_manifests(os.path.join(self.manifests, "good-1.yaml"),
                               [manifest("good-1", "tencent", t[:3])])
        log_path = os.path.join(self.work, "rebootd.log")
        proc = e2elib.start_rebootd(sim, self.manifests, self.state, log_path, until_done=False)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())

        def phase(key):
            try:
                item = e2elib.status(self.state).get(key)
            except AssertionError:
                return None
            return item and item["status"].get("phase")
        e2elib.wait_for(lambda: phase("e2e/good-1") == "Succeeded", 30,
                        what="good-1 Succeeded", log=log_path)
        for path in late:
            shutil.copy(path, self.manifests)
        # An edit that breaks a good file must not stop the others either.
        e2elib.write_manifests(os.path.join(self.manifests, "good-2.yaml"), [
            manifest("good-2", "tencent", t[3:]),
            manifest("good-3", "aliyun", a, region="cn-hangzhou"),
        ])
        e2elib.wait_for(lambda: phase("e2e/good-2") == "Succeeded" and
                        phase("e2e/good-3") == "Succeeded", 30,
                        what="good-2 and good-3 Succeeded", log=log_path)

        def every_file_reported():
            log = e2elib.tail(log_path, 10 ** 7)
            return all(os.path.basename(p) in log for p in corpus)
        try:
            e2elib.wait_for(every_file_reported, 20, what="an error for every corpus file")
        finally:
            log = e2elib.tail(log_path, 10 ** 7)
        self.assertIsNone(proc.poll(), "the daemon exited:\n" + log[-4000:])
        for path in corpus:
            name = os.path.basename(path)
            lines = [line for line in log.splitlines() if name in line]
            self.assertTrue(lines, "no error logged for %s" % name)
            want = expected_error(path)
            self.assertTrue(any(want in line for line in lines),
                            "%s: expected %r in one of %s" % (name, want, lines))
            self.assertTrue(any(re.search(re.escape(name) + r":[1-9]\d*: ", line)
                                for line in lines),
                            "%s: error not in FILE:LINE: form: %s" % (name, lines))
            self.assertTrue(any("ERROR" in line or "error" in line for line in lines), lines)
        proc.send_signal(signal.SIGTERM)
        self.assertGreaterEqual(proc.wait(timeout=15), 0)
        st = e2elib.status(self.state)
        # 28-same-name-twice.yaml: both documents are valid on their own; as across files, the
        # first one is used (and the error says so). Every other corpus file starts nothing.
        self.assertEqual(set(st), {"e2e/good-1", "e2e/good-2", "e2e/good-3", "default/a"})
        self.assertEqual(st["default/a"]["spec"]["instanceIds"], ["ein-496721al"])
        report = sim.report()
        self.assertRebootedExactlyOnce(report, t + a)
        self.assertRateLimitsHeld(report)


if __name__ == "__main__":
    unittest.main(verbosity=2)
