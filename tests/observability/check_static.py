#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Static checks of the Grafana dashboard and the Prometheus alert rules (no server needed).

  check_static.py --source-dir DIR dashboard
      deploy/grafana/rebootd-dashboard.json: valid JSON, a datasource variable that every panel
      and query uses, unique panel ids, every panel the issue asks for, and only metric names
      rebootd exports (read from pkg/metrics/metrics.h and process_collector.h, plus `up`).
  check_static.py --source-dir DIR --promtool PROMTOOL rules
      deploy/prometheus/rebootd-rules.yaml: every alert has `for`, a severity label and
      summary/description/runbook_url annotations; the six alerts of the issue exist; each has a
      firing case in tests/observability/rebootd-rules.test.yaml; and the unit tests notice when
      an alert can no longer fire (each alert's expr is replaced in turn by one that never
      fires, and `promtool test rules` must then fail).
"""
import argparse
import copy
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL", msg)
    return cond


def exported_metrics(src):
    """Metric families rebootd exports, from the source of truth."""
    names = set()
    with open(os.path.join(src, "pkg/metrics/metrics.h")) as f:
        names |= set(re.findall(r'"(rebootd_[a-z0-9_]+)"', f.read()))
    with open(os.path.join(src, "pkg/metrics/process_collector.h")) as f:
        names |= set(re.findall(r"\b(process_[a-z_]+)\b", f.read()))
    names.add("up")  # Prometheus's own per-target series
    return names


PROMQL_WORDS = {
    "sum", "max", "min", "avg", "count", "by", "without", "on", "ignoring", "group_left",
    "group_right", "rate", "irate", "increase", "histogram_quantile", "vector", "or", "and",
    "unless", "absent", "le", "bool", "offset", "label_values", "time", "topk", "bottomk",
    "clamp_min", "clamp_max", "max_over_time", "min_over_time", "avg_over_time", "delta",
    "count_over_time", "scalar", "sort", "sort_desc",
}


def metric_names(expr):
    """Identifiers in a PromQL expression that are metric names (not functions, keywords,
    label names inside {...} or by (...), durations or strings)."""
    e = re.sub(r'"[^"]*"', '""', expr)           # strings
    e = re.sub(r"\{[^}]*\}", "{}", e)             # label matchers
    e = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", e)  # grouping labels
    e = re.sub(r"\[[^\]]*\]", "[]", e)            # range durations
    out = set()
    for m in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", e):
        word = m.group(0)
        rest = e[m.end():].lstrip()
        if word in PROMQL_WORDS or rest.startswith("("):
            continue
        out.add(word)
    return out


def family_of(name, exported):
    if name in exported:
        return name
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and name[: -len(suffix)] in exported:
            return name[: -len(suffix)]
    return None


def panels_of(dashboard):
    for p in dashboard.get("panels", []):
        yield p
        for q in p.get("panels", []) or []:
            yield q


def check_dashboard(src):
    path = os.path.join(src, "deploy/grafana/rebootd-dashboard.json")
    with open(path) as f:
        d = json.load(f)
    exported = exported_metrics(src)
    check(len([n for n in exported if n.startswith("rebootd_")]) >= 12,
          f"read the fixed metric names from pkg/metrics/metrics.h: {sorted(exported)}")
    check(d.get("title") and d.get("uid"), "dashboard has a title and a uid")
    check("__inputs" not in d, "no __inputs: the file works with the sidecar and by import")
    variables = {v["name"]: v for v in d.get("templating", {}).get("list", [])}
    ds = variables.get("datasource", {})
    check(ds.get("type") == "datasource" and ds.get("query") == "prometheus",
          "a datasource variable of Prometheus data sources")
    check("job" in variables, "a job variable")
    ids = set()
    used = set()
    titles = []
    queries = 0
    for p in panels_of(d):
        check(p.get("id") not in ids, f"panel id {p.get('id')} is unique")
        ids.add(p.get("id"))
        gp = p.get("gridPos", {})
        check(all(k in gp for k in "hwxy") and gp["x"] + gp["w"] <= 24,
              f"panel {p.get('title')} has a gridPos within 24 columns")
        if p.get("type") == "row":
            continue
        titles.append(p.get("title", ""))
        check(p.get("datasource") == {"type": "prometheus", "uid": "${datasource}"},
              f"panel {p.get('title')} uses the datasource variable")
        check(p.get("description"), f"panel {p.get('title')} has a description")
        check(p.get("targets"), f"panel {p.get('title')} has queries")
        for t in p.get("targets", []):
            queries += 1
            check(t.get("datasource", {}).get("uid") == "${datasource}",
                  f"query {p.get('title')}/{t.get('refId')} uses the datasource variable")
            expr = t.get("expr", "")
            check('job=~"$job"' in expr, f"query {p.get('title')}/{t.get('refId')} selects $job")
            for name in metric_names(expr):
                fam = family_of(name, exported)
                check(fam is not None, f"{p.get('title')}: {name} is not a metric rebootd exports")
                used.add(fam)
    # The panels issue 5 asks for, by the words of their titles.
    wanted = {
        "requests by phase": r"requests by phase",
        "instances by state per provider": r"instances by state",
        "reboot progress over time": r"reboot progress",
        "reboot duration quantiles": r"duration quantiles",
        "cloud API calls by action and code": r"cloud api calls by action and code",
        "throttling": r"throttl",
        "rate-limiter wait": r"rate-limiter wait",
        "batch sizes": r"batch size",
        "reconcile results and errors": r"reconcile results and errors",
        "leader": r"leader",
        "process CPU": r"process cpu",
        "process memory": r"process memory",
    }
    for what, pattern in wanted.items():
        check(any(re.search(pattern, t, re.I) for t in titles), f"a panel for {what}")
    fixed = {n for n in exported if n.startswith("rebootd_")} - {"rebootd_build_info"}
    check(not (fixed - used), f"every rebootd metric family is on the dashboard; missing: {sorted(fixed - used)}")
    print(f"dashboard: {len(titles)} panels, {queries} queries, {len(used)} metric families")


def check_rules(src, promtool):
    rules_path = os.path.join(src, "deploy/prometheus/rebootd-rules.yaml")
    tests_path = os.path.join(src, "tests/observability/rebootd-rules.test.yaml")
    with open(rules_path) as f:
        rules = yaml.safe_load(f)
    with open(tests_path) as f:
        tests = yaml.safe_load(f)
    exported = exported_metrics(src)
    alerts = [r for g in rules["groups"] for r in g["rules"] if "alert" in r]
    names = [a["alert"] for a in alerts]
    check(len(names) == len(set(names)), f"alert names are unique: {names}")
    for want in ("RebootdRequestPastDeadline", "RebootdHighFailureRatio", "RebootdCloudThrottled",
                 "RebootdReconcileErrors", "RebootdNoLeader", "RebootdControllerDown",
                 "RebootdRecordWritesFailing"):
        check(want in names, f"alert {want} exists")
    for a in alerts:
        n = a["alert"]
        check(re.fullmatch(r"\d+[smh]", str(a.get("for", ""))) and a["for"] not in ("0s", "0m"),
              f"{n} has a non-zero `for`")
        check(a.get("labels", {}).get("severity") in ("critical", "warning", "info"),
              f"{n} has a severity label")
        ann = a.get("annotations", {})
        for key in ("summary", "description", "runbook_url"):
            check(ann.get(key), f"{n} has a {key} annotation")
        check(ann.get("runbook_url", "").endswith("#runbook-" + n.lower()),
              f"{n}'s runbook_url points at its runbook section")
        check('job="rebootd"' in a["expr"], f"{n} selects job=\"rebootd\"")
        for name in metric_names(a["expr"]):
            check(family_of(name, exported), f"{n}: {name} is not a metric rebootd exports")
    # Runbook anchors exist in the chart README.
    with open(os.path.join(src, "charts/rebootd/README.md")) as f:
        readme = f.read().lower()
    for n in names:
        check(f"runbook: {n.lower()}" in readme or f"runbook-{n.lower()}" in readme,
              f"charts/rebootd/README.md has a runbook section for {n}")
    # Every alert has a firing case in the unit tests.
    firing = {t["alertname"] for case in tests["tests"] for t in case.get("alert_rule_test", [])
              if t.get("exp_alerts")}
    silent = {t["alertname"] for case in tests["tests"] for t in case.get("alert_rule_test", [])
              if not t.get("exp_alerts")}
    for n in names:
        check(n in firing, f"{n} has a unit test where it fires")
        check(n in silent, f"{n} has a unit test where it stays silent")
    # The unit tests pass as written...
    p = subprocess.run([promtool, "test", "rules", tests_path], capture_output=True, text=True,
                       timeout=60)
    check(p.returncode == 0, f"promtool test rules passes: {p.stdout}{p.stderr}")
    # ...and fail when any one alert is broken so that it never fires.
    tmp = tempfile.mkdtemp(prefix="rebootd-rules-")
    try:
        os.makedirs(os.path.join(tmp, "deploy/prometheus"))
        os.makedirs(os.path.join(tmp, "tests/observability"))
        shutil.copy(tests_path, os.path.join(tmp, "tests/observability/"))
        for n in names:
            broken = copy.deepcopy(rules)
            for g in broken["groups"]:
                for r in g["rules"]:
                    if r.get("alert") == n:
                        r["expr"] = "vector(1) unless vector(1)"
            with open(os.path.join(tmp, "deploy/prometheus/rebootd-rules.yaml"), "w") as f:
                yaml.safe_dump(broken, f)
            p = subprocess.run([promtool, "test", "rules",
                                os.path.join(tmp, "tests/observability/rebootd-rules.test.yaml")],
                               capture_output=True, text=True, timeout=60)
            check(p.returncode != 0 and n in p.stdout + p.stderr,
                  f"the unit tests notice a never-firing {n} (rc={p.returncode})")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"rules: {len(names)} alerts checked, each with firing and silent unit tests")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--promtool", default="/usr/bin/promtool")
    ap.add_argument("what", choices=["dashboard", "rules"])
    args = ap.parse_args()
    src = os.path.abspath(args.source_dir)
    if args.what == "dashboard":
        check_dashboard(src)
    else:
        check_rules(src, args.promtool)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
