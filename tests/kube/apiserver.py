#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A stand-in Kubernetes API server for rebootd's tests (Python 3 standard library only).

It speaks the real wire protocol (JSON over HTTP/1.1, chunked watch streams, resourceVersion,
metav1.Status errors, the status subresource, CRDs, discovery, OpenAPI v3 index, server-side
Tables for kubectl) well enough for the real kubectl v1.35 and for rebootd's own client.
Everything is in memory; one process is one "cluster". Loopback only. See README.md beside
this file for what it does not implement compared with a real API server, and standin.py
beside it for a Python wrapper (start/stop, HTTP and watch helpers, kubectl with a kubeconfig).

START
    /usr/bin/python3 tests/kube/apiserver.py --token s3cret --port-file /tmp/kube.port \
        [--kubeconfig-out /tmp/kubeconfig] [--crd deploy/crds/rebootd.io_rebootrequests.yaml]

    It listens on 127.0.0.1 (port 0 = any free port), then writes the port number to
    --port-file (atomically: the file appears complete) and prints one line to stdout:
        standin-apiserver listening on http://127.0.0.1:PORT
    It runs until SIGTERM/SIGINT (state is saved first when --state-file is given).

FLAGS
    --address ADDR            listen address, default 127.0.0.1 (loopback only is enforced)
    --port N                  default 0 (pick a free port); a fixed port allows restarts
    --port-file PATH          write the chosen port here
    --token TOKEN             accepted bearer token (repeatable). No --token and no
                              --token-file = authentication disabled (every request allowed)
    --token-file PATH         accepted tokens, one per line, re-read on every request
                              (tokens can be rotated by rewriting the file)
    --kubeconfig-out PATH     write a kubeconfig (server URL, the first token, namespace default)
    --crd PATH                apply this CRD manifest (YAML or JSON; repeatable) at startup
    --state-file PATH         load objects from here at start, save on change (at most every
                              0.2 s, and on SIGTERM/SIGINT). History is not saved: after a
                              restart every older resourceVersion is "too old" (410) for watch
    --bookmark-interval S     BOOKMARK period for watches with allowWatchBookmarks, default 5
    --history-limit N         watch events kept (older ones are compacted -> 410), default 50000
    --history-bytes N         ... and at most this many bytes of them, default 256 MiB
    --max-object-bytes N      largest stored object (etcd's 1.5 MiB default); 0 = unlimited
    --max-body-bytes N        largest request body (3 MiB like kube-apiserver); 0 = unlimited
    --log-bodies              keep write request bodies in the request log
    --namespace-finalize-seconds S   a deleted namespace stays Terminating this long before it
                              and its contents go, default 1
    --tls-self-signed DIR     serve HTTPS with a CA and a 127.0.0.1 certificate made in DIR
                              (openssl CLI; reused when present): DIR/ca.crt is the CA. The
                              kubeconfig gets it as certificate-authority-data. kubectl (client-go)
                              sends bearer tokens only over TLS, so kubectl tests need this
    --tls-cert-file/--tls-private-key-file [--tls-ca-file]   serve HTTPS with these files
    --verbose                 one stderr line per request

AUTHENTICATION
    `Authorization: Bearer <token>` on every Kubernetes path; otherwise 401 with a Status body
    (reason Unauthorized). The /_standin/ admin paths need no token.

ADMIN ENDPOINTS (JSON; for tests)
    GET    /_standin/healthz        -> "ok"
    GET    /_standin/state          -> {"resourceVersion": "41", "compactedResourceVersion": "0",
                                        "watches": 2, "objects": {"rebootrequests.rebootd.io": 3}}
    GET    /_standin/log[?since=N]  -> {"items": [{"seq": 1, "time": 1764643337.12, "method": "PUT",
                                        "path": "/apis/rebootd.io/v1alpha1/namespaces/ops/rebootrequests/a/status",
                                        "query": {...}, "verb": "update", "group": "rebootd.io",
                                        "version": "v1alpha1", "resource": "rebootrequests",
                                        "subresource": "status", "namespace": "ops", "name": "a",
                                        "code": 200, "resourceVersion": "42", "userAgent": "...",
                                        "contentType": "application/json",
                                        "fault": null, "body": {...only with --log-bodies}}],
                                        "next": 2}
                                      (a watch is logged when it starts, code 200 or its error)
    DELETE /_standin/log            -> clear the log
    GET    /_standin/faults         -> the current fault settings
    POST   /_standin/faults         -> apply any of these keys (all optional, applied in this order):
        {"reset": true}                        clear every fault setting first
        {"compact": true}                      forget watch history: a watch (or a list continue
                                               token) from any resourceVersion older than now
                                               gets 410 Expired
        {"closeWatches": true}                 end every open watch stream now (clean end of the
                                               chunked body); "abrupt" instead resets the TCP
                                               connection mid-stream
        {"restart": true}                      = compact + closeWatches "abrupt": what clients
                                               see when an API server restarts with an empty
                                               watch cache
        {"bookmarkNow": true}                  send a BOOKMARK now on watches that allow them
        {"conflictOnFirstStatusWrite": true}   answer 409 Conflict to the first status write
                                               (PUT/PATCH .../status) of every object, counted
                                               from now; false turns it off
        {"watchGoneAs": "event"}               how a watch from a too-old resourceVersion fails:
                                               "event" (default; HTTP 200 then one ERROR event with
                                               a 410 Status, like a real server) or "http" (HTTP 410)
        {"rules": [{"method": "PUT", "path": "/apis/rebootd.io/", "match": "prefix",
                    "verb": "update", "subresource": "status",
                    "count": 2, "action": "error", "code": 500, "delaySeconds": 0}]}
                                               appended to the rule list. A request that matches
                                               every given selector (method, path with match
                                               prefix|exact|regex|contains, verb, resource,
                                               subresource, namespace, name) uses up one count
                                               (count -1 = forever) and gets the action: "error"
                                               (a Status with `code`, default 500; 429 adds
                                               Retry-After: 1), "delay" (sleep delaySeconds, then
                                               serve normally) or "close" (drop the connection
                                               with no answer)
        {"tokens": ["a", "b"]}                 replace the accepted tokens
      Example:  curl -XPOST localhost:PORT/_standin/faults -d '{"rules":[{"path":"/apis/coordination.k8s.io/","count":3}]}'

KUBERNETES API (what is served)
    /version /healthz /readyz /livez /api /api/v1 /apis /apis/G/V (plain discovery; the
    aggregated-discovery Accept types are answered with the plain documents, which clients
    negotiate down to), /openapi/v3 and /openapi/v3/<gv> (PATCH operations with the
    fieldValidation and dryRun parameters, so kubectl uses server-side field validation),
    /openapi/v2 (404).
    Resources: namespaces, secrets, configmaps, events (v1), events.k8s.io/v1 events,
    coordination.k8s.io/v1 leases, apiextensions.k8s.io/v1 customresourcedefinitions, and every
    custom resource a CRD defines (served at once, condition Established=True). Also stored
    generically, with nothing running behind them: serviceaccounts, services, pods,
    apps/v1 deployments, rbac.authorization.k8s.io/v1 roles, rolebindings, clusterroles,
    clusterrolebindings, policy/v1 poddisruptionbudgets, networking.k8s.io/v1 networkpolicies.
    Verbs: create get list watch update patch delete deletecollection; status subresource;
    label selectors (=, ==, !=, in, notin, exists, !exists) and field selectors
    (metadata.name, metadata.namespace, plus dotted paths on built-in kinds);
    list limit/continue; watch with resourceVersion, allowWatchBookmarks, sendInitialEvents,
    timeoutSeconds; patch types merge, strategic (approximated as merge, directives stripped;
    415 for custom resources like a real server), json-patch and apply (approximate);
    dryRun=All; protobuf request bodies for Namespace, Secret and ConfigMap only (what kubectl's
    typed commands such as `kubectl create secret generic` send; answers are always JSON);
    fieldValidation Ignore|Warn|Strict; Table output (Accept ...;as=Table) with CRD
    additionalPrinterColumns; finalizers and deletionTimestamp.
    CRD schemas are enforced: types, enum, required, pattern, min/max, minLength/maxLength,
    minItems/maxItems, x-kubernetes-list-type set/map uniqueness, defaults, pruning of unknown
    fields, nullable. CEL (x-kubernetes-validations) is not evaluated in general; the rules of
    rebootrequests.rebootd.io are emulated in Python (see RebootRequestRules).
"""

import argparse
import base64
import copy
import datetime
import hashlib
import json
import os
import re
import signal
import socket
import ssl
import sys
import threading
import time
import traceback
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

try:
    import yaml  # python3-yaml (Debian); only needed for YAML CRD files and apply patches
except ImportError:  # pragma: no cover
    yaml = None

SERVER_VERSION = {
    "major": "1",
    "minor": "35",
    "gitVersion": "v1.35.0-standin",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2026-01-01T00:00:00Z",
    "goVersion": "go1.25.0",
    "compiler": "gc",
    "platform": "linux/amd64",
}

SYSTEM_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"]


def now_rfc3339():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_rfc3339_micro():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(s):
    try:
        return datetime.datetime.strptime(s.replace("Z", "+0000")[:19] + "+0000", "%Y-%m-%dT%H:%M:%S%z")
    except (ValueError, AttributeError):
        return None


def human_duration(seconds):
    """Like k8s.io/apimachinery/pkg/util/duration.HumanDuration."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return "%ds" % s
    m = s // 60
    if m < 10:
        return "%dm%ds" % (m, s % 60) if s % 60 else "%dm" % m
    if m < 180:
        return "%dm" % m
    h = s // 3600
    if h < 8:
        return "%dh%dm" % (h, m % 60) if m % 60 else "%dh" % h
    if h < 48:
        return "%dh" % h
    d = h // 24
    if h < 24 * 8:
        return "%dd%dh" % (d, h % 24) if h % 24 else "%dd" % d
    if d < 365 * 2:
        return "%dd" % d
    return "%dy" % (d // 365)


class ApiError(Exception):
    """An error answered as a metav1.Status."""

    def __init__(self, code, reason, message, details=None, headers=None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}

    def status(self):
        s = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
             "message": self.message, "reason": self.reason, "code": self.code}
        if self.details:
            s["details"] = self.details
        return s


def not_found(rt, name):
    return ApiError(404, "NotFound", '%s "%s" not found' % (rt.qualified(), name),
                    {"name": name, "group": rt.group, "kind": rt.plural})


def conflict(rt, name, why="the object has been modified; please apply your changes to the latest version and try again"):
    return ApiError(409, "Conflict", 'Operation cannot be fulfilled on %s "%s": %s' % (rt.qualified(), name, why),
                    {"name": name, "group": rt.group, "kind": rt.plural})


def invalid(rt, name, causes):
    """causes: list of (field, reason, detail); the message reads "field: detail" like a real server."""
    texts = ["%s: %s" % (f, m) if f else m for f, _, m in causes]
    joined = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
    what = "%s.%s" % (rt.kind, rt.group) if rt.group else rt.kind
    return ApiError(422, "Invalid", '%s "%s" is invalid: %s' % (what, name, joined),
                    {"name": name, "group": rt.group, "kind": rt.kind,
                     "causes": [{"reason": r, "message": m, "field": f} for f, r, m in causes]})


def bad_request(message):
    return ApiError(400, "BadRequest", message)


def jdump(v):
    return json.dumps(v, separators=(",", ":"), sort_keys=False)


def short_value(v):
    s = json.dumps(v)
    return s if len(s) <= 64 else s[:61] + "..."


# ---------------------------------------------------------------------------------------------
# Protobuf request bodies (application/vnd.kubernetes.protobuf)
# ---------------------------------------------------------------------------------------------
# kubectl's typed commands (`kubectl create namespace`, `kubectl create secret generic`, ...)
# send protobuf. Only the kinds below are decoded (field numbers from k8s.io/api generated.proto);
# anything else gets 415. Answers are always JSON, which every client accepts.

def _pb_fields(buf):
    i, n = 0, len(buf)
    while i < n:
        key, i = _pb_varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _pb_varint(buf, i)
        elif wt == 2:
            ln, i = _pb_varint(buf, i)
            v, i = buf[i:i + ln], i + ln
        elif wt == 1:
            v, i = buf[i:i + 8], i + 8
        elif wt == 5:
            v, i = buf[i:i + 4], i + 4
        else:
            raise ValueError("unsupported protobuf wire type %d" % wt)
        yield num, v


def _pb_varint(buf, i):
    shift = result = 0
    while True:
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7


def _pb_map(v, value_bytes=False):
    k = val = None
    for num, x in _pb_fields(v):
        if num == 1:
            k = x.decode()
        elif num == 2:
            val = base64.b64encode(x).decode() if value_bytes else x.decode()
    return k, ("" if val is None else val)


def _pb_object_meta(buf):
    md = {}
    for num, v in _pb_fields(buf):
        if num in (1, 2, 3) and v:  # proto3 sends unset strings as ""; Go reads them as unset
            md[{1: "name", 2: "generateName", 3: "namespace"}[num]] = v.decode()
        elif num in (11, 12):
            k, val = _pb_map(v)
            md.setdefault("labels" if num == 11 else "annotations", {})[k] = val
        elif num == 14:
            md.setdefault("finalizers", []).append(v.decode())
    return md


def _pb_string_list(v):
    return v.decode()


# kind -> {field number: (json name, decoder)}
_PB_KINDS = {
    "Namespace": {1: ("metadata", _pb_object_meta),
                  2: ("spec", lambda v: {"finalizers": [x.decode() for n, x in _pb_fields(v) if n == 1]})},
    "Secret": {1: ("metadata", _pb_object_meta), 2: ("data", lambda v: _pb_map(v, True)),
               3: ("type", lambda v: v.decode()), 4: ("stringData", _pb_map), 5: ("immutable", bool)},
    "ConfigMap": {1: ("metadata", _pb_object_meta), 2: ("data", _pb_map), 3: ("binaryData", lambda v: _pb_map(v, True)),
                  4: ("immutable", bool)},
    # What the typed clients (helm's release storage among them) send with a DELETE.
    "DeleteOptions": {1: ("gracePeriodSeconds", int), 4: ("propagationPolicy", lambda v: v.decode()),
                      5: ("dryRun", lambda v: [v.decode()])},
}


def decode_protobuf(body):
    if not body.startswith(b"k8s\x00"):
        raise ValueError("no k8s protobuf envelope")
    type_meta, raw = {}, b""
    for num, v in _pb_fields(body[4:]):
        if num == 1:
            for n, x in _pb_fields(v):
                type_meta[{1: "apiVersion", 2: "kind"}.get(n, "?")] = x.decode()
        elif num == 2:
            raw = v
    kind = type_meta.get("kind")
    if kind not in _PB_KINDS:
        raise LookupError(kind)
    obj = {"apiVersion": type_meta.get("apiVersion"), "kind": kind}
    for num, v in _pb_fields(raw):
        if num not in _PB_KINDS[kind]:
            continue
        name, dec = _PB_KINDS[kind][num]
        val = dec(v)
        if isinstance(val, tuple):  # a map entry
            obj.setdefault(name, {})[val[0]] = val[1]
        elif val not in ("", {}, None) and val != {"finalizers": []}:
            obj[name] = val
    return obj


# ---------------------------------------------------------------------------------------------
# Resource types
# ---------------------------------------------------------------------------------------------

class ResType:
    def __init__(self, group, versions, plural, singular, kind, namespaced, short_names=(),
                 categories=(), status=False, generation=False, custom=False, crd=None):
        self.group = group
        self.versions = list(versions)  # served versions; the first is the preferred one
        self.plural = plural
        self.singular = singular
        self.kind = kind
        self.list_kind = kind + "List"
        self.namespaced = namespaced
        self.short_names = list(short_names)
        self.categories = list(categories)
        self.status = status  # has the status subresource
        self.generation = generation  # metadata.generation tracked
        self.custom = custom  # a custom resource (served from a CRD)
        self.crd = crd  # the CRD object for custom resources
        self.unconditional_update = not custom

    def key(self):
        return (self.group, self.plural)

    def qualified(self):
        return self.plural + ("." + self.group if self.group else "")

    def api_version(self, version):
        return self.group + "/" + version if self.group else version

    def version_schema(self, version):
        if not self.crd:
            return None
        for v in self.crd.get("spec", {}).get("versions", []):
            if v.get("name") == version:
                return (v.get("schema") or {}).get("openAPIV3Schema")
        return None

    def printer_columns(self, version):
        if not self.crd:
            return None
        for v in self.crd.get("spec", {}).get("versions", []):
            if v.get("name") == version:
                return v.get("additionalPrinterColumns")
        return None


BUILTINS = [
    ResType("", ["v1"], "namespaces", "namespace", "Namespace", False, ["ns"], status=True),
    ResType("", ["v1"], "secrets", "secret", "Secret", True),
    ResType("", ["v1"], "configmaps", "configmap", "ConfigMap", True, ["cm"]),
    ResType("", ["v1"], "events", "event", "Event", True, ["ev"]),
    ResType("events.k8s.io", ["v1"], "events", "event", "Event", True, ["ev"]),
    ResType("coordination.k8s.io", ["v1"], "leases", "lease", "Lease", True),
    # Stored and served generically (no controllers behind them), so charts and manifests apply.
    ResType("", ["v1"], "serviceaccounts", "serviceaccount", "ServiceAccount", True, ["sa"]),
    ResType("", ["v1"], "services", "service", "Service", True, ["svc"], ["all"], status=True),
    ResType("", ["v1"], "pods", "pod", "Pod", True, ["po"], ["all"], status=True),
    ResType("apps", ["v1"], "deployments", "deployment", "Deployment", True, ["deploy"], ["all"],
            status=True, generation=True),
    ResType("rbac.authorization.k8s.io", ["v1"], "roles", "role", "Role", True),
    ResType("rbac.authorization.k8s.io", ["v1"], "rolebindings", "rolebinding", "RoleBinding", True),
    ResType("rbac.authorization.k8s.io", ["v1"], "clusterroles", "clusterrole", "ClusterRole", False),
    ResType("rbac.authorization.k8s.io", ["v1"], "clusterrolebindings", "clusterrolebinding",
            "ClusterRoleBinding", False),
    ResType("policy", ["v1"], "poddisruptionbudgets", "poddisruptionbudget", "PodDisruptionBudget",
            True, ["pdb"], status=True, generation=True),
    ResType("networking.k8s.io", ["v1"], "networkpolicies", "networkpolicy", "NetworkPolicy", True,
            ["netpol"]),
    ResType("apiextensions.k8s.io", ["v1"], "customresourcedefinitions", "customresourcedefinition",
            "CustomResourceDefinition", False, ["crd", "crds"], ["api-extensions"], status=True,
            generation=True),
]


# ---------------------------------------------------------------------------------------------
# Selectors
# ---------------------------------------------------------------------------------------------

_LABEL_TERM = re.compile(r"^\s*(!?)\s*([A-Za-z0-9_./-]+)\s*(?:(==|=|!=)\s*([A-Za-z0-9_.-]*)|\s+(in|notin)\s*\(([^)]*)\))?\s*$")


def split_top(s):
    parts, depth, cur = [], 0, ""
    for ch in s:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur)
    return parts


def parse_label_selector(s):
    if not s:
        return []
    terms = []
    for part in split_top(s):
        m = _LABEL_TERM.match(part)
        if not m:
            raise bad_request("unable to parse requirement: invalid label selector: %r" % part)
        neg, key, op, val, setop, setvals = m.groups()
        if neg and (op or setop):
            raise bad_request("unable to parse requirement: %r" % part)
        if op:
            terms.append((key, "!=" if op == "!=" else "=", val))
        elif setop:
            terms.append((key, setop, {v.strip() for v in setvals.split(",") if v.strip()}))
        else:
            terms.append((key, "!exists" if neg else "exists", None))
    return terms


def labels_match(terms, labels):
    labels = labels or {}
    for key, op, val in terms:
        have = key in labels
        v = labels.get(key)
        if op == "=" and v != val:
            return False
        if op == "!=" and have and v == val:
            return False
        if op == "in" and (not have or v not in val):
            return False
        if op == "notin" and have and v in val:
            return False
        if op == "exists" and not have:
            return False
        if op == "!exists" and have:
            return False
    return True


def parse_field_selector(s, rt):
    if not s:
        return []
    terms = []
    for part in s.split(","):
        m = re.match(r"^\s*([A-Za-z0-9_.]+)\s*(==|=|!=)\s*(.*?)\s*$", part)
        if not m:
            raise bad_request("invalid field selector: %r" % part)
        field, op, val = m.groups()
        if rt.custom and field not in ("metadata.name", "metadata.namespace"):
            raise bad_request('field label not supported: %s' % field)
        terms.append((field, "!=" if op == "!=" else "=", val))
    return terms


def field_value(obj, path):
    cur = obj
    for p in path.split("."):
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(p)
    if cur is None:
        return ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return str(cur)


def fields_match(terms, obj):
    for field, op, val in terms:
        v = field_value(obj, field)
        if (op == "=") != (v == val):
            return False
    return True


# ---------------------------------------------------------------------------------------------
# Patches
# ---------------------------------------------------------------------------------------------

def merge_patch(target, patch):
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            result.pop(k, None)
        else:
            result[k] = merge_patch(result.get(k), v)
    return result


def strategic_merge_patch(target, patch):
    """Strategic merge patch, approximated: a merge patch that honours $patch: delete|replace in
    maps and drops the other $-directives ($retainKeys, $setElementOrder/..., ...). Lists are
    replaced wholesale (no merge keys)."""
    if not isinstance(patch, dict):
        if isinstance(patch, list):
            return [strategic_merge_patch(None, x) if isinstance(x, dict) else copy.deepcopy(x) for x in patch
                    if not (isinstance(x, dict) and x.get("$patch") == "delete")]
        return copy.deepcopy(patch)
    if patch.get("$patch") == "delete":
        return None
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if not k.startswith("$")}
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if k.startswith("$"):
            continue
        if v is None:
            result.pop(k, None)
        else:
            nv = strategic_merge_patch(result.get(k), v)
            if nv is None and isinstance(v, dict):
                result.pop(k, None)
            else:
                result[k] = nv
    return result


def _pointer(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise bad_request("json patch: invalid pointer %r" % path)
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def json_patch(doc, ops):
    """RFC 6902 JSON patch."""
    if not isinstance(ops, list):
        raise bad_request("json patch: the body must be a list of operations")
    doc = copy.deepcopy(doc)

    def parent(d, parts):
        for p in parts[:-1]:
            if isinstance(d, list):
                d = d[int(p)]
            elif isinstance(d, dict) and p in d:
                d = d[p]
            else:
                raise ApiError(422, "Invalid", "json patch: path not found: /%s" % "/".join(parts))
        return d

    def get(d, parts):
        for p in parts:
            try:
                d = d[int(p)] if isinstance(d, list) else d[p]
            except (KeyError, IndexError, ValueError, TypeError):
                raise ApiError(422, "Invalid", "json patch: path not found: /%s" % "/".join(parts))
        return d

    def add(d, parts, value):
        if not parts:
            return value
        par = parent(d, parts)
        last = parts[-1]
        if isinstance(par, list):
            idx = len(par) if last == "-" else int(last)
            par.insert(idx, value)
        else:
            par[last] = value
        return d

    def remove(d, parts):
        par = parent(d, parts)
        last = parts[-1]
        try:
            if isinstance(par, list):
                return par.pop(int(last))
            return par.pop(last)
        except (KeyError, IndexError, ValueError):
            raise ApiError(422, "Invalid", "json patch: path not found: /%s" % "/".join(parts))

    for op in ops:
        kind = op.get("op")
        parts = _pointer(op.get("path", ""))
        if kind == "add":
            doc = add(doc, parts, copy.deepcopy(op.get("value")))
        elif kind == "remove":
            remove(doc, parts)
        elif kind == "replace":
            get(doc, parts)
            if parts:
                remove(doc, parts)
            doc = add(doc, parts, copy.deepcopy(op.get("value")))
        elif kind == "test":
            if get(doc, parts) != op.get("value"):
                raise ApiError(422, "Invalid", "json patch: test failed at %s" % op.get("path"))
        elif kind in ("move", "copy"):
            src = _pointer(op.get("from", ""))
            value = copy.deepcopy(get(doc, src))
            if kind == "move":
                remove(doc, src)
            doc = add(doc, parts, value)
        else:
            raise bad_request("json patch: unknown op %r" % kind)
    return doc


def apply_merge(target, applied):
    """Server-side apply, approximated: maps merge recursively, everything else is replaced."""
    if not isinstance(applied, dict) or not isinstance(target, dict):
        return copy.deepcopy(applied)
    result = copy.deepcopy(target)
    for k, v in applied.items():
        result[k] = apply_merge(result.get(k), v)
    return result


# ---------------------------------------------------------------------------------------------
# Structural schema: defaulting, pruning, validation
# ---------------------------------------------------------------------------------------------

def _type_of(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


class Schema:
    """Applies a CRD's openAPIV3Schema the way kube-apiserver does for custom resources:
    null fields that are not nullable are dropped, defaults are applied, unknown fields are
    pruned (reported for fieldValidation Warn/Strict), then the value is validated."""

    def __init__(self, schema):
        self.root = schema or {"type": "object", "x-kubernetes-preserve-unknown-fields": True}

    def prune_and_default(self, obj, unknown):
        # metadata/apiVersion/kind are handled by the server, not the schema.
        for k in list(obj.keys()):
            if k in ("apiVersion", "kind", "metadata"):
                continue
            props = self.root.get("properties", {})
            if k in props:
                obj[k] = self._walk(obj[k], props[k], k, unknown)
                if obj[k] is _DROP:
                    del obj[k]
            elif not self.root.get("x-kubernetes-preserve-unknown-fields"):
                unknown.append(k)
                del obj[k]
        for k, s in self.root.get("properties", {}).items():
            if k not in obj and "default" in s and k not in ("metadata",):
                obj[k] = copy.deepcopy(s["default"])
                obj[k] = self._walk(obj[k], s, k, unknown)
        return obj

    def _walk(self, v, s, path, unknown):
        if v is None and not s.get("nullable"):
            return _DROP
        if isinstance(v, dict) and s.get("type") == "object" or (isinstance(v, dict) and "properties" in s):
            props = s.get("properties")
            addl = s.get("additionalProperties")
            for k in list(v.keys()):
                if props is not None and k in props:
                    nv = self._walk(v[k], props[k], path + "." + k, unknown)
                    if nv is _DROP:
                        del v[k]
                    else:
                        v[k] = nv
                elif isinstance(addl, dict):
                    nv = self._walk(v[k], addl, path + "." + k, unknown)
                    if nv is _DROP:
                        del v[k]
                    else:
                        v[k] = nv
                elif addl is True or s.get("x-kubernetes-preserve-unknown-fields") or (props is None and addl is None and s.get("x-kubernetes-embedded-resource")):
                    continue
                elif props is None and addl is None and s.get("x-kubernetes-preserve-unknown-fields") is None and s.get("type") != "object":
                    continue
                else:
                    unknown.append(path + "." + k)
                    del v[k]
            for k, ps in (props or {}).items():
                if k not in v and "default" in ps:
                    v[k] = self._walk(copy.deepcopy(ps["default"]), ps, path + "." + k, unknown)
        elif isinstance(v, list) and isinstance(s.get("items"), dict):
            out = []
            for i, item in enumerate(v):
                nv = self._walk(item, s["items"], "%s[%d]" % (path, i), unknown)
                out.append(None if nv is _DROP else nv)
            v = out
        return v

    def validate(self, obj):
        errs = []
        for k, s in self.root.get("properties", {}).items():
            if k in ("metadata", "apiVersion", "kind"):
                continue
            if k in obj:
                self._check(obj[k], s, k, errs)
        for k in self.root.get("required", []):
            if k not in obj:
                errs.append((k, "FieldValueRequired", "Required value"))
        return errs

    def _check(self, v, s, path, errs):
        t = s.get("type")
        vt = _type_of(v)
        if s.get("x-kubernetes-int-or-string"):
            if vt not in ("integer", "string"):
                errs.append((path, "FieldValueTypeInvalid", 'Invalid value: "%s": %s in body must be of type int-or-string: "%s"' % (vt, path, vt)))
            return
        if v is None:
            if not s.get("nullable"):
                errs.append((path, "FieldValueTypeInvalid", 'Invalid value: "null": %s in body must be of type %s: "null"' % (path, t)))
            return
        if t:
            ok = vt == t or (t == "number" and vt == "integer")
            if not ok:
                errs.append((path, "FieldValueTypeInvalid", 'Invalid value: "%s": %s in body must be of type %s: "%s"' % (vt, path, t, vt)))
                return
        if "enum" in s and v not in s["enum"]:
            errs.append((path, "FieldValueNotSupported", "Unsupported value: %s: supported values: %s" % (
                json.dumps(v), ", ".join(json.dumps(e) for e in s["enum"]))))
        if vt == "string":
            if "maxLength" in s and len(v) > s["maxLength"]:
                errs.append((path, "FieldValueTooLong", "Too long: may not be more than %d bytes" % s["maxLength"]))
            if "minLength" in s and len(v) < s["minLength"]:
                errs.append((path, "FieldValueInvalid", 'Invalid value: %s: %s in body should be at least %d chars long' % (json.dumps(v), path, s["minLength"])))
            if "pattern" in s and not re.search(s["pattern"], v):
                errs.append((path, "FieldValueInvalid", "Invalid value: %s: %s in body should match '%s'" % (json.dumps(v), path, s["pattern"])))
            if s.get("format") == "date-time" and not _DATE_TIME.match(v):
                errs.append((path, "FieldValueInvalid", 'Invalid value: %s: %s in body must be of type date-time: %s' % (json.dumps(v), path, json.dumps(v))))
        if vt in ("integer", "number"):
            if "minimum" in s and (v < s["minimum"] or (s.get("exclusiveMinimum") and v == s["minimum"])):
                errs.append((path, "FieldValueInvalid", "Invalid value: %s: %s in body should be greater than or equal to %s" % (v, path, s["minimum"])))
            if "maximum" in s and (v > s["maximum"] or (s.get("exclusiveMaximum") and v == s["maximum"])):
                errs.append((path, "FieldValueInvalid", "Invalid value: %s: %s in body should be less than or equal to %s" % (v, path, s["maximum"])))
        if vt == "array":
            if "maxItems" in s and len(v) > s["maxItems"]:
                errs.append((path, "FieldValueTooMany", "Too many: %d: must have at most %d items" % (len(v), s["maxItems"])))
            if "minItems" in s and len(v) < s["minItems"]:
                errs.append((path, "FieldValueInvalid", "Invalid value: %d: %s in body should have at least %d items" % (len(v), path, s["minItems"])))
            lt = s.get("x-kubernetes-list-type")
            if lt == "set" or s.get("uniqueItems"):
                seen = set()
                for i, item in enumerate(v):
                    k = jdump(item)
                    if k in seen:
                        errs.append(("%s[%d]" % (path, i), "FieldValueDuplicate", "Duplicate value: %s" % json.dumps(item)))
                    seen.add(k)
            elif lt == "map":
                keys = s.get("x-kubernetes-list-map-keys", [])
                seen = set()
                for i, item in enumerate(v):
                    if not isinstance(item, dict):
                        continue
                    k = jdump([item.get(x) for x in keys])
                    if k in seen:
                        errs.append(("%s[%d]" % (path, i), "FieldValueDuplicate", "Duplicate value: %s" % jdump({x: item.get(x) for x in keys})))
                    seen.add(k)
            if isinstance(s.get("items"), dict):
                for i, item in enumerate(v):
                    self._check(item, s["items"], "%s[%d]" % (path, i), errs)
        if vt == "object":
            props = s.get("properties", {})
            for k in s.get("required", []):
                if k not in v:
                    errs.append((path + "." + k, "FieldValueRequired", "Required value"))
            for k, item in v.items():
                if k in props:
                    self._check(item, props[k], path + "." + k, errs)
                elif isinstance(s.get("additionalProperties"), dict):
                    self._check(item, s["additionalProperties"], path + "." + k, errs)
            if "maxProperties" in s and len(v) > s["maxProperties"]:
                errs.append((path, "FieldValueTooMany", "Too many: %d: must have at most %d items" % (len(v), s["maxProperties"])))


_DROP = object()


class RebootRequestRules:
    """The CEL rules (x-kubernetes-validations) of deploy/crds/rebootd.io_rebootrequests.yaml,
    emulated in Python because CEL is not evaluated here. The messages must stay identical to
    the CRD's; tests/kube/test_crd.py checks that."""

    REGION_REQUIRED = "spec.region is required when spec.provider is aliyun"
    TENCENT_IDS = "tencent instance IDs must match ^ein-[a-z0-9]{6,16}$"
    ALIYUN_IDS = "aliyun instance IDs must match ^i-[a-z0-9]{8,32}$"
    IMMUTABLE = "spec is immutable once the request has started (status.phase is not Pending); create a new RebootRequest to reboot again"

    @classmethod
    def messages(cls):
        return [cls.REGION_REQUIRED, cls.TENCENT_IDS, cls.ALIYUN_IDS, cls.IMMUTABLE]

    @classmethod
    def check(cls, new, old):
        errs = []
        spec = new.get("spec")
        if isinstance(spec, dict):
            provider = spec.get("provider")
            if provider == "aliyun" and not spec.get("region"):
                errs.append(("spec", "FieldValueInvalid", 'Invalid value: "object": ' + cls.REGION_REQUIRED))
            ids = spec.get("instanceIds") if isinstance(spec.get("instanceIds"), list) else []
            if provider == "tencent" and not all(isinstance(i, str) and re.fullmatch(r"ein-[a-z0-9]{6,16}", i) for i in ids):
                errs.append(("spec.instanceIds", "FieldValueInvalid", 'Invalid value: "array": ' + cls.TENCENT_IDS))
            if provider == "aliyun" and not all(isinstance(i, str) and re.fullmatch(r"i-[a-z0-9]{8,32}", i) for i in ids):
                errs.append(("spec.instanceIds", "FieldValueInvalid", 'Invalid value: "array": ' + cls.ALIYUN_IDS))
        if old is not None:
            phase = (old.get("status") or {}).get("phase")
            if phase and phase != "Pending" and new.get("spec") != old.get("spec"):
                errs.append(("spec", "FieldValueForbidden", "Forbidden: " + cls.IMMUTABLE))
        return errs


EMULATED_RULES = {("rebootd.io", "rebootrequests"): RebootRequestRules}


# ---------------------------------------------------------------------------------------------
# The store
# ---------------------------------------------------------------------------------------------

class Watcher:
    def __init__(self, rt, namespace, labels, fields, from_rv, bookmarks):
        self.rt = rt
        self.namespace = namespace
        self.labels = labels
        self.fields = fields
        self.cursor = from_rv  # every event with rv <= cursor was handled
        self.bookmarks = bookmarks
        self.bookmark_now = False
        self.close = None  # None | "graceful" | "abrupt"

    def matches(self, obj):
        if obj is None:
            return False
        md = obj.get("metadata", {})
        if self.namespace and md.get("namespace") != self.namespace:
            return False
        return labels_match(self.labels, md.get("labels")) and fields_match(self.fields, obj)


class Store:
    def __init__(self, history_limit, max_object_bytes, history_bytes=256 << 20):
        self.lock = threading.Condition(threading.RLock())
        self.types = {}  # (group, plural) -> ResType
        self.objects = {}  # (group, plural) -> {(ns, name): obj}
        self.rv = 1
        self.floor = 0  # watches from rv < floor are too old
        self.history = []  # [(rv, type, (group, plural), obj, prev)]
        self.history_limit = history_limit
        self.history_bytes = history_bytes
        self.history_size = 0
        self.max_object_bytes = max_object_bytes
        self.watchers = set()
        self.dirty = False
        self.status_writes_seen = None  # set of uids when conflictOnFirstStatusWrite is on
        for rt in BUILTINS:
            self.register(rt)
        for ns in SYSTEM_NAMESPACES:
            self._put(self.types[("", "namespaces")], {
                "apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": ns, "uid": str(uuid.uuid4()), "resourceVersion": "1",
                             "creationTimestamp": now_rfc3339(),
                             "labels": {"kubernetes.io/metadata.name": ns}},
                "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})

    def register(self, rt):
        self.types[rt.key()] = rt
        self.objects.setdefault(rt.key(), {})

    def find_type(self, group, version, plural):
        rt = self.types.get((group, plural))
        if rt and version in rt.versions:
            return rt
        return None

    def _put(self, rt, obj):
        md = obj["metadata"]
        self.objects[rt.key()][(md.get("namespace", ""), md["name"])] = obj

    def bump(self):
        self.rv += 1
        return str(self.rv)

    def record(self, etype, rt, obj, prev):
        size = len(jdump(obj)) * (2 if prev is not None else 1)
        self.history.append((int(obj["metadata"]["resourceVersion"]), etype, rt.key(), obj, prev, size))
        self.history_size += size
        if len(self.history) > self.history_limit or self.history_size > self.history_bytes:
            # Forget the older half (by count or by bytes): watches from there get 410.
            drop, freed = 0, 0
            while drop < len(self.history) - 1 and (
                    len(self.history) - drop > self.history_limit // 2 or self.history_size - freed > self.history_bytes // 2):
                freed += self.history[drop][5]
                drop += 1
            if drop:
                self.floor = self.history[drop - 1][0]
                del self.history[:drop]
                self.history_size -= freed
        self.dirty = True
        self.lock.notify_all()

    def compact(self):
        with self.lock:
            self.floor = self.rv
            self.history = []
            self.history_size = 0
            self.lock.notify_all()

    def events_after(self, rv):
        # history is sorted by rv; a linear scan from the end is fine for test sizes.
        lo, hi = 0, len(self.history)
        while lo < hi:
            mid = (lo + hi) // 2
            if self.history[mid][0] <= rv:
                lo = mid + 1
            else:
                hi = mid
        return self.history[lo:]

    def check_size(self, rt, obj):
        if self.max_object_bytes and len(jdump(obj)) > self.max_object_bytes:
            raise ApiError(500, "InternalError", "etcdserver: request is too large",
                           {"causes": [{"message": "etcdserver: request is too large"}]})

    # -- persistence ---------------------------------------------------------------------------
    def snapshot(self):
        with self.lock:
            return {"resourceVersion": self.rv,
                    "crds": [o for o in self.objects[("apiextensions.k8s.io", "customresourcedefinitions")].values()],
                    "objects": [{"group": k[0], "plural": k[1], "items": list(v.values())}
                                for k, v in self.objects.items()]}

    def load(self, data):
        with self.lock:
            for crd in data.get("crds", []):
                register_crd(self, crd)
            for entry in data.get("objects", []):
                rt = self.types.get((entry["group"], entry["plural"]))
                if rt is None:
                    continue
                self.objects[rt.key()] = {}
                for obj in entry["items"]:
                    self._put(rt, obj)
            self.rv = int(data.get("resourceVersion", self.rv))
            self.floor = self.rv


def crd_names(crd):
    spec = crd.get("spec", {})
    names = spec.get("names", {})
    return spec.get("group", ""), names


def register_crd(store, crd):
    group, names = crd_names(crd)
    spec = crd["spec"]
    served = [v["name"] for v in spec.get("versions", []) if v.get("served", True)]
    storage = [v["name"] for v in spec.get("versions", []) if v.get("storage")]
    status = any((v.get("subresources") or {}).get("status") is not None for v in spec.get("versions", []))
    rt = ResType(group, served, names["plural"], names.get("singular", names["plural"]), names["kind"],
                 spec.get("scope", "Namespaced") == "Namespaced", names.get("shortNames", []),
                 names.get("categories", []), status=status, generation=True, custom=True, crd=crd)
    rt.list_kind = names.get("listKind", names["kind"] + "List")
    store.register(rt)
    crd.setdefault("status", {})
    crd["status"]["acceptedNames"] = copy.deepcopy(names)
    crd["status"]["acceptedNames"].setdefault("singular", rt.singular)
    crd["status"]["acceptedNames"].setdefault("listKind", rt.list_kind)
    crd["status"]["storedVersions"] = storage or served[:1]
    t = now_rfc3339()
    crd["status"]["conditions"] = [
        {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts",
         "message": "no conflicts found", "lastTransitionTime": t},
        {"type": "Established", "status": "True", "reason": "InitialNamesAccepted",
         "message": "the initial names have been accepted", "lastTransitionTime": t},
    ]
    return rt


def validate_crd(crd):
    errs = []
    spec = crd.get("spec") or {}
    group = spec.get("group")
    names = spec.get("names") or {}
    if not group:
        errs.append(("spec.group", "FieldValueRequired", "Required value"))
    for k in ("plural", "kind"):
        if not names.get(k):
            errs.append(("spec.names." + k, "FieldValueRequired", "Required value"))
    if spec.get("scope") not in ("Namespaced", "Cluster"):
        errs.append(("spec.scope", "FieldValueNotSupported", 'Unsupported value: %s: supported values: "Cluster", "Namespaced"' % json.dumps(spec.get("scope"))))
    versions = spec.get("versions") or []
    if not versions:
        errs.append(("spec.versions", "FieldValueRequired", "Required value"))
    if len([v for v in versions if v.get("storage")]) != 1:
        errs.append(("spec.versions", "FieldValueInvalid", "Invalid value: %s: must have exactly one version marked as storage version" % short_value([v.get("name") for v in versions])))
    for i, v in enumerate(versions):
        sch = (v.get("schema") or {}).get("openAPIV3Schema")
        if not isinstance(sch, dict) or sch.get("type") != "object":
            errs.append(("spec.versions[%d].schema.openAPIV3Schema.type" % i, "FieldValueRequired", "Required value: must be object at the root"))
    name = crd.get("metadata", {}).get("name")
    if group and names.get("plural") and name != names.get("plural") + "." + group:
        errs.append(("metadata.name", "FieldValueInvalid", 'Invalid value: %s: must be spec.names.plural+"."+spec.group' % json.dumps(name)))
    return errs


# ---------------------------------------------------------------------------------------------
# Faults and the request log
# ---------------------------------------------------------------------------------------------

class Faults:
    def __init__(self):
        self.lock = threading.Lock()
        self.rules = []
        self.watch_gone_as = "event"
        self.conflict_first_status = False

    def to_json(self):
        with self.lock:
            return {"rules": copy.deepcopy(self.rules), "watchGoneAs": self.watch_gone_as,
                    "conflictOnFirstStatusWrite": self.conflict_first_status}

    def match(self, info):
        with self.lock:
            for rule in self.rules:
                if rule.get("count", 1) == 0:
                    continue
                if not self._matches(rule, info):
                    continue
                if rule.get("count", 1) > 0:
                    rule["count"] = rule.get("count", 1) - 1
                rule["hits"] = rule.get("hits", 0) + 1
                return dict(rule)
        return None

    @staticmethod
    def _matches(rule, info):
        if "method" in rule and rule["method"].upper() != info["method"]:
            return False
        for k in ("verb", "resource", "subresource", "namespace", "name", "group"):
            if k in rule and rule[k] != info.get(k):
                return False
        if "path" in rule:
            how = rule.get("match", "prefix")
            p = info["path"]
            if how == "prefix" and not p.startswith(rule["path"]):
                return False
            if how == "exact" and p != rule["path"]:
                return False
            if how == "contains" and rule["path"] not in p:
                return False
            if how == "regex" and not re.search(rule["path"], p):
                return False
        return True


class RequestLog:
    def __init__(self, limit=200000):
        self.lock = threading.Lock()
        self.items = []
        self.seq = 0
        self.limit = limit

    def add(self, entry):
        with self.lock:
            self.seq += 1
            entry["seq"] = self.seq
            self.items.append(entry)
            if len(self.items) > self.limit:
                del self.items[: len(self.items) - self.limit]
            return entry

    def since(self, n):
        with self.lock:
            return [dict(e) for e in self.items if e["seq"] > n], self.seq

    def clear(self):
        with self.lock:
            self.items = []


# ---------------------------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------------------------

class CloseConnection(Exception):
    pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, opts):
        self.opts = opts
        self.store = Store(opts.history_limit, opts.max_object_bytes, opts.history_bytes)
        self.faults = Faults()
        self.log = RequestLog()
        self.tokens = list(opts.token or [])
        self.stopping = False
        super().__init__(addr, Handler)

    def finish_request(self, request, client_address):
        if isinstance(request, ssl.SSLSocket):
            try:
                request.settimeout(10)
                request.do_handshake()
                request.settimeout(None)
            except (ssl.SSLError, OSError):
                return
        super().finish_request(request, client_address)

    def finalize_namespace(self, name, uid):
        """The namespace controller's part: delete everything in a Terminating namespace (objects
        with finalizers too: nothing waits for them here), then the namespace."""
        st = self.store
        nst = st.types[("", "namespaces")]
        with st.lock:
            ns = st.objects[nst.key()].get(("", name))
            if ns is None or ns["metadata"]["uid"] != uid:
                return
            for key, objs in st.objects.items():
                crt = st.types[key]
                if not crt.namespaced:
                    continue
                for okey in [k for k in objs if k[0] == name]:
                    o = objs.pop(okey)
                    dead = copy.deepcopy(o)
                    dead["metadata"]["resourceVersion"] = st.bump()
                    st.record("DELETED", crt, dead, o)
            del st.objects[nst.key()][("", name)]
            dead = copy.deepcopy(ns)
            dead["metadata"]["resourceVersion"] = st.bump()
            st.record("DELETED", nst, dead, ns)

    def accepted_tokens(self):
        toks = list(self.tokens)
        if self.opts.token_file:
            try:
                with open(self.opts.token_file) as f:
                    toks += [line.strip() for line in f if line.strip()]
            except OSError:
                pass
        return toks

    def auth_enabled(self):
        return bool(self.tokens) or bool(self.opts.token_file)


def accepts_table(accept):
    return "as=Table" in (accept or "")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "standin-apiserver"

    def log_message(self, fmt, *args):
        if self.server.opts.verbose:
            sys.stderr.write("standin: " + (fmt % args) + "\n")

    # -- plumbing ------------------------------------------------------------------------------
    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_PATCH(self):
        self.dispatch("PATCH")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                line = self.rfile.readline()
                n = int(line.split(b";")[0].strip() or b"0", 16)
                if n == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return out
                out += self.rfile.read(n)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def send_json(self, code, body, headers=None):
        data = (jdump(body) + "\n").encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Audit-Id", str(uuid.uuid4()))
        for k, v in (headers or {}).items():
            if isinstance(v, list):
                for x in v:
                    self.send_header(k, x)
            else:
                self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.wfile.flush()

    def send_text(self, code, text, ctype="text/plain; charset=utf-8"):
        data = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def dispatch(self, method):
        url = urllib.parse.urlsplit(self.path)
        path = url.path.rstrip("/") or "/"
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query, keep_blank_values=True).items()}
        info = {"time": time.time(), "method": method, "path": path, "query": query,
                "userAgent": self.headers.get("User-Agent", ""),
                "contentType": self.headers.get("Content-Type"), "verb": None, "group": None,
                "version": None, "resource": None, "subresource": None, "namespace": None,
                "name": None, "code": None, "fault": None}
        self.warnings = []
        try:
            body = None
            if method in ("POST", "PUT", "PATCH", "DELETE"):
                raw = self.read_body()
                limit = self.server.opts.max_body_bytes
                if limit and len(raw) > limit:
                    raise ApiError(413, "RequestEntityTooLarge", "Request entity too large: limit is %d" % limit)
                body = raw
            if path.startswith("/_standin/"):
                return self.admin(method, path, query, body)
            self.classify(method, path, query, info)
            if self.server.auth_enabled():
                auth = self.headers.get("Authorization", "")
                tok = auth[7:].strip() if auth.lower().startswith("bearer ") else None
                if tok is None or tok not in self.server.accepted_tokens():
                    raise ApiError(401, "Unauthorized", "Unauthorized")
            rule = self.server.faults.match(info)
            if rule:
                info["fault"] = rule.get("action", "error")
                action = rule.get("action", "error")
                if action == "close":
                    raise CloseConnection()
                if action == "delay":
                    time.sleep(float(rule.get("delaySeconds", 1)))
                else:
                    code = int(rule.get("code", 500))
                    reasons = {500: "InternalError", 503: "ServiceUnavailable", 429: "TooManyRequests",
                               504: "Timeout", 409: "Conflict", 403: "Forbidden", 404: "NotFound"}
                    headers = {"Retry-After": "1"} if code == 429 else {}
                    raise ApiError(code, rule.get("reason", reasons.get(code, "InternalError")),
                                   rule.get("message", "injected fault (standin)"), headers=headers)
            if body is not None and self.server.opts.log_bodies and body:
                try:
                    info["body"] = json.loads(body)
                except ValueError:
                    info["body"] = body.decode("utf-8", "replace")
            self.route(method, path, query, body, info)
        except CloseConnection:
            info["code"] = 0
            self.server.log.add(info)
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        except ApiError as e:
            info["code"] = e.code
            self.server.log.add(info)
            self.send_json(e.code, e.status(), e.headers)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as e:  # a bug in the stand-in: answer 500 and say so on stderr
            traceback.print_exc()
            info["code"] = 500
            self.server.log.add(info)
            try:
                self.send_json(500, ApiError(500, "InternalError", "standin: %s" % e).status())
            except OSError:
                pass

    def finish_ok(self, info, code, body, rv=None):
        info["code"] = code
        if rv is not None:
            info["resourceVersion"] = rv
        self.server.log.add(info)
        headers = {}
        if self.warnings:
            headers["Warning"] = ['299 - "%s"' % w.replace('"', '\\"') for w in self.warnings]
        self.send_json(code, body, headers)

    # -- admin ---------------------------------------------------------------------------------
    def admin(self, method, path, query, body):
        srv = self.server
        st = srv.store
        if path == "/_standin/healthz":
            return self.send_text(200, "ok")
        if path == "/_standin/state" and method == "GET":
            with st.lock:
                counts = {rt.qualified(): len(st.objects[k]) for k, rt in st.types.items()}
                return self.send_json(200, {"resourceVersion": str(st.rv), "compactedResourceVersion": str(st.floor),
                                            "watches": len(st.watchers), "objects": counts})
        if path == "/_standin/log":
            if method == "DELETE":
                srv.log.clear()
                return self.send_json(200, {"ok": True})
            items, nxt = srv.log.since(int(query.get("since", 0) or 0))
            return self.send_json(200, {"items": items, "next": nxt})
        if path == "/_standin/faults":
            if method == "GET":
                return self.send_json(200, srv.faults.to_json())
            if method == "POST":
                try:
                    req = json.loads(body or b"{}")
                except ValueError as e:
                    return self.send_json(400, bad_request("faults: %s" % e).status())
                self.apply_faults(req)
                return self.send_json(200, srv.faults.to_json())
        self.send_json(404, ApiError(404, "NotFound", "no admin endpoint %s" % path).status())

    def apply_faults(self, req):
        srv = self.server
        st = srv.store
        f = srv.faults
        if req.get("reset"):
            with f.lock:
                f.rules = []
                f.watch_gone_as = "event"
                f.conflict_first_status = False
            with st.lock:
                st.status_writes_seen = None
        if req.get("compact") or req.get("restart"):
            st.compact()
        close = req.get("closeWatches")
        if req.get("restart"):
            close = "abrupt"
        if close:
            with st.lock:
                for w in st.watchers:
                    w.close = "abrupt" if close == "abrupt" else "graceful"
                st.lock.notify_all()
        if req.get("bookmarkNow"):
            with st.lock:
                for w in st.watchers:
                    w.bookmark_now = True
                st.lock.notify_all()
        if "conflictOnFirstStatusWrite" in req:
            with f.lock:
                f.conflict_first_status = bool(req["conflictOnFirstStatusWrite"])
            with st.lock:
                st.status_writes_seen = set() if f.conflict_first_status else None
        if "watchGoneAs" in req:
            with f.lock:
                f.watch_gone_as = "http" if req["watchGoneAs"] == "http" else "event"
        for rule in req.get("rules", []):
            with f.lock:
                r = dict(rule)
                r.setdefault("count", 1)
                f.rules.append(r)
        if "tokens" in req:
            srv.tokens = list(req["tokens"])

    # -- routing -------------------------------------------------------------------------------
    def classify(self, method, path, query, info):
        parts = [p for p in path.split("/") if p]
        if len(parts) >= 2 and parts[0] == "api":
            group, version, rest = "", parts[1], parts[2:]
        elif len(parts) >= 3 and parts[0] == "apis":
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            info["verb"] = method.lower()
            return
        info["group"], info["version"] = group, version
        if not rest:
            info["verb"] = "get"
            return
        st = self.server.store
        ns = name = sub = None
        if rest[0] == "namespaces" and len(rest) >= 3 and (group, rest[2]) in st.types and st.types[(group, rest[2])].namespaced:
            ns, plural = rest[1], rest[2]
            name = rest[3] if len(rest) > 3 else None
            sub = rest[4] if len(rest) > 4 else None
            extra = rest[5:]
        else:
            plural = rest[0]
            name = rest[1] if len(rest) > 1 else None
            sub = rest[2] if len(rest) > 2 else None
            extra = rest[3:]
        info.update({"resource": plural, "namespace": ns, "name": name, "subresource": sub, "extra": extra})
        watch = query.get("watch") in ("1", "true", "True")
        if method == "GET":
            info["verb"] = "watch" if watch else ("get" if name else "list")
        elif method == "POST":
            info["verb"] = "create"
        elif method == "PUT":
            info["verb"] = "update"
        elif method == "PATCH":
            info["verb"] = "patch"
        elif method == "DELETE":
            info["verb"] = "delete" if name else "deletecollection"

    def route(self, method, path, query, body, info):
        if path in ("/healthz", "/readyz", "/livez") or path.startswith(("/healthz/", "/readyz/", "/livez/")):
            info["code"] = 200
            self.server.log.add(info)
            return self.send_text(200, "ok")
        if path == "/version":
            return self.finish_ok(info, 200, SERVER_VERSION)
        if path == "/api":
            return self.finish_ok(info, 200, {"kind": "APIVersions", "versions": ["v1"],
                                              "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "%s:%d" % self.server.server_address[:2]}]})
        if path == "/apis":
            return self.finish_ok(info, 200, self.group_list())
        if path == "/openapi/v2":
            raise ApiError(404, "NotFound", "the server could not find the requested resource (standin: no OpenAPI v2)")
        if path == "/openapi/v3":
            return self.finish_ok(info, 200, self.openapi_index())
        if path.startswith("/openapi/v3/"):
            return self.finish_ok(info, 200, self.openapi_gv(path[len("/openapi/v3/"):]), None)
        if info["group"] is None or info["version"] is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if info["resource"] is None:
            if method != "GET":
                raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
            return self.finish_ok(info, 200, self.resource_list(info["group"], info["version"]))
        st = self.server.store
        rt = st.find_type(info["group"], info["version"], info["resource"])
        if rt is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if info.get("extra"):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        sub = info["subresource"]
        if sub is not None and not (sub == "status" and rt.status):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if rt.namespaced and info["namespace"] is None and info["name"] is not None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if not rt.namespaced and info["namespace"] is not None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        verb = info["verb"]
        accept = self.headers.get("Accept", "")
        version = info["version"]
        if verb == "get":
            obj = self.get_obj(rt, info["namespace"], info["name"])
            out = self.present(rt, version, obj)
            if accepts_table(accept):
                out = self.table(rt, version, [out], query, obj["metadata"]["resourceVersion"])
            return self.finish_ok(info, 200, out, obj["metadata"]["resourceVersion"])
        if verb == "list":
            return self.do_list(rt, version, info, query, accept)
        if verb == "watch":
            return self.do_watch(rt, version, info, query, accept)
        if verb == "create":
            obj, code = self.do_create(rt, version, info, query, self.decode(body))
            return self.finish_ok(info, code, self.present(rt, version, obj), obj["metadata"]["resourceVersion"])
        if verb == "update":
            obj = self.do_update(rt, version, info, query, self.decode(body), sub == "status")
            return self.finish_ok(info, 200, self.present(rt, version, obj), obj["metadata"]["resourceVersion"])
        if verb == "patch":
            obj, code = self.do_patch(rt, version, info, query, body, sub == "status")
            return self.finish_ok(info, code, self.present(rt, version, obj), obj["metadata"]["resourceVersion"])
        if verb == "delete":
            out = self.do_delete(rt, version, info, query, body)
            return self.finish_ok(info, 200, out, out.get("metadata", {}).get("resourceVersion"))
        if verb == "deletecollection":
            out = self.do_delete_collection(rt, version, info, query)
            return self.finish_ok(info, 200, out)
        raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")

    def decode(self, body):
        ctype = self.headers.get("Content-Type", "application/json").split(";")[0].strip()
        if ctype == "application/vnd.kubernetes.protobuf":
            try:
                return decode_protobuf(body or b"")
            except LookupError as e:
                raise ApiError(415, "UnsupportedMediaType", "standin: protobuf bodies are decoded only for %s, not %s; send JSON" % (", ".join(_PB_KINDS), e))
            except (ValueError, IndexError, UnicodeDecodeError) as e:
                raise bad_request("the body of the request was in an unknown format: %s" % e)
        if ctype not in ("application/json", "", "*/*"):
            if ctype.endswith("yaml") and yaml is not None:
                try:
                    return yaml.safe_load(body or b"")
                except yaml.YAMLError as e:
                    raise bad_request("the body of the request was in an unknown format: %s" % e)
            raise ApiError(415, "UnsupportedMediaType", 'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml')
        try:
            obj = json.loads(body or b"")
        except ValueError as e:
            raise bad_request("the body of the request was in an unknown format: %s" % e)
        if not isinstance(obj, dict):
            raise bad_request("the body of the request must be a JSON object")
        return obj

    # -- discovery -----------------------------------------------------------------------------
    def group_list(self):
        st = self.server.store
        groups = {}
        with st.lock:
            for rt in st.types.values():
                if rt.group == "":
                    continue
                g = groups.setdefault(rt.group, [])
                for v in rt.versions:
                    if v not in g:
                        g.append(v)
        out = []
        for name in sorted(groups):
            vs = groups[name]
            out.append({"name": name,
                        "versions": [{"groupVersion": name + "/" + v, "version": v} for v in vs],
                        "preferredVersion": {"groupVersion": name + "/" + vs[0], "version": vs[0]}})
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": out}

    def resource_list(self, group, version):
        st = self.server.store
        res = []
        with st.lock:
            rts = [rt for rt in st.types.values() if rt.group == group and version in rt.versions]
        if not rts:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        for rt in sorted(rts, key=lambda r: r.plural):
            entry = {"name": rt.plural, "singularName": rt.singular, "namespaced": rt.namespaced,
                     "kind": rt.kind,
                     "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
                     "storageVersionHash": base64.b64encode(hashlib.sha256(rt.qualified().encode()).digest()[:8]).decode()}
            if rt.short_names:
                entry["shortNames"] = rt.short_names
            if rt.categories:
                entry["categories"] = rt.categories
            res.append(entry)
            if rt.status:
                res.append({"name": rt.plural + "/status", "singularName": "", "namespaced": rt.namespaced,
                            "kind": rt.kind, "verbs": ["get", "patch", "update"]})
        return {"kind": "APIResourceList", "apiVersion": "v1",
                "groupVersion": rt.api_version(version), "resources": res}

    def openapi_docs(self):
        st = self.server.store
        docs = {}
        with st.lock:
            rts = list(st.types.values())
        for rt in rts:
            for v in rt.versions:
                key = ("apis/%s/%s" % (rt.group, v)) if rt.group else "api/" + v
                doc = docs.setdefault(key, {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.35.0"},
                                            "paths": {}, "components": {"schemas": {}}})
                base = "/" + key + ("/namespaces/{namespace}" if rt.namespaced else "") + "/" + rt.plural
                gvk = [{"group": rt.group, "version": v, "kind": rt.kind}]
                params = [{"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": True}},
                          {"name": "dryRun", "in": "query", "schema": {"type": "string", "uniqueItems": True}},
                          {"name": "fieldManager", "in": "query", "schema": {"type": "string", "uniqueItems": True}}]
                op = {"x-kubernetes-action": "patch", "x-kubernetes-group-version-kind": gvk[0],
                      "parameters": params, "responses": {"200": {"description": "OK"}}}
                doc["paths"][base + "/{name}"] = {"patch": op, "put": dict(op, **{"x-kubernetes-action": "put"}),
                                                  "get": dict(op, **{"x-kubernetes-action": "get"})}
                doc["paths"][base] = {"post": dict(op, **{"x-kubernetes-action": "post"})}
                schema_name = ".".join(reversed(rt.group.split("."))) + "." + v + "." + rt.kind if rt.group else "io.k8s.api.core.v1." + rt.kind
                sch = copy.deepcopy(rt.version_schema(v)) if rt.custom else {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
                sch = sch or {"type": "object"}
                sch["x-kubernetes-group-version-kind"] = gvk
                doc["components"]["schemas"][schema_name] = sch
        return docs

    def openapi_index(self):
        docs = self.openapi_docs()
        return {"paths": {k: {"serverRelativeURL": "/openapi/v3/%s?hash=%s" % (k, hashlib.sha256(jdump(d).encode()).hexdigest()[:32].upper())}
                          for k, d in sorted(docs.items())}}

    def openapi_gv(self, key):
        docs = self.openapi_docs()
        if key not in docs:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        return docs[key]

    # -- objects -------------------------------------------------------------------------------
    def get_obj(self, rt, ns, name):
        st = self.server.store
        with st.lock:
            obj = st.objects[rt.key()].get((ns or "", name))
            if obj is None:
                raise not_found(rt, name)
            return copy.deepcopy(obj)

    def present(self, rt, version, obj):
        out = copy.deepcopy(obj)
        out["apiVersion"] = rt.api_version(version)
        out["kind"] = rt.kind
        return out

    def table(self, rt, version, objs, query, rv):
        cols = [{"name": "Name", "type": "string", "format": "name",
                 "description": "Name must be unique within a namespace.", "priority": 0}]
        extra = []
        pcs = rt.printer_columns(version) if rt.custom else None
        if rt.custom and pcs is None:
            pcs = [{"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}]
        if not rt.custom:
            pcs = {
                "namespaces": [{"name": "Status", "type": "string", "jsonPath": ".status.phase"}],
                "secrets": [{"name": "Type", "type": "string", "jsonPath": ".type"},
                            {"name": "Data", "type": "integer", "jsonPath": "@datacount"}],
                "configmaps": [{"name": "Data", "type": "integer", "jsonPath": "@datacount"}],
                "leases": [{"name": "Holder", "type": "string", "jsonPath": ".spec.holderIdentity"}],
                "events": [{"name": "Reason", "type": "string", "jsonPath": ".reason"},
                           {"name": "Message", "type": "string", "jsonPath": ".message"}],
            }.get(rt.plural, []) + [{"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}]
        for c in pcs:
            cols.append({"name": c["name"], "type": c.get("type", "string"), "format": c.get("format", ""),
                         "description": c.get("description", ""), "priority": c.get("priority", 0)})
            extra.append(c)
        rows = []
        include = query.get("includeObject", "Metadata")
        for obj in objs:
            cells = [obj["metadata"]["name"]]
            for c in extra:
                cells.append(self.cell(c, obj))
            row = {"cells": cells}
            if include == "Object":
                row["object"] = obj
            elif include != "None":
                row["object"] = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                                 "metadata": copy.deepcopy(obj["metadata"])}
            rows.append(row)
        return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": rv},
                "columnDefinitions": cols, "rows": rows}

    @staticmethod
    def cell(col, obj):
        path = col.get("jsonPath", "")
        if path == "@datacount":
            return len(obj.get("data") or {}) + len(obj.get("binaryData") or {})
        cur = obj
        for p in [p for p in path.strip().lstrip(".").split(".") if p]:
            if not isinstance(cur, dict) or p not in cur:
                return None
            cur = cur[p]
        t = col.get("type", "string")
        if t == "date":
            ts = parse_time(cur) if isinstance(cur, str) else None
            if ts is None:
                return "<invalid>"
            return human_duration((datetime.datetime.now(datetime.timezone.utc) - ts).total_seconds())
        if t == "string":
            if isinstance(cur, (dict, list)):
                return jdump(cur)
            if isinstance(cur, bool):
                return "true" if cur else "false"
            return str(cur)
        return cur

    def selectors(self, rt, query):
        return (parse_label_selector(query.get("labelSelector", "")),
                parse_field_selector(query.get("fieldSelector", ""), rt))

    def do_list(self, rt, version, info, query, accept):
        st = self.server.store
        labels, fields = self.selectors(rt, query)
        ns = info["namespace"]
        limit = int(query.get("limit") or 0)
        cont = query.get("continue") or ""
        start_after = None
        with st.lock:
            list_rv = st.rv
            rv_param = query.get("resourceVersion", "")
            if rv_param not in ("", "0") and rv_param.isdigit() and int(rv_param) > st.rv:
                raise ApiError(504, "Timeout", "Too large resource version: %s, current: %d" % (rv_param, st.rv),
                               {"causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}],
                                "retryAfterSeconds": 1})
            if query.get("resourceVersionMatch") == "Exact" and rv_param != str(st.rv):
                if rv_param.isdigit() and int(rv_param) < st.floor:
                    raise ApiError(410, "Expired", "too old resource version: %s (%d)" % (rv_param, st.floor))
            if cont:
                try:
                    tok = json.loads(base64.urlsafe_b64decode(cont.encode() + b"=="))
                    list_rv, start_after = int(tok["rv"]), tuple(tok["start"])
                except (ValueError, KeyError, TypeError):
                    raise bad_request("continue key is not valid")
                if list_rv < st.floor:
                    raise ApiError(410, "Expired", "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.")
            items = []
            for key in sorted(st.objects[rt.key()]):
                obj = st.objects[rt.key()][key]
                if ns and key[0] != ns:
                    continue
                if start_after is not None and key <= start_after:
                    continue
                md = obj["metadata"]
                if not labels_match(labels, md.get("labels")) or not fields_match(fields, obj):
                    continue
                items.append((key, copy.deepcopy(obj)))
        meta = {"resourceVersion": str(list_rv)}
        if limit and len(items) > limit:
            meta["continue"] = base64.urlsafe_b64encode(jdump({"rv": list_rv, "start": list(items[limit - 1][0])}).encode()).decode().rstrip("=")
            meta["remainingItemCount"] = len(items) - limit
            items = items[:limit]
        objs = [self.present(rt, version, o) for _, o in items]
        if not rt.custom:
            for o in objs:
                o.pop("apiVersion", None)
                o.pop("kind", None)
        if accepts_table(accept):
            objs = [self.present(rt, version, o) for o in objs]
            out = self.table(rt, version, objs, query, str(list_rv))
            out["metadata"] = meta
            return self.finish_ok(info, 200, out, str(list_rv))
        return self.finish_ok(info, 200, {"kind": rt.list_kind, "apiVersion": rt.api_version(version),
                                          "metadata": meta, "items": objs}, str(list_rv))

    # -- watch ---------------------------------------------------------------------------------
    def do_watch(self, rt, version, info, query, accept):
        srv = self.server
        st = srv.store
        labels, fields = self.selectors(rt, query)
        rv_param = query.get("resourceVersion", "")
        bookmarks = query.get("allowWatchBookmarks") in ("1", "true", "True")
        initial = query.get("sendInitialEvents") in ("1", "true", "True")
        timeout = float(query.get("timeoutSeconds") or 0)
        table = accepts_table(accept)
        if rv_param not in ("", "0") and not rv_param.isdigit():
            raise bad_request("invalid resourceVersion %r: must be a decimal number" % rv_param)
        if initial and not bookmarks:
            raise invalid(rt, "", [("sendInitialEvents", "FieldValueForbidden", "Forbidden: sendInitialEvents requires setting allowWatchBookmarks=true")])
        gone = None
        with st.lock:
            w = Watcher(rt, info["namespace"], labels, fields, st.rv, bookmarks)
            initial_objs = []
            if rv_param in ("", "0") or initial:
                if rv_param not in ("", "0") and int(rv_param) < st.floor:
                    gone = rv_param
                for key in sorted(st.objects[rt.key()]):
                    obj = st.objects[rt.key()][key]
                    if w.matches(obj):
                        initial_objs.append(copy.deepcopy(obj))
            else:
                from_rv = int(rv_param)
                if from_rv < st.floor:
                    gone = rv_param
                else:
                    w.cursor = from_rv
            gone_floor = st.floor
            if gone is None:
                st.watchers.add(w)
        if gone is not None and srv.faults.watch_gone_as == "http":
            raise ApiError(410, "Expired", "too old resource version: %s (%d)" % (gone, gone_floor))
        info["code"] = 200
        srv.log.add(info)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()

        def chunk(ev):
            data = (jdump(ev) + "\n").encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

        def wrap(obj):
            o = self.present(rt, version, obj)
            return self.table(rt, version, [o], query, o["metadata"]["resourceVersion"]) if table else o

        def bookmark(rv, extra=None):
            md = {"resourceVersion": str(rv)}
            if extra:
                md["annotations"] = extra
            return {"type": "BOOKMARK", "object": {"kind": rt.kind, "apiVersion": rt.api_version(version), "metadata": md}}

        abrupt = False
        try:
            if gone is not None:
                chunk({"type": "ERROR", "object": ApiError(410, "Expired", "too old resource version: %s (%d)" % (gone, gone_floor)).status()})
                return self.end_chunks()
            for obj in initial_objs:
                chunk({"type": "ADDED", "object": wrap(obj)})
            if initial:
                chunk(bookmark(w.cursor, {"k8s.io/initial-events-end": "true"}))
            deadline = time.monotonic() + timeout if timeout > 0 else None
            next_bookmark = time.monotonic() + srv.opts.bookmark_interval
            while True:
                out = []
                with st.lock:
                    while True:
                        if w.close or srv.stopping:
                            break
                        if w.cursor < st.floor:
                            out.append({"type": "ERROR", "object": ApiError(410, "Expired", "too old resource version: %d (%d)" % (w.cursor, st.floor)).status()})
                            w.close = "graceful"
                            break
                        evs = st.events_after(w.cursor)
                        if evs or w.bookmark_now:
                            break
                        nowm = time.monotonic()
                        wait = next_bookmark - nowm if bookmarks else 1.0
                        if deadline is not None:
                            wait = min(wait, deadline - nowm)
                        if wait <= 0:
                            break
                        st.lock.wait(min(wait, 1.0))
                    if not out:
                        for rv, etype, key, obj, prev, _ in st.events_after(w.cursor):
                            w.cursor = rv
                            if key != rt.key():
                                continue
                            now_match = w.matches(obj)
                            was_match = w.matches(prev) if prev is not None else False
                            if etype == "MODIFIED" and now_match and not was_match:
                                etype = "ADDED"
                            elif etype == "MODIFIED" and was_match and not now_match:
                                etype = "DELETED"
                            elif not now_match:
                                continue
                            out.append({"type": etype, "object": obj})
                    close = w.close
                    cursor = w.cursor
                    want_bookmark = bookmarks and (w.bookmark_now or time.monotonic() >= next_bookmark)
                    w.bookmark_now = False
                for ev in out:
                    if ev["type"] != "ERROR":
                        ev = {"type": ev["type"], "object": wrap(ev["object"])}
                    chunk(ev)
                if close == "abrupt":
                    abrupt = True
                    return
                if close or srv.stopping:
                    return self.end_chunks()
                if want_bookmark:
                    chunk(bookmark(cursor))
                    next_bookmark = time.monotonic() + srv.opts.bookmark_interval
                if deadline is not None and time.monotonic() >= deadline:
                    return self.end_chunks()
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True
        finally:
            with st.lock:
                st.watchers.discard(w)
            if abrupt:
                self.close_connection = True
                try:
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    self.connection.close()
                except OSError:
                    pass

    def end_chunks(self):
        try:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError:
            self.close_connection = True

    # -- writes --------------------------------------------------------------------------------
    def dry_run(self, query):
        dr = query.get("dryRun")
        if dr and dr != "All":
            raise bad_request('dryRun: Unsupported value: "%s": supported values: "All"' % dr)
        return dr == "All"

    def field_validation(self, query):
        fv = query.get("fieldValidation", "Warn") or "Warn"
        if fv not in ("Ignore", "Warn", "Strict"):
            raise bad_request('fieldValidation: Unsupported value: "%s": supported values: "Ignore", "Strict", "Warn"' % fv)
        return fv

    def check_type_meta(self, rt, version, obj):
        av, kind = obj.get("apiVersion"), obj.get("kind")
        if kind and kind != rt.kind:
            raise bad_request("the API version in the data (%s) does not match the expected API version (%s)" % (av, rt.api_version(version))
                              if av and av != rt.api_version(version) else
                              "%s in version \"%s\" cannot be handled as a %s: kind mismatch" % (kind, version, rt.kind))
        if av and av != rt.api_version(version) and rt.group:
            if av.split("/")[0] != rt.group:
                raise bad_request("the API version in the data (%s) does not match the expected API version (%s)" % (av, rt.api_version(version)))

    def prepare(self, rt, version, obj, old, query, name):
        """Defaulting, pruning and validation for a new or updated object. Returns obj."""
        if not isinstance(obj.get("metadata"), dict):
            obj["metadata"] = {}
        fv = self.field_validation(query)
        md = obj["metadata"]
        causes = []
        if rt.custom:
            schema = Schema(rt.version_schema(version))
            unknown = []
            schema.prune_and_default(obj, unknown)
            if unknown:
                if fv == "Strict":
                    raise bad_request('%s in version "%s" cannot be handled as a %s: strict decoding error: %s' % (
                        rt.kind, version, rt.kind, ", ".join('unknown field "%s"' % u for u in unknown)))
                if fv == "Warn":
                    self.warnings += ['unknown field "%s"' % u for u in unknown]
            causes += schema.validate(obj)
            rules = EMULATED_RULES.get(rt.key())
            if rules and not causes:
                causes += rules.check(obj, old)
        for k in ("name", "generateName"):
            if k in md and not isinstance(md[k], str):
                causes.append(("metadata." + k, "FieldValueTypeInvalid", "Invalid value: must be a string"))
        if not md.get("name"):
            causes.append(("metadata.name", "FieldValueRequired", "Required value: name or generateName is required"))
        elif not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*", md["name"]) or len(md["name"]) > 253:
            causes.append(("metadata.name", "FieldValueInvalid", "Invalid value: %s: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character" % json.dumps(md["name"])))
        for k in ("labels", "annotations"):
            v = md.get(k)
            if v is not None and (not isinstance(v, dict) or not all(isinstance(x, str) for x in v.values())):
                causes.append(("metadata." + k, "FieldValueTypeInvalid", "Invalid value: must be a map of strings"))
        if rt.key() == ("", "secrets"):
            if "stringData" in obj:
                sd = obj.pop("stringData") or {}
                obj.setdefault("data", {})
                for k, v in sd.items():
                    obj["data"][k] = base64.b64encode(str(v).encode()).decode()
            obj.setdefault("type", "Opaque")
            for k, v in (obj.get("data") or {}).items():
                try:
                    base64.b64decode(v, validate=True)
                except (ValueError, TypeError):
                    raise bad_request('Secret in version "v1" cannot be handled as a Secret: illegal base64 data at key %s' % k)
        if rt.key() == ("apiextensions.k8s.io", "customresourcedefinitions"):
            causes += validate_crd(obj)
        if rt.key() == ("", "namespaces"):
            obj.setdefault("spec", {"finalizers": ["kubernetes"]})
            obj["status"] = (old or {}).get("status") or {"phase": "Active"}
            md.setdefault("labels", {})["kubernetes.io/metadata.name"] = md.get("name", "")
        if causes:
            raise invalid(rt, name or md.get("name", ""), causes)
        return obj

    def ensure_namespace(self, rt, ns):
        st = self.server.store
        if rt.namespaced:
            if ("", ns) not in st.objects[("", "namespaces")]:
                raise ApiError(404, "NotFound", 'namespaces "%s" not found' % ns,
                               {"name": ns, "kind": "namespaces"})
            if st.objects[("", "namespaces")][("", ns)].get("metadata", {}).get("deletionTimestamp"):
                raise ApiError(403, "Forbidden", 'unable to create new content in namespace %s because it is being terminated' % ns)

    def do_create(self, rt, version, info, query, obj):
        st = self.server.store
        if info["name"] is not None:
            raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
        self.check_type_meta(rt, version, obj)
        md = obj.setdefault("metadata", {}) if isinstance(obj.get("metadata"), dict) else obj.setdefault("metadata", {})
        if not md.get("name") and md.get("generateName"):
            md["name"] = md["generateName"] + uuid.uuid4().hex[:5]
        ns = info["namespace"]
        if rt.namespaced:
            if md.get("namespace") and md["namespace"] != ns:
                raise bad_request("the namespace of the provided object does not match the namespace sent on the request")
            md["namespace"] = ns
        else:
            md.pop("namespace", None)
        if rt.status and rt.custom:
            obj.pop("status", None)
        for k in ("uid", "resourceVersion", "creationTimestamp", "deletionTimestamp", "generation", "selfLink", "managedFields"):
            md.pop(k, None)
        obj = self.prepare(rt, version, obj, None, query, md.get("name"))
        obj["apiVersion"] = rt.api_version(version)
        obj["kind"] = rt.kind
        dry = self.dry_run(query)
        with st.lock:
            self.ensure_namespace(rt, ns)
            key = (ns or "", md["name"])
            if key in st.objects[rt.key()]:
                raise ApiError(409, "AlreadyExists", '%s "%s" already exists' % (rt.qualified(), md["name"]),
                               {"name": md["name"], "group": rt.group, "kind": rt.plural})
            md["uid"] = str(uuid.uuid4())
            md["creationTimestamp"] = now_rfc3339()
            if rt.generation:
                md["generation"] = 1
            if rt.key() == ("apiextensions.k8s.io", "customresourcedefinitions"):
                group, names = crd_names(obj)
                existing = st.types.get((group, names["plural"]))
                if existing is not None and not existing.custom:
                    raise invalid(rt, md["name"], [("spec.names.plural", "FieldValueInvalid", "Invalid value: a built-in resource")])
            st.check_size(rt, obj)
            if dry:
                md["resourceVersion"] = str(st.rv)
                return obj, 201
            md["resourceVersion"] = st.bump()
            if rt.key() == ("apiextensions.k8s.io", "customresourcedefinitions"):
                register_crd(st, obj)
            st._put(rt, obj)
            st.record("ADDED", rt, copy.deepcopy(obj), None)
            return copy.deepcopy(obj), 201

    def spec_changed(self, a, b):
        strip = lambda o: {k: v for k, v in o.items() if k not in ("metadata", "status", "apiVersion", "kind")}
        return strip(a) != strip(b)

    def commit_update(self, rt, version, old, new, query, status_write, precondition_rv):
        """Called with the store lock held. Applies the subresource rules, validates, stores."""
        st = self.server.store
        name = old["metadata"]["name"]
        if precondition_rv and precondition_rv != old["metadata"]["resourceVersion"]:
            raise conflict(rt, name)
        if status_write:
            if st.status_writes_seen is not None:
                uid = old["metadata"]["uid"]
                if uid not in st.status_writes_seen:
                    st.status_writes_seen.add(uid)
                    info_fault = conflict(rt, name)
                    raise info_fault
            merged = copy.deepcopy(old)
            if "status" in new:
                merged["status"] = new["status"]
            else:
                merged.pop("status", None)
            new = merged
        else:
            md = new.setdefault("metadata", {})
            omd = old["metadata"]
            for k in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "namespace", "generation"):
                if k in omd:
                    md[k] = omd[k]
                else:
                    md.pop(k, None)
            md["name"] = omd["name"]
            md.pop("managedFields", None)
            if rt.status and rt.key() != ("", "namespaces"):
                if "status" in old:
                    new["status"] = copy.deepcopy(old["status"])
                else:
                    new.pop("status", None)
        new["apiVersion"] = rt.api_version(version)
        new["kind"] = rt.kind
        new["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
        new = self.prepare(rt, version, new, old, query, name)
        if rt.generation and not status_write and self.spec_changed(old, new):
            new["metadata"]["generation"] = old["metadata"].get("generation", 1) + 1
        st.check_size(rt, new)
        if rt.key() == ("apiextensions.k8s.io", "customresourcedefinitions") and not status_write:
            og, on = crd_names(old)
            ng, nn = crd_names(new)
            if (og, on.get("plural")) != (ng, nn.get("plural")):
                raise invalid(rt, name, [("spec.names.plural", "FieldValueInvalid", "Invalid value: field is immutable")])
            new["status"] = old.get("status", {})
        if new == old:
            return old  # a no-op write does not change resourceVersion
        if self.dry_run(query):
            return new
        new["metadata"]["resourceVersion"] = st.bump()
        if rt.key() == ("apiextensions.k8s.io", "customresourcedefinitions"):
            register_crd(st, new)
        key = (old["metadata"].get("namespace", ""), name)
        if new["metadata"].get("deletionTimestamp") and not new["metadata"].get("finalizers"):
            del st.objects[rt.key()][key]
            st.record("DELETED", rt, copy.deepcopy(new), copy.deepcopy(old))
            self.after_delete(rt, new)
            return new
        st.objects[rt.key()][key] = new
        st.record("MODIFIED", rt, copy.deepcopy(new), copy.deepcopy(old))
        return copy.deepcopy(new)

    def do_update(self, rt, version, info, query, obj, status_write):
        st = self.server.store
        self.check_type_meta(rt, version, obj)
        md = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
        name = info["name"]
        if md.get("name") and md["name"] != name:
            raise bad_request("the name of the object (%s) does not match the name on the URL (%s)" % (md["name"], name))
        if rt.namespaced and md.get("namespace") and md["namespace"] != info["namespace"]:
            raise bad_request("the namespace of the provided object does not match the namespace sent on the request")
        with st.lock:
            old = st.objects[rt.key()].get((info["namespace"] or "", name))
            if old is None:
                raise not_found(rt, name)
            rv = md.get("resourceVersion")
            if not rv and not rt.unconditional_update:
                raise invalid(rt, name, [("metadata.resourceVersion", "FieldValueInvalid", "Invalid value: 0x0: must be specified for an update")])
            if md.get("uid") and md["uid"] != old["metadata"]["uid"]:
                raise conflict(rt, name, "Precondition failed: UID in precondition: %s, UID in object meta: %s" % (md["uid"], old["metadata"]["uid"]))
            return self.commit_update(rt, version, copy.deepcopy(old), copy.deepcopy(obj), query, status_write, rv)

    def do_patch(self, rt, version, info, query, body, status_write):
        st = self.server.store
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip()
        name = info["name"]
        if ctype == "application/apply-patch+yaml":
            if not query.get("fieldManager"):
                raise invalid(rt, name, [("fieldManager", "FieldValueRequired", "Required value: is required for apply patch")])
            try:
                patch = yaml.safe_load(body) if yaml is not None else json.loads(body)
            except Exception as e:
                raise bad_request("error decoding YAML: %s" % e)
        else:
            try:
                patch = json.loads(body or b"null")
            except ValueError as e:
                raise bad_request("error decoding patch: %s" % e)
        if ctype == "application/strategic-merge-patch+json" and rt.custom:
            raise ApiError(415, "UnsupportedMediaType", 'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml')
        if ctype not in ("application/merge-patch+json", "application/strategic-merge-patch+json",
                         "application/json-patch+json", "application/apply-patch+yaml"):
            raise ApiError(415, "UnsupportedMediaType", "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml")
        if ctype != "application/json-patch+json" and not isinstance(patch, dict):
            raise bad_request("error decoding patch: the patch must be a JSON object")
        with st.lock:
            old = st.objects[rt.key()].get((info["namespace"] or "", name))
            if old is None:
                if ctype == "application/apply-patch+yaml":
                    pass
                else:
                    raise not_found(rt, name)
        if old is None:
            patch.setdefault("metadata", {})["name"] = name
            info["verb"] = "patch"
            obj, _ = self.do_create(rt, version, dict(info, name=None), query, patch)
            return obj, 201
        with st.lock:
            old = st.objects[rt.key()].get((info["namespace"] or "", name))
            if old is None:
                raise not_found(rt, name)
            cur = self.present(rt, version, old)
            if ctype == "application/merge-patch+json":
                new = merge_patch(cur, patch)
            elif ctype == "application/strategic-merge-patch+json":
                new = strategic_merge_patch(cur, patch)
            elif ctype == "application/json-patch+json":
                new = json_patch(cur, patch)
            else:
                new = apply_merge(cur, patch)
            if not isinstance(new, dict):
                raise bad_request("the patch produced something that is not an object")
            nmd = new.get("metadata") if isinstance(new.get("metadata"), dict) else {}
            if nmd.get("name") != name:
                raise bad_request("metadata.name: the name of the object (%s) does not match the name on the URL (%s)" % (nmd.get("name"), name))
            prv = nmd.get("resourceVersion")
            if nmd.get("uid") != old["metadata"]["uid"]:
                raise conflict(rt, name, "Precondition failed: UID in precondition: %s, UID in object meta: %s" % (nmd.get("uid"), old["metadata"]["uid"]))
            return self.commit_update(rt, version, copy.deepcopy(old), new, query, status_write,
                                      prv if prv != old["metadata"]["resourceVersion"] else None), 200

    def after_delete(self, rt, obj):
        """Cascades: a CRD takes its custom resources with it; a namespace its contents."""
        st = self.server.store
        if rt.key() == ("apiextensions.k8s.io", "customresourcedefinitions"):
            group, names = crd_names(obj)
            key = (group, names.get("plural"))
            crt = st.types.get(key)
            for okey, o in list(st.objects.get(key, {}).items()):
                dmd = o["metadata"]
                del st.objects[key][okey]
                dead = copy.deepcopy(o)
                dead["metadata"]["resourceVersion"] = st.bump()
                st.record("DELETED", crt, dead, dmd and o)
            st.types.pop(key, None)
            st.objects.pop(key, None)

    def delete_locked(self, rt, old, query, opts):
        st = self.server.store
        name = old["metadata"]["name"]
        pre = (opts or {}).get("preconditions") or {}
        if pre.get("uid") and pre["uid"] != old["metadata"]["uid"]:
            raise conflict(rt, name, "Precondition failed: UID in precondition: %s, UID in object meta: %s" % (pre["uid"], old["metadata"]["uid"]))
        if pre.get("resourceVersion") and pre["resourceVersion"] != old["metadata"]["resourceVersion"]:
            raise conflict(rt, name, "Precondition failed: ResourceVersion in precondition: %s, ResourceVersion in object meta: %s" % (pre["resourceVersion"], old["metadata"]["resourceVersion"]))
        key = (old["metadata"].get("namespace", ""), name)
        if rt.key() == ("", "namespaces") and name in ("default", "kube-system", "kube-public"):
            raise ApiError(403, "Forbidden", 'namespaces "%s" is forbidden: this namespace may not be deleted' % name)
        if self.dry_run(query):
            return copy.deepcopy(old)
        if rt.key() == ("", "namespaces"):
            # Terminating first; the contents and the namespace go a moment later (like the
            # namespace controller), so `kubectl delete -f` can still delete what is inside.
            if old["metadata"].get("deletionTimestamp"):
                return copy.deepcopy(old)
            new = copy.deepcopy(old)
            new["metadata"]["deletionTimestamp"] = now_rfc3339()
            new["metadata"]["deletionGracePeriodSeconds"] = 0
            new["status"] = {"phase": "Terminating"}
            new["metadata"]["resourceVersion"] = st.bump()
            st.objects[rt.key()][key] = new
            st.record("MODIFIED", rt, copy.deepcopy(new), copy.deepcopy(old))
            t = threading.Timer(self.server.opts.namespace_finalize_seconds, self.server.finalize_namespace,
                                (name, new["metadata"]["uid"]))
            t.daemon = True
            t.start()
            return copy.deepcopy(new)
        if old["metadata"].get("finalizers"):
            if old["metadata"].get("deletionTimestamp"):
                return copy.deepcopy(old)
            new = copy.deepcopy(old)
            new["metadata"]["deletionTimestamp"] = now_rfc3339()
            new["metadata"]["deletionGracePeriodSeconds"] = 0
            new["metadata"]["resourceVersion"] = st.bump()
            st.objects[rt.key()][key] = new
            st.record("MODIFIED", rt, copy.deepcopy(new), copy.deepcopy(old))
            return copy.deepcopy(new)
        del st.objects[rt.key()][key]
        dead = copy.deepcopy(old)
        dead["metadata"]["resourceVersion"] = st.bump()
        st.record("DELETED", rt, copy.deepcopy(dead), copy.deepcopy(old))
        self.after_delete(rt, dead)
        return dead

    def do_delete(self, rt, version, info, query, body):
        st = self.server.store
        opts = {}
        if body and body.startswith(b"k8s\x00"):
            try:
                opts = decode_protobuf(body)
            except (LookupError, ValueError, IndexError, UnicodeDecodeError):
                raise bad_request("invalid DeleteOptions")
        elif body:
            try:
                opts = json.loads(body)
            except ValueError:
                raise bad_request("invalid DeleteOptions")
        with st.lock:
            old = st.objects[rt.key()].get((info["namespace"] or "", info["name"]))
            if old is None:
                raise not_found(rt, info["name"])
            out = self.delete_locked(rt, old, query, opts)
        if rt.custom or out["metadata"].get("deletionTimestamp"):
            return self.present(rt, version, out)
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                "details": {"name": info["name"], "group": rt.group, "kind": rt.plural, "uid": out["metadata"]["uid"]}}

    def do_delete_collection(self, rt, version, info, query):
        st = self.server.store
        labels, fields = self.selectors(rt, query)
        deleted = []
        with st.lock:
            for key in sorted(st.objects[rt.key()]):
                obj = st.objects[rt.key()].get(key)
                if obj is None or (info["namespace"] and key[0] != info["namespace"]):
                    continue
                if labels_match(labels, obj["metadata"].get("labels")) and fields_match(fields, obj):
                    deleted.append(self.present(rt, version, self.delete_locked(rt, obj, query, {})))
        return {"kind": rt.list_kind, "apiVersion": rt.api_version(version),
                "metadata": {"resourceVersion": str(st.rv)}, "items": deleted}


# ---------------------------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------------------------

def load_manifests(path):
    with open(path) as f:
        text = f.read()
    if path.endswith(".json"):
        return [json.loads(text)]
    if yaml is None:
        raise SystemExit("standin: python3-yaml is needed to read %s" % path)
    return [d for d in yaml.safe_load_all(text) if d]


def make_self_signed(d):
    """A CA and a server certificate for 127.0.0.1/localhost (openssl CLI), reused if present."""
    import subprocess
    os.makedirs(d, exist_ok=True)
    files = {k: os.path.join(d, k) for k in ("ca.crt", "ca.key", "tls.crt", "tls.key", "tls.csr", "ext.cnf")}
    if all(os.path.exists(files[k]) for k in ("ca.crt", "tls.crt", "tls.key")):
        return files["tls.crt"], files["tls.key"], files["ca.crt"]
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run = lambda args: subprocess.run(["openssl"] + args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    run(["req", "-x509"] + ec + ["-keyout", files["ca.key"], "-out", files["ca.crt"], "-days", "3650",
         "-subj", "/CN=standin-apiserver-ca", "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
    run(["req"] + ec + ["-keyout", files["tls.key"], "-out", files["tls.csr"], "-subj", "/CN=standin-apiserver"])
    with open(files["ext.cnf"], "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\nextendedKeyUsage=serverAuth\n"
                "keyUsage=critical,digitalSignature,keyEncipherment\nbasicConstraints=CA:FALSE\n")
    run(["x509", "-req", "-in", files["tls.csr"], "-CA", files["ca.crt"], "-CAkey", files["ca.key"],
         "-CAcreateserial", "-out", files["tls.crt"], "-days", "3650", "-extfile", files["ext.cnf"]])
    return files["tls.crt"], files["tls.key"], files["ca.crt"]


def write_kubeconfig(path, url, token, ca_file=None):
    cluster = {"server": url}
    if ca_file:
        with open(ca_file, "rb") as f:
            cluster["certificate-authority-data"] = base64.b64encode(f.read()).decode()
    cfg = {"apiVersion": "v1", "kind": "Config", "current-context": "standin",
           "clusters": [{"name": "standin", "cluster": cluster}],
           "users": [{"name": "standin", "user": {"token": token} if token else {}}],
           "contexts": [{"name": "standin", "context": {"cluster": "standin", "user": "standin", "namespace": "default"}}],
           "preferences": {}}
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(cfg, f, indent=2)  # JSON is valid YAML; kubectl reads it
    os.replace(tmp, path)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Stand-in Kubernetes API server for rebootd tests (see the module docstring).")
    ap.add_argument("--address", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--token", action="append")
    ap.add_argument("--token-file")
    ap.add_argument("--kubeconfig-out")
    ap.add_argument("--crd", action="append", default=[])
    ap.add_argument("--state-file")
    ap.add_argument("--bookmark-interval", type=float, default=5.0)
    ap.add_argument("--history-limit", type=int, default=50000)
    ap.add_argument("--history-bytes", type=int, default=256 << 20)
    ap.add_argument("--max-object-bytes", type=int, default=1572864)
    ap.add_argument("--max-body-bytes", type=int, default=3145728)
    ap.add_argument("--log-bodies", action="store_true")
    ap.add_argument("--namespace-finalize-seconds", type=float, default=1.0)
    ap.add_argument("--tls-cert-file")
    ap.add_argument("--tls-private-key-file")
    ap.add_argument("--tls-ca-file")
    ap.add_argument("--tls-self-signed", metavar="DIR")
    ap.add_argument("--verbose", action="store_true")
    opts = ap.parse_args(argv)
    if opts.address not in ("127.0.0.1", "::1", "localhost"):
        ap.error("--address must be a loopback address")

    srv = Server((opts.address, opts.port), opts)
    scheme = "http"
    if opts.tls_self_signed:
        opts.tls_cert_file, opts.tls_private_key_file, opts.tls_ca_file = make_self_signed(opts.tls_self_signed)
    if opts.tls_cert_file:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(opts.tls_cert_file, opts.tls_private_key_file)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True, do_handshake_on_connect=False)
        scheme = "https"
    st = srv.store
    if opts.state_file and os.path.exists(opts.state_file):
        with open(opts.state_file) as f:
            st.load(json.load(f))
    for path in opts.crd:
        for doc in load_manifests(path):
            crd_rt = st.types[("apiextensions.k8s.io", "customresourcedefinitions")]
            with st.lock:
                doc.setdefault("metadata", {})
                errs = validate_crd(doc)
                if errs:
                    raise SystemExit("standin: invalid CRD %s: %s" % (path, errs))
                if ("", doc["metadata"]["name"]) in st.objects[crd_rt.key()]:
                    continue
                doc["metadata"].update({"uid": str(uuid.uuid4()), "creationTimestamp": now_rfc3339(),
                                        "generation": 1, "resourceVersion": st.bump()})
                register_crd(st, doc)
                st._put(crd_rt, doc)
                st.record("ADDED", crd_rt, copy.deepcopy(doc), None)

    port = srv.server_address[1]
    url = "%s://127.0.0.1:%d" % (scheme, port)
    if opts.kubeconfig_out:
        write_kubeconfig(opts.kubeconfig_out, url, (opts.token or [None])[0], opts.tls_ca_file or opts.tls_cert_file)
    if opts.port_file:
        tmp = opts.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, opts.port_file)
    print("standin-apiserver listening on %s" % url, flush=True)

    def save():
        if not opts.state_file:
            return
        data = st.snapshot()
        tmp = opts.state_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump(data, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, opts.state_file)

    def saver():
        while not srv.stopping:
            time.sleep(0.2)
            with st.lock:
                dirty, st.dirty = st.dirty, False
            if dirty:
                save()

    if opts.state_file:
        threading.Thread(target=saver, daemon=True).start()

    def stop(signum, frame):
        srv.stopping = True
        with st.lock:
            st.lock.notify_all()
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        srv.serve_forever(poll_interval=0.2)
    finally:
        save()
        srv.server_close()


if __name__ == "__main__":
    main()
