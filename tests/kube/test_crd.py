# SPDX-License-Identifier: Apache-2.0
"""deploy/crds/rebootd.io_rebootrequests.yaml against DESIGN.md §3 and against what rebootd
really writes: names, printer columns, a structural schema, defaults and bounds, the ID
patterns (same bounds as pkg/api IsValidInstanceId), every status field that
pkg/api/codec.cc StatusToJson writes, the CEL rule messages the stand-in emulates, and the
example manifests passing the schema."""

import glob
import importlib.util
import os
import re
import unittest

import yaml

from standin import APISERVER, CRD, SOURCE_DIR

spec_ = importlib.util.spec_from_file_location("apiserver", APISERVER)
apiserver = importlib.util.module_from_spec(spec_)
spec_.loader.exec_module(apiserver)


def load_crd():
    with open(CRD) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    assert len(docs) == 1
    return docs[0]


class CrdTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.crd = load_crd()
        cls.version = cls.crd["spec"]["versions"][0]
        cls.schema = cls.version["schema"]["openAPIV3Schema"]
        cls.spec = cls.schema["properties"]["spec"]
        cls.status = cls.schema["properties"]["status"]

    def test_names_and_subresources(self):
        c = self.crd
        self.assertEqual((c["apiVersion"], c["kind"]), ("apiextensions.k8s.io/v1", "CustomResourceDefinition"))
        self.assertEqual(c["metadata"]["name"], "rebootrequests.rebootd.io")
        s = c["spec"]
        self.assertEqual((s["group"], s["scope"]), ("rebootd.io", "Namespaced"))
        self.assertEqual(s["names"]["kind"], "RebootRequest")
        self.assertEqual(s["names"]["plural"], "rebootrequests")
        self.assertEqual(s["names"]["shortNames"], ["rr"])
        self.assertEqual([(v["name"], v["served"], v["storage"]) for v in s["versions"]], [("v1alpha1", True, True)])
        self.assertEqual(self.version["subresources"], {"status": {}})
        self.assertEqual(apiserver.validate_crd(c), [])

    def test_printer_columns(self):
        cols = [(c["name"], c["type"], c["jsonPath"]) for c in self.version["additionalPrinterColumns"] if not c.get("priority")]
        self.assertEqual(cols, [
            ("Provider", "string", ".spec.provider"), ("Mode", "string", ".spec.mode"),
            ("Phase", "string", ".status.phase"), ("Succeeded", "integer", ".status.summary.succeeded"),
            ("Failed", "integer", ".status.summary.failed"), ("Total", "integer", ".status.summary.total"),
            ("Age", "date", ".metadata.creationTimestamp")])

    def test_schema_is_structural(self):
        def walk(node, path):
            if path != "metadata" and not path.endswith(".metadata"):
                self.assertTrue("type" in node or node.get("x-kubernetes-int-or-string") or node.get("x-kubernetes-preserve-unknown-fields"),
                                "%s has no type" % path)
            for k, child in node.get("properties", {}).items():
                walk(child, path + "." + k if path else k)
            if isinstance(node.get("items"), dict):
                walk(node["items"], path + "[]")
            for bad in ("oneOf", "anyOf", "allOf", "not"):
                self.assertNotIn(bad, node, "%s: keep the schema simple and structural" % path)
        walk(self.schema, "")
        self.assertEqual(self.schema["properties"]["metadata"], {"type": "object"})

    def test_spec_fields(self):
        p = self.spec["properties"]
        self.assertEqual(set(self.spec["required"]), {"provider", "instanceIds"})
        self.assertEqual(p["provider"]["enum"], ["tencent", "aliyun"])
        self.assertEqual((p["mode"]["enum"], p["mode"]["default"]), (["Soft", "Hard", "SoftFirst"], "Soft"))
        self.assertEqual((p["dryRun"]["type"], p["dryRun"]["default"]), ("boolean", False))
        t = p["timeoutSeconds"]
        self.assertEqual((t["type"], t["default"], t["minimum"], t["maximum"]), ("integer", 900, 1, 86400))
        ids = p["instanceIds"]
        self.assertEqual((ids["minItems"], ids["maxItems"], ids["x-kubernetes-list-type"]), (1, 10000, "set"))
        self.assertIn("maxLength", ids["items"], "CEL cost estimation needs bounded strings")
        self.assertEqual(p["credentialsSecretRef"]["required"], ["name"])

    def test_id_pattern_matches_pkg_api_bounds(self):
        pattern = re.compile(self.spec["properties"]["instanceIds"]["items"]["pattern"])
        maxlen = self.spec["properties"]["instanceIds"]["items"]["maxLength"]
        good = ["ein-" + "a" * 6, "ein-" + "0" * 16, "ein-496721al", "i-" + "b" * 8, "i-" + "9" * 32, "i-bp67acfmxazb4ph0001"]
        bad = ["ein-" + "a" * 5, "ein-" + "a" * 17, "i-" + "b" * 7, "i-" + "b" * 33, "ein-ABCDEFGH", "i-bp67_cfmx", "vm-12345678", ""]
        for g in good:
            self.assertTrue(pattern.search(g) and len(g) <= maxlen, g)
        for b in bad:
            self.assertFalse(pattern.search(b) and len(b) <= maxlen, b)
        rules = {r["message"]: r["rule"] for r in self.spec["x-kubernetes-validations"]}
        self.assertIn("'^ein-[a-z0-9]{6,16}$'", rules[apiserver.RebootRequestRules.TENCENT_IDS])
        self.assertIn("'^i-[a-z0-9]{8,32}$'", rules[apiserver.RebootRequestRules.ALIYUN_IDS])

    def test_cel_rules_match_the_standin_emulation(self):
        messages = [r["message"] for r in self.schema["x-kubernetes-validations"] + self.spec["x-kubernetes-validations"]]
        self.assertEqual(sorted(messages), sorted(apiserver.RebootRequestRules.messages()))
        root = self.schema["x-kubernetes-validations"][0]
        self.assertEqual(root["message"], apiserver.RebootRequestRules.IMMUTABLE)
        for needle in ("oldSelf.status.phase", "'Pending'", "self.spec == oldSelf.spec", "has(oldSelf.status)"):
            self.assertIn(needle, root["rule"])
        self.assertEqual((root["reason"], root["fieldPath"]), ("FieldValueForbidden", ".spec"))

    def test_status_schema_covers_everything_rebootd_writes(self):
        with open(os.path.join(SOURCE_DIR, "pkg", "api", "codec.cc")) as f:
            code = f.read()
        # Everything between the per-instance encoder and the decoder writes status JSON.
        body = code[code.index("json::Value InstanceToJson("):code.index("Result<RebootRequestStatus> StatusFromJson(")]
        written = set(re.findall(r'\.Set\("([A-Za-z]+)"', body))
        self.assertGreater(len(written), 20, "parsed StatusToJson")
        known = set()

        def collect(node):
            for k, child in node.get("properties", {}).items():
                known.add(k)
                collect(child)
            if isinstance(node.get("items"), dict):
                collect(node["items"])
        collect(self.status)
        self.assertEqual(written - known, set(), "fields rebootd writes that the API server would prune")
        spec_body = code[code.index("json::Value ToJson("):]
        spec_body = spec_body[spec_body.index("json::Value s"): spec_body.index("\n}\n")]
        spec_written = set(re.findall(r's\.Set\("([A-Za-z]+)"', spec_body))
        self.assertEqual(spec_written - set(self.spec["properties"]), set())

    def test_states_phases_and_conditions(self):
        p = self.status["properties"]
        self.assertEqual(p["phase"]["enum"], ["Pending", "InProgress", "Succeeded", "Failed"])
        inst = p["instances"]
        self.assertEqual((inst["x-kubernetes-list-type"], inst["x-kubernetes-list-map-keys"], inst["maxItems"]), ("map", ["id"], 10000))
        cond = p["conditions"]["items"]
        self.assertEqual(set(cond["required"]), {"type", "status", "lastTransitionTime", "reason", "message"})
        self.assertEqual(cond["properties"]["status"]["enum"], ["True", "False", "Unknown"])

    def test_examples_pass_schema_and_rules(self):
        files = glob.glob(os.path.join(SOURCE_DIR, "examples", "*.yaml")) + glob.glob(os.path.join(SOURCE_DIR, "examples", "kubernetes", "*.yaml"))
        checked = 0
        for path in files:
            with open(path) as f:
                for doc in yaml.safe_load_all(f):
                    if not doc or doc.get("kind") != "RebootRequest":
                        continue
                    schema = apiserver.Schema(self.schema)
                    unknown = []
                    schema.prune_and_default(doc, unknown)
                    errs = schema.validate(doc) + apiserver.RebootRequestRules.check(doc, None)
                    self.assertEqual((unknown, errs), ([], []), path)
                    self.assertIn(doc["spec"]["mode"], ("Soft", "Hard", "SoftFirst"))
                    checked += 1
        self.assertGreaterEqual(checked, 4)


if __name__ == "__main__":
    unittest.main()
