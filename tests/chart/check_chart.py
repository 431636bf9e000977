#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Checks of the Helm chart charts/rebootd, driven by the real helm (DESIGN.md section 10).

  check_chart.py --helm HELM --rebootd REBOOTD --source-dir DIR MODE

MODE:
  default          helm template with the default values; checks every rendered object
  custom           the same with tests/chart/values-custom.yaml (one watched namespace, ...)
  existing-secret  credentials.existingSecret: no Secret is rendered, the pods read the named one
  schema           values.schema.json rejects bad values (helm template must fail)
  crds             the chart's crds/ equals deploy/crds/ (also with helm template --include-crds)

Each mode exits 0 only when every check passed, and 1 with a list of failures otherwise.
"""
import argparse
import base64
import json
import os
import re
import subprocess
import sys

import yaml

RELEASE = "rb"
NAMESPACE = "rebootd-system"

# What the controller needs (issue 5 section 2); anything else is a least-privilege violation.
ALLOWED_RULES = {
    ("rebootd.io", "rebootrequests"): {"get", "list", "watch"},
    ("rebootd.io", "rebootrequests/status"): {"get", "update", "patch"},
    ("", "events"): {"create", "patch"},
    ("events.k8s.io", "events"): {"create", "patch"},
    ("coordination.k8s.io", "leases"): {"get", "create", "update"},
    ("", "secrets"): {"get"},
}
CREDENTIAL_VARS = [
    "TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY", "TENCENTCLOUD_TOKEN",
    "ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    "ALIBABA_CLOUD_SECURITY_TOKEN",
]


def short(value, limit=300):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


class Checker:
    def __init__(self):
        self.failures = []
        self.passed = 0

    def check(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failures.append(what)
        return cond

    def eq(self, got, want, what):
        return self.check(got == want, f"{what}: got {short(got)}, want {short(want)}")

    def finish(self, mode):
        if self.failures:
            print(f"chart {mode}: {len(self.failures)} check(s) failed:")
            for f in self.failures:
                print("  FAIL", f)
            return 1
        if self.passed == 0:
            print(f"chart {mode}: no checks ran")
            return 1
        print(f"chart {mode}: {self.passed} checks passed")
        return 0


def helm_template(args, extra, include_crds=False, expect_ok=True):
    cmd = [args.helm, "template", RELEASE, os.path.join(args.source_dir, "charts/rebootd"),
           "--namespace", NAMESPACE] + extra
    if include_crds:
        cmd.append("--include-crds")
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if expect_ok and p.returncode != 0:
        print("helm template failed:", " ".join(cmd), "\n", p.stderr)
        sys.exit(1)
    return p


def render(args, extra, include_crds=False):
    out = helm_template(args, extra, include_crds).stdout
    docs = [d for d in yaml.safe_load_all(out) if d]
    return docs


def run_flags(rebootd):
    """The flags `rebootd run --help` lists: the chart may pass no other."""
    p = subprocess.run([rebootd, "run", "--help"], capture_output=True, text=True, timeout=20)
    flags = set(re.findall(r"^\s+--([a-z0-9-]+)", p.stdout + p.stderr, re.M))
    if "source" not in flags or "leader-elect" not in flags:
        print("could not read the flags of `rebootd run --help`:\n", p.stdout, p.stderr)
        sys.exit(1)
    return flags


def by_kind(docs):
    out = {}
    for d in docs:
        out.setdefault(d["kind"], []).append(d)
    return out


def one(c, kinds, kind):
    items = kinds.get(kind, [])
    c.eq(len(items), 1, f"number of {kind} objects")
    return items[0] if items else {}


def arg_values(args_list):
    """--name=value / --name -> {name: [values]} (repeatable flags keep every value)."""
    out = {}
    for a in args_list:
        if not a.startswith("--"):
            continue
        name, _, value = a[2:].partition("=")
        out.setdefault(name, []).append(value)
    return out


def check_common(c, docs, flags, opts):
    """Checks every rendering must pass. opts: replicas, watch_ns, lease_ns, metrics_port,
    health_port, secret_namespaces (None = cluster-wide), secret_name, dashboard_ns."""
    kinds = by_kind(docs)
    labels_ok = all("app.kubernetes.io/name" in (d["metadata"].get("labels") or {}) for d in docs)
    c.check(labels_ok, "every object carries app.kubernetes.io/name")
    for d in docs:
        c.check("apiVersion" in d and d["metadata"].get("name"), f"object has apiVersion and name: {d}")

    # --- Deployment
    dep = one(c, kinds, "Deployment")
    spec = dep.get("spec", {})
    c.eq(spec.get("replicas"), opts["replicas"], "Deployment replicas")
    pod = spec.get("template", {})
    pod_labels = pod.get("metadata", {}).get("labels", {})
    sel = spec.get("selector", {}).get("matchLabels", {})
    c.check(sel and all(pod_labels.get(k) == v for k, v in sel.items()),
            "Deployment selector matches the pod labels")
    ps = pod.get("spec", {})
    c.eq(dep["metadata"].get("namespace"), NAMESPACE, "Deployment namespace")
    psc = ps.get("securityContext", {})
    c.eq(psc.get("runAsNonRoot"), True, "pod securityContext.runAsNonRoot")
    c.check(isinstance(psc.get("runAsUser"), int) and psc["runAsUser"] != 0,
            f"pod runs as a non-root uid: {psc.get('runAsUser')}")
    c.eq(psc.get("seccompProfile", {}).get("type"), "RuntimeDefault", "pod seccompProfile")
    c.check(not ps.get("hostNetwork") and not ps.get("hostPID") and not ps.get("hostIPC"),
            "no host namespaces")
    containers = ps.get("containers", [])
    c.eq(len(containers), 1, "containers")
    ctr = containers[0] if containers else {}
    sc = ctr.get("securityContext", {})
    c.eq(sc.get("allowPrivilegeEscalation"), False, "allowPrivilegeEscalation")
    c.eq(sc.get("readOnlyRootFilesystem"), True, "readOnlyRootFilesystem")
    c.eq(sc.get("capabilities", {}).get("drop"), ["ALL"], "capabilities.drop")
    c.check(not sc.get("capabilities", {}).get("add"), "no capabilities added")
    c.check(not sc.get("privileged"), "not privileged")
    res = ctr.get("resources", {})
    c.check(res.get("requests", {}).get("cpu") and res.get("requests", {}).get("memory"),
            "cpu and memory requests")
    c.check(res.get("limits", {}).get("memory"), "memory limit")

    args = ctr.get("args", [])
    c.eq(args[:2], ["run", "--source=kubernetes"], "container args start")
    av = arg_values(args)
    unknown = sorted(set(av) - flags)
    c.check(not unknown, f"args use only flags of `rebootd run --help`; unknown: {unknown}")
    for name, values in av.items():
        if name not in ("rate-limit",):
            c.check(len(values) == 1, f"--{name} given once: {values}")
    c.check("leader-elect" in av, "--leader-elect (leader election on by default in both renderings)")
    c.eq(av.get("leader-election-namespace"), [opts["lease_ns"]], "--leader-election-namespace")
    c.eq(av.get("namespace"), [opts["watch_ns"]] if opts["watch_ns"] else None, "--namespace")
    c.eq(av.get("metrics-bind-address"), [f":{opts['metrics_port']}"], "--metrics-bind-address")
    c.eq(av.get("health-probe-bind-address"), [f":{opts['health_port']}"],
         "--health-probe-bind-address")
    c.check("simulate" not in av and "until-done" not in av, "no --simulate/--until-done in a cluster")

    ports = {p["name"]: p["containerPort"] for p in ctr.get("ports", [])}
    c.eq(ports.get("metrics"), opts["metrics_port"], "metrics containerPort")
    c.eq(ports.get("health"), opts["health_port"], "health containerPort")
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        hg = ctr.get(probe, {}).get("httpGet", {})
        c.eq(hg.get("path"), path, f"{probe} path")
        port = hg.get("port")
        c.eq(ports.get(port, port), opts["health_port"], f"{probe} port")
        c.check(ctr.get(probe, {}).get("periodSeconds", 0) > 0, f"{probe} periodSeconds")

    # The root filesystem is read-only: every path rebootd writes is a mounted volume.
    mounts = {m["mountPath"]: m["name"] for m in ctr.get("volumeMounts", [])}
    vols = {v["name"]: v for v in ps.get("volumes", [])}
    state_dir = (av.get("state-dir") or ["/var/lib/rebootd"])[0]
    c.check(state_dir in mounts and "emptyDir" in vols.get(mounts[state_dir], {}),
            f"--state-dir {state_dir} is a writable emptyDir")
    c.check("/tmp" in mounts, "/tmp is a writable volume")

    # Credentials: only through secretKeyRef, never as literal values.
    env = {e["name"]: e for e in ctr.get("env", [])}
    for var in CREDENTIAL_VARS:
        e = env.get(var)
        if opts["secret_name"]:
            ref = (e or {}).get("valueFrom", {}).get("secretKeyRef", {})
            c.check(ref.get("name") == opts["secret_name"] and ref.get("key") == var
                    and ref.get("optional") is True,
                    f"{var} from Secret {opts['secret_name']} (optional): {e}")
        else:
            c.check(e is None, f"{var} not set without credentials: {e}")
        c.check(e is None or "value" not in e, f"{var} is not a literal value")

    # --- ServiceAccount, RBAC
    sa_name = ps.get("serviceAccountName")
    sas = [d for d in kinds.get("ServiceAccount", []) if d["metadata"]["name"] == sa_name]
    c.check(len(sas) == 1 and sas[0]["metadata"].get("namespace") == NAMESPACE,
            f"ServiceAccount {sa_name} rendered in {NAMESPACE}")
    roles = {(d["kind"], d["metadata"].get("namespace"), d["metadata"]["name"]): d
             for d in kinds.get("Role", []) + kinds.get("ClusterRole", [])}
    granted = {}  # (group, resource) -> {namespace or "*": verbs}
    for d in kinds.get("RoleBinding", []) + kinds.get("ClusterRoleBinding", []):
        ref = d["roleRef"]
        ns = d["metadata"].get("namespace") if d["kind"] == "RoleBinding" else None
        key = (ref["kind"], ns if ref["kind"] == "Role" else None, ref["name"])
        c.check(key in roles, f"{d['kind']} {d['metadata']['name']} refers to a rendered role {key}")
        c.check(any(s.get("kind") == "ServiceAccount" and s.get("name") == sa_name
                    and s.get("namespace") == NAMESPACE for s in d.get("subjects", [])),
                f"{d['kind']} {d['metadata']['name']} binds the controller's ServiceAccount")
        c.eq(len(d.get("subjects", [])), 1, f"{d['kind']} {d['metadata']['name']} subjects")
        for rule in roles.get(key, {}).get("rules", []):
            for field in ("apiGroups", "resources", "verbs"):
                c.check("*" not in rule.get(field, []), f"no wildcard {field} in {key}: {rule}")
            c.check(not rule.get("nonResourceURLs"), f"no nonResourceURLs in {key}")
            for g in rule.get("apiGroups", []):
                for r in rule.get("resources", []):
                    allowed = ALLOWED_RULES.get((g, r), set())
                    extra = set(rule.get("verbs", [])) - allowed
                    c.check(not extra, f"{key} grants {sorted(extra)} on {g or 'core'}/{r}")
                    slot = granted.setdefault((g, r), {})
                    slot.setdefault(ns or "*", set()).update(rule.get("verbs", []))
    for d in list(kinds.get("Role", [])) + list(kinds.get("ClusterRole", [])):
        c.check(any(b["roleRef"]["name"] == d["metadata"]["name"] for b in
                    kinds.get("RoleBinding", []) + kinds.get("ClusterRoleBinding", [])),
                f"{d['kind']} {d['metadata']['name']} is bound")

    scope = opts["watch_ns"] or "*"
    rr = granted.get(("rebootd.io", "rebootrequests"), {})
    c.eq(set(rr), {scope}, "rebootrequests are granted exactly in the watched scope")
    c.eq(rr.get(scope), {"get", "list", "watch"}, "rebootrequests verbs")
    st = granted.get(("rebootd.io", "rebootrequests/status"), {})
    c.eq(set(st), {scope}, "rebootrequests/status scope")
    c.check({"update", "patch"} <= st.get(scope, set()), "rebootrequests/status update and patch")
    ev = granted.get(("", "events"), {})
    c.check({"create", "patch"} <= ev.get(scope, set()), f"events create/patch in {scope}")
    leases = granted.get(("coordination.k8s.io", "leases"), {})
    c.eq(set(leases), {opts["lease_ns"]}, "leases only in the lease namespace (never cluster-wide)")
    c.eq(leases.get(opts["lease_ns"]), {"get", "create", "update"}, "lease verbs")
    secrets = granted.get(("", "secrets"), {})
    c.eq(set(secrets), set(opts["secret_namespaces"]), "namespaces where Secrets may be read")
    for ns, verbs in secrets.items():
        c.eq(verbs, {"get"}, f"secret verbs in {ns}")
    c.check(not kinds.get("ClusterRole") or not opts["watch_ns"],
            "no ClusterRole when one namespace is watched")

    # --- Service, PDB
    svc = one(c, kinds, "Service")
    c.check(svc and all(pod_labels.get(k) == v for k, v in svc["spec"]["selector"].items()),
            "Service selector matches the pods")
    sp = (svc.get("spec", {}).get("ports") or [{}])[0]
    c.eq(sp.get("targetPort"), "metrics", "Service targetPort")
    c.eq(sp.get("port"), opts["metrics_port"], "Service port")
    pdb = one(c, kinds, "PodDisruptionBudget")
    if pdb:
        c.check(all(pod_labels.get(k) == v for k, v in
                    pdb["spec"]["selector"]["matchLabels"].items()), "PDB selector matches the pods")
        c.check(pdb["spec"].get("minAvailable", 0) < opts["replicas"],
                "PDB leaves room for a voluntary disruption")

    # --- Grafana dashboard ConfigMap (a copy of deploy/grafana/rebootd-dashboard.json)
    cm = one(c, kinds, "ConfigMap")
    if cm:
        c.eq(cm["metadata"]["labels"].get("grafana_dashboard"), "1", "dashboard sidecar label")
        c.eq(cm["metadata"].get("namespace"), opts["dashboard_ns"], "dashboard ConfigMap namespace")
        with open(os.path.join(opts["source_dir"], "deploy/grafana/rebootd-dashboard.json")) as f:
            want = json.load(f)
        c.eq(json.loads(cm["data"]["rebootd-dashboard.json"]), want,
             "ConfigMap dashboard equals deploy/grafana/rebootd-dashboard.json")
    return kinds, ctr, av


def mode_default(args, c):
    docs = render(args, [])
    flags = run_flags(args.rebootd)
    opts = dict(replicas=2, watch_ns="", lease_ns=NAMESPACE, metrics_port=8080, health_port=8081,
                secret_namespaces=[], secret_name="", dashboard_ns=NAMESPACE,
                source_dir=args.source_dir)
    kinds, ctr, av = check_common(c, docs, flags, opts)
    c.eq(sorted(kinds), sorted(["ClusterRole", "ClusterRoleBinding", "ConfigMap", "Deployment",
                                "PodDisruptionBudget", "Role", "RoleBinding", "Service",
                                "ServiceAccount"]), "kinds rendered by default")
    c.check("Secret" not in kinds, "no Secret without credentials")
    c.eq(av.get("log-format"), ["json"], "default --log-format")
    c.eq(av.get("poll-interval"), ["5s"], "default --poll-interval")
    c.check("rate-limit" not in av, "no --rate-limit by default (built-in cloud limits)")
    c.eq(ctr.get("image"), "rebootd:0.1.0", "image defaults to the appVersion tag")


def mode_custom(args, c):
    values = os.path.join(args.source_dir, "tests/chart/values-custom.yaml")
    docs = render(args, ["-f", values])
    flags = run_flags(args.rebootd)
    fullname = f"{RELEASE}-rebootd"
    opts = dict(replicas=3, watch_ns="ops", lease_ns="rebootd-leases", metrics_port=9090,
                health_port=9091, secret_namespaces=["ops", "payments"],
                secret_name=f"{fullname}-credentials", dashboard_ns="monitoring",
                source_dir=args.source_dir)
    kinds, ctr, av = check_common(c, docs, flags, opts)
    c.check("ClusterRole" not in kinds and "ClusterRoleBinding" not in kinds,
            "nothing cluster-scoped when one namespace is watched")
    c.eq(sorted(av.get("rate-limit", [])), ["aliyun.RebootInstance=5",
                                             "tencent.DescribeInstances=15",
                                             "tencent.RebootInstances=10"], "--rate-limit")
    c.eq(av.get("poll-interval"), ["2s"], "--poll-interval")
    c.eq(av.get("log-format"), ["text"], "--log-format")
    c.eq(av.get("log-level"), ["debug,cloud=info"], "--log-level")
    c.eq(av.get("tencent-endpoint"), ["https://ecm.internal.example.com"], "--tencent-endpoint")
    c.eq(av.get("aliyun-endpoint"), ["https://ecs-proxy.internal.example.com"], "--aliyun-endpoint")
    c.eq(av.get("aliyun-signature"), ["acs3"], "--aliyun-signature")
    c.eq(av.get("progress-interval"), ["30s"], "extraArgs")
    c.eq(av.get("ca-bundle"), ["/etc/rebootd/ca/bundle.pem"], "--ca-bundle")
    mounts = {m["mountPath"]: m["name"] for m in ctr.get("volumeMounts", [])}
    dep = kinds["Deployment"][0]
    vols = {v["name"]: v for v in dep["spec"]["template"]["spec"]["volumes"]}
    c.eq(vols.get(mounts.get("/etc/rebootd/ca"), {}).get("configMap", {}).get("name"), "corp-ca",
         "CA bundle mounted from ConfigMap corp-ca")
    c.eq(ctr.get("image"), "registry.example.com/platform/rebootd:0.1.0-test", "image")
    c.eq(ctr.get("imagePullPolicy"), "Always", "imagePullPolicy")
    tmpl = dep["spec"]["template"]
    c.check("checksum/credentials" in tmpl["metadata"].get("annotations", {}),
            "pods roll when the chart-managed credentials change")
    c.eq(tmpl["metadata"]["annotations"].get("example.com/team"), "platform", "podAnnotations")
    c.eq(tmpl["spec"].get("priorityClassName"), "system-cluster-critical", "priorityClassName")
    c.eq(tmpl["spec"].get("imagePullSecrets"), [{"name": "registry-pull"}], "imagePullSecrets")

    secret = one(c, kinds, "Secret")
    if secret:
        c.eq(secret["metadata"]["name"], f"{fullname}-credentials", "credentials Secret name")
        data = {k: base64.b64decode(v).decode() for k, v in secret.get("data", {}).items()}
        c.eq(data, {"TENCENTCLOUD_SECRET_ID": "AKIDtestchart0000000000000000000000",
                    "TENCENTCLOUD_SECRET_KEY": "chart-test-tencent-secret-key",
                    "ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAI5tchartTest000000000",
                    "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "chart-test-aliyun-secret"},
             "credentials Secret data (only the keys given)")
    non_secret = yaml.safe_dump_all([d for d in docs if d["kind"] != "Secret"])
    for s in ("chart-test-tencent-secret-key", "chart-test-aliyun-secret"):
        c.check(s not in non_secret, "secret values appear only inside the Secret")

    sm = one(c, kinds, "ServiceMonitor")
    if sm:
        c.eq(sm["apiVersion"], "monitoring.coreos.com/v1", "ServiceMonitor apiVersion")
        c.eq(sm["spec"].get("jobLabel"), "app.kubernetes.io/name", "ServiceMonitor jobLabel")
        svc = kinds["Service"][0]
        c.eq(svc["metadata"]["labels"].get("app.kubernetes.io/name"), "rebootd",
             "job label value is rebootd (the alert rules select job=\"rebootd\")")
        c.check(all(svc["metadata"]["labels"].get(k) == v for k, v in
                    sm["spec"]["selector"]["matchLabels"].items()), "ServiceMonitor selects the Service")
        ep = sm["spec"]["endpoints"][0]
        c.eq((ep.get("port"), ep.get("path"), ep.get("interval")), ("metrics", "/metrics", "15s"),
             "ServiceMonitor endpoint")
        c.eq(sm["metadata"]["labels"].get("release"), "kube-prometheus-stack", "ServiceMonitor labels")
    pr = one(c, kinds, "PrometheusRule")
    if pr:
        with open(os.path.join(args.source_dir, "deploy/prometheus/rebootd-rules.yaml")) as f:
            want = yaml.safe_load(f)["groups"]
        c.eq(pr["spec"].get("groups"), want,
             "PrometheusRule groups equal deploy/prometheus/rebootd-rules.yaml")
    pdb = kinds.get("PodDisruptionBudget", [{}])[0]
    c.eq(pdb.get("spec", {}).get("minAvailable"), 2, "PDB minAvailable")


def mode_existing_secret(args, c):
    docs = render(args, ["--set", "credentials.existingSecret=cloud-creds",
                         "--set", "credentials.tencent.secretId=ignored-when-existing",
                         "--set", "replicaCount=1"])
    flags = run_flags(args.rebootd)
    opts = dict(replicas=1, watch_ns="", lease_ns=NAMESPACE, metrics_port=8080, health_port=8081,
                secret_namespaces=[], secret_name="cloud-creds", dashboard_ns=NAMESPACE,
                source_dir=args.source_dir)
    # One replica: no PDB (it would block every voluntary eviction).
    kinds = by_kind(docs)
    c.check("PodDisruptionBudget" not in kinds, "no PDB with one replica")
    docs_with_pdb = docs + [{"kind": "PodDisruptionBudget", "apiVersion": "policy/v1",
                             "metadata": {"name": "placeholder",
                                          "labels": {"app.kubernetes.io/name": "rebootd"}},
                             "spec": {"minAvailable": 0, "selector": {"matchLabels": {}}}}]
    check_common(c, docs_with_pdb, flags, opts)
    c.check("Secret" not in kinds, "no Secret rendered with credentials.existingSecret")


def mode_schema(args, c):
    bad = [
        (["--set", "log.format=xml"], "log"),
        (["--set", "pollInterval=5 parsecs"], "pollInterval"),
        (["--set", "metrics.port=70000"], "port"),
        (["--set", "replicaCount=-1"], "replicaCount"),
        (["--set", "endpoints.aliyunSignature=v2"], "aliyunSignature"),
        (["--set", "rateLimits.azure\\.RebootInstances=5"], "azure.RebootInstances"),
        (["--set", "rateLimits.tencent\\.RebootInstances=0"], "rateLimits"),
        (["--set", "watchNamespace=Not_A_Namespace"], "watchNamespace"),
        (["--set", "unknownKey=1"], "unknownKey"),
    ]
    for extra, word in bad:
        p = helm_template(args, extra, expect_ok=False)
        c.check(p.returncode != 0 and "schema" in p.stderr.lower(),
                f"helm template {' '.join(extra)} is rejected by values.schema.json "
                f"(rc={p.returncode}, stderr={p.stderr.strip()[:300]!r})")
        c.check(word.lower() in p.stderr.lower(), f"the error names {word}: {p.stderr.strip()[:300]!r}")
    # And good non-default values pass.
    p = helm_template(args, ["--set", "rateLimits.tencent\\.RebootInstances=20",
                             "--set", "pollInterval=1m30s", "--set", "log.level=info\\,cloud=debug"],
                      expect_ok=False)
    c.eq(p.returncode, 0, f"valid values accepted: {p.stderr.strip()[:300]}")


def mode_crds(args, c):
    src_dir = os.path.join(args.source_dir, "deploy/crds")
    chart_dir = os.path.join(args.source_dir, "charts/rebootd/crds")
    src = sorted(os.listdir(src_dir)) if os.path.isdir(src_dir) else []
    dst = sorted(os.listdir(chart_dir)) if os.path.isdir(chart_dir) else []
    c.check("rebootd.io_rebootrequests.yaml" in src,
            "deploy/crds/rebootd.io_rebootrequests.yaml exists (DESIGN.md section 1)")
    c.eq(dst, src, "charts/rebootd/crds/ holds exactly the files of deploy/crds/")
    for name in src:
        a = open(os.path.join(src_dir, name), "rb").read()
        b = open(os.path.join(chart_dir, name), "rb").read() if name in dst else b""
        c.check(a == b, f"charts/rebootd/crds/{name} is byte-identical to deploy/crds/{name} "
                        "(run scripts/sync-crds.sh)")
    if "rebootd.io_rebootrequests.yaml" not in src:
        return
    want = [d for d in yaml.safe_load_all(open(os.path.join(src_dir, "rebootd.io_rebootrequests.yaml"))) if d]
    crds = [d for d in render(args, [], include_crds=True) if d["kind"] == "CustomResourceDefinition"]
    c.eq(crds, want, "helm template --include-crds renders the CRD of deploy/crds/")
    crd = want[0] if want else {}
    c.eq(crd.get("metadata", {}).get("name"), "rebootrequests.rebootd.io", "CRD name")
    names = crd.get("spec", {}).get("names", {})
    c.eq((crd.get("spec", {}).get("group"), names.get("kind"), names.get("plural"),
          names.get("shortNames"), crd.get("spec", {}).get("scope")),
         ("rebootd.io", "RebootRequest", "rebootrequests", ["rr"], "Namespaced"),
         "CRD names (DESIGN.md section 1)")
    # Without --include-crds helm template leaves crds/ out (helm install applies them once).
    c.check(not [d for d in render(args, []) if d["kind"] == "CustomResourceDefinition"],
            "CRDs are installed from crds/, not templates")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--helm", required=True)
    ap.add_argument("--rebootd", required=True)
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("mode", choices=["default", "custom", "existing-secret", "schema", "crds"])
    args = ap.parse_args()
    c = Checker()
    {"default": mode_default, "custom": mode_custom, "existing-secret": mode_existing_secret,
     "schema": mode_schema, "crds": mode_crds}[args.mode](args, c)
    return c.finish(args.mode)


if __name__ == "__main__":
    sys.exit(main())
