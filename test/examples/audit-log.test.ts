// examples/audit-log against the emulator: a sign-in and a tunnel's life end up as JSON lines, with no secret.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { auditLog, type AuditEvent } from '../../examples/audit-log/index.js';
import { nameTagGuard } from '../../examples/name-tag-guard/index.js';
import { PluginOptionsError, type PluginApi } from '../../src/index.js';
import {
  createTestEngine,
  FakeClock,
  startTestEmulator,
  waitForTunnels,
  type TestEmulator,
} from '../../src/testing/index.js';

const test = suite('example: audit-log');
let emu: TestEmulator;
let echo: Server;
let echoPort = 0;
let dir: string;

test.before(async () => {
  emu = await startTestEmulator();
  echo = createServer((s) => s.pipe(s).on('error', () => s.destroy()));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  echoPort = (echo.address() as { port: number }).port;
  dir = mkdtempSync(join(tmpdir(), 'stormtunnel-audit-'));
});
test.after(async () => {
  await new Promise<void>((r) => echo.close(() => r()));
  await emu.close();
  rmSync(dir, { recursive: true, force: true });
});

const lines = (file: string) =>
  readFileSync(file, 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as AuditEvent);

test('options are checked when the config loads', () => {
  assert.throws(
    () => auditLog({} as never),
    (err: unknown) =>
      err instanceof PluginOptionsError &&
      err.message ===
        'plugin "audit-log" options: file: expected the path of the audit file, e.g. "~/stormtunnel-audit.jsonl"',
  );
  assert.throws(
    () => auditLog({ file: 'x.jsonl', token: false } as never),
    /plugin "audit-log" options: .*token/,
  );
});

test('a sign-in, a tunnel from start to stop and the shutdown, one JSON object per line, no secrets', async () => {
  const file = join(dir, 'nested', 'audit.jsonl');
  const t = await createTestEngine({
    builtins: true,
    // The name-tag plugin first, so the audit line shows the resolved instance.
    plugins: [nameTagGuard(), auditLog({ file })],
    tunnels: [{ name: 'db', profile: 'dev', target: 'tag:Name=bastion', remotePort: echoPort, localPort: 0 }],
  });
  await t.engine.signIn({ profile: 'dev' });
  const set = await t.startTunnels();
  const [db] = await waitForTunnels(set, ['db']);
  const [host, port] = db!.localAddress!.split(':') as [string, string];
  await new Promise<void>((resolve, reject) => {
    const s = connect(Number(port), host, () => s.write('audit me'));
    s.on('data', () => {
      s.destroy();
      resolve();
    });
    s.on('error', reject);
  });
  const creds = await t.engine.resolveCredentials({
    profile: 'dev',
    region: 'us-east-1',
    purpose: { kind: 'library' },
    chain: [],
  });
  const token = await t.engine.getSsoToken({ profile: 'dev' });
  await set.stop();
  await t.shutdown();

  const events = lines(file);
  for (const e of events) assert.match(e.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(
    events.map((e) => [e.event, e.tunnel ?? e.session ?? e.reason, e.state ?? e.how ?? e.target]),
    [
      ['token', 'work', 'sign-in'],
      ['tunnel-state', 'db', 'connecting'],
      ['connect', 'db', 'i-0123456789abcdef0'],
      ['tunnel-state', 'db', 'ready'],
      ['tunnel-state', 'db', 'stopped'],
      ['shutdown', 'command-done', undefined],
    ],
  );
  const connectLine = events.find((e) => e.event === 'connect');
  assert.equal(connectLine, {
    time: connectLine!.time,
    event: 'connect',
    tunnel: 'db',
    profile: 'dev',
    region: 'us-east-1',
    target: 'i-0123456789abcdef0',
    remotePort: echoPort,
    localPort: 0,
  });
  const text = readFileSync(file, 'utf8');
  for (const secret of [creds.accessKeyId, creds.secretAccessKey, creds.sessionToken!, token.accessToken])
    assert.not.ok(text.includes(secret), 'a secret reached the audit file');
});

test('times come from the engine clock; tokens: false leaves token events out', async () => {
  const file = join(dir, 'clock.jsonl');
  const clock = new FakeClock(Date.UTC(2026, 4, 4, 9, 30));
  // A stand-in for the plugins that raise these events (ssm-tunnel, sso), through the same plugin API.
  let emit: PluginApi['emit'] | undefined;
  const driver = { name: 'driver', apply: (api: PluginApi) => void (emit = api.emit) };
  const t = await createTestEngine({ clock, plugins: [driver, auditLog({ file, tokens: false })] });
  await emit!.tokenChanged({ session: 'work', expiresAt: new Date(clock.now() + 3_600_000), how: 'refresh' });
  await emit!.tunnelState({ tunnel: 'db', state: 'connecting', previous: 'starting' });
  await clock.advance(90_000);
  await emit!.tunnelState({
    tunnel: 'db',
    state: 'failed',
    previous: 'connecting',
    detail: 'Target Unavailable: gone',
  });
  await t.shutdown();
  assert.equal(lines(file), [
    {
      time: '2026-05-04T09:30:00.000Z',
      event: 'tunnel-state',
      tunnel: 'db',
      state: 'connecting',
      previous: 'starting',
    },
    {
      time: '2026-05-04T09:31:30.000Z',
      event: 'tunnel-state',
      tunnel: 'db',
      state: 'failed',
      previous: 'connecting',
      detail: 'Target Unavailable: gone',
    },
    { time: '2026-05-04T09:31:30.000Z', event: 'shutdown', reason: 'command-done' },
  ]);
});

test('a file that cannot be written is a warning, not a failure of the tunnel', async () => {
  const file = join(dir, 'not-a-folder');
  writeFileSync(file, 'a file, so nothing can be created under it');
  let emit: PluginApi['emit'] | undefined;
  const driver = { name: 'driver', apply: (api: PluginApi) => void (emit = api.emit) };
  const t = await createTestEngine({ plugins: [driver, auditLog({ file: join(file, 'audit.jsonl') })] });
  await emit!.tunnelState({ tunnel: 'db', state: 'ready', previous: 'connecting' });
  await t.shutdown();
  const warning = t.logs.find((r) => r.level === 'warn');
  assert.is(warning?.msg, `could not append to ${join(file, 'audit.jsonl')}`);
  assert.is(warning?.fields.plugin, 'audit-log');
});

test.run();
