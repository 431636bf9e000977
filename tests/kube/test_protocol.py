# SPDX-License-Identifier: Apache-2.0
"""The stand-in API server's wire protocol, checked over raw HTTP (no kubectl): discovery,
CRUD, resourceVersion preconditions, the status subresource, watch semantics, selectors,
paging, Secrets/Leases/Events, finalizers, persistence and every fault control."""

import base64
import json
import os
import socket
import time
import unittest

from standin import CRD, RR, StandIn, WatchRefused, rebootrequest

NS = "/apis/rebootd.io/v1alpha1/namespaces/%s/rebootrequests"


def create_rr(api, name, ns="default", **spec):
    status, body = api.request("POST", NS % ns, rebootrequest(name, ns, **spec))
    assert status == 201, body
    return body


def write_status(api, obj, status):
    o = dict(obj, status=status)
    code, body = api.request("PUT", NS % obj["metadata"]["namespace"] + "/" + obj["metadata"]["name"] + "/status", o)
    return code, body


class ProtocolTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.api = StandIn(crds=[CRD], args=["--bookmark-interval", "0.3"]).start()

    @classmethod
    def tearDownClass(cls):
        cls.api.cleanup()

    def test_discovery_documents(self):
        api = self.api
        code, body = api.request("GET", "/api")
        self.assertEqual((code, body["kind"], body["versions"]), (200, "APIVersions", ["v1"]))
        code, body = api.request("GET", "/apis")
        groups = {g["name"]: g for g in body["groups"]}
        self.assertEqual(groups["rebootd.io"]["preferredVersion"]["groupVersion"], "rebootd.io/v1alpha1")
        self.assertIn("coordination.k8s.io", groups)
        code, body = api.request("GET", "/apis/rebootd.io/v1alpha1")
        res = {r["name"]: r for r in body["resources"]}
        self.assertEqual(res["rebootrequests"]["shortNames"], ["rr"])
        self.assertTrue(res["rebootrequests"]["namespaced"])
        self.assertIn("watch", res["rebootrequests"]["verbs"])
        self.assertEqual(res["rebootrequests/status"]["verbs"], ["get", "patch", "update"])
        code, body = api.request("GET", "/api/v1")
        self.assertEqual({"namespaces", "secrets", "events"} - {r["name"] for r in body["resources"]}, set())
        code, body = api.request("GET", "/version")
        self.assertEqual((body["major"], body["minor"]), ("1", "35"))
        code, body = api.request("GET", "/apis/nothere.io/v1")
        self.assertEqual((code, body["reason"]), (404, "NotFound"))

    def test_token_required(self):
        code, body = self.api.request("GET", RR + "/rebootrequests", token="")
        self.assertEqual((code, body["kind"], body["reason"]), (401, "Status", "Unauthorized"))
        code, _ = self.api.request("GET", RR + "/rebootrequests", token="wrong")
        self.assertEqual(code, 401)
        code, _ = self.api.request("GET", RR + "/rebootrequests")
        self.assertEqual(code, 200)

    def test_create_get_defaults_and_metadata(self):
        obj = create_rr(self.api, "defaults")
        self.assertEqual(obj["spec"]["mode"], "Soft")
        self.assertEqual(obj["spec"]["dryRun"], False)
        self.assertEqual(obj["spec"]["timeoutSeconds"], 900)
        md = obj["metadata"]
        self.assertEqual(md["generation"], 1)
        self.assertTrue(md["uid"] and md["creationTimestamp"] and md["resourceVersion"])
        code, got = self.api.request("GET", NS % "default" + "/defaults")
        self.assertEqual((code, got), (200, obj))
        code, body = self.api.request("POST", NS % "default", rebootrequest("defaults"))
        self.assertEqual((code, body["reason"]), (409, "AlreadyExists"))
        code, body = self.api.request("GET", NS % "default" + "/missing")
        self.assertEqual((code, body["reason"], body["details"]["name"]), (404, "NotFound", "missing"))
        code, body = self.api.request("POST", NS % "no-such-ns", rebootrequest("x", "no-such-ns"))
        self.assertEqual(code, 404)

    def test_create_drops_status_and_validates_schema(self):
        o = rebootrequest("with-status")
        o["status"] = {"phase": "Succeeded"}
        code, body = self.api.request("POST", NS % "default", o)
        self.assertEqual(code, 201)
        self.assertNotIn("status", body)
        cases = [
            (rebootrequest("bad-mode", mode="Sometimes"), 'spec.mode: Unsupported value: "Sometimes"'),
            (rebootrequest("dups", ids=["ein-496721al", "ein-496721al"]), 'spec.instanceIds[1]: Duplicate value: "ein-496721al"'),
            (rebootrequest("no-ids", ids=[]), "spec.instanceIds"),
            (rebootrequest("too-long", timeoutSeconds=0), "spec.timeoutSeconds"),
            (rebootrequest("bad-id", ids=["vm-1"]), "spec.instanceIds[0]"),
            (rebootrequest("wrong-provider-id", ids=["i-bp67acfmxazb4ph0001"]), "tencent instance IDs must match"),
            (rebootrequest("no-region", provider="aliyun", ids=["i-bp67acfmxazb4ph0001"], region=""), "spec.region is required when spec.provider is aliyun"),
            (rebootrequest("bad-provider", provider="aws"), 'spec.provider: Unsupported value: "aws"'),
        ]
        for obj, want in cases:
            code, body = self.api.request("POST", NS % "default", obj)
            self.assertEqual((code, body["reason"]), (422, "Invalid"), obj["metadata"]["name"])
            self.assertIn(want, body["message"], obj["metadata"]["name"])
            self.assertTrue(body["details"]["causes"])
        many = rebootrequest("too-many", ids=["ein-%08d" % i for i in range(10001)])
        code, body = self.api.request("POST", NS % "default", many)
        self.assertEqual(code, 422)
        self.assertIn("Too many: 10001: must have at most 10000 items", body["message"])
        ok = rebootrequest("max-ids", ids=["ein-%08d" % i for i in range(10000)])
        code, body = self.api.request("POST", NS % "default", ok)
        self.assertEqual(code, 201, body)

    def test_unknown_fields_pruned_warned_or_rejected(self):
        o = rebootrequest("unknown-field")
        o["spec"]["colour"] = "blue"
        code, resp, data = self.api.raw("POST", NS % "default", o, query={"fieldValidation": "Strict"})
        self.assertEqual(code, 400)
        self.assertIn('unknown field "spec.colour"', json.loads(data)["message"])
        code, resp, data = self.api.raw("POST", NS % "default", o)
        self.assertEqual(code, 201)
        self.assertNotIn("colour", json.loads(data)["spec"])
        self.assertIn('unknown field \\"spec.colour\\"', resp.getheader("Warning"))

    def test_update_needs_current_resource_version(self):
        obj = create_rr(self.api, "conflicts")
        path = NS % "default" + "/conflicts"
        fresh = dict(obj)
        fresh["metadata"] = dict(obj["metadata"], labels={"a": "1"})
        code, v2 = self.api.request("PUT", path, fresh)
        self.assertEqual(code, 200)
        self.assertNotEqual(v2["metadata"]["resourceVersion"], obj["metadata"]["resourceVersion"])
        self.assertEqual(v2["metadata"]["generation"], 1, "a label change is not a spec change")
        stale = dict(obj)
        stale["metadata"] = dict(obj["metadata"], labels={"a": "2"})
        code, body = self.api.request("PUT", path, stale)
        self.assertEqual((code, body["reason"]), (409, "Conflict"))
        self.assertIn("the object has been modified", body["message"])
        no_rv = dict(obj)
        no_rv["metadata"] = {k: v for k, v in obj["metadata"].items() if k != "resourceVersion"}
        code, body = self.api.request("PUT", path, no_rv)
        self.assertEqual(code, 422)
        self.assertIn("metadata.resourceVersion", body["message"])
        # merge patch with a stale resourceVersion is a precondition too
        code, body = self.api.request("PATCH", path, {"metadata": {"resourceVersion": obj["metadata"]["resourceVersion"], "labels": {"b": "1"}}},
                                      content_type="application/merge-patch+json")
        self.assertEqual(code, 409)
        # a no-op update keeps the resourceVersion
        code, v3 = self.api.request("PUT", path, v2)
        self.assertEqual((code, v3["metadata"]["resourceVersion"]), (200, v2["metadata"]["resourceVersion"]))

    def test_status_subresource_and_generation(self):
        obj = create_rr(self.api, "statussub")
        path = NS % "default" + "/statussub"
        # status write: only status changes
        o = dict(obj, spec=dict(obj["spec"], mode="Hard"), status={"phase": "Pending"})
        o["metadata"] = dict(obj["metadata"], labels={"ignored": "yes"})
        code, s1 = self.api.request("PUT", path + "/status", o)
        self.assertEqual(code, 200)
        self.assertEqual(s1["status"], {"phase": "Pending"})
        self.assertEqual(s1["spec"]["mode"], "Soft")
        self.assertNotIn("labels", s1["metadata"])
        self.assertEqual(s1["metadata"]["generation"], 1)
        # main write: status is ignored, spec change bumps generation (allowed while Pending)
        o = dict(s1, spec=dict(s1["spec"], mode="Hard"), status={"phase": "Failed"})
        code, m1 = self.api.request("PUT", path, o)
        self.assertEqual(code, 200, m1)
        self.assertEqual(m1["status"], {"phase": "Pending"})
        self.assertEqual((m1["spec"]["mode"], m1["metadata"]["generation"]), ("Hard", 2))
        # GET .../status returns the whole object
        code, g = self.api.request("GET", path + "/status")
        self.assertEqual((code, g["spec"]["mode"]), (200, "Hard"))
        # merge patch on status
        code, p = self.api.request("PATCH", path + "/status", {"status": {"phase": "InProgress", "summary": {"total": 2}}},
                                   content_type="application/merge-patch+json")
        self.assertEqual((code, p["status"]["phase"], p["status"]["summary"]["total"]), (200, "InProgress", 2))
        self.assertEqual(p["metadata"]["generation"], 2)
        # schema applies to status too
        code, body = self.api.request("PATCH", path + "/status", {"status": {"phase": "Exploded"}},
                                      content_type="application/merge-patch+json")
        self.assertEqual(code, 422)

    def test_spec_immutable_once_started(self):
        obj = create_rr(self.api, "immutable")
        path = NS % "default" + "/immutable"
        code, s = write_status(self.api, obj, {"phase": "InProgress"})
        self.assertEqual(code, 200)
        for body, ctype in [({"spec": {"mode": "Hard"}}, "application/merge-patch+json"),
                            ([{"op": "replace", "path": "/spec/instanceIds/0", "value": "ein-11111111"}], "application/json-patch+json")]:
            code, resp = self.api.request("PATCH", path, body, content_type=ctype)
            self.assertEqual((code, resp["reason"]), (422, "Invalid"))
            self.assertIn("spec: Forbidden: spec is immutable once the request has started", resp["message"])
            self.assertEqual(resp["details"]["causes"][0]["field"], "spec")
        code, resp = self.api.request("PUT", path, dict(s, spec=dict(s["spec"], dryRun=True)))
        self.assertEqual(code, 422)
        # metadata may still change, and so may status
        code, resp = self.api.request("PATCH", path, {"metadata": {"labels": {"ok": "yes"}}}, content_type="application/merge-patch+json")
        self.assertEqual(code, 200)
        code, resp = self.api.request("PATCH", path + "/status", {"status": {"phase": "Succeeded"}}, content_type="application/merge-patch+json")
        self.assertEqual(code, 200)
        # strategic merge patch is not for custom resources, like a real server
        code, resp = self.api.request("PATCH", path, {"metadata": {"labels": {"x": "y"}}}, content_type="application/strategic-merge-patch+json")
        self.assertEqual(code, 415)

    def test_rebootd_status_json_is_accepted_whole(self):
        with open(os.path.join(os.path.dirname(__file__), "testdata", "rebootd-status.json")) as f:
            items = json.load(f)["items"]
        for it in items:
            name = "real-" + it["metadata"]["name"]
            o = {"apiVersion": it["apiVersion"], "kind": it["kind"], "metadata": {"name": name, "namespace": "default"},
                 "spec": it["spec"]}
            code, created = self.api.request("POST", NS % "default", o, query={"fieldValidation": "Strict"})
            self.assertEqual(code, 201, created)
            code, resp, data = self.api.raw("PUT", NS % "default" + "/" + name + "/status", dict(created, status=it["status"]),
                                            query={"fieldValidation": "Strict"})
            self.assertEqual(code, 200, data)
            self.assertIsNone(resp.getheader("Warning"))
            self.assertEqual(json.loads(data)["status"], it["status"], "nothing pruned")

    def test_list_selectors_and_paging(self):
        self.api.request("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "paging"}})
        for i in range(5):
            o = rebootrequest("page-%d" % i, "paging")
            o["metadata"]["labels"] = {"idx": str(i), "even": str(i % 2 == 0).lower()}
            self.assertEqual(self.api.request("POST", NS % "paging", o)[0], 201)
        code, lst = self.api.request("GET", NS % "paging")
        self.assertEqual((lst["kind"], len(lst["items"])), ("RebootRequestList", 5))
        self.assertTrue(lst["metadata"]["resourceVersion"].isdigit())
        self.assertEqual(lst["items"][0]["apiVersion"], "rebootd.io/v1alpha1")
        names = lambda l: [i["metadata"]["name"] for i in l["items"]]
        _, l = self.api.request("GET", NS % "paging", query={"labelSelector": "even=true"})
        self.assertEqual(names(l), ["page-0", "page-2", "page-4"])
        _, l = self.api.request("GET", NS % "paging", query={"labelSelector": "idx in (1,3),even!=true"})
        self.assertEqual(names(l), ["page-1", "page-3"])
        _, l = self.api.request("GET", NS % "paging", query={"fieldSelector": "metadata.name=page-2"})
        self.assertEqual(names(l), ["page-2"])
        _, l = self.api.request("GET", RR + "/rebootrequests", query={"labelSelector": "!even"})
        self.assertNotIn("page-1", names(l))
        got, cont = [], None
        while True:
            q = {"limit": 2}
            if cont:
                q["continue"] = cont
            code, page = self.api.request("GET", NS % "paging", query=q)
            self.assertEqual(code, 200)
            got += names(page)
            cont = page["metadata"].get("continue")
            if not cont:
                break
        self.assertEqual(got, ["page-%d" % i for i in range(5)])
        code, body = self.api.request("GET", NS % "paging", query={"fieldSelector": "spec.provider=tencent"})
        self.assertEqual(code, 400)

    def test_watch_from_version_sees_changes_in_order(self):
        obj = create_rr(self.api, "watched")
        rv = obj["metadata"]["resourceVersion"]
        with self.api.watch(NS % "default", resourceVersion=rv, fieldSelector="metadata.name=watched") as w:
            code, s = write_status(self.api, obj, {"phase": "InProgress"})
            self.assertEqual(code, 200)
            ev = w.events_until(lambda e: e["type"] == "MODIFIED")[-1]
            self.assertEqual(ev["object"]["status"]["phase"], "InProgress")
            self.assertEqual(ev["object"]["metadata"]["resourceVersion"], s["metadata"]["resourceVersion"])
            self.assertEqual(ev["object"]["kind"], "RebootRequest")
            self.api.request("DELETE", NS % "default" + "/watched")
            ev = w.events_until(lambda e: e["type"] == "DELETED")[-1]
            self.assertEqual(ev["object"]["metadata"]["name"], "watched")
            self.assertGreater(int(ev["object"]["metadata"]["resourceVersion"]), int(s["metadata"]["resourceVersion"]))

    def test_watch_without_version_lists_first_and_label_filter(self):
        o = rebootrequest("labelled")
        o["metadata"]["labels"] = {"watch": "me"}
        self.api.request("POST", NS % "default", o)
        with self.api.watch(RR + "/rebootrequests", resourceVersion="0", labelSelector="watch=me") as w:
            ev = w.next()
            self.assertEqual((ev["type"], ev["object"]["metadata"]["name"]), ("ADDED", "labelled"))
            # dropping the label looks like a deletion to this watch
            self.api.request("PATCH", NS % "default" + "/labelled", {"metadata": {"labels": {"watch": None}}},
                             content_type="application/merge-patch+json")
            ev = w.events_until(lambda e: e["type"] != "BOOKMARK")[-1]
            self.assertEqual((ev["type"], ev["object"]["metadata"]["name"]), ("DELETED", "labelled"))

    def test_watch_bookmarks_initial_events_and_timeout(self):
        create_rr(self.api, "bookmarked")
        t0 = time.monotonic()
        with self.api.watch(NS % "default", allowWatchBookmarks="true", sendInitialEvents="true",
                            resourceVersionMatch="NotOlderThan", timeoutSeconds="2") as w:
            evs = w.events_until(lambda e: e["type"] == "BOOKMARK")
            self.assertIn("bookmarked", [e["object"]["metadata"]["name"] for e in evs if e["type"] == "ADDED"])
            self.assertEqual(evs[-1]["object"]["metadata"]["annotations"], {"k8s.io/initial-events-end": "true"})
            # periodic bookmarks (0.3 s here), then a clean end of the stream at timeoutSeconds
            ev = w.next()
            self.assertEqual(ev["type"], "BOOKMARK")
            self.assertTrue(ev["object"]["metadata"]["resourceVersion"].isdigit())
            while ev is not None:
                ev = w.next()
        self.assertGreaterEqual(time.monotonic() - t0, 1.9)

    def test_secrets_leases_events(self):
        api = self.api
        code, sec = api.request("POST", "/api/v1/namespaces/default/secrets", {
            "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds"},
            "stringData": {"secretId": "AKID1"}, "data": {"secretKey": base64.b64encode(b"k").decode()}})
        self.assertEqual(code, 201)
        self.assertEqual(sec["type"], "Opaque")
        self.assertEqual(base64.b64decode(sec["data"]["secretId"]), b"AKID1")
        self.assertNotIn("stringData", sec)
        code, body = api.request("POST", "/api/v1/namespaces/default/secrets", {
            "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "bad"}, "data": {"k": "not base64!"}})
        self.assertEqual(code, 400)
        lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "rebootd-leader"},
                 "spec": {"holderIdentity": "a", "leaseDurationSeconds": 15, "renewTime": "2026-01-01T00:00:00.000000Z"}}
        lp = "/apis/coordination.k8s.io/v1/namespaces/default/leases"
        code, l1 = api.request("POST", lp, lease)
        self.assertEqual(code, 201)
        code, _ = api.request("POST", lp, lease)
        self.assertEqual(code, 409)
        l1["spec"]["holderIdentity"] = "b"
        code, l2 = api.request("PUT", lp + "/rebootd-leader", l1)
        self.assertEqual((code, l2["spec"]["holderIdentity"]), (200, "b"))
        l1["spec"]["holderIdentity"] = "c"
        code, body = api.request("PUT", lp + "/rebootd-leader", l1)
        self.assertEqual((code, body["reason"]), (409, "Conflict"), "a stale lease update loses")
        for path, ev in [("/api/v1/namespaces/default/events",
                          {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "rr.1"}, "reason": "Started",
                           "message": "m", "type": "Normal", "involvedObject": {"kind": "RebootRequest", "name": "x"}, "count": 1}),
                         ("/apis/events.k8s.io/v1/namespaces/default/events",
                          {"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "rr.2"}, "reason": "Started",
                           "note": "m", "type": "Normal", "regarding": {"kind": "RebootRequest", "name": "x"},
                           "eventTime": "2026-01-01T00:00:00.000000Z", "reportingController": "rebootd.io/rebootd",
                           "reportingInstance": "r-1", "action": "Reboot"})]:
            code, body = api.request("POST", path, ev)
            self.assertEqual(code, 201, body)
            code, lst = api.request("GET", path)
            self.assertEqual(len(lst["items"]), 1)
            code, p = api.request("PATCH", path + "/" + ev["metadata"]["name"], {"count": 2} if "count" in ev else {"note": "n"},
                                  content_type="application/strategic-merge-patch+json")
            self.assertEqual(code, 200)

    def test_finalizers_delay_deletion(self):
        o = rebootrequest("finalized")
        o["metadata"]["finalizers"] = ["rebootd.io/cancel"]
        code, obj = self.api.request("POST", NS % "default", o)
        path = NS % "default" + "/finalized"
        with self.api.watch(NS % "default", resourceVersion=obj["metadata"]["resourceVersion"], fieldSelector="metadata.name=finalized") as w:
            code, d = self.api.request("DELETE", path)
            self.assertEqual(code, 200)
            self.assertIn("deletionTimestamp", d["metadata"])
            code, g = self.api.request("GET", path)
            self.assertEqual(code, 200, "still there while a finalizer is set")
            ev = w.events_until(lambda e: e["type"] != "BOOKMARK")[-1]
            self.assertEqual(ev["type"], "MODIFIED")
            code, _ = self.api.request("PATCH", path, {"metadata": {"finalizers": None}}, content_type="application/merge-patch+json")
            self.assertEqual(code, 200)
            ev = w.events_until(lambda e: e["type"] != "BOOKMARK")[-1]
            self.assertEqual(ev["type"], "DELETED")
        self.assertEqual(self.api.request("GET", path)[0], 404)

    def test_namespace_deletion_terminates_then_removes_contents(self):
        api = self.api
        code, ns = api.request("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "doomed"}})
        self.assertEqual(code, 201)
        create_rr(api, "inside", "doomed")
        with api.watch("/api/v1/namespaces", resourceVersion=ns["metadata"]["resourceVersion"], fieldSelector="metadata.name=doomed") as w:
            code, d = api.request("DELETE", "/api/v1/namespaces/doomed")
            self.assertEqual((code, d["status"]["phase"]), (200, "Terminating"))
            code, body = api.request("POST", NS % "doomed", rebootrequest("late", "doomed"))
            self.assertEqual((code, body["reason"]), (403, "Forbidden"))
            w.events_until(lambda e: e["type"] == "DELETED")
        self.assertEqual(api.request("GET", NS % "doomed" + "/inside")[0], 404)
        self.assertEqual(api.request("DELETE", "/api/v1/namespaces/default")[0], 403)

    def test_request_log(self):
        start = self.api.log()[-1]["seq"]
        obj = create_rr(self.api, "logged")
        write_status(self.api, obj, {"phase": "InProgress"})
        self.api.request("GET", NS % "default" + "/logged")
        items = self.api.log(since=start)
        verbs = [(e["method"], e["verb"], e["resource"], e["subresource"], e["name"], e["code"]) for e in items]
        self.assertEqual(verbs, [("POST", "create", "rebootrequests", None, None, 201),
                                 ("PUT", "update", "rebootrequests", "status", "logged", 200),
                                 ("GET", "get", "rebootrequests", None, "logged", 200)])
        self.assertEqual(items[1]["namespace"], "default")
        self.assertTrue(items[1]["resourceVersion"].isdigit())


class FaultTest(unittest.TestCase):
    """Each test gets its own server, since faults are global."""

    def setUp(self):
        self.api = StandIn(crds=[CRD]).start()

    def tearDown(self):
        self.api.cleanup()

    def test_close_watches_gracefully(self):
        obj = create_rr(self.api, "a")
        with self.api.watch(NS % "default", resourceVersion=obj["metadata"]["resourceVersion"]) as w:
            self.api.faults(closeWatches=True)
            self.assertIsNone(w.next(), "the stream ends cleanly (terminating chunk)")
        self.assertEqual(self.api.state()["watches"], 0)

    def test_close_watches_abruptly(self):
        obj = create_rr(self.api, "a")
        with self.api.watch(NS % "default", resourceVersion=obj["metadata"]["resourceVersion"]) as w:
            self.api.faults(closeWatches="abrupt")
            expect_broken(w)

    def test_compact_gives_410_as_event_then_as_http(self):
        obj = create_rr(self.api, "a")
        old = obj["metadata"]["resourceVersion"]
        write_status(self.api, obj, {"phase": "InProgress"})
        # before compaction the old version is fine
        with self.api.watch(NS % "default", resourceVersion=old) as w:
            self.assertEqual(w.next()["type"], "MODIFIED")
        self.api.faults(compact=True)
        with self.api.watch(NS % "default", resourceVersion=old) as w:
            ev = w.next()
            self.assertEqual(ev["type"], "ERROR")
            self.assertEqual((ev["object"]["code"], ev["object"]["reason"]), (410, "Expired"))
            self.assertIsNone(w.next())
        self.api.faults(watchGoneAs="http")
        with self.assertRaises(WatchRefused) as ctx:
            self.api.watch(NS % "default", resourceVersion=old)
        self.assertEqual((ctx.exception.status, ctx.exception.body["code"]), (410, 410))
        # the current version (from a fresh list) works
        _, lst = self.api.request("GET", NS % "default")
        with self.api.watch(NS % "default", resourceVersion=lst["metadata"]["resourceVersion"]) as w:
            self.api.request("PATCH", NS % "default" + "/a", {"metadata": {"labels": {"x": "1"}}}, content_type="application/merge-patch+json")
            self.assertEqual(w.next()["type"], "MODIFIED")

    def test_restart_drops_streams_and_history(self):
        obj = create_rr(self.api, "a")
        rv = obj["metadata"]["resourceVersion"]
        write_status(self.api, obj, {"phase": "InProgress"})  # rv is now older than the newest
        w = self.api.watch(NS % "default", resourceVersion=rv)
        self.assertEqual(w.next()["type"], "MODIFIED")
        self.api.faults(restart=True)
        expect_broken(w)
        w.close()
        self.api.request("PATCH", NS % "default" + "/a", {"metadata": {"labels": {"x": "1"}}}, content_type="application/merge-patch+json")
        with self.api.watch(NS % "default", resourceVersion=rv) as w:
            self.assertEqual(w.next()["object"]["code"], 410)

    def test_conflict_on_first_status_write_of_each_object(self):
        a = create_rr(self.api, "a")
        create_rr(self.api, "b")
        self.api.faults(conflictOnFirstStatusWrite=True)
        code, body = write_status(self.api, a, {"phase": "InProgress"})
        self.assertEqual((code, body["reason"]), (409, "Conflict"))
        code, body = write_status(self.api, a, {"phase": "InProgress"})
        self.assertEqual(code, 200)
        code, body = self.api.request("PATCH", NS % "default" + "/b/status", {"status": {"phase": "InProgress"}},
                                      content_type="application/merge-patch+json")
        self.assertEqual(code, 409)
        code, body = self.api.request("PATCH", NS % "default" + "/b/status", {"status": {"phase": "InProgress"}},
                                      content_type="application/merge-patch+json")
        self.assertEqual(code, 200)
        # main-resource writes are not affected
        code, _ = self.api.request("PATCH", NS % "default" + "/b", {"metadata": {"labels": {"x": "1"}}}, content_type="application/merge-patch+json")
        self.assertEqual(code, 200)

    def test_rules_fail_n_times_then_pass(self):
        self.api.faults(rules=[{"method": "GET", "path": RR + "/", "count": 2, "code": 500},
                               {"verb": "create", "resource": "leases", "count": 1, "code": 429}])
        codes = [self.api.request("GET", RR + "/rebootrequests")[0] for _ in range(3)]
        self.assertEqual(codes, [500, 500, 200])
        lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "l"}, "spec": {}}
        code, resp, _ = self.api.raw("POST", "/apis/coordination.k8s.io/v1/namespaces/default/leases", lease)
        self.assertEqual((code, resp.getheader("Retry-After")), (429, "1"))
        code, _ = self.api.request("POST", "/apis/coordination.k8s.io/v1/namespaces/default/leases", lease)
        self.assertEqual(code, 201)
        faults = [e["fault"] for e in self.api.log() if e["fault"]]
        self.assertEqual(faults, ["error", "error", "error"])

    def test_rule_close_drops_the_connection(self):
        self.api.faults(rules=[{"path": RR + "/rebootrequests", "match": "exact", "action": "close"}])
        with self.assertRaises((http_client_errors())):
            self.api.request("GET", RR + "/rebootrequests")
        self.assertEqual(self.api.request("GET", RR + "/rebootrequests")[0], 200)

    def test_reset_and_token_rotation(self):
        self.api.faults(conflictOnFirstStatusWrite=True, rules=[{"path": "/api", "count": -1}])
        self.assertEqual(self.api.request("GET", "/api/v1")[0], 500)
        self.api.faults(reset=True, tokens=["new-token"])
        self.assertEqual(self.api.request("GET", "/api/v1")[0], 401)
        self.assertEqual(self.api.request("GET", "/api/v1", token="new-token")[0], 200)
        self.assertEqual(self.api.faults()["rules"], [])

    def test_size_limits_like_kube_apiserver_and_etcd(self):
        # Full per-instance status for 10,000 instances is ~3 MB: more than a real API server
        # takes in one request (3 MiB, 413) and than etcd stores in one object (1.5 MiB).
        obj = create_rr(self.api, "big", ids=["ein-%08d" % i for i in range(10000)])
        insts = [{"id": i, "state": "Succeeded", "reason": "Rebooted", "message": "the instance is running again",
                  "requestId": "6e0d1b3c-8d4e-4a56-9a5b-0123456789ab", "attempts": 1,
                  "requestedAt": "2026-12-02T02:00:00Z", "acceptedAt": "2026-12-02T02:00:01Z",
                  "completedAt": "2026-12-02T02:01:00Z", "seenTransitional": True} for i in obj["spec"]["instanceIds"]]
        code, body = write_status(self.api, obj, {"phase": "Succeeded", "instances": insts})
        self.assertEqual((code, body["reason"]), (413, "RequestEntityTooLarge"))
        code, body = write_status(self.api, obj, {"phase": "Succeeded", "instances": insts[:6000]})
        self.assertEqual(code, 500)
        self.assertIn("etcdserver: request is too large", body["message"])
        code, body = write_status(self.api, obj, {"phase": "Succeeded", "instances": insts[:3000]})
        self.assertEqual(code, 200)


def expect_broken(w):
    """The stream must break (reset, or EOF inside the chunked body), not end cleanly or stall."""
    import http.client
    try:
        ev = w.next(5)
    except TimeoutError:
        raise AssertionError("the stream stalled instead of breaking")
    except (http.client.HTTPException, ConnectionError, OSError):
        return
    raise AssertionError("expected a broken stream, got %r" % (ev,))


def http_client_errors():
    import http.client
    return (http.client.RemoteDisconnected, ConnectionError, socket.timeout)


class OptionsTest(unittest.TestCase):
    def test_history_is_bounded_in_bytes(self):
        with StandIn(crds=[CRD], args=["--history-bytes", "3000"]) as api:
            first = create_rr(api, "h0")
            last = first
            for i in range(1, 20):
                last = create_rr(api, "h%d" % i)  # 350-400 bytes each: 20 are well over 3000
            state = api.state()
            self.assertGreater(int(state["compactedResourceVersion"]), int(first["metadata"]["resourceVersion"]))
            with api.watch(NS % "default", resourceVersion=first["metadata"]["resourceVersion"]) as w:
                self.assertEqual(w.next()["object"]["code"], 410)
            with api.watch(NS % "default", resourceVersion=state["compactedResourceVersion"]) as w:
                ev = w.next()
                self.assertEqual(ev["type"], "ADDED")
                self.assertLessEqual(int(ev["object"]["metadata"]["resourceVersion"]), int(last["metadata"]["resourceVersion"]))

    def test_token_file_is_reread(self):
        api = StandIn(crds=[CRD], token=None)
        tokens = os.path.join(api.dir, "tokens")
        with open(tokens, "w") as f:
            f.write("one\n")
        api.args = ["--token-file", tokens]
        with api:
            self.assertEqual(api.request("GET", "/api/v1", token="one")[0], 200)
            self.assertEqual(api.request("GET", "/api/v1", token="two")[0], 401)
            with open(tokens, "w") as f:
                f.write("two\n")
            self.assertEqual(api.request("GET", "/api/v1", token="two")[0], 200)
            self.assertEqual(api.request("GET", "/api/v1", token="one")[0], 401)


class PersistenceTest(unittest.TestCase):
    def test_state_file_survives_restart_and_old_versions_expire(self):
        api = StandIn(crds=[CRD])
        api.state_file = os.path.join(api.dir, "state.json")
        try:
            api.start()
            obj = create_rr(api, "kept")
            code, s = write_status(api, obj, {"phase": "InProgress"})
            api.stop()
            api.start()
            code, got = api.request("GET", NS % "default" + "/kept")
            self.assertEqual(code, 200)
            self.assertEqual((got["status"], got["metadata"]["uid"]), ({"phase": "InProgress"}, obj["metadata"]["uid"]))
            self.assertEqual(got["metadata"]["resourceVersion"], s["metadata"]["resourceVersion"])
            with api.watch(NS % "default", resourceVersion=obj["metadata"]["resourceVersion"]) as w:
                self.assertEqual(w.next()["object"]["code"], 410)
            code, n = api.request("PATCH", NS % "default" + "/kept", {"metadata": {"labels": {"a": "b"}}},
                                  content_type="application/merge-patch+json")
            self.assertGreater(int(n["metadata"]["resourceVersion"]), int(s["metadata"]["resourceVersion"]))
        finally:
            api.cleanup()


if __name__ == "__main__":
    unittest.main()
