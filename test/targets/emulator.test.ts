// The emulator's EC2, ECS and RDS with the real SDK clients (signed with SigV4 like its other services):
// tags and states, an Auto Scaling replacement, a restarted ECS task, database endpoints, permissions.
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeTasksCommand, ECSClient, ListTasksCommand } from '@aws-sdk/client-ecs';
import { DescribeDBClustersCommand, DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { DescribeInstanceInformationCommand, StartSessionCommand } from '@aws-sdk/client-ssm';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { SEED_STATIC_ACCESS_KEY_ID, SEED_STATIC_SECRET_ACCESS_KEY } from '../../src/emulator/state.js';
import { adminFetch, rejects, ssmClient } from '../emulator/helpers.js';

const test = suite('targets: emulated EC2, ECS and RDS');
const acct = '111111111111';
const region = 'us-east-1';
const TASK = '0a1b2c3d4e5f60718293a4b5c6d7e8f9';
const WEB = 'i-0a5a5a5a5a5a5a5a5';
const keys = { accessKeyId: SEED_STATIC_ACCESS_KEY_ID, secretAccessKey: SEED_STATIC_SECRET_ACCESS_KEY };
const denied = {
  accessKeyId: 'AKIAEMULATORDENIED01',
  secretAccessKey: 'emulator/denied/SECRET/key/000000000000',
};
let emu: RunningEmulator;

test.before(async () => {
  emu = await startEmulator({
    port: 0,
    state: {
      instances: [
        {
          instanceId: WEB,
          name: 'web',
          accountId: acct,
          region,
          autoScalingGroup: 'web-asg',
          tags: { env: 'prod' },
        },
        { instanceId: 'i-0b0000000000000b1', name: 'web', accountId: acct, region, state: 'stopped' },
      ],
      iamUsers: [
        { arn: `arn:aws:iam::${acct}:user/ci`, ...keys },
        {
          arn: `arn:aws:iam::${acct}:user/viewer`,
          ...denied,
          deny: ['ec2:DescribeInstances', 'ecs:ListTasks', 'rds:DescribeDBInstances'],
        },
      ],
    },
  });
});
test.after(async () => {
  await emu.close();
});

const client = <C>(Ctor: new (o: object) => C, credentials = keys) =>
  new Ctor({ region, endpoint: emu.url, credentials, maxAttempts: 1 });

test('DescribeInstances: tag filters ANDed, states, tags; a replacement keeps tags and leaves Session Manager', async () => {
  const ec2 = client(EC2Client);
  const byName = await ec2.send(
    new DescribeInstancesCommand({ Filters: [{ Name: 'tag:Name', Values: ['web'] }] }),
  );
  const all = (byName.Reservations ?? []).flatMap((r) => r.Instances ?? []);
  assert.equal(
    all.map((i) => [i.InstanceId, i.State?.Name, i.State?.Code]),
    [
      [WEB, 'running', 16],
      ['i-0b0000000000000b1', 'stopped', 80],
    ],
  );
  assert.equal(Object.fromEntries((all[0]?.Tags ?? []).map((t) => [t.Key, t.Value])), {
    Name: 'web',
    'aws:autoscaling:groupName': 'web-asg',
    env: 'prod',
  });
  const anded = await ec2.send(
    new DescribeInstancesCommand({
      Filters: [
        { Name: 'tag:Name', Values: ['web'] },
        { Name: 'instance-state-name', Values: ['running'] },
      ],
    }),
  );
  assert.equal(
    anded.Reservations?.flatMap((r) => r.Instances?.map((i) => i.InstanceId)),
    [WEB],
  );

  const replaced = await adminFetch(emu, 'POST', `instances/${WEB}/replace`);
  const fresh = (replaced.json as { instanceId?: string }).instanceId ?? '';
  assert.match(fresh, /^i-[0-9a-f]{17}$/);
  const after = (
    await ec2.send(new DescribeInstancesCommand({ InstanceIds: [WEB, fresh] }))
  ).Reservations?.flatMap((r) => r.Instances ?? []);
  assert.equal(
    after?.map((i) => i.State?.Name),
    ['terminated', 'running'],
  );
  assert.ok((after?.[1]?.LaunchTime?.getTime() ?? 0) > (after?.[0]?.LaunchTime?.getTime() ?? 0));
  assert.equal(after?.[1]?.Tags, after?.[0]?.Tags);
  // Session Manager forgets the terminated node and refuses sessions to it.
  const ssm = ssmClient(emu, keys);
  const nodes = await ssm.send(new DescribeInstanceInformationCommand({}));
  assert.equal(
    nodes.InstanceInformationList?.map((n) => n.InstanceId),
    [fresh],
  );
  const refused = await rejects(
    ssm.send(
      new StartSessionCommand({
        Target: WEB,
        DocumentName: 'AWS-StartPortForwardingSession',
        Parameters: { portNumber: ['22'] },
      }),
    ),
  );
  assert.is(refused.name, 'TargetNotConnected');
  const unknown = await rejects(
    ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-0ffffffffffffffff'] })),
  );
  assert.is(unknown.name, 'InvalidInstanceID.NotFound');
});

test('a replacement can leave a gap: pending, not a managed node, until the clock or an admin call', async () => {
  const ec2 = client(EC2Client);
  const ssm = ssmClient(emu, keys);
  const [gap] = (
    await ec2.send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: 'tag:env', Values: ['prod'] },
          { Name: 'instance-state-name', Values: ['running'] },
        ],
      }),
    )
  ).Reservations!.flatMap((r) => r.Instances ?? []);
  const state = async (id: string) =>
    (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations?.[0]?.Instances?.[0]
      ?.State?.Name;
  const isNode = async (id: string) =>
    (
      await ssm.send(
        new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: [id] }] }),
      )
    ).InstanceInformationList?.some((n) => n.InstanceId === id) ?? false;

  // Online on the emulator clock: pending until it has moved on 3 minutes.
  const later = await adminFetch(emu, 'POST', `instances/${gap!.InstanceId!}/replace`, {
    onlineAfterMs: 180_000,
  });
  const next = (later.json as { instanceId: string }).instanceId;
  assert.is(await state(gap!.InstanceId!), 'terminated');
  assert.is(await state(next), 'pending');
  assert.not.ok(await isNode(next), 'a pending instance is not a managed node');
  emu.admin.advanceClock(179_000);
  assert.is(await state(next), 'pending');
  emu.admin.advanceClock(1_000);
  assert.is(await state(next), 'running');
  assert.ok(await isNode(next), 'running and Online once the time has come');

  // Held: pending until the admin call says it is up.
  const held = emu.admin.replaceInstance(next, { hold: true }).instanceId;
  emu.admin.advanceClock(3_600_000);
  assert.is(await state(held), 'pending');
  assert.not.ok(await isNode(held));
  const up = await adminFetch(emu, 'POST', `instances/${held}`, { state: 'running' });
  assert.is(up.status, 200);
  assert.is(await state(held), 'running');
  assert.ok(await isNode(held));
  assert.is((await adminFetch(emu, 'POST', `instances/${held}`, { state: 'running' })).status, 409);
});

test('ECS: ListTasks by service, DescribeTasks with runtime ids; a restarted task gets new ids', async () => {
  const ecs = client(ECSClient);
  const listed = await ecs.send(new ListTasksCommand({ cluster: 'apps', serviceName: 'api' }));
  assert.equal(listed.taskArns, [`arn:aws:ecs:${region}:${acct}:task/apps/${TASK}`]);
  const described = await ecs.send(new DescribeTasksCommand({ cluster: 'apps', tasks: listed.taskArns }));
  const task = described.tasks?.[0];
  assert.is(task?.enableExecuteCommand, true);
  assert.is(task?.containers?.[0]?.runtimeId, `${TASK}-1234567890`);
  assert.is(task?.containers?.[0]?.managedAgents?.[0]?.name, 'ExecuteCommandAgent');
  assert.is(task?.containers?.[0]?.managedAgents?.[0]?.lastStatus, 'RUNNING');

  const restarted = await adminFetch(emu, 'POST', `ecs-tasks/${TASK}/restart`);
  const fresh = (restarted.json as { taskId?: string }).taskId ?? '';
  const now = await ecs.send(new ListTasksCommand({ cluster: 'apps', serviceName: 'api' }));
  assert.equal(now.taskArns, [`arn:aws:ecs:${region}:${acct}:task/apps/${fresh}`]);
  const stopped = await ecs.send(new DescribeTasksCommand({ cluster: 'apps', tasks: [TASK] }));
  assert.is(stopped.tasks?.[0]?.lastStatus, 'STOPPED');
  const missing = await rejects(ecs.send(new ListTasksCommand({ cluster: 'nope' })));
  assert.is(missing.name, 'ClusterNotFoundException');
});

test('RDS: instance and cluster endpoints; an unknown identifier is the SDK error AWS gives', async () => {
  const rds = client(RDSClient);
  const db = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'orders' }));
  assert.equal(db.DBInstances?.[0]?.Endpoint, {
    Address: 'orders.c0emulator01.us-east-1.rds.amazonaws.com',
    Port: 5432,
  });
  const cluster = await rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: 'orders-aurora' }));
  assert.is(
    cluster.DBClusters?.[0]?.Endpoint,
    'orders-aurora.cluster-c0emulator01.us-east-1.rds.amazonaws.com',
  );
  assert.is(cluster.DBClusters?.[0]?.Port, 5432);
  assert.is(
    (await rejects(rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'nope' })))).name,
    'DBInstanceNotFoundFault',
  );
  assert.is(
    (await rejects(rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: 'nope' })))).name,
    'DBClusterNotFoundFault',
  );
});

test('a denied action is refused in each protocol, as AWS names the error', async () => {
  assert.is(
    (await rejects(client(EC2Client, denied).send(new DescribeInstancesCommand({})))).name,
    'UnauthorizedOperation',
  );
  assert.is(
    (await rejects(client(ECSClient, denied).send(new ListTasksCommand({ cluster: 'apps' })))).name,
    'AccessDeniedException',
  );
  assert.is(
    (await rejects(client(RDSClient, denied).send(new DescribeDBInstancesCommand({})))).name,
    'AccessDenied',
  );
  const log = emu.requests().filter((r) => r.service === 'ec2' || r.service === 'ecs' || r.service === 'rds');
  assert.ok(log.some((r) => r.service === 'ec2' && r.errorCode === 'UnauthorizedOperation'));
});

test.run();
