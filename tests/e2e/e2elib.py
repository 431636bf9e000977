# SPDX-License-Identifier: Apache-2.0
"""Shared helpers for the end-to-end, crash and benchmark drivers.

Runs the built `rebootd` (env REBOOTD) against `rebootd-cloudsim` (env REBOOTD_CLOUDSIM) on
loopback: start the simulator on port 0 and read the port it prints, write inventories and
manifests, run or start rebootd with the demo keys, read the simulator's /_sim/report and
`rebootd status -o json`, and check the invariants every scenario shares (rebooted exactly
once, zero throttled calls, never more calls in a second than the limit).
Standard library plus python3-yaml only (Debian's interpreter).
"""

import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

import yaml

# "address" or "thread" when scripts/test.sh --sanitize built what these tests run.
SANITIZER = os.environ.get("REBOOTD_SANITIZE", "")

_REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
REBOOTD = os.environ.get("REBOOTD", os.path.join(_REPO, "build", "cmd", "rebootd", "rebootd"))
CLOUDSIM = os.environ.get(
    "REBOOTD_CLOUDSIM",
    os.path.join(_REPO, "build", "cmd", "rebootd-cloudsim", "rebootd-cloudsim"))
REPO = _REPO

# The demo pairs the simulator accepts when no key variables are set (pkg/sim/demo_credentials.h).
TENCENT_ID = "AKIDREBOOTDDEMO0000000000000000000000"
TENCENT_KEY = "rebootd-demo-tencent-secret-key"
ALIYUN_ID = "LTAI5tREBOOTDDEMO00000000"
ALIYUN_KEY = "rebootd-demo-aliyun-secret"
SECRETS = (TENCENT_KEY, ALIYUN_KEY)

_KEY_VARS = ("TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY", "TENCENTCLOUD_TOKEN",
             "ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
             "ALIBABA_CLOUD_SECURITY_TOKEN")


def clean_env():
    """The environment without any cloud key variable (the simulator then accepts the demo)."""
    env = {k: v for k, v in os.environ.items() if k not in _KEY_VARS}
    return env


def rebootd_env():
    env = clean_env()
    env.update({
        "TENCENTCLOUD_SECRET_ID": TENCENT_ID,
        "TENCENTCLOUD_SECRET_KEY": TENCENT_KEY,
        "ALIBABA_CLOUD_ACCESS_KEY_ID": ALIYUN_ID,
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": ALIYUN_KEY,
    })
    return env


def check_binaries():
    for path in (REBOOTD, CLOUDSIM):
        if not os.access(path, os.X_OK):
            raise RuntimeError("binary not found or not executable: %s (build it, or set "
                               "REBOOTD / REBOOTD_CLOUDSIM)" % path)


def tencent_ids(n, prefix="e2e"):
    """n distinct valid ECM IDs: ein- + lowercase alnum."""
    return ["ein-%s%05d" % (prefix, i) for i in range(1, n + 1)]


def aliyun_ids(n, prefix="bpe2e"):
    return ["i-%s%08d" % (prefix, i) for i in range(1, n + 1)]


def write_inventory(path, tencent=(), aliyun=()):
    """tencent: [(id, state)] or [(id, state, latestOperation, latestOperationState)];
    aliyun: [(id, region, state)] or [(id, region, state, startTime)]: the optional fields are the
    instance's history before the simulator started. Written as JSON (an accepted format)."""
    def t_entry(e):
        d = {"id": e[0], "state": e[1]}
        if len(e) > 2:
            d.update({"latestOperation": e[2], "latestOperationState": e[3]})
        return d

    def a_entry(e):
        d = {"id": e[0], "region": e[1], "state": e[2]}
        if len(e) > 3:
            d["startTime"] = e[3]
        return d
    doc = {"tencent": [t_entry(e) for e in tencent], "aliyun": [a_entry(e) for e in aliyun]}
    with open(path, "w") as f:
        json.dump(doc, f)
    return path


def manifest(name, provider, ids, namespace="e2e", region=None, mode=None, dry_run=None,
             timeout_seconds=None):
    spec = {"provider": provider, "instanceIds": list(ids)}
    if region is not None:
        spec["region"] = region
    if mode is not None:
        spec["mode"] = mode
    if dry_run is not None:
        spec["dryRun"] = dry_run
    if timeout_seconds is not None:
        spec["timeoutSeconds"] = timeout_seconds
    return {"apiVersion": "rebootd.io/v1alpha1", "kind": "RebootRequest",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def write_manifests(path, docs):
    """Writes one multi-document YAML file atomically (a watcher never sees half a file)."""
    tmp = os.path.join(os.path.dirname(path), "." + os.path.basename(path) + ".tmp")
    with open(tmp, "w") as f:
        yaml.safe_dump_all(docs, f, default_flow_style=None, sort_keys=False)
    os.rename(tmp, path)
    return path


def http_get(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode("utf-8", "replace")


class Simulator:
    """A rebootd-cloudsim process on 127.0.0.1:0. Use as a context manager."""

    def __init__(self, workdir, inventory=None, reboot_seconds=0.5, reboot_jitter=0.0, seed=1,
                 faults=(), rate_limits=None, tencent_instances=0, aliyun_instances=0,
                 extra=()):
        self.workdir = workdir
        args = [CLOUDSIM, "--listen", "127.0.0.1:0", "--reboot-seconds", str(reboot_seconds),
                "--reboot-jitter", str(reboot_jitter), "--seed", str(seed)]
        if inventory:
            args += ["--inventory", inventory]
        if tencent_instances:
            args += ["--tencent-instances", str(tencent_instances)]
        if aliyun_instances:
            args += ["--aliyun-instances", str(aliyun_instances)]
        for f in faults:
            args += ["--fault", f]
        for k, v in (rate_limits or {}).items():
            args += ["--rate-limit", "%s=%d" % (k, v)]
        args += list(extra)
        self.args = args
        # What rebootd must know of this cloud: the shortest time a reboot stays visible (the
        # shortest drawn duration, with a margin for scheduling on a loaded machine).
        self.min_reboot_ms = max(100, int(reboot_seconds * (1.0 - reboot_jitter) * 850))
        self.proc = None
        self.url = None
        self.log_path = os.path.join(workdir, "cloudsim.log")

    def start(self, timeout=15):
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=self._log,
                                     env=clean_env(), text=True)
        deadline = time.monotonic() + timeout
        line = ""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if ready:
                line = self.proc.stdout.readline()
                m = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
                if m:
                    self.url = m.group(1)
                    break
            if self.proc.poll() is not None:
                break
        if self.url is None:
            self.stop()
            raise RuntimeError("rebootd-cloudsim did not start (%r); log: %s" %
                               (line, open(self.log_path).read()))
        while time.monotonic() < deadline:
            try:
                if http_get(self.url + "/_sim/healthz", timeout=2).strip() == "ok":
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("rebootd-cloudsim at %s never became healthy" % self.url)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()
        if getattr(self, "_log", None):
            self._log.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def report(self):
        return json.loads(http_get(self.url + "/_sim/report", timeout=120))

    def instances(self):
        return json.loads(http_get(self.url + "/_sim/instances"))

    def endpoint_args(self):
        return ["--tencent-endpoint", self.url, "--aliyun-endpoint", self.url,
                "--min-reboot-duration", "%dms" % self.min_reboot_ms]


def rebootd_args(sim, manifests_dir, state_dir, poll_interval="300ms", extra=(), metrics="0"):
    progress = [] if "--progress-interval" in extra else ["--progress-interval", "0"]
    return ([REBOOTD, "run", "--manifests", manifests_dir, "--state-dir", state_dir,
             "--poll-interval", poll_interval, "--metrics-bind-address", metrics,
             "--health-probe-bind-address", "0"] + progress
            + sim.endpoint_args() + list(extra))


class Run:
    """The result of one rebootd process."""

    def __init__(self, returncode, stdout, stderr, seconds):
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.seconds = seconds

    @property
    def output(self):
        return self.stdout + self.stderr


def run_rebootd(sim, manifests_dir, state_dir, until_done=True, timeout=90, poll_interval="300ms",
                extra=()):
    args = rebootd_args(sim, manifests_dir, state_dir, poll_interval, extra)
    if until_done:
        args.append("--until-done")
    start = time.monotonic()
    p = subprocess.run(args, capture_output=True, text=True, env=rebootd_env(), timeout=timeout)
    return Run(p.returncode, p.stdout, p.stderr, time.monotonic() - start)


def start_rebootd(sim, manifests_dir, state_dir, log_path, until_done=True, poll_interval="300ms",
                  extra=(), metrics="0"):
    """Starts rebootd in the background with stdout+stderr appended to log_path."""
    args = rebootd_args(sim, manifests_dir, state_dir, poll_interval, extra, metrics)
    if until_done:
        args.append("--until-done")
    log = open(log_path, "a")
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=rebootd_env())
    log.close()
    return proc


def status(state_dir):
    """`rebootd status -o json` -> {"ns/name": RebootRequest object}."""
    p = subprocess.run([REBOOTD, "status", "--state-dir", state_dir, "-o", "json"],
                       capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise AssertionError("rebootd status failed (%d): %s" % (p.returncode, p.stderr))
    doc = json.loads(p.stdout)
    assert doc.get("kind") == "List", doc
    out = {}
    for item in doc["items"]:
        out["%s/%s" % (item["metadata"]["namespace"], item["metadata"]["name"])] = item
    return out


def instance_map(status_by_key):
    """{instance id: (request key, instance status)} across every request."""
    out = {}
    for key, item in status_by_key.items():
        for inst in item.get("status", {}).get("instances", []):
            out[inst["id"]] = (key, inst)
    return out


def reboots(report):
    """{id: reboots} across both providers."""
    out = {}
    for p in ("tencent", "aliyun"):
        out.update(report["providers"][p]["reboots"])
    return out


def wait_for(predicate, timeout, interval=0.1, what="condition", log=None):
    """Polls predicate() until it is truthy; on timeout fails with `what` and the tail of `log`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out after %.0fs waiting for %s%s" %
                         (timeout, what, "\n" + tail(log) if log else ""))


class Checks:
    """Assertions shared by every scenario; mix into a unittest.TestCase."""

    def assertRateLimitsHeld(self, report):
        if SANITIZER == "thread":
            # Under ThreadSanitizer the simulator itself runs 5-15x slower and stamps arrivals
            # when it gets to a request, not when it came: queued calls bunch up into one
            # "second" they were not sent in. What rebootd sends is checked by the normal
            # build's run of this same test (and the limiter's unit tests); here, only report.
            for p in ("tencent", "aliyun"):
                for action, a in report["providers"][p]["actions"].items():
                    if a["throttled"]:
                        print("note (TSan): %s.%s %d throttled of %d calls; arrival timing is "
                              "not asserted under TSan" % (p, action, a["throttled"], a["calls"]),
                              file=sys.stderr)
            return
        for p in ("tencent", "aliyun"):
            for action, a in report["providers"][p]["actions"].items():
                self.assertEqual(a["throttled"], 0, "%s.%s throttled calls" % (p, action))
                if a["rate_limit"]:
                    self.assertLessEqual(
                        a["max_calls_in_any_1s_window"], a["rate_limit"],
                        "%s.%s: %d calls in one second, limit %d" %
                        (p, action, a["max_calls_in_any_1s_window"], a["rate_limit"]))
        self.assertFalse(report["totals"]["max_calls_in_any_1s_window_exceeded_limit"])

    def assertNoAuthFailures(self, report):
        """Every call was signed correctly (a replayed Aliyun nonce would show up here)."""
        for p in ("tencent", "aliyun"):
            for action, a in report["providers"][p]["actions"].items():
                self.assertEqual(a["auth_failures"], 0, "%s.%s: %s" % (p, action, a["errors"]))

    def assertRebootedExactlyOnce(self, report, good_ids, bad_ids=()):
        counts = reboots(report)
        for i in good_ids:
            self.assertEqual(counts.get(i, 0), 1, "instance %s rebooted %d times" %
                             (i, counts.get(i, 0)))
        for i in bad_ids:
            self.assertEqual(counts.get(i, 0), 0, "bad instance %s was rebooted" % i)
        self.assertEqual(report["totals"]["instances_rebooted_more_than_once"], 0)

    def assertInstances(self, status_by_key, expected):
        """expected: {id: (state, reason or None)}."""
        got = instance_map(status_by_key)
        for i, (state, reason) in expected.items():
            self.assertIn(i, got, "instance %s missing from status" % i)
            inst = got[i][1]
            self.assertEqual(inst["state"], state, "instance %s: %s" % (i, inst))
            if reason is not None:
                self.assertEqual(inst.get("reason"), reason, "instance %s: %s" % (i, inst))

    def assertPhases(self, status_by_key, expected):
        for key, phase in expected.items():
            self.assertIn(key, status_by_key)
            self.assertEqual(status_by_key[key]["status"]["phase"], phase, key)


def tempdir(prefix):
    return tempfile.mkdtemp(prefix=prefix, dir=os.environ.get("TMPDIR"))


class E2ETestCase(unittest.TestCase, Checks):
    """A test case with a scratch directory (removed afterwards unless REBOOTD_E2E_KEEP is set)."""

    def setUp(self):
        check_binaries()
        self.work = tempdir("rebootd-e2e-%s-" % self._testMethodName)
        self.manifests = os.path.join(self.work, "manifests")
        self.state = os.path.join(self.work, "state")
        os.makedirs(self.manifests)
        if not os.environ.get("REBOOTD_E2E_KEEP"):
            self.addCleanup(shutil.rmtree, self.work, True)

    def simulator(self, tencent=(), aliyun=(), **kwargs):
        inventory = write_inventory(os.path.join(self.work, "inventory.json"), tencent, aliyun)
        sim = Simulator(self.work, inventory=inventory, **kwargs).start()
        self.addCleanup(sim.stop)
        return sim

    def run_rebootd(self, sim, expect_rc=None, **kwargs):
        run = run_rebootd(sim, self.manifests, self.state, **kwargs)
        with open(os.path.join(self.work, "rebootd-run.log"), "a") as f:
            f.write(run.output)
        if expect_rc is not None:
            self.assertEqual(run.returncode, expect_rc,
                             "rebootd exit code; output:\n" + run.output[-6000:])
        return run


def tail(path, n=6000):
    try:
        with open(path, errors="replace") as f:
            return f.read()[-n:]
    except OSError as e:
        return "(%s)" % e
