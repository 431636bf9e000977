# SPDX-License-Identifier: Apache-2.0
"""A full state directory: rebootd runs with a file-size limit of one byte (RLIMIT_FSIZE), so no
run record can be written, as on a full disk. No reboot call may be made (an intent must be
durable first); the failures must show in the log and in rebootd_record_write_failures_total;
and once the limit is lifted (prlimit on the running process, as if space was freed) the run
must resume by itself, reboot every instance exactly once and record the outage in the
RecordWriteFailed condition.
"""

import os
import re
import resource
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib  # noqa: E402
from e2elib import manifest  # noqa: E402


class Disk(e2elib.E2ETestCase):

    def test_full_state_directory_holds_calls_and_the_run_resumes(self):
        t = e2elib.tencent_ids(30, "disk")
        a = e2elib.aliyun_ids(6, "bpdisk")
        sim = self.simulator(tencent=[(i, "RUNNING") for i in t],
                             aliyun=[(i, "cn-hangzhou", "Running") for i in a])
        e2elib.write_manifests(os.path.join(self.manifests, "disk.yaml"), [
            manifest("disk-t", "tencent", t),
            manifest("disk-a", "aliyun", a, region="cn-hangzhou"),
        ])
        args = e2elib.rebootd_args(sim, self.manifests, self.state, metrics="127.0.0.1:0")
        args.append("--until-done")

        def full_disk():
            resource.setrlimit(resource.RLIMIT_FSIZE, (1, resource.RLIM_INFINITY))
        # Output through a pipe: the size limit applies to regular files only.
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                env=e2elib.rebootd_env(), preexec_fn=full_disk, text=True,
                                errors="replace")
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        lines = []
        reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
        reader.start()
        port = e2elib.wait_for(
            lambda: (re.findall(r"metrics=(\d+)", "".join(lines)) or [None])[0], 15,
            what="the metrics port in the log")

        def failures():
            text = e2elib.http_get("http://127.0.0.1:%s/metrics" % port)
            m = re.search(r"^rebootd_record_write_failures_total (\S+)$", text, re.M)
            return float(m.group(1)) if m and float(m.group(1)) >= 3 else None
        e2elib.wait_for(failures, 30, what="three failed record writes")
        time.sleep(2)
        report = sim.report()
        calls = sum(report["providers"][p]["actions"][act]["calls"]
                    for p, act in (("tencent", "RebootInstances"), ("aliyun", "RebootInstance")))
        self.assertEqual(calls, 0, "a reboot call was made without a durable intent")
        self.assertTrue(any("RecordWriteFailed" in l for l in lines), "".join(lines[-20:]))

        # Space again: the run resumes with no restart and no help.
        resource.prlimit(proc.pid, resource.RLIMIT_FSIZE,
                         (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        self.assertEqual(proc.wait(timeout=90), 0, "".join(lines[-30:]))
        reader.join(5)
        proc.stdout.close()
        st = e2elib.status(self.state)
        self.assertInstances(st, {i: ("Succeeded", None) for i in t + a})
        report = sim.report()
        self.assertRebootedExactlyOnce(report, t + a)
        self.assertRateLimitsHeld(report)
        for key in ("e2e/disk-t", "e2e/disk-a"):
            conds = {c["type"]: c for c in st[key]["status"]["conditions"]}
            self.assertIn("RecordWriteFailed", conds, key)
            self.assertEqual(conds["RecordWriteFailed"]["status"], "False")
            self.assertEqual(conds["RecordWriteFailed"]["reason"], "Recovered")


if __name__ == "__main__":
    unittest.main(verbosity=2)
