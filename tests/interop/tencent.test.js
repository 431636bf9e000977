// SPDX-License-Identifier: Apache-2.0
// tencentcloud-sdk-nodejs (ECM 2019-07-19, TC3-HMAC-SHA256) against rebootd-cloudsim.
//
// The SDK derives the signing service from the first label of the endpoint host
// (`endpoint.split(".")[0]`) and signs `host:<hostname without port>` while sending
// `Host: <hostname>:<port>`. So the endpoint is `ecm.rebootd-sim.test:PORT` over plain http, and a
// custom http.Agent resolves *.rebootd-sim.test to 127.0.0.1 (httpProfile.agent is handed to
// node-fetch unchanged); no real DNS lookup and no proxy are involved.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const {
  requireSdk, startSim, report, waitFor, rejection, recordRequests,
} = require('./sim-helper');

const { ecm } = requireSdk('tencentcloud-sdk-nodejs', 'tencentcloud/services/ecm');
const EcmClient = ecm.v20190719.Client;

const SIM_HOST = 'ecm.rebootd-sim.test';
const SECRET_ID = 'AKIDinteropTencent0000000000000000001';
const SECRET_KEY = 'interop-tencent-secret-key-1';
const TOKEN_SECRET_ID = 'AKIDinteropTencentSts00000000000000002';
const TOKEN_SECRET_KEY = 'interop-tencent-sts-secret-key-2';
const TOKEN = 'interop-tencent-session-token-0123456789abcdef';
const INSTANCES = 12;

// Generated IDs: "ein-" + n in base 36, zero-padded to 8 characters (pkg/sim/inventory.h).
const id = (n) => 'ein-' + n.toString(36).padStart(8, '0');

// Resolves the simulator's fake host name to the loopback, nothing else.
function loopbackLookup(hostname, options, callback) {
  if (typeof options === 'function') {
    callback = options;
    options = {};
  }
  if (!hostname.endsWith('.rebootd-sim.test')) {
    const err = new Error(`interop lookup: refusing to resolve ${hostname}`);
    err.code = 'ENOTFOUND';
    return process.nextTick(callback, err);
  }
  if (options && options.all) {
    return process.nextTick(callback, null, [{ address: '127.0.0.1', family: 4 }]);
  }
  return process.nextTick(callback, null, '127.0.0.1', 4);
}

const agents = [];
function client(port, credential, host = SIM_HOST) {
  const agent = new http.Agent({ lookup: loopbackLookup });
  agents.push(agent);
  return new EcmClient({
    credential,
    profile: {
      httpProfile: {
        endpoint: `${host}:${port}`,
        protocol: 'http://',
        reqMethod: 'POST',
        reqTimeout: 10,
        agent,
      },
    },
  });
}

let sim;      // key without token
let stsSim;   // key with a token
let good;
const recorder = recordRequests();

before(async () => {
  const args = ['--tencent-instances', String(INSTANCES), '--aliyun-instances', '1',
    '--aliyun-region', 'cn-hangzhou', '--reboot-seconds', '1', '--reboot-jitter', '0'];
  sim = await startSim({
    args,
    env: { TENCENTCLOUD_SECRET_ID: SECRET_ID, TENCENTCLOUD_SECRET_KEY: SECRET_KEY },
  });
  stsSim = await startSim({
    args,
    env: {
      TENCENTCLOUD_SECRET_ID: TOKEN_SECRET_ID,
      TENCENTCLOUD_SECRET_KEY: TOKEN_SECRET_KEY,
      TENCENTCLOUD_TOKEN: TOKEN,
    },
  });
  good = client(sim.port, { secretId: SECRET_ID, secretKey: SECRET_KEY });
});

after(async () => {
  recorder.restore();
  for (const agent of agents) agent.destroy();
  await Promise.all([sim && sim.stop(), stsSim && stsSim.stop()]);
});

async function describe(c, ids) {
  return c.DescribeInstances({ Filters: [{ Name: 'instance-id', Values: ids }] });
}

test('RebootInstances on 3 instances succeeds; DescribeInstances shows REBOOTING then RUNNING',
  async () => {
    const ids = [id(1), id(2), id(3)];
    const before = await describe(good, ids);
    assert.equal(before.TotalCount, 3);
    for (const item of before.InstanceSet) assert.equal(item.InstanceState, 'RUNNING');

    recorder.clear();
    const res = await good.RebootInstances({ InstanceIdSet: ids });
    // What went over the wire: TC3 scoped to ecm, host signed without its port.
    const sent = recorder.last();
    assert.ok(sent, 'no request recorded');
    assert.equal(sent.method, 'POST');
    assert.equal(sent.headers.host, `${SIM_HOST}:${sim.port}`);
    assert.equal(sent.headers['x-tc-action'], 'RebootInstances');
    assert.equal(sent.headers['x-tc-version'], '2019-07-19');
    assert.match(sent.headers.authorization, new RegExp(
      `^TC3-HMAC-SHA256 Credential=${SECRET_ID}/\\d{4}-\\d{2}-\\d{2}/ecm/tc3_request, ` +
      'SignedHeaders=content-type;host, Signature=[0-9a-f]{64}$'));
    assert.equal(typeof res.RequestId, 'string');
    assert.ok(res.RequestId.length > 0, 'RequestId is empty');

    const during = await describe(good, ids);
    assert.equal(during.TotalCount, 3);
    assert.deepEqual(during.InstanceSet.map((i) => i.InstanceId), ids);
    for (const item of during.InstanceSet) {
      assert.equal(item.InstanceState, 'REBOOTING', JSON.stringify(item));
      assert.equal(item.LatestOperation, 'RebootInstances');
      assert.equal(item.LatestOperationState, 'OPERATING');
      assert.equal(item.LatestOperationRequestId, undefined, 'ECM has no LatestOperationRequestId');
    }

    const settled = await waitFor(async () => {
      const r = await describe(good, ids);
      return r.InstanceSet.every((i) => i.InstanceState === 'RUNNING') ? r : null;
    }, 5000, 'the 3 instances to run again');
    for (const item of settled.InstanceSet) {
      assert.equal(item.LatestOperation, 'RebootInstances');
      assert.equal(item.LatestOperationState, 'SUCCESS');
    }

    const rep = (await report(sim.port)).providers.tencent;
    assert.deepEqual(rep.reboots, { [id(1)]: 1, [id(2)]: 1, [id(3)]: 1 });
    assert.equal(rep.total_reboots, 3);
    assert.deepEqual(rep.instances_rebooted_more_than_once, []);
    assert.equal(rep.actions.RebootInstances.effects, 1);
    assert.deepEqual(rep.actions.RebootInstances.batch_sizes, { 3: 1 });
  });

test('DescribeInstances pages with Offset/Limit', async () => {
  const all = [];
  for (let offset = 0; offset < INSTANCES; offset += 5) {
    const page = await good.DescribeInstances({ Offset: offset, Limit: 5 });
    assert.equal(page.TotalCount, INSTANCES);
    assert.equal(page.InstanceSet.length, Math.min(5, INSTANCES - offset));
    all.push(...page.InstanceSet.map((i) => i.InstanceId));
  }
  assert.deepEqual(all, Array.from({ length: INSTANCES }, (_, i) => id(i + 1)));
  const beyond = await good.DescribeInstances({ Offset: INSTANCES, Limit: 5 });
  assert.equal(beyond.TotalCount, INSTANCES);
  assert.deepEqual(beyond.InstanceSet, []);
  const bad = await rejection(good.DescribeInstances({ Offset: 0, Limit: 101 }), 'Limit 101');
  assert.equal(bad.code, 'InvalidParameterValue.InvaildPageParam');
});

test('a wrong SecretKey is rejected with AuthFailure.SignatureFailure and has no effect',
  async () => {
    const wrong = client(sim.port, { secretId: SECRET_ID, secretKey: SECRET_KEY + 'x' });
    let err = await rejection(describe(wrong, [id(4)]), 'DescribeInstances, wrong secret');
    assert.equal(err.code, 'AuthFailure.SignatureFailure', err.message);
    assert.ok(err.requestId, 'the error carries a RequestId');
    err = await rejection(wrong.RebootInstances({ InstanceIdSet: [id(4)] }),
      'RebootInstances, wrong secret');
    assert.equal(err.code, 'AuthFailure.SignatureFailure', err.message);
    const rep = (await report(sim.port)).providers.tencent;
    assert.equal(rep.reboots[id(4)], undefined, 'a wrongly signed reboot took effect');
    const state = await describe(good, [id(4)]);
    assert.equal(state.InstanceSet[0].InstanceState, 'RUNNING');
  });

test('a signature scoped to another service (cvm) is rejected with SignatureFailure', async () => {
  // Same key, but the SDK takes the service "cvm" from the host name cvm.rebootd-sim.test.
  const cvm = client(sim.port, { secretId: SECRET_ID, secretKey: SECRET_KEY },
    'cvm.rebootd-sim.test');
  const err = await rejection(describe(cvm, [id(1)]), 'service cvm');
  assert.equal(err.code, 'AuthFailure.SignatureFailure', err.message);
});

test('an unknown SecretId is rejected with AuthFailure.SecretIdNotFound', async () => {
  const unknown = client(sim.port, {
    secretId: 'AKIDunknown00000000000000000000000000', secretKey: SECRET_KEY,
  });
  const err = await rejection(describe(unknown, [id(1)]), 'unknown SecretId');
  assert.equal(err.code, 'AuthFailure.SecretIdNotFound', err.message);
});

test('a nonexistent instance is ResourceNotFound.InstanceNotExist (all-or-nothing)', async () => {
  const err = await rejection(good.RebootInstances({ InstanceIdSet: [id(5), 'ein-zzzzzzzz'] }),
    'reboot of a nonexistent instance');
  assert.equal(err.code, 'ResourceNotFound.InstanceNotExist', err.message);
  assert.match(err.message, /ein-zzzzzzzz/);
  const rep = (await report(sim.port)).providers.tencent;
  assert.equal(rep.reboots[id(5)], undefined, 'the existing instance of the batch was rebooted');
  const listed = await describe(good, ['ein-zzzzzzzz']);
  assert.equal(listed.TotalCount, 0);
  assert.deepEqual(listed.InstanceSet, []);
});

test('6 values in one instance-id filter fail with ParameterValueTooLarge', async () => {
  const err = await rejection(describe(good, [1, 2, 3, 4, 5, 6].map(id)), '6 filter values');
  assert.equal(err.code, 'InvalidParameterValue.ParameterValueTooLarge', err.message);
  const five = await describe(good, [1, 2, 3, 4, 5].map(id));
  assert.equal(five.TotalCount, 5);
});

test('temporary credentials: the right token is accepted, a wrong or missing one is not',
  async () => {
    const sts = client(stsSim.port,
      { secretId: TOKEN_SECRET_ID, secretKey: TOKEN_SECRET_KEY, token: TOKEN });
    const listed = await describe(sts, [id(7)]);
    assert.equal(listed.TotalCount, 1);
    const res = await sts.RebootInstances({ InstanceIdSet: [id(7)] });
    assert.ok(res.RequestId);

    const wrongToken = client(stsSim.port,
      { secretId: TOKEN_SECRET_ID, secretKey: TOKEN_SECRET_KEY, token: TOKEN + 'x' });
    let err = await rejection(wrongToken.RebootInstances({ InstanceIdSet: [id(8)] }),
      'wrong token');
    assert.equal(err.code, 'AuthFailure.TokenFailure', err.message);

    const noToken = client(stsSim.port, { secretId: TOKEN_SECRET_ID, secretKey: TOKEN_SECRET_KEY });
    err = await rejection(noToken.RebootInstances({ InstanceIdSet: [id(8)] }), 'missing token');
    assert.equal(err.code, 'AuthFailure.TokenFailure', err.message);

    const rep = (await report(stsSim.port)).providers.tencent;
    assert.deepEqual(rep.reboots, { [id(7)]: 1 });
  });
