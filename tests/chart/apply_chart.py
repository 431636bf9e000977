#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The chart installed for real: the real helm v4 and kubectl v1.35 against the stand-in
Kubernetes API server of tests/kube (apiserver.py, over TLS with a bearer token).

  apply_chart.py --helm HELM --kubectl KUBECTL --source-dir DIR

1. `helm install` with the default values (plus credentials from values): the CRD from crds/
   becomes Established, every object of `helm get manifest` exists, and an example
   RebootRequest applied with kubectl is served by that CRD (`kubectl get rr` lists it).
2. `helm upgrade --reuse-values --set pollInterval=10s`: revision 2, the Deployment's args change.
3. `helm uninstall`: the release's objects are gone; the CRD and the RebootRequest stay (Helm
   never deletes CRDs from crds/).
4. `helm install` with tests/chart/values-custom.yaml (one watched namespace, Lease and
   dashboard elsewhere, ServiceMonitor and PrometheusRule on stub Prometheus Operator CRDs).
The stand-in stores RBAC, Deployments and the rest without running them (see tests/kube/README.md).
"""
import argparse
import json
import os
import subprocess
import sys

import yaml

failures = []


def check(cond, msg):
    print(("ok   " if cond else "FAIL ") + msg, flush=True)
    if not cond:
        failures.append(msg)
    return cond


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--helm", required=True)
    ap.add_argument("--kubectl", required=True)
    ap.add_argument("--source-dir", required=True)
    args = ap.parse_args()
    src = os.path.abspath(args.source_dir)
    os.environ["REBOOTD_KUBECTL"] = args.kubectl
    os.environ.setdefault("REBOOTD_SOURCE_DIR", src)
    sys.path.insert(0, os.path.join(src, "tests", "kube"))
    from standin import StandIn  # noqa: E402 - the stand-in's own test helper

    chart = os.path.join(src, "charts", "rebootd")
    with StandIn(tls=True) as api:
        env = dict(os.environ, KUBECONFIG=api.kubeconfig, HOME=api.dir,
                   HELM_CACHE_HOME=os.path.join(api.dir, "helm-cache"),
                   HELM_CONFIG_HOME=os.path.join(api.dir, "helm-config"),
                   HELM_DATA_HOME=os.path.join(api.dir, "helm-data"))

        def helm(*a, ok=True):
            p = subprocess.run([args.helm] + list(a), capture_output=True, text=True, env=env,
                               timeout=60)
            if ok and p.returncode != 0:
                raise AssertionError(f"helm {' '.join(a)} failed ({p.returncode}):\n{p.stdout}{p.stderr}")
            return p

        def kubectl(*a, ok=True):
            return api.kubectl(*a, check=ok)

        def exists(kind, name, ns=None):
            a = ["get", kind, name, "-o", "name"] + (["-n", ns] if ns else [])
            return kubectl(*a, ok=False).returncode == 0

        def manifest_objects(release, ns):
            out = helm("get", "manifest", release, "-n", ns).stdout
            return [d for d in yaml.safe_load_all(out) if d]

        # 1. install with the defaults.
        p = helm("install", "rebootd", chart, "-n", "rebootd-system", "--create-namespace",
                 "--set", "credentials.tencent.secretId=AKIDinstalltest000000000000000000000",
                 "--set", "credentials.tencent.secretKey=install-test-secret")
        check("rebootd 0.1.0 is installed as rebootd" in p.stdout, "helm install prints NOTES.txt")
        p = kubectl("wait", "--for=condition=Established", "crd/rebootrequests.rebootd.io",
                    "--timeout=20s", ok=False)
        check(p.returncode == 0, f"CRD from crds/ is Established: {p.stdout}{p.stderr}")
        objs = manifest_objects("rebootd", "rebootd-system")
        kinds = sorted({o["kind"] for o in objs})
        check(kinds == sorted(["ClusterRole", "ClusterRoleBinding", "ConfigMap", "Deployment",
                               "PodDisruptionBudget", "Role", "RoleBinding", "Secret", "Service",
                               "ServiceAccount"]), f"release kinds: {kinds}")
        for o in objs:
            ns = o["metadata"].get("namespace")
            check(exists(o["kind"].lower(), o["metadata"]["name"], ns),
                  f"{o['kind']} {ns or ''}/{o['metadata']['name']} exists in the API server")
        dep = json.loads(kubectl("get", "deployment", "rebootd", "-n", "rebootd-system",
                                 "-o", "json").stdout)
        c = dep["spec"]["template"]["spec"]["containers"][0]
        check(dep["spec"]["replicas"] == 2 and "--leader-elect" in c["args"],
              "stored Deployment: 2 replicas with --leader-elect")
        sec = json.loads(kubectl("get", "secret", "rebootd-credentials", "-n", "rebootd-system",
                                 "-o", "json").stdout)
        check(sorted(sec.get("data", {})) == ["TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY"],
              "credentials Secret holds the two keys given")
        kubectl("create", "namespace", "ops")
        p = kubectl("apply", "-f", os.path.join(src, "examples", "tencent-web-tier.yaml"), ok=False)
        check(p.returncode == 0, f"an example RebootRequest is accepted by the chart's CRD: {p.stderr}")
        p = kubectl("get", "rr", "-n", "ops", ok=False)
        check(p.returncode == 0 and "web-tier-patch" in p.stdout and "PROVIDER" in p.stdout.upper(),
              f"kubectl get rr lists it with the CRD's columns:\n{p.stdout}{p.stderr}")

        # 2. upgrade.
        helm("upgrade", "rebootd", chart, "-n", "rebootd-system", "--reuse-values",
             "--set", "pollInterval=10s")
        status = json.loads(helm("status", "rebootd", "-n", "rebootd-system", "-o", "json").stdout)
        check(status.get("version") == 2 and status["info"]["status"] == "deployed",
              f"helm upgrade: revision {status.get('version')} {status['info']['status']}")
        args_now = json.loads(kubectl("get", "deployment", "rebootd", "-n", "rebootd-system",
                                      "-o", "jsonpath={.spec.template.spec.containers[0].args}").stdout)
        check("--poll-interval=10s" in args_now and "--poll-interval=5s" not in args_now,
              f"upgraded Deployment args: {args_now}")
        check(exists("secret", "rebootd-credentials", "rebootd-system"),
              "--reuse-values keeps the credentials Secret")

        # 3. uninstall: objects go, the CRD and the user's RebootRequests stay.
        p = helm("uninstall", "rebootd", "-n", "rebootd-system", ok=False)
        check(p.returncode == 0, f"helm uninstall succeeds: {p.stderr.strip()}")
        left = kubectl("get", "secrets", "-n", "rebootd-system", "-l", "owner=helm", "-o", "name").stdout.strip()
        check(left == "", f"helm's release records are purged: {left!r}")
        for o in objs:
            ns = o["metadata"].get("namespace")
            check(not exists(o["kind"].lower(), o["metadata"]["name"], ns),
                  f"{o['kind']} {ns or ''}/{o['metadata']['name']} removed by helm uninstall")
        check(exists("crd", "rebootrequests.rebootd.io"), "the CRD stays after uninstall")
        check(exists("rr", "web-tier-patch", "ops"), "RebootRequests stay after uninstall")

        # 4. the non-default values.
        kubectl("apply", "-f", os.path.join(src, "tests", "chart", "testdata",
                                            "monitoring-stub-crds.yaml"))
        for ns in ("payments", "rebootd-leases", "monitoring"):
            kubectl("create", "namespace", ns)
        helm("install", "rb", chart, "-n", "rebootd-system",
             "-f", os.path.join(src, "tests", "chart", "values-custom.yaml"))
        objs = manifest_objects("rb", "rebootd-system")
        where = {(o["kind"], o["metadata"].get("namespace")) for o in objs}
        for want in [("Role", "ops"), ("RoleBinding", "ops"), ("Role", "payments"),
                     ("Role", "rebootd-leases"), ("ConfigMap", "monitoring"),
                     ("ServiceMonitor", "rebootd-system"), ("PrometheusRule", "rebootd-system"),
                     ("Secret", "rebootd-system"), ("Deployment", "rebootd-system")]:
            check(want in where, f"custom values render {want[0]} in {want[1]}")
        check(not any(o["kind"].startswith("Cluster") for o in objs),
              "custom values (one watched namespace): nothing cluster-scoped")
        for o in objs:
            ns = o["metadata"].get("namespace")
            check(exists(o["kind"].lower(), o["metadata"]["name"], ns),
                  f"{o['kind']} {ns or ''}/{o['metadata']['name']} exists in the API server")
        rule = json.loads(kubectl("get", "prometheusrule", "rb-rebootd", "-n", "rebootd-system",
                                  "-o", "json").stdout)
        alerts = [r["alert"] for g in rule["spec"]["groups"] for r in g["rules"]]
        check(len(alerts) == 7, f"PrometheusRule holds the seven alerts: {alerts}")

    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
