// The ssm-tunnel plugin's contract with the engine (startTunnels, options), the control socket, and the
// `up` view's formatting. Transfers and failures against the emulator are in test/tunnels/.
import { mkdtempSync, rmSync, statSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { documentFor } from '../../plugins/ssm-tunnel/documents.js';
import { ssmTunnel } from '../../plugins/ssm-tunnel/index.js';
import { changeLine, formatBytes, formatSince, tableLines } from '../../src/cli/commands/up-view.js';
import { DEFAULT_SETTINGS } from '../../src/config/defaults.js';
import { createEngine } from '../../src/engine/engine.js';
import type { ConnectDraft, TunnelStatus } from '../../src/engine/types.js';
import { definePlugin } from '../../src/engine/plugin.js';
import { queryRunningUp, socketPath, startControlServer, stateDir } from '../../src/tunnel-control/index.js';
import { captureLogger } from '../helpers/logger.js';
import { tunnel } from '../tunnels/helpers.js';

const plugin = suite('ssm-tunnel plugin');

plugin('options are validated when the config loads', () => {
  assert.throws(
    () => ssmTunnel({ reconnectDelay: 'soon' as never }),
    /plugin "ssm-tunnel" options: reconnectDelay/,
  );
  assert.throws(() => ssmTunnel({ dataChannel: { resumeAttempts: 0 } }), /dataChannel\.resumeAttempts/);
  assert.throws(() => ssmTunnel({ nope: 1 } as never), /ssm-tunnel/);
  assert.is(ssmTunnel({ reconnectDelay: '2s', connectionWait: 5 }).name, 'ssm-tunnel');
});

plugin('engine.startTunnels without a plugin that runs tunnels: exit 2 saying what to add', async () => {
  const engine = await createEngine({
    plugins: [],
    settings: DEFAULT_SETTINGS,
    tunnels: [tunnel('db', 1)],
    logger: captureLogger(),
  });
  try {
    await engine.startTunnels({
      allowSignIn: false,
      defaultProfile: 'default',
      regionFor: async () => 'us-east-1',
    });
    assert.unreachable('should throw');
  } catch (err) {
    assert.match((err as Error).message, /no plugin runs tunnels/);
    assert.is((err as { exitCode?: number }).exitCode, 2);
  }
});

plugin(
  'prepare: credentials then beforeConnect, region from the profile; the plugin picks the document',
  async () => {
    const seen: ConnectDraft[] = [];
    const recorder = definePlugin({
      name: 'recorder',
      apply(api) {
        api.hooks.resolveCredentials.tap((req) => {
          assert.equal(req.purpose, {
            kind: 'tunnel',
            tunnel: req.purpose.kind === 'tunnel' ? req.purpose.tunnel : '',
          });
          return {
            accessKeyId: 'AKIAEXAMPLE',
            secretAccessKey: 'x',
            ...(req.allowSignIn ? { source: 'signin' } : {}),
          };
        });
        api.hooks.beforeConnect.tap((d) => {
          seen.push({ ...d });
          d.annotations.seen = true;
          return undefined;
        });
        // Answers startTunnels like ssm-tunnel would, to look at the request only.
        api.hooks.startTunnels.tapPromise(async (req) => {
          const a = await req.prepare('rds', { allowSignIn: true });
          const b = await req.prepare('web');
          // The engine is transport-neutral: the document is the ssm-tunnel plugin's choice (documentFor).
          assert.is(a.documentName, undefined);
          assert.is(documentFor(a), 'AWS-StartPortForwardingSessionToRemoteHost');
          assert.is(a.credentials?.source, 'signin');
          assert.is(documentFor(b), 'AWS-StartPortForwardingSession');
          assert.is(b.region, 'eu-west-1', 'from regionFor');
          assert.is(b.profile, 'fallback');
          assert.ok(b.annotations.seen);
          return {
            status: () => [],
            settled: async () => undefined,
            onChange: () => () => undefined,
            stop: async () => undefined,
          };
        });
      },
    });
    const engine = await createEngine({
      plugins: [recorder],
      settings: DEFAULT_SETTINGS,
      tunnels: [
        tunnel('rds', 5432, { remoteHost: 'db.internal' }),
        tunnel('web', 80, { profile: undefined, region: undefined }),
      ],
      logger: captureLogger(),
    });
    await engine.startTunnels({
      allowSignIn: true,
      defaultProfile: 'fallback',
      regionFor: async (p) => (p === 'fallback' ? 'eu-west-1' : undefined),
    });
    assert.is(seen.length, 2);
    assert.ok(
      seen.every((d) => d.credentials !== undefined),
      'credentials are filled before beforeConnect',
    );
  },
);

plugin('a document a beforeConnect plugin set wins over the AWS default', () => {
  assert.is(documentFor({ documentName: 'Acme-PortForward', remoteHost: 'db.internal' }), 'Acme-PortForward');
  assert.is(
    documentFor({ documentName: undefined, remoteHost: undefined }),
    'AWS-StartPortForwardingSession',
  );
});

plugin('the up view: sizes, ages, table and change lines', () => {
  assert.is(formatBytes(512), '512 B');
  assert.is(formatBytes(1536), '1.5 KiB');
  assert.is(formatBytes(64 * 1024 * 1024), '64 MiB');
  assert.is(formatSince(59_000), '59s');
  assert.is(formatSince(61_000), '1m01s');
  assert.is(formatSince(3_660_000), '1h01m');
  const st: TunnelStatus = {
    name: 'db',
    state: 'ready',
    localAddress: '127.0.0.1:5432',
    target: 'i-0123456789abcdef0:5432',
    connections: 2,
    totalConnections: 3,
    bytesIn: 2048,
    bytesOut: 10,
    since: 0,
  };
  const lines = tableLines([st], 5000);
  assert.match(lines[0]!, /^TUNNEL\s+LOCAL -> TARGET\s+STATE\s+CONNS\s+SESSIONS\s+IN\s+OUT\s+SINCE$/);
  assert.match(
    lines[1]!,
    /^db\s+127\.0\.0\.1:5432 -> i-0123456789abcdef0:5432\s+ready\s+2\s+-\s+2\.0 KiB\s+10 B\s+5s$/,
  );
  // A pool: the sessions up now; one session without a pool: 1.
  const pooled = tableLines(
    [
      {
        ...st,
        sessionId: 's-1',
        sessions: [
          { id: 's-1', connections: 1, primary: true },
          { id: 's-2', connections: 1, primary: false },
        ],
      },
      { ...st, name: 'one', sessionId: 's-3' },
    ],
    5000,
  );
  assert.match(pooled[1]!, /ready\s+2\s+2\s+2\.0 KiB/);
  assert.match(pooled[2]!, /ready\s+2\s+1\s+2\.0 KiB/);
  assert.is(
    changeLine({ tunnel: 'db', state: 'ready', previous: 'connecting' }, st),
    'tunnel db: ready 127.0.0.1:5432 -> i-0123456789abcdef0:5432',
  );
  assert.is(
    changeLine(
      { tunnel: 'db', state: 'failed', previous: 'connecting', detail: 'Target Unavailable: x' },
      st,
    ),
    'tunnel db: failed: Target Unavailable: x',
  );
});

const control = suite('control socket');
let dir: string;
control.before.each(() => {
  dir = mkdtempSync(join(tmpdir(), 'stormtunnel-ctl-'));
});
control.after.each(() => rmSync(dir, { recursive: true, force: true }));

control('state folder: XDG_STATE_HOME (absolute only), else ~/.local/state', () => {
  assert.is(stateDir({ XDG_STATE_HOME: '/x/state', HOME: '/h' }), '/x/state/stormtunnel');
  assert.is(stateDir({ XDG_STATE_HOME: 'relative', HOME: '/h' }), '/h/.local/state/stormtunnel');
  assert.is(stateDir({ HOME: '/h' }), '/h/.local/state/stormtunnel');
});

control('answers status owner-only; no up running: undefined, stale socket files removed', async () => {
  const env = { XDG_STATE_HOME: join(dir, 'state'), HOME: dir };
  assert.is(await queryRunningUp(env), undefined, 'no folder yet');
  // A stale socket of a crashed `up`: a bound-then-closed Unix socket leaves its file behind.
  mkdirSync(stateDir(env), { recursive: true, mode: 0o755 });
  const stale = join(stateDir(env), 'up-999999.sock');
  const s = createServer();
  await new Promise<void>((r) => s.listen(stale, r));
  await new Promise<void>((r) => {
    s.close(() => r());
  });
  if (!existsSync(stale)) writeFileSync(stale, '');
  assert.is(await queryRunningUp(env), undefined);
  assert.not.ok(existsSync(stale), 'stale socket removed');

  const status: TunnelStatus[] = [
    {
      name: 'db',
      state: 'ready',
      localAddress: '127.0.0.1:1',
      target: 'i-1:2',
      connections: 0,
      totalConnections: 0,
      bytesIn: 0,
      bytesOut: 0,
      since: 1,
    },
  ];
  const server = await startControlServer({ env, status: () => status, logger: captureLogger() });
  try {
    assert.is(server.path, socketPath(env));
    assert.is(statSync(stateDir(env)).mode & 0o777, 0o700, 'folder tightened to 0700');
    assert.is(statSync(server.path).mode & 0o777, 0o600);
    const r = await queryRunningUp(env);
    assert.is(r?.processes.length, 1);
    assert.is(r?.processes[0]?.pid, process.pid);
    assert.equal(r?.tunnels, status);
  } finally {
    await server.close();
  }
  assert.not.ok(existsSync(socketPath(env)));
  assert.is(await queryRunningUp(env), undefined);
});

plugin.run();
control.run();
