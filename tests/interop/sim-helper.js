// SPDX-License-Identifier: Apache-2.0
// Shared helpers for the interoperability tests: start rebootd-cloudsim on a loopback port with
// explicit keys, read its report, and load the official SDKs (failing loudly when they are not
// installed). Not a test file itself (the name does not match node's test file patterns).
'use strict';

const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');

const HERE = __dirname;
const REPO = path.resolve(HERE, '..', '..');

// The loopback must never go through a proxy: the SDKs honour these variables.
for (const name of ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY', 'all_proxy',
  'ALL_PROXY']) {
  delete process.env[name];
}

// require() of an SDK (optionally a file inside it) from tests/interop/node_modules; a clear
// failure when it is missing.
function requireSdk(name, subpath = '') {
  const dir = path.join(HERE, 'node_modules', ...name.split('/'));
  if (!fs.existsSync(path.join(dir, 'package.json'))) {
    throw new Error(
      `interop: the npm package "${name}" is not installed in ${path.join(HERE, 'node_modules')}. ` +
      'Run scripts/setup.sh (or `npm ci` in tests/interop) before running the interop tests.');
  }
  return require(subpath ? path.join(dir, subpath) : dir);
}

function cloudsimPath() {
  const fromEnv = process.env.CLOUDSIM;
  const candidates = fromEnv ? [fromEnv]
    : [path.join(REPO, 'build', 'cmd', 'rebootd-cloudsim', 'rebootd-cloudsim')];
  for (const candidate of candidates) {
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error(`interop: rebootd-cloudsim not found (${candidates.join(', ')}); build it ` +
    '(scripts/build.sh --target rebootd-cloudsim) and set CLOUDSIM=/path/to/rebootd-cloudsim');
}

// Starts rebootd-cloudsim. `env` holds the key variables the simulator should read (every other
// TENCENTCLOUD_* / ALIBABA_CLOUD_* variable of this process is removed, so that only the keys the
// test chose are accepted). Resolves to {port, baseUrl, proc, stderr(), stop()}.
function startSim({ args = [], env = {}, timeoutMs = 10000 } = {}) {
  const childEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('TENCENTCLOUD_') || k.startsWith('ALIBABA_CLOUD_')) continue;
    childEnv[k] = v;
  }
  Object.assign(childEnv, env);
  const proc = spawn(cloudsimPath(), ['--listen', '127.0.0.1:0', ...args],
    { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`rebootd-cloudsim did not report its port within ${timeoutMs} ms; ` +
        `stdout=${JSON.stringify(stdout)} stderr=${JSON.stringify(stderr)}`));
    }, timeoutMs);
    proc.on('error', (e) => { clearTimeout(timer); reject(e); });
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`rebootd-cloudsim exited early (code ${code}, signal ${signal}); ` +
        `stderr=${JSON.stringify(stderr)}`));
    });
    proc.stdout.on('data', (d) => {
      stdout += d;
      const m = /rebootd-cloudsim listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout);
      if (!m) return;
      clearTimeout(timer);
      proc.removeAllListeners('exit');
      const port = Number(m[1]);
      resolve({
        port,
        baseUrl: `http://127.0.0.1:${port}`,
        proc,
        stderr: () => stderr,
        stop: () => new Promise((done) => {
          if (proc.exitCode !== null || proc.signalCode !== null) return done();
          const kill = setTimeout(() => proc.kill('SIGKILL'), 3000);
          proc.once('exit', () => { clearTimeout(kill); done(); });
          proc.kill('SIGTERM');
        }),
      });
    });
  });
}

// GET a control endpoint and parse its JSON.
function getJson(port, pathname) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: pathname, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => {
        try {
          assert.equal(res.statusCode, 200, `${pathname}: HTTP ${res.statusCode}: ${body}`);
          resolve(JSON.parse(body));
        } catch (e) {
          reject(e);
        }
      });
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error(`${pathname}: timeout`)));
  });
}

const report = (port) => getJson(port, '/_sim/report');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls `probe` (async, returns a truthy value when done) every 100 ms up to `timeoutMs`.
async function waitFor(probe, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await probe();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

// Asserts that `promise` rejects, and returns the error.
async function rejection(promise, what) {
  try {
    const value = await promise;
    assert.fail(`${what}: expected an error, the call succeeded: ${JSON.stringify(value)}`);
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    return e;
  }
}

// Records the requests the SDKs send through node's http module (both node-fetch, used by the
// Tencent SDK, and httpx, used by the Alibaba SDKs, call http.request at call time), so that a
// test can assert which signature scheme was really used. Call once per file.
function recordRequests() {
  const seen = [];
  const original = http.request;
  http.request = function recordingRequest(...args) {
    const req = original.apply(this, args);
    seen.push(req);
    return req;
  };
  const view = (req) => {
    // node-fetch sets every header as an array of values; flatten them.
    const headers = {};
    for (const [k, v] of Object.entries(req.getHeaders())) {
      headers[k] = Array.isArray(v) ? v.join(', ') : String(v);
    }
    return { method: req.method, path: req.path, headers };
  };
  return {
    last: () => (seen.length ? view(seen[seen.length - 1]) : null),
    all: () => seen.map(view),
    clear: () => { seen.length = 0; },
    restore: () => { http.request = original; },
  };
}

module.exports = {
  requireSdk, startSim, getJson, report, sleep, waitFor, rejection, recordRequests,
};
