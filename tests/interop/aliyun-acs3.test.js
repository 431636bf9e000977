// SPDX-License-Identifier: Apache-2.0
// @alicloud/ecs20140526 (darabonba/tea over @alicloud/openapi-core; ACS3-HMAC-SHA256 by default)
// configured with an @alicloud/openapi-client Config {endpoint: '127.0.0.1:PORT', protocol:
// 'http'} against rebootd-cloudsim. The SDK sends `host: 127.0.0.1:PORT` and signs it as sent;
// every RPC parameter goes in the query, the body is empty (x-acs-content-sha256 = SHA-256("")).
// Errors surface as ClientError with err.code and err.data.Code (= the answer's Code) and
// err.statusCode. The default runtime does not retry, so each call is one HTTP request.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const {
  requireSdk, startSim, report, waitFor, rejection, recordRequests,
} = require('./sim-helper');

const Ecs = requireSdk('@alicloud/ecs20140526');
const EcsClient = Ecs.default;
const { Config } = requireSdk('@alicloud/openapi-client');

const KEY_ID = 'LTAI5tInteropAcs3Key00001';
const KEY_SECRET = 'interop-acs3-secret-1';
const STS_KEY_ID = 'STS.InteropAcs3Key0000002';
const STS_KEY_SECRET = 'interop-acs3-sts-secret-2';
const STS_TOKEN = 'interop-acs3-security-token-0123456789';
const REGION = 'cn-hangzhou';
const INSTANCES = 8;

const id = (n) => 'i-sim' + String(n).padStart(16, '0');

let sim;
let stsSim;
function client(port, accessKeyId, accessKeySecret, securityToken, extra = {}) {
  return new EcsClient(new Config(Object.assign({
    accessKeyId,
    accessKeySecret,
    securityToken,
    endpoint: `127.0.0.1:${port}`,
    protocol: 'http',
    regionId: REGION,
    readTimeout: 10000,
    connectTimeout: 5000,
  }, extra)));
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
  await Promise.all([sim && sim.stop(), stsSim && stsSim.stop()]);
});

const reboot = (c, instanceId, extra = {}) => c.rebootInstance(
  new Ecs.RebootInstanceRequest(Object.assign({ instanceId }, extra)));

async function statuses(c, ids, extra = {}) {
  const res = await c.describeInstanceStatus(new Ecs.DescribeInstanceStatusRequest(
    Object.assign({ regionId: REGION, instanceId: ids, pageSize: 50 }, extra)));
  assert.equal(res.statusCode, 200);
  return res.body;
}

function assertAliyunError(err, code, status) {
  assert.equal(err.code, code, `${err.name}: ${err.message}`);
  assert.equal(err.data && err.data.Code, code, JSON.stringify(err.data));
  if (status !== undefined) assert.equal(err.statusCode, status);
}

test('RebootInstance succeeds and the status goes back to Running', async () => {
  recorder.clear();
  const res = await reboot(good, id(1));
  // What went over the wire: ACS3-HMAC-SHA256, parameters in the query, empty body.
  const sent = recorder.last();
  assert.ok(sent, 'no request recorded');
  assert.equal(sent.method, 'POST');
  assert.equal(sent.headers.host, `127.0.0.1:${sim.port}`);
  assert.equal(sent.headers['x-acs-action'], 'RebootInstance');
  assert.equal(sent.headers['x-acs-version'], '2014-05-26');
  assert.equal(sent.headers['x-acs-content-sha256'],
    'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  assert.match(sent.headers.authorization, new RegExp(
    `^ACS3-HMAC-SHA256 Credential=${KEY_ID},SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*,` +
    'Signature=[0-9a-f]{64}$'));
  assert.match(sent.path, new RegExp(`[?&]InstanceId=${id(1)}(&|$)`));
  assert.equal(res.statusCode, 200);
  assert.equal(typeof res.body.requestId, 'string');
  assert.ok(res.body.requestId.length > 0);

  const during = await statuses(good, [id(1)]);
  assert.equal(during.totalCount, 1);
  const status = during.instanceStatuses.instanceStatus[0].status;
  assert.ok(['Stopping', 'Starting'].includes(status), status);

  await waitFor(async () => {
    const body = await statuses(good, [id(1)]);
    return body.instanceStatuses.instanceStatus[0].status === 'Running';
  }, 5000, 'the instance to run again');
  assert.deepEqual((await report(sim.port)).providers.aliyun.reboots, { [id(1)]: 1 });
});

test('DescribeInstanceStatus filters with InstanceId.N and pages', async () => {
  const filtered = await statuses(good, [id(2), id(3), 'i-simdoesnotexist']);
  assert.equal(filtered.totalCount, 2);
  assert.deepEqual(filtered.instanceStatuses.instanceStatus.map((s) => s.instanceId),
    [id(2), id(3)]);
  for (const s of filtered.instanceStatuses.instanceStatus) assert.equal(s.status, 'Running');

  const seen = [];
  for (let page = 1; page <= 2; ++page) {
    const body = await statuses(good, undefined, { pageNumber: page, pageSize: 5 });
    assert.equal(body.totalCount, INSTANCES);
    assert.equal(body.pageNumber, page);
    seen.push(...body.instanceStatuses.instanceStatus.map((s) => s.instanceId));
  }
  assert.deepEqual(seen, Array.from({ length: INSTANCES }, (_, i) => id(i + 1)));
});

test('DescribeInstances with InstanceIds succeeds', async () => {
  const ids = [id(4), id(5)];
  const res = await good.describeInstances(new Ecs.DescribeInstancesRequest({
    regionId: REGION, instanceIds: JSON.stringify(ids),
  }));
  assert.equal(res.statusCode, 200);
  assert.equal(res.body.totalCount, 2);
  const list = res.body.instances.instance;
  assert.deepEqual(list.map((i) => i.instanceId), ids);
  for (const item of list) {
    assert.equal(item.status, 'Running');
    assert.equal(item.regionId, REGION);
  }
});

test('a wrong AccessKeySecret is rejected with SignatureDoesNotMatch and has no effect',
  async () => {
    const wrong = client(sim.port, KEY_ID, KEY_SECRET + 'x');
    let err = await rejection(reboot(wrong, id(6)), 'wrong secret, RebootInstance');
    assertAliyunError(err, 'SignatureDoesNotMatch', 400);
    err = await rejection(statuses(wrong, [id(6)]), 'wrong secret, DescribeInstanceStatus');
    assertAliyunError(err, 'SignatureDoesNotMatch', 400);
    assert.equal((await report(sim.port)).providers.aliyun.reboots[id(6)], undefined,
      'a wrongly signed reboot took effect');
    const body = await statuses(good, [id(6)]);
    assert.equal(body.instanceStatuses.instanceStatus[0].status, 'Running');
  });

test('an unknown AccessKeyId, a nonexistent instance and DryRun answer their codes',
  async () => {
    const unknown = client(sim.port, 'LTAI5tUnknownAcs3Key00000', KEY_SECRET);
    assertAliyunError(await rejection(statuses(unknown, [id(1)]), 'unknown key'),
      'InvalidAccessKeyId.NotFound', 400);
    assertAliyunError(await rejection(reboot(good, 'i-simdoesnotexist'), 'nonexistent instance'),
      'InvalidInstanceId.NotFound', 404);
    assertAliyunError(await rejection(reboot(good, id(7), { dryRun: true }), 'DryRun'),
      'DryRunOperation', 400);
    assert.equal((await report(sim.port)).providers.aliyun.reboots[id(7)], undefined);
  });

test('the same SDK with signatureAlgorithm v2 (RPC signature V1 through tea) also works',
  async () => {
    const v1 = client(sim.port, KEY_ID, KEY_SECRET, undefined, { signatureAlgorithm: 'v2' });
    recorder.clear();
    const body = await statuses(v1, [id(8)]);
    assert.equal(body.totalCount, 1);
    const sent = recorder.last();
    assert.equal(sent.headers.authorization, undefined, 'v2 must not send an ACS3 Authorization');
    const query = new URLSearchParams(sent.path.slice(sent.path.indexOf('?') + 1));
    assert.equal(query.get('SignatureMethod'), 'HMAC-SHA1');
    assert.ok(query.get('Signature'), `no Signature in ${sent.path}`);
    const wrong = client(sim.port, KEY_ID, KEY_SECRET + 'x', undefined,
      { signatureAlgorithm: 'v2' });
    assertAliyunError(await rejection(statuses(wrong, [id(8)]), 'v2, wrong secret'),
      'SignatureDoesNotMatch', 400);
  });

test('STS: the right securityToken is accepted, a wrong or missing one is not', async () => {
  const sts = client(stsSim.port, STS_KEY_ID, STS_KEY_SECRET, STS_TOKEN);
  const res = await reboot(sts, id(2));
  assert.ok(res.body.requestId);
  const body = await statuses(sts, [id(2), id(3)]);
  assert.equal(body.totalCount, 2);

  const wrong = client(stsSim.port, STS_KEY_ID, STS_KEY_SECRET, STS_TOKEN + 'x');
  assertAliyunError(await rejection(reboot(wrong, id(3)), 'wrong token'),
    'InvalidSecurityToken.MismatchWithAccessKey', 400);
  const missing = client(stsSim.port, STS_KEY_ID, STS_KEY_SECRET);
  assertAliyunError(await rejection(reboot(missing, id(3)), 'missing token'),
    'MissingSecurityToken', 400);
  assert.deepEqual((await report(stsSim.port)).providers.aliyun.reboots, { [id(2)]: 1 });
});

test('the report shows exactly one reboot per rebooted instance', async () => {
  const rep = (await report(sim.port)).providers.aliyun;
  assert.deepEqual(rep.reboots, { [id(1)]: 1 });
  assert.equal(rep.total_reboots, 1);
  assert.deepEqual(rep.instances_rebooted_more_than_once, []);
});
