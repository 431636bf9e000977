# SPDX-License-Identifier: Apache-2.0
"""The real kubectl v1.35 against the stand-in API server (HTTPS with a bearer token, since
client-go sends tokens only over TLS): install the CRD, apply the Kubernetes example, printer
columns, -o json, status patches through the subresource, kubectl get -w, conflicts, 410 on an
old resourceVersion, the immutability rule, schema errors and authentication."""

import json
import os
import queue
import threading
import time
import unittest

from standin import CRD, RR, SOURCE_DIR, StandIn

EXAMPLE = os.path.join(SOURCE_DIR, "examples", "kubernetes", "web-tier-reboot.yaml")
STATUS = {"status": {"phase": "Succeeded", "observedGeneration": 1,
                     "startedAt": "2026-12-02T02:00:00Z", "completedAt": "2026-12-02T02:03:00Z",
                     "summary": {"total": 3, "pending": 0, "rebooting": 0, "succeeded": 2, "failed": 1},
                     "instances": [
                         {"id": "ein-496721al", "state": "Succeeded", "reason": "Rebooted", "requestId": "r-1", "attempts": 1,
                          "requestedAt": "2026-12-02T02:00:00Z", "acceptedAt": "2026-12-02T02:00:01Z",
                          "completedAt": "2026-12-02T02:02:00Z", "seenTransitional": True},
                         {"id": "ein-438242bp", "state": "Succeeded", "reason": "Rebooted", "requestId": "r-1", "attempts": 1},
                         {"id": "ein-bb0ab3pc", "state": "Failed", "reason": "InstanceNotFound", "message": "no such instance",
                          "attempts": 0}],
                     "conditions": [{"type": "Complete", "status": "True", "reason": "Finished", "message": "2 of 3 succeeded",
                                     "lastTransitionTime": "2026-12-02T02:03:00Z", "observedGeneration": 1}]}}


def manifest(name, ns="kt", mode="Soft", provider="tencent", ids=("ein-496721al", "ein-438242bp"), extra=""):
    lines = ["apiVersion: rebootd.io/v1alpha1", "kind: RebootRequest",
             "metadata: {name: %s, namespace: %s}" % (name, ns), "spec:", "  provider: %s" % provider]
    if provider == "aliyun" and "region" not in extra:
        lines.append("  region: cn-hangzhou")
    lines += ["  mode: %s" % mode, "  instanceIds: [%s]" % ", ".join(ids)]
    return "\n".join(lines) + "\n" + extra


class KubectlTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.api = StandIn(tls=True, token="kubectl-token").start()
        try:
            out = cls.api.kubectl("apply", "-f", CRD).stdout
            assert "customresourcedefinition.apiextensions.k8s.io/rebootrequests.rebootd.io created" in out, out
            cls.api.kubectl("wait", "--for", "condition=established", "--timeout=20s", "crd/rebootrequests.rebootd.io")
            cls.api.kubectl("create", "namespace", "kt")
        except Exception:
            cls.api.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.api.cleanup()

    def k(self, *args, **kw):
        return self.api.kubectl(*args, **kw)

    def apply(self, text, check=True):
        return self.k("apply", "-f", "-", input=text, check=check)

    def test_crd_is_established_and_discoverable(self):
        out = self.k("get", "crd", "rebootrequests.rebootd.io", "-o",
                     "jsonpath={.status.conditions[?(@.type==\"Established\")].status}").stdout
        self.assertEqual(out, "True")
        out = self.k("api-resources", "--api-group=rebootd.io", "--no-headers").stdout.split()
        self.assertEqual(out[:5], ["rebootrequests", "rr", "rebootd.io/v1alpha1", "true", "RebootRequest"])
        # re-applying the same CRD changes nothing
        self.assertIn("unchanged", self.k("apply", "-f", CRD).stdout)

    def test_apply_example_and_printer_columns(self):
        out = self.k("apply", "-f", EXAMPLE).stdout
        self.assertIn("namespace/ops created", out)
        self.assertIn("secret/tencent-creds created", out)
        self.assertIn("rebootrequest.rebootd.io/web-tier-patch created", out)
        self.assertIn("rebootrequest.rebootd.io/web-tier-patch unchanged", self.k("apply", "-f", EXAMPLE).stdout)
        lines = self.k("get", "rr", "-n", "ops").stdout.splitlines()
        self.assertEqual(lines[0].split(), ["NAME", "PROVIDER", "MODE", "PHASE", "SUCCEEDED", "FAILED", "TOTAL", "AGE"])
        self.assertEqual(lines[1].split()[:3], ["web-tier-patch", "tencent", "SoftFirst"])
        wide = self.k("get", "rebootrequests.rebootd.io", "-n", "ops", "-o", "wide").stdout.splitlines()
        self.assertIn("DRYRUN", wide[0].split())
        key = self.k("get", "secret", "tencent-creds", "-n", "ops", "-o", "jsonpath={.data.secretId}").stdout
        self.assertEqual(key, "QUtJREVYQU1QTEVFWEFNUExFRVhBTVBMRUVYQU1QTEU=")  # base64 of the example's secretId
        # the controller's view: a status through the subresource shows in the columns
        self.k("patch", "rr", "web-tier-patch", "-n", "ops", "--subresource=status", "--type=merge", "-p", json.dumps(STATUS))
        row = self.k("get", "rr", "web-tier-patch", "-n", "ops", "--no-headers").stdout.split()
        self.assertEqual(row[:7], ["web-tier-patch", "tencent", "SoftFirst", "Succeeded", "2", "1", "3"])
        allns = self.k("get", "rr", "-A").stdout.splitlines()
        self.assertEqual(allns[0].split()[:2], ["NAMESPACE", "NAME"])
        # delete it all again: the namespace goes Terminating first, so its objects can still
        # be deleted, and kubectl waits until the namespace is gone
        out = self.k("delete", "-f", EXAMPLE).stdout
        self.assertIn('rebootrequest.rebootd.io "web-tier-patch" deleted', out)
        p = self.k("get", "namespace", "ops", check=False)
        self.assertIn('namespaces "ops" not found', p.stderr)

    def test_get_json_has_defaults_and_status_round_trips(self):
        self.apply(manifest("json-shape", mode="Hard"))
        obj = json.loads(self.k("get", "rr", "json-shape", "-n", "kt", "-o", "json").stdout)
        self.assertEqual(obj["kind"], "RebootRequest")
        self.assertEqual((obj["spec"]["dryRun"], obj["spec"]["timeoutSeconds"], obj["spec"]["mode"]), (False, 900, "Hard"))
        self.assertEqual(obj["metadata"]["generation"], 1)
        self.assertIn("kubectl.kubernetes.io/last-applied-configuration", obj["metadata"]["annotations"])
        self.assertNotIn("status", obj)
        status = dict(STATUS["status"], instances=STATUS["status"]["instances"][:2],
                      summary={"total": 2, "pending": 0, "rebooting": 0, "succeeded": 2, "failed": 0})
        out = self.k("patch", "rr", "json-shape", "-n", "kt", "--subresource=status", "--type=merge",
                     "-p", json.dumps({"status": status})).stdout
        self.assertIn("patched", out)
        obj2 = json.loads(self.k("get", "rr", "json-shape", "-n", "kt", "-o", "json").stdout)
        self.assertEqual(obj2["status"], status)
        self.assertEqual(obj2["metadata"]["generation"], 1, "a status write is not a spec change")
        self.assertGreater(int(obj2["metadata"]["resourceVersion"]), int(obj["metadata"]["resourceVersion"]))
        # list output
        lst = json.loads(self.k("get", "rr", "-n", "kt", "-o", "json").stdout)
        self.assertEqual(lst["kind"], "List")
        self.assertIn("json-shape", [i["metadata"]["name"] for i in lst["items"]])

    def test_watch_sees_modified(self):
        self.apply(manifest("watched"))
        proc = self.api.kubectl_popen("get", "rr", "watched", "-n", "kt", "-w", "--output-watch-events")
        lines = queue.Queue()
        threading.Thread(target=lambda: [lines.put(l) for l in proc.stdout], daemon=True).start()

        def wait_for(pred, what):
            deadline = time.monotonic() + 15
            seen = []
            while time.monotonic() < deadline:
                try:
                    line = lines.get(timeout=deadline - time.monotonic())
                except queue.Empty:
                    break
                seen.append(line)
                if pred(line):
                    return line
            self.fail("kubectl get -w never printed %s; got %r, stderr %r" % (what, seen, proc.stderr.read() if proc.poll() is not None else ""))

        try:
            wait_for(lambda l: l.split()[:2] == ["ADDED", "watched"], "the ADDED row")
            self.k("patch", "rr", "watched", "-n", "kt", "--subresource=status", "--type=merge",
                   "-p", '{"status":{"phase":"InProgress","summary":{"total":2,"pending":0,"rebooting":2,"succeeded":0,"failed":0}}}')
            line = wait_for(lambda l: l.startswith("MODIFIED"), "a MODIFIED row")
            self.assertEqual(line.split()[:5], ["MODIFIED", "watched", "tencent", "Soft", "InProgress"])
        finally:
            proc.kill()
            proc.wait()
            proc.stdout.close()
            proc.stderr.close()

    def test_stale_replace_conflicts(self):
        self.apply(manifest("stale"))
        obj = json.loads(self.k("get", "rr", "stale", "-n", "kt", "-o", "json").stdout)
        obj["metadata"].setdefault("labels", {})["first"] = "yes"
        self.k("replace", "-f", "-", input=json.dumps(obj))
        obj["metadata"]["labels"]["second"] = "yes"  # still the old resourceVersion
        p = self.k("replace", "-f", "-", input=json.dumps(obj), check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn('Operation cannot be fulfilled on rebootrequests.rebootd.io "stale": the object has been modified', p.stderr)
        labels = json.loads(self.k("get", "rr", "stale", "-n", "kt", "-o", "json").stdout)["metadata"]["labels"]
        self.assertEqual(labels, {"first": "yes"})

    def test_old_resource_version_watch_is_gone(self):
        self.apply(manifest("expiring"))
        old = json.loads(self.k("get", "rr", "expiring", "-n", "kt", "-o", "json").stdout)["metadata"]["resourceVersion"]
        self.k("label", "rr", "expiring", "-n", "kt", "x=1")
        path = RR + "/namespaces/kt/rebootrequests?watch=1&timeoutSeconds=1&resourceVersion=" + old
        out = self.k("get", "--raw", path).stdout
        self.assertIn('"type":"MODIFIED"', out)
        self.api.faults(compact=True)
        out = self.k("get", "--raw", path).stdout
        ev = json.loads(out.splitlines()[0])
        self.assertEqual((ev["type"], ev["object"]["code"], ev["object"]["reason"]), ("ERROR", 410, "Expired"))

    def test_spec_change_rejected_once_started(self):
        self.apply(manifest("frozen", mode="Soft"))
        # still Pending: the spec may change, and generation moves
        self.assertIn("configured", self.apply(manifest("frozen", mode="Hard")).stdout)
        gen = self.k("get", "rr", "frozen", "-n", "kt", "-o", "jsonpath={.metadata.generation}").stdout
        self.assertEqual(gen, "2")
        self.k("patch", "rr", "frozen", "-n", "kt", "--subresource=status", "--type=merge", "-p", '{"status":{"phase":"InProgress"}}')
        p = self.apply(manifest("frozen", mode="SoftFirst"), check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("spec: Forbidden: spec is immutable once the request has started", p.stderr)
        p = self.k("patch", "rr", "frozen", "-n", "kt", "--type=json", "-p",
                   '[{"op":"add","path":"/spec/instanceIds/-","value":"ein-77777777"}]', check=False)
        self.assertIn("spec is immutable", p.stderr)
        self.assertEqual(self.k("get", "rr", "frozen", "-n", "kt", "-o", "jsonpath={.spec.mode}").stdout, "Hard")
        # labels are metadata, not spec
        self.assertIn("labeled", self.k("label", "rr", "frozen", "-n", "kt", "team=web").stdout)

    def test_schema_errors_reach_the_user(self):
        cases = [
            (manifest("aliyun-no-region", provider="aliyun", ids=("i-bp67acfmxazb4ph0001",), extra="  region: ''\n"),
             "spec.region is required when spec.provider is aliyun"),
            (manifest("dup-ids", ids=("ein-496721al", "ein-496721al")), 'Duplicate value: "ein-496721al"'),
            (manifest("bad-mode", mode="Gentle"), 'spec.mode: Unsupported value: "Gentle"'),
            (manifest("ali-ids-on-tencent", ids=("i-bp67acfmxazb4ph0001",)), "tencent instance IDs must match"),
            (manifest("unknown-field", extra="  colour: blue\n"), 'unknown field "spec.colour"'),
        ]
        for text, want in cases:
            p = self.apply(text, check=False)
            self.assertNotEqual(p.returncode, 0, text)
            self.assertIn(want, p.stderr, text)
        self.assertEqual(self.k("get", "rr", "dup-ids", "-n", "kt", check=False).returncode, 1)

    def test_typed_create_commands_send_protobuf(self):
        # `kubectl create namespace/secret/configmap` use typed clients that send protobuf bodies.
        self.assertIn("namespace/typed created", self.k("create", "namespace", "typed").stdout)
        self.k("create", "secret", "generic", "creds", "-n", "typed", "--from-literal=secretId=AKID", "--from-literal=secretKey=k")
        sec = json.loads(self.k("get", "secret", "creds", "-n", "typed", "-o", "json").stdout)
        self.assertEqual(sec["type"], "Opaque")
        self.assertEqual(sec["data"], {"secretId": "QUtJRA==", "secretKey": "aw=="})
        self.assertNotIn("generateName", sec["metadata"])
        ns = json.loads(self.k("get", "namespace", "typed", "-o", "json").stdout)
        self.assertEqual((ns["status"]["phase"], ns["spec"]["finalizers"]), ("Active", ["kubernetes"]))
        protobuf = [e for e in self.api.log() if e["method"] == "POST" and e["resource"] in ("namespaces", "secrets")]
        self.assertEqual([(e["code"], e["contentType"]) for e in protobuf if e["namespace"] == "typed" or e["name"] is None][-2:],
                         [(201, "application/vnd.kubernetes.protobuf")] * 2)

    def test_delete(self):
        self.apply(manifest("doomed"))
        self.assertIn('rebootrequest.rebootd.io "doomed" deleted', self.k("delete", "rr", "doomed", "-n", "kt").stdout)
        p = self.k("get", "rr", "doomed", "-n", "kt", check=False)
        self.assertIn('rebootrequests.rebootd.io "doomed" not found', p.stderr)

    def test_bearer_token_required(self):
        with open(self.api.kubeconfig) as f:
            cfg = json.load(f)
        self.assertEqual(cfg["users"][0]["user"]["token"], "kubectl-token")
        cfg["users"][0]["user"]["token"] = "wrong-token"
        bad = os.path.join(self.api.dir, "bad-kubeconfig")
        with open(bad, "w") as f:
            json.dump(cfg, f)
        p = self.k("get", "rr", "-A", kubeconfig=bad, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("You must be logged in to the server", p.stderr)
        code, body = self.api.request("GET", RR + "/rebootrequests", token="")
        self.assertEqual((code, body["reason"]), (401, "Unauthorized"))
        unauth = [e for e in self.api.log() if e["code"] == 401]
        self.assertTrue(unauth)


if __name__ == "__main__":
    unittest.main()
