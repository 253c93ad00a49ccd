// The targets plugin through the engine's connection path (resolveCredentials, resolveTarget, beforeConnect)
// against the emulator's EC2, SSM, ECS and RDS, with the real SDK clients: what names become, and every
// failure as one line naming what was looked for and what was found.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { SEED_STATIC_ACCESS_KEY_ID, SEED_STATIC_SECRET_ACCESS_KEY } from '../../src/emulator/state.js';
import type { ConnectDraft } from '../../src/engine/types.js';
import {
  createTestEngine,
  startTestEmulator,
  testAwsConfig,
  type TestEmulator,
  type TestEngine,
} from '../../src/testing/index.js';

const test = suite('targets: resolution');
const TASK = '0a1b2c3d4e5f60718293a4b5c6d7e8f9';
const acct = '111111111111';
const region = 'us-east-1';
const VIEWER = {
  accessKeyId: 'AKIAEMULATORVIEWER01',
  secretAccessKey: 'emulator/viewer/SECRET/key/000000000000',
};
let emu: TestEmulator;
let t: TestEngine;

test.before(async () => {
  emu = await startTestEmulator({
    awsConfig: (startUrl) => `${testAwsConfig(startUrl)}\n[profile viewer]\nregion = us-east-1\n`,
    awsCredentials:
      `[ci]\naws_access_key_id = ${SEED_STATIC_ACCESS_KEY_ID}\naws_secret_access_key = ${SEED_STATIC_SECRET_ACCESS_KEY}\n` +
      `[viewer]\naws_access_key_id = ${VIEWER.accessKeyId}\naws_secret_access_key = ${VIEWER.secretAccessKey}\n`,
    state: {
      iamUsers: [
        {
          arn: `arn:aws:iam::${acct}:user/ci`,
          accessKeyId: SEED_STATIC_ACCESS_KEY_ID,
          secretAccessKey: SEED_STATIC_SECRET_ACCESS_KEY,
        },
        {
          arn: `arn:aws:iam::${acct}:user/viewer`,
          ...VIEWER,
          deny: ['ec2:DescribeInstances', 'ecs:ListTasks', 'rds:DescribeDBInstances'],
        },
      ],
      instances: [
        { instanceId: 'i-0123456789abcdef0', name: 'bastion', accountId: acct, region },
        // Two of one group, one stopped, one without a working agent.
        {
          instanceId: 'i-0b0000000000000a1',
          name: 'web',
          accountId: acct,
          region,
          tags: { env: 'prod' },
          launchTime: '2026-01-01T00:00:00.000Z',
        },
        {
          instanceId: 'i-0b0000000000000a2',
          name: 'web',
          accountId: acct,
          region,
          tags: { env: 'prod' },
          launchTime: '2026-02-01T00:00:00.000Z',
        },
        {
          instanceId: 'i-0b0000000000000a3',
          name: 'web',
          accountId: acct,
          region,
          tags: { env: 'test' },
          launchTime: '2026-03-01T00:00:00.000Z',
        },
        { instanceId: 'i-0c0000000000000b1', name: 'batch', accountId: acct, region, state: 'stopped' },
        {
          instanceId: 'i-0c0000000000000b2',
          name: 'batch',
          accountId: acct,
          region,
          pingStatus: 'ConnectionLost',
        },
      ],
      ecsTasks: [
        {
          cluster: 'apps',
          taskId: TASK,
          service: 'api',
          accountId: acct,
          region,
          containers: [{ name: 'app', runtimeId: `${TASK}-1` }],
        },
        {
          cluster: 'apps',
          taskId: 'f'.repeat(32),
          service: 'legacy',
          accountId: acct,
          region,
          enableExecuteCommand: false,
          containers: [{ name: 'app', runtimeId: 'x-1' }],
        },
        {
          cluster: 'apps',
          taskId: 'e'.repeat(32),
          service: 'starting',
          accountId: acct,
          region,
          containers: [{ name: 'app', lastStatus: 'PENDING' }],
        },
        {
          cluster: 'apps',
          taskId: 'd'.repeat(32),
          service: 'mesh',
          accountId: acct,
          region,
          containers: [
            { name: 'app', runtimeId: 'd-1' },
            { name: 'envoy', runtimeId: 'd-2' },
          ],
        },
      ],
      databases: [
        { identifier: 'orders', accountId: acct, region, port: 5432 },
        {
          identifier: 'ledger',
          kind: 'cluster',
          engine: 'aurora-postgresql',
          accountId: acct,
          region,
          port: 3306,
        },
      ],
    },
  });
  t = await createTestEngine({
    builtins: true,
    plugins: [],
    tunnels: [
      { name: 'one', profile: 'ci', target: 'tag:Name=web', pick: 'only', remotePort: 80, localPort: 0 },
    ],
  });
});
test.after(async () => {
  await t.shutdown();
  await emu.close();
});

const connect = (d: Partial<ConnectDraft> & { tunnel: string }) => t.connect({ profile: 'ci', ...d });
async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    const message = (err as Error).message;
    assert.not.match(message, /\n/, 'one line');
    return message;
  }
  throw new Error('expected a failure');
}

test('a Name is its Name tag; several tags are ANDed; the newest of several wins and says so', async () => {
  const plain = await connect({ tunnel: 'b', target: 'bastion' });
  assert.is(plain.target, 'i-0123456789abcdef0');
  assert.equal(plain.resolution, {
    requested: { target: 'bastion', remoteHost: undefined },
    description: 'Name=bastion: i-0123456789abcdef0, the only match in us-east-1',
    actions: ['ec2:DescribeInstances', 'ssm:DescribeInstanceInformation'],
  });
  const newest = await connect({ tunnel: 'w', target: 'tag:Name=web,tag:env=prod' });
  assert.is(newest.target, 'i-0b0000000000000a2');
  assert.is(
    newest.resolution?.description,
    'Name=web, env=prod: i-0b0000000000000a2, newest of 2 in us-east-1',
  );
  const log = emu.emulator.requests().filter((r) => r.operation === 'DescribeInstances');
  assert.is(log.at(-1)?.params.filters, 'tag:Name=web,tag:env=prod');
});

test('no usable match, or several where the config asks for one: one line with what was found', async () => {
  assert.is(
    await failure(connect({ tunnel: 'x', target: 'nothing-here' })),
    'tunnel "x": no instance with tag Name=nothing-here in us-east-1 is running and online in Session Manager; found no instance with that tag',
  );
  assert.is(
    await failure(connect({ tunnel: 'x', target: 'batch' })),
    'tunnel "x": no instance with tag Name=batch in us-east-1 is running and online in Session Manager; found i-0c0000000000000b1 (stopped), i-0c0000000000000b2 (running, agent ConnectionLost)',
  );
  assert.is(
    await failure(connect({ tunnel: 'one', target: 'tag:Name=web' })),
    'tunnel "one": tag Name=web matches 3 instances online in us-east-1 and pick is "only": i-0b0000000000000a3 (launched 2026-03-01T00:00:00Z), i-0b0000000000000a2 (launched 2026-02-01T00:00:00Z), i-0b0000000000000a1 (launched 2026-01-01T00:00:00Z)',
  );
});

test('ecs:CLUSTER/SERVICE becomes the Session Manager target; exec off, no runtime id, several containers', async () => {
  const api = await connect({ tunnel: 'api', target: 'ecs:apps/api' });
  assert.is(api.target, `ecs:apps_${TASK}_${TASK}-1`);
  const mesh = await connect({ tunnel: 'mesh', target: 'ecs:apps/mesh/envoy' });
  assert.is(mesh.target, `ecs:apps_${'d'.repeat(32)}_d-2`);
  assert.is(
    await failure(connect({ tunnel: 'x', target: 'ecs:apps/legacy' })),
    `tunnel "x": ecs:apps/legacy: task ${'f'.repeat(32)} has execute-command turned off (enableExecuteCommand false); enable it on the service and start new tasks`,
  );
  // A task still starting is waited for (onError retries it); a setting only a person can change is not.
  assert.is(
    await failure(connect({ tunnel: 'x', target: 'ecs:apps/starting' })),
    `tunnel "x": ecs:apps/starting: waiting for a task to start: task ${'e'.repeat(32)} container "app" has no runtime id yet (lastStatus PENDING)`,
  );
  const starting = await connect({ tunnel: 'x', target: 'ecs:apps/starting' }).catch((e: unknown) => e);
  assert.is((await t.decide(starting)).action, 'retry');
  const off = await connect({ tunnel: 'x', target: 'ecs:apps/legacy' }).catch((e: unknown) => e);
  assert.is((await t.decide(off)).action, 'fail');
  assert.is(
    await failure(connect({ tunnel: 'x', target: 'ecs:apps/mesh' })),
    `tunnel "x": ecs:apps/mesh: task ${'d'.repeat(32)} has 2 containers (app, envoy); name one: ecs:CLUSTER/SERVICE/CONTAINER`,
  );
  assert.is(
    await failure(connect({ tunnel: 'x', target: 'ecs:apps/nope' })),
    'tunnel "x": ecs:apps/nope: service "nope" has no running task in ECS cluster "apps" in us-east-1',
  );
});

test('rds: gives the endpoint and, when the config left it, the port; a missing database says so', async () => {
  const db = await connect({ tunnel: 'db', target: 'bastion', remoteHost: 'rds:orders', remotePort: 0 });
  assert.is(db.remoteHost, 'orders.c0emulator01.us-east-1.rds.amazonaws.com');
  assert.is(db.remotePort, 5432);
  const cluster = await connect({
    tunnel: 'db',
    target: 'bastion',
    remoteHost: 'rds:ledger',
    remotePort: 6543,
  });
  assert.is(cluster.remoteHost, 'ledger.cluster-c0emulator01.us-east-1.rds.amazonaws.com');
  assert.is(cluster.remotePort, 6543, 'the configured port stays');
  assert.is(
    await failure(connect({ tunnel: 'x', target: 'bastion', remoteHost: 'rds:gone', remotePort: 0 })),
    'tunnel "x": rds:gone: no RDS DB instance or Aurora cluster "gone" in us-east-1; found neither',
  );
});

test('a permission the resolution needs and lacks is named, with the profile', async () => {
  const as = (d: Partial<ConnectDraft> & { tunnel: string }) => t.connect({ ...d, profile: 'viewer' });
  assert.match(
    await failure(as({ tunnel: 'x', target: 'bastion' })),
    /^Contact AWS Administrator: ec2:DescribeInstances was denied for profile "viewer" \(DescribeInstances\)/,
  );
  assert.match(
    await failure(as({ tunnel: 'x', target: 'ecs:apps/api' })),
    /^Contact AWS Administrator: ecs:ListTasks was denied for profile "viewer" \(ListTasks\)/,
  );
  assert.match(
    await failure(
      as({ tunnel: 'x', target: 'i-0123456789abcdef0', remoteHost: 'rds:orders', remotePort: 0 }),
    ),
    /^Contact AWS Administrator: rds:DescribeDBInstances was denied for profile "viewer" \(DescribeDBInstances\)/,
  );
});

test('an instance id is not looked up at all', async () => {
  emu.emulator.admin.clearRequests();
  const d = await connect({ tunnel: 'id', target: 'i-0123456789abcdef0' });
  assert.is(d.resolution, undefined);
  assert.equal(
    emu.emulator
      .requests()
      .filter((r) => ['DescribeInstances', 'DescribeInstanceInformation'].includes(r.operation)),
    [],
  );
});

test.run();
