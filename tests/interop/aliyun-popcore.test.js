// SPDX-License-Identifier: Apache-2.0
// @alicloud/pop-core (RPC, signature V1 = HMAC-SHA1 over the sorted query) against
// rebootd-cloudsim, with the endpoint http://127.0.0.1:PORT and apiVersion 2014-05-26.
// pop-core sends GET with every parameter in the query, or POST with them form-urlencoded in the
// body ({method: 'POST'}); both are exercised. Errors surface as err.code = the answer's Code.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const {
  requireSdk, startSim, report, waitFor, rejection, recordRequests,
} = require('./sim-helper');

const RPCClient = requireSdk('@alicloud/pop-core').RPCClient;

const KEY_ID = 'LTAI5tInteropPopCore00001';
const KEY_SECRET = 'interop-popcore-secret-1';
const STS_KEY_ID = 'STS.InteropPopCore000002';
const STS_KEY_SECRET = 'interop-popcore-sts-secret-2';
const STS_TOKEN = 'interop-popcore-security-token-0123456789';
const REGION = 'cn-hangzhou';
const INSTANCES = 10;

// Generated IDs: "i-sim" + n zero-padded to 16 digits (pkg/sim/inventory.h).
const id = (n) => 'i-sim' + String(n).padStart(16, '0');

let sim;
let stsSim;
const clients = [];
function client(port, accessKeyId, accessKeySecret, securityToken) {
  const c = new RPCClient({
    endpoint: `http://127.0.0.1:${port}`,
    apiVersion: '2014-05-26',
    accessKeyId,
    accessKeySecret,
    securityToken,
    opts: { timeout: 10000 },
  });
  clients.push(c);
  return c;
}
let good;
const recorder = recordRequests();

before(async () => {
  const args = ['--aliyun-instances', String(INSTANCES), '--aliyun-region', REGION,
    '--tencent-instances', '1', '--reboot-seconds', '1', '--reboot-jitter', '0'];
  sim = await startSim({
    args,
    env: { ALIBABA_CLOUD_ACCESS_KEY_ID: KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET: KEY_SECRET },
  });
  stsSim = await startSim({
    args,
    env: {
      ALIBABA_CLOUD_ACCESS_KEY_ID: STS_KEY_ID,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: STS_KEY_SECRET,
      ALIBABA_CLOUD_SECURITY_TOKEN: STS_TOKEN,
    },
  });
  good = client(sim.port, KEY_ID, KEY_SECRET);
});

after(async () => {
  recorder.restore();
  for (const c of clients) c.keepAliveAgent.destroy();
  await Promise.all([sim && sim.stop(), stsSim && stsSim.stop()]);
});

async function statuses(c, ids, extra = {}) {
  const res = await c.request('DescribeInstanceStatus',
    Object.assign({ RegionId: REGION, InstanceId: ids, PageSize: 50 }, extra));
  return new Map(res.InstanceStatuses.InstanceStatus.map((s) => [s.InstanceId, s.Status]));
}

test('RebootInstance succeeds with POST and with GET; the status goes back to Running',
  async () => {
    recorder.clear();
    const post = await good.request('RebootInstance', { RegionId: REGION, InstanceId: id(1) },
      { method: 'POST' });
    assert.equal(typeof post.RequestId, 'string');
    assert.ok(post.RequestId.length > 0);
    // POST: every parameter (Signature included) in the form body, nothing in the query.
    let sent = recorder.last();
    assert.equal(sent.method, 'POST');
    assert.equal(sent.path, '/');
    assert.equal(sent.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(sent.headers.authorization, undefined);

    const get = await good.request('RebootInstance', { RegionId: REGION, InstanceId: id(2) },
      { method: 'GET' });
    assert.ok(get.RequestId);
    // GET: the RPC V1 parameters in the query.
    sent = recorder.last();
    assert.equal(sent.method, 'GET');
    const query = new URLSearchParams(sent.path.slice(sent.path.indexOf('?') + 1));
    assert.equal(query.get('SignatureMethod'), 'HMAC-SHA1');
    assert.equal(query.get('SignatureVersion'), '1.0');
    assert.equal(query.get('AccessKeyId'), KEY_ID);
    assert.equal(query.get('InstanceId'), id(2));
    assert.match(query.get('Signature'), /^[A-Za-z0-9+/]{27}=$/);
    assert.notEqual(get.RequestId, post.RequestId);

    const during = await statuses(good, [id(1), id(2), id(3)]);
    assert.equal(during.size, 3);
    assert.ok(['Stopping', 'Starting'].includes(during.get(id(1))), during.get(id(1)));
    assert.ok(['Stopping', 'Starting'].includes(during.get(id(2))), during.get(id(2)));
    assert.equal(during.get(id(3)), 'Running');

    // A second reboot while the first one runs is refused (not Running).
    const busy = await rejection(
      good.request('RebootInstance', { RegionId: REGION, InstanceId: id(1) }), 'busy reboot');
    assert.equal(busy.code, 'IncorrectInstanceStatus');

    await waitFor(async () => {
      const s = await statuses(good, [id(1), id(2)]);
      return s.get(id(1)) === 'Running' && s.get(id(2)) === 'Running';
    }, 5000, 'both instances to run again');
  });

test('DescribeInstanceStatus filters with InstanceId.N and pages', async () => {
  const filtered = await good.request('DescribeInstanceStatus',
    { RegionId: REGION, InstanceId: [id(3), id(4), id(5), 'i-simdoesnotexist'] });
  assert.equal(filtered.TotalCount, 3);
  assert.deepEqual(filtered.InstanceStatuses.InstanceStatus.map((s) => s.InstanceId),
    [id(3), id(4), id(5)]);

  const seen = [];
  for (let page = 1; page <= 3; ++page) {
    const res = await good.request('DescribeInstanceStatus',
      { RegionId: REGION, PageNumber: page, PageSize: 4 }, { method: page === 2 ? 'POST' : 'GET' });
    assert.equal(res.TotalCount, INSTANCES);
    assert.equal(res.PageNumber, page);
    assert.equal(res.PageSize, 4);
    assert.equal(res.InstanceStatuses.InstanceStatus.length, page < 3 ? 4 : 2);
    seen.push(...res.InstanceStatuses.InstanceStatus.map((s) => s.InstanceId));
  }
  assert.deepEqual(seen, Array.from({ length: INSTANCES }, (_, i) => id(i + 1)));

  const bad = await rejection(good.request('DescribeInstanceStatus',
    { RegionId: REGION, PageSize: 51 }), 'PageSize 51');
  assert.equal(bad.code, 'InvalidParameter');
});

test('DescribeInstances with InstanceIds as a JSON string', async () => {
  const ids = [id(6), id(7), id(8)];
  const res = await good.request('DescribeInstances',
    { RegionId: REGION, InstanceIds: JSON.stringify(ids) });
  assert.equal(res.TotalCount, 3);
  const list = res.Instances.Instance;
  assert.deepEqual(list.map((i) => i.InstanceId), ids);
  for (const item of list) {
    assert.equal(item.Status, 'Running');
    assert.equal(item.RegionId, REGION);
  }
  const malformed = await rejection(good.request('DescribeInstances',
    { RegionId: REGION, InstanceIds: id(6) }), 'InstanceIds not JSON');
  assert.equal(malformed.code, 'InvalidInstanceIds.Malformed');
});

test('a wrong AccessKeySecret is rejected with SignatureDoesNotMatch and has no effect',
  async () => {
    const wrong = client(sim.port, KEY_ID, KEY_SECRET + 'x');
    for (const method of ['GET', 'POST']) {
      const err = await rejection(wrong.request('RebootInstance',
        { RegionId: REGION, InstanceId: id(9) }, { method }), `wrong secret, ${method}`);
      assert.equal(err.code, 'SignatureDoesNotMatch', err.message);
    }
    const err = await rejection(wrong.request('DescribeInstanceStatus', { RegionId: REGION }),
      'wrong secret, DescribeInstanceStatus');
    assert.equal(err.code, 'SignatureDoesNotMatch', err.message);
    const rep = (await report(sim.port)).providers.aliyun;
    assert.equal(rep.reboots[id(9)], undefined, 'a wrongly signed reboot took effect');
    assert.equal((await statuses(good, [id(9)])).get(id(9)), 'Running');
  });

test('an unknown AccessKeyId is rejected with InvalidAccessKeyId.NotFound', async () => {
  const unknown = client(sim.port, 'LTAI5tUnknownKey000000000', KEY_SECRET);
  const err = await rejection(unknown.request('DescribeInstanceStatus', { RegionId: REGION }),
    'unknown key');
  assert.equal(err.code, 'InvalidAccessKeyId.NotFound', err.message);
});

test('DryRun=true answers DryRunOperation without rebooting', async () => {
  const err = await rejection(good.request('RebootInstance',
    { RegionId: REGION, InstanceId: id(10), DryRun: true }, { method: 'POST' }), 'DryRun');
  assert.equal(err.code, 'DryRunOperation', err.message);
  assert.equal((await statuses(good, [id(10)])).get(id(10)), 'Running');
});

test('a nonexistent instance, or another region, is InvalidInstanceId.NotFound', async () => {
  let err = await rejection(good.request('RebootInstance',
    { RegionId: REGION, InstanceId: 'i-simdoesnotexist' }), 'nonexistent instance');
  assert.equal(err.code, 'InvalidInstanceId.NotFound', err.message);
  err = await rejection(good.request('RebootInstance',
    { RegionId: 'cn-beijing', InstanceId: id(3) }), 'wrong region');
  assert.equal(err.code, 'InvalidInstanceId.NotFound', err.message);
});

test('STS: the right SecurityToken is accepted, a wrong or missing one is not', async () => {
  const sts = client(stsSim.port, STS_KEY_ID, STS_KEY_SECRET, STS_TOKEN);
  const res = await sts.request('RebootInstance', { RegionId: REGION, InstanceId: id(4) },
    { method: 'POST' });
  assert.ok(res.RequestId);
  const wrong = client(stsSim.port, STS_KEY_ID, STS_KEY_SECRET, STS_TOKEN + 'x');
  let err = await rejection(wrong.request('RebootInstance', { RegionId: REGION, InstanceId: id(5) }),
    'wrong token');
  assert.equal(err.code, 'InvalidSecurityToken.MismatchWithAccessKey', err.message);
  const missing = client(stsSim.port, STS_KEY_ID, STS_KEY_SECRET);
  err = await rejection(missing.request('RebootInstance', { RegionId: REGION, InstanceId: id(5) }),
    'missing token');
  assert.equal(err.code, 'MissingSecurityToken', err.message);
  assert.deepEqual((await report(stsSim.port)).providers.aliyun.reboots, { [id(4)]: 1 });
});

test('the report shows exactly one reboot per rebooted instance', async () => {
  const rep = (await report(sim.port)).providers.aliyun;
  assert.deepEqual(rep.reboots, { [id(1)]: 1, [id(2)]: 1 });
  assert.equal(rep.total_reboots, 2);
  assert.deepEqual(rep.instances_rebooted_more_than_once, []);
  assert.equal(rep.actions.RebootInstance.effects, 2);
  assert.ok(rep.actions.RebootInstance.auth_failures >= 2, JSON.stringify(rep.actions));
});
