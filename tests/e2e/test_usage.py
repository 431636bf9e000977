# SPDX-License-Identifier: Apache-2.0
"""Usage errors from the built binaries: every numeric flag out of its range exits 2 with a
message that names the flag, and nothing is started (no state directory is written)."""

import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import e2elib  # noqa: E402


class Usage(unittest.TestCase):
    def run_binary(self, args):
        return subprocess.run(args, capture_output=True, text=True, timeout=20,
                              env=e2elib.clean_env())

    def test_rebootd_numeric_flags_out_of_range_exit_2(self):
        state = tempfile.mkdtemp(prefix="usage-")
        base = [e2elib.REBOOTD, "run", "--manifests", os.path.join(e2elib.REPO, "examples"),
                "--state-dir", os.path.join(state, "s"), "--until-done"]
        cases = [
            (["--rate-limit", "tencent.RebootInstances=1e-12"], "tencent.RebootInstances=1e-12"),
            (["--rate-limit", "aliyun.RebootInstance=5000"], "aliyun.RebootInstance=5000"),
            (["--poll-interval", "1ms"], "--poll-interval"),
            (["--poll-interval", "999999h"], "--poll-interval"),
            (["--min-reboot-duration", "0s"], "--min-reboot-duration"),
            (["--progress-interval", "1ns"], "duration"),
            (["--progress-interval", "48h"], "--progress-interval"),
            (["--simulate", "--sim-reboot-seconds", "1e300"], "--sim-reboot-seconds"),
            (["--simulate", "--sim-reboot-seconds", "-1"], "--sim-reboot-seconds"),
        ]
        for extra, named in cases:
            with self.subTest(extra=extra):
                r = self.run_binary(base + extra)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn(named, r.stderr)
                self.assertFalse(os.path.exists(os.path.join(state, "s")))

    def test_cloudsim_numeric_flags_out_of_range_exit_2(self):
        base = [e2elib.CLOUDSIM, "--listen", "127.0.0.1:0"]
        cases = [
            (["--reboot-seconds", "1e300"], "--reboot-seconds"),
            (["--reboot-seconds", "0"], "--reboot-seconds"),
            (["--reboot-jitter", "1"], "--reboot-jitter"),
            (["--history-fraction", "1.5"], "--history-fraction"),
            (["--tencent-instances", "-1"], "--tencent-instances"),
            (["--tencent-instances", "99999999999"], "--tencent-instances"),
            (["--seed", "x"], "--seed"),
            (["--rate-limit", "tencent.RebootInstances=99999999"], "--rate-limit"),
        ]
        for extra, named in cases:
            with self.subTest(extra=extra):
                r = self.run_binary(base + extra)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn(named, r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
