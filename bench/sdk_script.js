#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// The simplest thing a user could do instead of rebootd: reboot a list of Tencent ECM instances
// with the official Node SDK (tencentcloud-sdk-nodejs) and wait until every one runs again.
// Honest, not naive: batches of 100 at the documented 20 calls/s (with the same 10 % margin
// rebootd keeps), throttling answers retried, a reboot never re-sent after an unknown outcome;
// then one wait, then account scans in pages of 100 until every instance is RUNNING with a
// finished RebootInstances as its last operation. (That check is exactly what an earlier reboot
// in an instance's history also satisfies: see issue "Proof of reboot"; it is used here only on
// fresh fleets, for speed.)
//
//   node bench/sdk_script.js --endpoint PORT --ids FILE.json [--wait-seconds S] [--rate N]
// Keys: TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY. Prints one JSON line:
//   {"instances":N,"seconds":S,"reboot_calls":C,"describe_calls":D,"throttled":T}
'use strict';

const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');

const sdkDir = path.join(__dirname, '..', 'tests', 'interop', 'node_modules',
  'tencentcloud-sdk-nodejs');
const { ecm } = require(path.join(sdkDir, 'tencentcloud', 'services', 'ecm'));

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}
const port = arg('endpoint');
const ids = JSON.parse(fs.readFileSync(arg('ids'), 'utf8'));
const waitSeconds = Number(arg('wait-seconds', '5'));
const gapMs = 1000 / Number(arg('rate', '20')) * 1.1;

// The SDK signs for the service named by the endpoint's first label ("ecm"): a host name that
// resolves to the loopback, and nothing else.
const agent = new http.Agent({
  keepAlive: true,
  lookup: (host, options, cb) => {
    if (typeof options === 'function') cb = options;
    if (options && options.all) return process.nextTick(cb, null, [{ address: '127.0.0.1', family: 4 }]);
    return process.nextTick(cb, null, '127.0.0.1', 4);
  },
});
const client = new ecm.v20190719.Client({
  credential: { secretId: process.env.TENCENTCLOUD_SECRET_ID,
    secretKey: process.env.TENCENTCLOUD_SECRET_KEY },
  profile: { httpProfile: { endpoint: `ecm.bench.test:${port}`, protocol: 'http://',
    reqMethod: 'POST', reqTimeout: 30, agent } },
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const counts = { reboot_calls: 0, describe_calls: 0, throttled: 0 };
let next = 0;  // earliest time of the next call of the current phase (one call at a time)
async function paced(fn, counter) {
  for (;;) {
    const now = Date.now();
    if (now < next) await sleep(next - now);
    next = Date.now() + gapMs;
    counts[counter] += 1;
    try {
      return await fn();
    } catch (e) {
      if (String(e.code || '').startsWith('RequestLimitExceeded')) {
        counts.throttled += 1;
        await sleep(1000);
        continue;
      }
      throw e;
    }
  }
}

async function main() {
  const start = Date.now();
  for (let i = 0; i < ids.length; i += 100) {
    const batch = ids.slice(i, i + 100);
    await paced(() => client.RebootInstances({ InstanceIdSet: batch, StopType: 'SOFT' }),
      'reboot_calls');
  }
  await sleep(waitSeconds * 1000);
  const pending = new Set(ids);
  while (pending.size > 0) {
    let total = Infinity;
    for (let offset = 0; offset < total && pending.size > 0; offset += 100) {
      const page = await paced(() => client.DescribeInstances({ Offset: offset, Limit: 100 }),
        'describe_calls');
      total = page.TotalCount;
      for (const inst of page.InstanceSet || []) {
        if (pending.has(inst.InstanceId) && inst.InstanceState === 'RUNNING' &&
            inst.LatestOperation === 'RebootInstances' && inst.LatestOperationState === 'SUCCESS') {
          pending.delete(inst.InstanceId);
        }
      }
    }
    if (pending.size > 0) await sleep(waitSeconds * 1000);
  }
  const seconds = (Date.now() - start) / 1000;
  console.log(JSON.stringify({ instances: ids.length, seconds, ...counts }));
  agent.destroy();
}

main().catch((e) => {
  console.error(`sdk_script: ${e.stack || e}`);
  process.exit(1);
});
