// SSM control plane against the emulator with the real SDK: DescribeInstanceInformation, StartSession
// (errors as AWS answers them), ResumeSession token rotation, TerminateSession, and the data-channel
// WebSocket accepting only the current token.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import WebSocket from 'ws';
import {
  DescribeInstanceInformationCommand,
  ResumeSessionCommand,
  StartSessionCommand,
  TerminateSessionCommand,
  paginateDescribeInstanceInformation,
} from '@aws-sdk/client-ssm';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { decodeMessage } from '../../src/session-manager/frame.js';
import { openDataChannel } from '../../src/session-manager/index.js';
import { createServer, type AddressInfo } from 'node:net';
import { adminFetch, deviceLogin, rejects, roleCredentials, ssmClient, type Creds } from './helpers.js';

const test = suite<{ emu: RunningEmulator; admin: Creds; readOnly: Creds }>('ssm');

test.before(async (ctx) => {
  ctx.emu = await startEmulator({ port: 0 });
  const { token } = await deviceLogin(ctx.emu);
  ctx.admin = await roleCredentials(ctx.emu, token.accessToken!, '111111111111', 'AdministratorAccess');
  ctx.readOnly = await roleCredentials(ctx.emu, token.accessToken!, '111111111111', 'ReadOnly');
});
test.after(async (ctx) => {
  await ctx.emu.close();
});

const BASTION = 'i-0123456789abcdef0';

test('DescribeInstanceInformation: region, filters, pagination', async ({ emu, admin }) => {
  const ssm = ssmClient(emu, admin);
  const all = await ssm.send(new DescribeInstanceInformationCommand({}));
  const ids = (all.InstanceInformationList ?? []).map((i) => i.InstanceId);
  assert.equal(ids, [BASTION, 'i-0fedcba9876543210', 'i-0deadbeefdeadbeef']);
  const offline = all.InstanceInformationList?.find((i) => i.InstanceId === 'i-0deadbeefdeadbeef');
  assert.is(offline?.PingStatus, 'ConnectionLost');
  assert.ok(offline?.LastPingDateTime instanceof Date);
  const one = await ssm.send(
    new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: [BASTION] }] }),
  );
  assert.is(one.InstanceInformationList?.length, 1);
  assert.is(one.InstanceInformationList?.[0]?.AgentVersion, '3.3.1957.0');
  const legacy = await ssm.send(
    new DescribeInstanceInformationCommand({
      InstanceInformationFilterList: [{ key: 'PingStatus', valueSet: ['Online'] }],
    }),
  );
  assert.is(legacy.InstanceInformationList?.length, 2);
  const west = await ssmClient(emu, admin, 'us-west-2').send(new DescribeInstanceInformationCommand({}));
  assert.equal(
    west.InstanceInformationList?.map((i) => i.InstanceId),
    ['i-0aaaabbbbccccdddd'],
  );
  let pages = 0;
  const paged: string[] = [];
  for await (const p of paginateDescribeInstanceInformation(
    { client: ssm, pageSize: 5 },
    { MaxResults: 5 },
  )) {
    pages++;
    paged.push(...(p.InstanceInformationList ?? []).map((i) => i.InstanceId ?? ''));
  }
  assert.is(pages, 1);
  assert.is(paged.length, 3);
  let err = await rejects(
    ssm.send(new DescribeInstanceInformationCommand({ Filters: [{ Key: 'Color', Values: ['red'] }] })),
  );
  assert.is(err.name, 'InvalidFilterKey');
  err = await rejects(ssm.send(new DescribeInstanceInformationCommand({ NextToken: 'bogus' })));
  assert.is(err.name, 'InvalidNextToken');
});

test('StartSession returns SessionId, TokenValue and a ws StreamUrl on the emulator', async ({
  emu,
  admin,
}) => {
  const r = await ssmClient(emu, admin).send(
    new StartSessionCommand({
      Target: BASTION,
      DocumentName: 'AWS-StartPortForwardingSession',
      Parameters: { portNumber: ['5432'], localPortNumber: ['0'] },
    }),
  );
  assert.match(r.SessionId ?? '', /^dev-[0-9a-f]{17}$/);
  assert.ok((r.TokenValue ?? '').length > 40);
  const u = new URL(r.StreamUrl ?? '');
  assert.is(`${u.protocol}//${u.host}`, emu.url.replace('http', 'ws'));
  assert.is(u.pathname, `/v1/data-channel/${r.SessionId}`);
  assert.is(u.searchParams.get('role'), 'publish_subscribe');
  assert.ok(u.searchParams.get('cell-number'));
  const entry = emu.requests().find((e) => e.operation === 'StartSession' && e.status === 200);
  assert.equal(entry?.params.instanceId, BASTION);
  assert.equal(entry?.params.portNumber, '5432');
  assert.is(entry?.params.sessionId, r.SessionId);
  assert.not.ok(JSON.stringify(emu.requests()).includes(r.TokenValue!));
});

test('StartSession errors: TargetNotConnected (offline, unknown, other region), InvalidDocument, AccessDenied', async ({
  emu,
  admin,
  readOnly,
}) => {
  const ssm = ssmClient(emu, admin);
  const start = (Target: string, DocumentName = 'AWS-StartPortForwardingSession', client = ssm) =>
    client.send(new StartSessionCommand({ Target, DocumentName, Parameters: { portNumber: ['22'] } }));
  let err = await rejects(start('i-0deadbeefdeadbeef'));
  assert.is(err.name, 'TargetNotConnected');
  assert.match(err.message, /i-0deadbeefdeadbeef is not connected/);
  err = await rejects(start('i-0999999999999999f'));
  assert.is(err.name, 'TargetNotConnected');
  err = await rejects(start('i-0aaaabbbbccccdddd'));
  assert.is(err.name, 'TargetNotConnected');
  const west = await start(
    'i-0aaaabbbbccccdddd',
    'AWS-StartPortForwardingSession',
    ssmClient(emu, admin, 'us-west-2'),
  );
  assert.ok(west.SessionId);
  err = await rejects(start(BASTION, 'AWS-NoSuchDocument'));
  assert.is(err.name, 'InvalidDocument');
  err = await rejects(start(BASTION, 'AWS-StartPortForwardingSession', ssmClient(emu, readOnly)));
  assert.is(err.name, 'AccessDeniedException');
  assert.match(err.message, /not authorized to perform: ssm:StartSession/);
  err = await rejects(
    ssm.send(
      new StartSessionCommand({
        Target: BASTION,
        DocumentName: 'AWS-StartPortForwardingSessionToRemoteHost',
        Parameters: { portNumber: ['5432'] },
      }),
    ),
  );
  assert.is(err.name, 'InvalidParameters');
  // Instance goes offline through the admin API.
  const r = await adminFetch(emu, 'POST', 'instances/i-0fedcba9876543210', { pingStatus: 'ConnectionLost' });
  assert.is(r.status, 200);
  err = await rejects(start('i-0fedcba9876543210'));
  assert.is(err.name, 'TargetNotConnected');
});

test('SigV4 on SSM: unknown key -> UnrecognizedClientException, bad secret -> InvalidSignatureException', async ({
  emu,
  admin,
}) => {
  let err = await rejects(
    ssmClient(emu, {
      accessKeyId: 'ASIANOTISSUED0000000',
      secretAccessKey: 'x'.repeat(40),
      sessionToken: 't',
    }).send(new DescribeInstanceInformationCommand({})),
  );
  assert.is(err.name, 'UnrecognizedClientException');
  err = await rejects(
    ssmClient(emu, { ...admin, secretAccessKey: 'y'.repeat(40) }).send(
      new DescribeInstanceInformationCommand({}),
    ),
  );
  assert.is(err.name, 'InvalidSignatureException');
});

function openChannel(url: string, token: string): Promise<{ first?: Buffer; closeCode?: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error('data channel did not answer'));
    }, 5000);
    ws.on('open', () => {
      ws.send(
        JSON.stringify({
          MessageSchemaVersion: '1.0',
          RequestId: crypto.randomUUID(),
          TokenValue: token,
          ClientId: crypto.randomUUID(),
          ClientVersion: '1.2.707.0',
        }),
      );
    });
    ws.on('message', (data: Buffer) => {
      clearTimeout(timer);
      ws.close();
      resolve({ first: data });
    });
    ws.on('close', (code) => {
      clearTimeout(timer);
      resolve({ closeCode: code });
    });
    ws.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

test('ResumeSession rotates the token; the data channel takes only the current one; TerminateSession ends it', async ({
  emu,
  admin,
}) => {
  const ssm = ssmClient(emu, admin);
  const s = await ssm.send(
    new StartSessionCommand({
      Target: BASTION,
      DocumentName: 'AWS-StartPortForwardingSession',
      Parameters: { portNumber: ['8080'] },
    }),
  );
  const first = await openChannel(s.StreamUrl!, s.TokenValue!);
  assert.ok(first.first, 'a first message expected');
  // §5: the agent's agent_session_state comes before the HandshakeRequest (data-channel.test.ts has more).
  assert.is(decodeMessage(first.first).messageType, 'agent_session_state');
  const resumed = await ssm.send(new ResumeSessionCommand({ SessionId: s.SessionId }));
  assert.ok(resumed.TokenValue && resumed.TokenValue !== s.TokenValue);
  const stale = await openChannel(s.StreamUrl!, s.TokenValue!);
  assert.is(stale.closeCode, 1008);
  const fresh = await openChannel(resumed.StreamUrl!, resumed.TokenValue);
  assert.ok(fresh.first);
  const sessions = await adminFetch(emu, 'GET', 'sessions');
  const mine = sessions.json.sessions?.find((x) => x.sessionId === s.SessionId);
  assert.is(mine?.status, 'Connected');
  assert.is((mine?.stats as { rejectedTokens: number }).rejectedTokens, 1);

  const t = await ssm.send(new TerminateSessionCommand({ SessionId: s.SessionId }));
  assert.is(t.SessionId, s.SessionId);
  const err = await rejects(ssm.send(new ResumeSessionCommand({ SessionId: s.SessionId })));
  assert.is(err.name, 'DoesNotExistException');
  // TerminateSession is idempotent.
  assert.is(
    (await ssm.send(new TerminateSessionCommand({ SessionId: 'dev-00000000000000000' }))).SessionId,
    'dev-00000000000000000',
  );
});

test('admin data-channel endpoints reach the agent session', async ({ emu, admin }) => {
  const s = await ssmClient(emu, admin).send(
    new StartSessionCommand({
      Target: BASTION,
      DocumentName: 'AWS-StartPortForwardingSession',
      Parameters: { portNumber: ['8081'] },
    }),
  );
  const id = s.SessionId!;
  for (const [path, body] of [
    ['faults', { dropRate: 0.1, duplicateRate: 0.1, reorderRate: 0.1 }],
    ['pause', {}],
    ['start', {}],
    ['close', { code: 1000 }],
    ['kill', {}],
    ['freeze', {}],
    ['channel-closed', { output: 'bye' }],
    ['terminate', {}],
  ] as const) {
    const r = await adminFetch(emu, 'POST', `sessions/${id}/${path}`, body);
    assert.is(r.status, 200, `${path}: ${JSON.stringify(r.json)}`);
  }
  let r = await adminFetch(emu, 'POST', `sessions/${id}/faults`, { dropRate: 2 });
  assert.is(r.status, 400);
  r = await adminFetch(emu, 'POST', 'sessions/nope/pause', {});
  assert.is(r.status, 404);
  const list = await adminFetch(emu, 'GET', 'sessions');
  assert.is(list.json.sessions?.find((x) => x.sessionId === id)?.status, 'Terminated');
});

test('AWS-StartSSHSession: a Port session without type, basic mode on a mux agent, portNumber default 22', async ({
  emu,
  admin,
}) => {
  const ssm = ssmClient(emu, admin);
  const start = (Parameters: Record<string, string[]>) =>
    ssm.send(new StartSessionCommand({ Target: BASTION, DocumentName: 'AWS-StartSSHSession', Parameters }));
  // Its only parameter is portNumber (the document has no localPortNumber).
  const err = await rejects(start({ portNumber: ['22'], localPortNumber: ['0'] }));
  assert.is(err.name, 'InvalidParameters');
  assert.match(err.message, /localPortNumber.*AWS-StartSSHSession/);
  const open = async (s: { SessionId?: string; StreamUrl?: string; TokenValue?: string }) =>
    openDataChannel({
      streamUrl: s.StreamUrl!,
      tokenValue: s.TokenValue!,
      clientId: 'test',
      sessionId: s.SessionId!,
    });
  const byDefault = await open(await start({}));
  assert.is(byDefault.sessionProperties.portNumber, '22');
  await byDefault.terminate();

  // A server that speaks first, like sshd: its greeting reaches the one stream, and what we send comes back.
  const server = createServer((sock) => {
    sock.write('SSH-2.0-test\r\n');
    sock.pipe(sock);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const port = (server.address() as AddressInfo).port;
    const s = await start({ portNumber: [String(port)] });
    const ch = await open(s);
    try {
      assert.is(ch.sessionProperties.type, undefined);
      assert.is(ch.sessionProperties.portNumber, String(port));
      assert.is(ch.mode, 'basic');
      const stream = await ch.openStream();
      let got = '';
      const done = new Promise<void>((resolve) =>
        stream.on('data', (d: Buffer) => {
          got += d.toString();
          if (got.endsWith('ping\n')) resolve();
        }),
      );
      stream.write('ping\n');
      await done;
      assert.is(got, 'SSH-2.0-test\r\nping\n');
      const agentSide = emu.admin.listSessions().find((x) => x.sessionId === s.SessionId);
      assert.is(agentSide?.documentName, 'AWS-StartSSHSession');
      assert.is((agentSide?.stats as { mode?: string } | undefined)?.mode, 'basic');
    } finally {
      await ch.terminate();
    }
  } finally {
    server.close();
  }
});

test('old agent version from settings is reported and used for new sessions', async ({ emu, admin }) => {
  emu.admin.setSettings({ agentVersion: '3.0.161.0' });
  const one = await ssmClient(emu, admin).send(
    new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: [BASTION] }] }),
  );
  assert.is(one.InstanceInformationList?.[0]?.AgentVersion, '3.0.161.0');
});

test.run();
