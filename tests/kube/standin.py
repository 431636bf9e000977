# SPDX-License-Identifier: Apache-2.0
"""Test helpers for the stand-in API server (apiserver.py beside this file).

    from standin import StandIn
    with StandIn(tls=True, crds=[CRD]) as api:      # starts it on a free loopback port
        api.kubectl("get", "rr", "-A")               # the real kubectl, with a kubeconfig for it
        status, body = api.request("GET", "/apis/rebootd.io/v1alpha1/rebootrequests")
        with api.watch("/apis/rebootd.io/v1alpha1/rebootrequests", resourceVersion="0") as w:
            ev = w.next()                            # {"type": "ADDED", "object": {...}}
        api.faults(closeWatches=True)                # POST /_standin/faults
        api.log()                                    # GET /_standin/log -> list of requests

kubectl is found as $REBOOTD_KUBECTL, else <source>/.tools/bin/kubectl, else by running
scripts/kube-tools.sh (which installs it); a missing kubectl is an error, never a skip.
"""

import http.client
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("REBOOTD_SOURCE_DIR") or os.path.abspath(os.path.join(HERE, "..", ".."))
APISERVER = os.path.join(HERE, "apiserver.py")
CRD = os.path.join(SOURCE_DIR, "deploy", "crds", "rebootd.io_rebootrequests.yaml")
PYTHON = os.environ.get("REBOOTD_PYTHON") or sys.executable or "/usr/bin/python3"
RR = "/apis/rebootd.io/v1alpha1"


def find_kubectl():
    env = os.environ.get("REBOOTD_KUBECTL")
    if env and os.access(env, os.X_OK):
        return env
    local = os.path.join(SOURCE_DIR, ".tools", "bin", "kubectl")
    if os.access(local, os.X_OK):
        return local
    script = os.path.join(SOURCE_DIR, "scripts", "kube-tools.sh")
    try:
        out = subprocess.run([script], check=True, capture_output=True, text=True, timeout=300).stdout.strip()
    except (OSError, subprocess.SubprocessError) as e:
        raise RuntimeError("kubectl v1.35 not found: set REBOOTD_KUBECTL or run scripts/kube-tools.sh (%s)" % e)
    path = os.path.join(out.splitlines()[-1], "kubectl")
    if not os.access(path, os.X_OK):
        raise RuntimeError("kubectl not found in %s (scripts/kube-tools.sh output)" % out)
    return path


class Watch:
    """A watch stream: one JSON event per line of a chunked HTTP body."""

    def __init__(self, conn, resp):
        self.conn = conn
        self.resp = resp

    def next(self, timeout=10.0):
        """The next event, or None when the server ended the stream cleanly. Raises
        TimeoutError when nothing arrives within `timeout` seconds."""
        self.conn.sock.settimeout(timeout)
        line = self.resp.readline()
        if not line:
            return None
        return json.loads(line)

    def events_until(self, pred, timeout=10.0):
        """Reads events until pred(event) is true; returns all events read (the last matches)."""
        deadline = time.monotonic() + timeout
        seen = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no matching watch event within %.0fs; saw %s" % (timeout, [e["type"] for e in seen]))
            ev = self.next(left)
            if ev is None:
                raise AssertionError("the watch ended before a matching event; saw %s" % [e["type"] for e in seen])
            seen.append(ev)
            if pred(ev):
                return seen

    def close(self):
        try:
            self.conn.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class StandIn:
    def __init__(self, tls=False, token="test-token", crds=(), args=(), state_file=None, port=0):
        self.tls = tls
        self.token = token
        self.crds = list(crds)
        self.args = list(args)
        self.state_file = state_file
        self.fixed_port = port
        self.dir = tempfile.mkdtemp(prefix="standin-")
        self.proc = None
        self.port = None
        self._kubectl = None

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self):
        port_file = os.path.join(self.dir, "port")
        if os.path.exists(port_file):
            os.unlink(port_file)
        cmd = [PYTHON, APISERVER, "--port-file", port_file, "--port", str(self.fixed_port),
               "--kubeconfig-out", self.kubeconfig]
        if self.token:
            cmd += ["--token", self.token]
        if self.tls:
            cmd += ["--tls-self-signed", os.path.join(self.dir, "tls")]
        for c in self.crds:
            cmd += ["--crd", c]
        if self.state_file:
            cmd += ["--state-file", self.state_file]
        cmd += self.args
        self.stderr = open(os.path.join(self.dir, "stderr"), "ab")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=self.stderr)
        deadline = time.monotonic() + 15
        while not os.path.exists(port_file):
            if self.proc.poll() is not None:
                raise RuntimeError("apiserver.py exited with %s: %s" % (self.proc.returncode, self.stderr_text()))
            if time.monotonic() > deadline:
                raise RuntimeError("apiserver.py did not write its port file: %s" % self.stderr_text())
            time.sleep(0.02)
        with open(port_file) as f:
            self.port = int(f.read().strip())
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.stderr.close()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()

    def stderr_text(self):
        try:
            with open(os.path.join(self.dir, "stderr"), errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    @property
    def kubeconfig(self):
        return os.path.join(self.dir, "kubeconfig")

    @property
    def url(self):
        return "%s://127.0.0.1:%d" % ("https" if self.tls else "http", self.port)

    # -- HTTP ----------------------------------------------------------------------------------
    def _conn(self, timeout=15):
        if self.tls:
            ctx = ssl.create_default_context(cafile=os.path.join(self.dir, "tls", "ca.crt"))
            return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout, context=ctx)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def _headers(self, token, content_type, extra):
        h = {"Accept": "application/json"}
        tok = self.token if token is None else token
        if tok:
            h["Authorization"] = "Bearer " + tok
        if content_type:
            h["Content-Type"] = content_type
        h.update(extra or {})
        return h

    def raw(self, method, path, body=None, content_type="application/json", token=None, headers=None, query=None):
        """(status, response headers, body bytes)."""
        if query:
            path += "?" + urllib.parse.urlencode(query)
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        conn = self._conn()
        try:
            conn.request(method, path, body=body, headers=self._headers(token, content_type if body is not None else None, headers))
            resp = conn.getresponse()
            return resp.status, resp, resp.read()
        finally:
            conn.close()

    def request(self, method, path, body=None, **kw):
        """(status, parsed JSON body or text)."""
        status, _, data = self.raw(method, path, body, **kw)
        try:
            return status, json.loads(data) if data else None
        except ValueError:
            return status, data.decode(errors="replace")

    def watch(self, path, token=None, **query):
        query.setdefault("watch", "1")
        conn = self._conn()
        conn.request("GET", path + "?" + urllib.parse.urlencode(query), headers=self._headers(token, None, None))
        resp = conn.getresponse()
        if resp.status != 200:
            body = resp.read()
            conn.close()
            raise WatchRefused(resp.status, json.loads(body) if body else None)
        return Watch(conn, resp)

    # -- admin ---------------------------------------------------------------------------------
    def faults(self, **req):
        status, body = self.request("POST", "/_standin/faults", req, token="")
        assert status == 200, body
        return body

    def log(self, since=0):
        status, body = self.request("GET", "/_standin/log", token="", query={"since": since})
        assert status == 200, body
        return body["items"]

    def state(self):
        return self.request("GET", "/_standin/state", token="")[1]

    # -- kubectl -------------------------------------------------------------------------------
    def kubectl(self, *args, check=True, input=None, kubeconfig=None, timeout=30):
        if self._kubectl is None:
            self._kubectl = find_kubectl()
        cmd = [self._kubectl, "--kubeconfig", kubeconfig or self.kubeconfig,
               "--cache-dir", os.path.join(self.dir, "kube-cache")] + list(args)
        env = dict(os.environ, HOME=self.dir, KUBECTL_COMMAND_HEADERS="false")
        env.pop("KUBECONFIG", None)
        p = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout, env=env)
        if check and p.returncode != 0:
            raise AssertionError("kubectl %s failed (%d):\n%s%s" % (" ".join(args), p.returncode, p.stdout, p.stderr))
        return p

    def kubectl_popen(self, *args):
        if self._kubectl is None:
            self._kubectl = find_kubectl()
        cmd = [self._kubectl, "--kubeconfig", self.kubeconfig,
               "--cache-dir", os.path.join(self.dir, "kube-cache")] + list(args)
        env = dict(os.environ, HOME=self.dir)
        env.pop("KUBECONFIG", None)
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


class WatchRefused(Exception):
    def __init__(self, status, body):
        super().__init__("watch refused with HTTP %d: %s" % (status, body))
        self.status = status
        self.body = body


def rebootrequest(name, namespace="default", provider="tencent", ids=("ein-496721al", "ein-438242bp"), **spec):
    s = {"provider": provider, "instanceIds": list(ids)}
    if provider == "aliyun" and "region" not in spec:
        s["region"] = "cn-hangzhou"
    s.update(spec)
    return {"apiVersion": "rebootd.io/v1alpha1", "kind": "RebootRequest",
            "metadata": {"name": name, "namespace": namespace}, "spec": s}
