#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""End to end with the real Prometheus server (issue 5 section 5).

rebootd-cloudsim (with throttling faults and a few stopped instances) and rebootd run on
loopback; the real `prometheus` scrapes rebootd every second and loads
deploy/prometheus/rebootd-rules.yaml. RebootRequests are dropped into the watched folder in
three waves, so counters and histograms keep moving while Prometheus watches. Then:
  * every query of every panel of deploy/grafana/rebootd-dashboard.json, with the dashboard
    variables substituted ($job -> rebootd, $__rate_interval -> 1m), returns data through the
    HTTP API (range query over the run and instant query at the end, each with a finite value),
  * the job variable's query (label_values) lists "rebootd",
  * every alert rule was evaluated by the server without error,
  * `promtool check metrics` on rebootd's /metrics output reports nothing.

  e2e_prometheus.py --rebootd BIN --cloudsim BIN --prometheus BIN --promtool BIN --source-dir DIR
"""
import argparse
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

RATE_INTERVAL = "1m"
DEMO_ENV = {
    # The simulator's demo key pairs (README.md); the simulator accepts them when no others set.
    "TENCENTCLOUD_SECRET_ID": "AKIDREBOOTDDEMO0000000000000000000000",
    "TENCENTCLOUD_SECRET_KEY": "rebootd-demo-tencent-secret-key",
    "ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAI5tREBOOTDDEMO00000000",
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "rebootd-demo-aliyun-secret",
}

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL", msg, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def wait_until(what, pred, timeout, interval=0.2):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            if pred():
                return True
        except Exception as e:  # noqa: BLE001 - keep polling, remember the reason
            last = e
        time.sleep(interval)
    raise RuntimeError(f"timed out after {timeout}s waiting for {what} (last error: {last})")


def prom_api(base, path, **params):
    url = f"{base}/api/v1/{path}?" + urllib.parse.urlencode(params, doseq=True)
    try:
        body = json.loads(http_get(url, timeout=10))
    except urllib.error.HTTPError as e:
        body = json.loads(e.read().decode() or "{}")
    if body.get("status") != "success":
        raise RuntimeError(f"{path} {params}: {body.get('errorType')}: {body.get('error')}")
    return body["data"]


def scrape_value(text, name, labels=None):
    """Sum of the samples of `name` (optionally with label="value" pairs) in a text exposition."""
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name):
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)', line)
        if not m or m.group(1) != name:
            continue
        if labels and not all(f'{k}="{v}"' in (m.group(2) or "") for k, v in labels.items()):
            continue
        total += float(m.group(3))
    return total


def request_yaml(name, provider, ids, region=None, dry_run=False):
    lines = ["apiVersion: rebootd.io/v1alpha1", "kind: RebootRequest",
             f"metadata: {{name: {name}, namespace: observability}}", "spec:",
             f"  provider: {provider}"]
    if region:
        lines.append(f"  region: {region}")
    if dry_run:
        lines.append("  dryRun: true")
    lines.append("  timeoutSeconds: 60")
    lines.append("  instanceIds:")
    lines += [f"  - {i}" for i in ids]
    return "\n".join(lines) + "\n"


def panels_of(dashboard):
    for p in dashboard.get("panels", []):
        yield p
        for q in p.get("panels", []) or []:
            yield q


def substitute(expr):
    expr = expr.replace("$__rate_interval", RATE_INTERVAL).replace("${__rate_interval}", RATE_INTERVAL)
    expr = expr.replace("${job}", "rebootd").replace("$job", "rebootd")
    if "$" in expr:
        raise RuntimeError(f"unsubstituted variable left in {expr!r}")
    return expr


def finite_values(result):
    """Finite sample values of a vector or matrix result."""
    out = []
    for series in result:
        samples = series.get("values") or ([series["value"]] if "value" in series else [])
        for _, v in samples:
            f = float(v)
            if math.isfinite(f):
                out.append(f)
    return out


class Procs:
    def __init__(self):
        self.procs = []

    def start(self, name, cmd, log_dir, env=None):
        log = open(os.path.join(log_dir, f"{name}.log"), "w")
        p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                             start_new_session=True)
        self.procs.append((name, p, log))
        return p

    def stop_all(self):
        for name, p, log in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
            log.close()


def main():
    ap = argparse.ArgumentParser()
    for flag in ("--rebootd", "--cloudsim", "--prometheus", "--promtool", "--source-dir"):
        ap.add_argument(flag, required=True)
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args()
    for tool in (args.rebootd, args.cloudsim, args.prometheus, args.promtool):
        if not os.access(tool, os.X_OK):
            print(f"FAIL {tool} is missing (scripts/setup.sh installs prometheus)")
            return 1

    tmp = tempfile.mkdtemp(prefix="rebootd-obs-")
    procs = Procs()
    try:
        return run(args, tmp, procs)
    except Exception as e:  # noqa: BLE001 - report, show the logs, fail
        fail(f"{type(e).__name__}: {e}")
        return 1
    finally:
        procs.stop_all()
        if failures or args.keep:
            print(f"logs kept in {tmp}")
            for name in ("rebootd", "cloudsim", "prometheus"):
                path = os.path.join(tmp, f"{name}.log")
                if failures and os.path.exists(path):
                    print(f"--- last lines of {name}.log")
                    print("".join(open(path, errors="replace").readlines()[-25:]))
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def run(args, tmp, procs):
    t0 = time.time()
    src = os.path.abspath(args.source_dir)
    sim_port, metrics_port, health_port, prom_port = (free_port() for _ in range(4))
    manifests = os.path.join(tmp, "manifests")
    os.makedirs(manifests)

    # Inventory: a few stopped instances make failed reboots; everything else runs.
    tencent = [f"ein-obs{n:05d}" for n in range(1, 17)]
    aliyun = [f"i-obsaliyun{n:04d}" for n in range(1, 9)]
    stopped_t, stopped_a = tencent[-1], aliyun[-1]
    with open(os.path.join(tmp, "inventory.yaml"), "w") as f:
        f.write("tencent:\n")
        for i in tencent:
            f.write(f"  - {{id: {i}, state: {'STOPPED' if i == stopped_t else 'RUNNING'}}}\n")
        f.write("aliyun:\n")
        for i in aliyun:
            f.write(f"  - {{id: {i}, region: cn-hangzhou, state: {'Stopped' if i == stopped_a else 'Running'}}}\n")

    env = dict(os.environ, **DEMO_ENV)
    sim = f"http://127.0.0.1:{sim_port}"
    procs.start("cloudsim", [args.cloudsim, "--listen", f"127.0.0.1:{sim_port}",
                             "--inventory", os.path.join(tmp, "inventory.yaml"),
                             "--reboot-seconds", "2", "--seed", "7",
                             "--fault", "throttle:DescribeInstances=0.3",
                             "--fault", "throttle:DescribeInstanceStatus=0.3"], tmp, env)
    wait_until("rebootd-cloudsim", lambda: socket.create_connection(("127.0.0.1", sim_port), 1).close() is None, 15)

    # Wave 1 before rebootd starts.
    with open(os.path.join(manifests, "wave1.yaml"), "w") as f:
        f.write(request_yaml("wave1-tencent", "tencent", tencent[0:4]))
    rebootd = procs.start("rebootd", [
        args.rebootd, "run", "--manifests", manifests, "--state-dir", os.path.join(tmp, "state"),
        "--tencent-endpoint", sim, "--aliyun-endpoint", sim,
        "--metrics-bind-address", f"127.0.0.1:{metrics_port}",
        "--health-probe-bind-address", f"127.0.0.1:{health_port}",
        "--poll-interval", "1s", "--progress-interval", "0", "--log-level", "info"], tmp, env)
    metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
    wait_until("rebootd /metrics", lambda: "rebootd_build_info" in http_get(metrics_url), 15)
    wait_until("rebootd /readyz", lambda: http_get(f"http://127.0.0.1:{health_port}/readyz") == "ok", 15)

    # Prometheus: scrape every second, load the alert rules.
    rules = os.path.join(src, "deploy/prometheus/rebootd-rules.yaml")
    with open(os.path.join(tmp, "prometheus.yml"), "w") as f:
        f.write(f"""global:
  scrape_interval: 1s
  scrape_timeout: 900ms
  evaluation_interval: 1s
rule_files:
  - {rules}
scrape_configs:
  - job_name: rebootd
    static_configs:
      - targets: ['127.0.0.1:{metrics_port}']
""")
    prom = f"http://127.0.0.1:{prom_port}"
    procs.start("prometheus", [args.prometheus, f"--config.file={tmp}/prometheus.yml",
                               f"--storage.tsdb.path={tmp}/tsdb",
                               f"--web.listen-address=127.0.0.1:{prom_port}",
                               "--storage.tsdb.retention.time=1h", "--log.level=warn"], tmp)
    wait_until("prometheus ready", lambda: "Ready" in http_get(f"{prom}/-/ready"), 30)
    range_start = time.time()
    def scrapes():
        result = prom_api(prom, "query", query='count_over_time(up{job="rebootd"}[1m]) '
                                               'and on() up{job="rebootd"} == 1')["result"]
        return result and float(result[0]["value"][1]) >= 3
    wait_until("three successful scrapes of rebootd", scrapes, 20)

    # Waves 2 and 3 while Prometheus watches: new calls, throttles, reboots and failures.
    with open(os.path.join(manifests, "wave2.yaml"), "w") as f:
        f.write(request_yaml("wave2-tencent", "tencent", tencent[4:16]))
        f.write("---\n")
        f.write(request_yaml("wave2-aliyun", "aliyun", aliyun[0:5] + [stopped_a], region="cn-hangzhou"))
    time.sleep(3)
    with open(os.path.join(manifests, "wave3.yaml"), "w") as f:
        f.write(request_yaml("wave3-aliyun", "aliyun", aliyun[5:7], region="cn-hangzhou"))
        f.write("---\n")
        f.write(request_yaml("wave3-dry-run", "tencent", tencent[0:3], dry_run=True))

    def all_finished():
        text = http_get(metrics_url)
        done = scrape_value(text, "rebootd_reboot_requests", {"phase": "Succeeded"}) + \
            scrape_value(text, "rebootd_reboot_requests", {"phase": "Failed"})
        busy = scrape_value(text, "rebootd_reboot_requests", {"phase": "InProgress"}) + \
            scrape_value(text, "rebootd_reboot_requests", {"phase": "Pending"})
        return done == 5 and busy == 0
    wait_until("all 5 requests finished", all_finished, 40, interval=0.5)
    if rebootd.poll() is not None:
        fail(f"rebootd exited early with {rebootd.returncode}")
    time.sleep(3)  # a few more scrapes of the final state
    end = time.time()
    print(f"simulated run observed for {end - range_start:.1f}s", flush=True)

    final = http_get(metrics_url)
    if scrape_value(final, "rebootd_instance_reboots_total", {"result": "failed"}) < 2:
        fail("the stopped instances should have failed (rebootd_instance_reboots_total{result=failed})")
    if scrape_value(final, "rebootd_throttled_total") < 1:
        fail("the simulator's throttling faults should show in rebootd_throttled_total")

    # promtool check metrics: rebootd's exposition must lint clean.
    p = subprocess.run([args.promtool, "check", "metrics"], input=final, capture_output=True,
                       text=True, timeout=30)
    if p.returncode != 0 or p.stdout.strip() or p.stderr.strip():
        fail(f"promtool check metrics reported (rc={p.returncode}): {p.stdout}{p.stderr}")
    else:
        print("promtool check metrics: clean", flush=True)

    # The dashboard's job variable, then every panel query.
    with open(os.path.join(src, "deploy/grafana/rebootd-dashboard.json")) as f:
        dashboard = json.load(f)
    for var in dashboard.get("templating", {}).get("list", []):
        if var.get("type") != "query":
            continue
        definition = var.get("definition") or var["query"]["query"]
        m = re.fullmatch(r"label_values\((\w+),\s*(\w+)\)", definition)
        if not m:
            fail(f"variable {var['name']}: unsupported query {definition!r}")
            continue
        values = prom_api(prom, f"label/{m.group(2)}/values", **{"match[]": m.group(1)})
        if "rebootd" not in values:
            fail(f"variable {var['name']} ({definition}) lists {values}, not rebootd")
    queries = 0
    for panel in panels_of(dashboard):
        for target in panel.get("targets", []):
            expr = substitute(target["expr"])
            queries += 1
            what = f"panel {panel['title']!r} {target['refId']}"
            try:
                rng = prom_api(prom, "query_range", query=expr, start=f"{range_start:.3f}",
                               end=f"{end:.3f}", step="1")
                inst = prom_api(prom, "query", query=expr, time=f"{end:.3f}")
            except RuntimeError as e:
                fail(f"{what}: {e}")
                continue
            if not finite_values(rng["result"]):
                fail(f"{what}: range query returned no finite data: {expr}")
            elif not finite_values(inst["result"]):
                fail(f"{what}: instant query at the end returned no finite data: {expr}")
            else:
                print(f"ok   {what}: {len(inst['result'])} series", flush=True)
    if queries < 20:
        fail(f"only {queries} panel queries found in the dashboard")

    # Every alert rule was evaluated by the real server without error; with rebootd up and
    # leading, neither RebootdControllerDown nor RebootdNoLeader is pending or firing.
    groups = prom_api(prom, "rules")["groups"]
    rules_seen = [r for g in groups for r in g["rules"]]
    want = 7  # the six of the observability issue and RebootdRecordWritesFailing
    if len([r for r in rules_seen if r["type"] == "alerting"]) != want:
        fail(f"expected {want} alerting rules loaded, got {[r['name'] for r in rules_seen]}")
    for r in rules_seen:
        if r.get("health") != "ok" or r.get("lastError"):
            fail(f"rule {r['name']}: health={r.get('health')} error={r.get('lastError')}")
        if r["name"] in ("RebootdControllerDown", "RebootdNoLeader") and r.get("alerts"):
            fail(f"{r['name']} is {r['alerts'][0]['state']} while rebootd is up and leading")
    print(f"{queries} panel queries, {len(rules_seen)} rules checked in {time.time() - t0:.1f}s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
