// Every `--json` output of the real binary against the emulator validates against its schema in schemas/:
// states are enums, times ISO 8601, counts numbers; and `status --json` shows a running `up`'s tunnel.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { SEED_STATIC_SECRET_ACCESS_KEY } from '../../src/emulator/state.js';
import { seedConfig } from '../helpers/seed-config.js';
import { testAwsHome, type TestAwsHome } from '../../src/testing/index.js';
import { BIN, REPO_ROOT, runCli, CLI_ENV, stormtunnelModule } from '../helpers/cli.js';
import { validate, type Schema } from '../helpers/json-schema.js';
import { waitFor } from '../helpers/wait.js';
import { startEchoServer, STATIC_CREDENTIALS, type TcpServer } from '../tunnels/helpers.js';

const test = suite('--json outputs');
let emu: RunningEmulator;
let home: TestAwsHome;
let echo: TcpServer;
let dir: string;
let env: Record<string, string>;

test.before(async () => {
  emu = await startEmulator({ port: 0, autoApprove: true });
  // The seed profiles (sso-session, legacy) plus static keys in [default] for `up`.
  home = testAwsHome({
    config:
      seedConfig(emu.startUrl) +
      '\n[profile cross-account]\nrole_arn = arn:aws:iam::222222222222:role/Deploy\nsource_profile = dev\n',
    credentials: STATIC_CREDENTIALS,
    emulatorEnv: emu.env(),
  });
  echo = await startEchoServer();
  dir = mkdtempSync(join(tmpdir(), 'stormtunnel-json-'));
  env = { ...home.env, XDG_STATE_HOME: join(dir, 'state'), STORMTUNNEL_LOG_LEVEL: 'warn' };
  const login = await runCli(['login', '--profile', 'dev', '--use-device-code', '--no-browser'], {
    env,
    cwd: home.home,
  });
  assert.is(login.code, 0, login.stderr);
});
test.after(async () => {
  await echo.close();
  await emu.close();
  home.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

function schema(name: string): Schema {
  return JSON.parse(readFileSync(join(REPO_ROOT, 'schemas', `${name}.schema.json`), 'utf8')) as Schema;
}

/** Runs a command with --json; its stdout must be one JSON document valid against the command's schema. */
async function json<T>(
  name: string,
  args: string[],
  cwd = home.home,
): Promise<{ code: number | null; out: T }> {
  const r = await runCli([...args, '--json'], { env, cwd });
  let out: unknown;
  try {
    out = JSON.parse(r.stdout);
  } catch {
    assert.unreachable(`${args.join(' ')}: stdout is not JSON:\n${r.stdout}\n${r.stderr}`);
  }
  const errors = validate(schema(name), out);
  assert.equal(errors, [], `${args.join(' ')} against schemas/${name}.schema.json:\n${r.stdout}`);
  assert.not.match(r.stdout, /\p{Extended_Pictographic}/u, 'no emoji');
  assert.not.ok(r.stdout.includes(SEED_STATIC_SECRET_ACCESS_KEY), 'no secret key');
  assert.not.match(r.stdout, /"(accessToken|refreshToken|secretAccessKey|sessionToken)"/i, 'no tokens');
  return { code: r.code, out: out as T };
}

interface Status {
  ok: boolean;
  profiles: { name: string; state: string; account?: string }[];
  entries: { kind: string; name: string; state: string }[];
  tunnels: { name: string; state: string; since: string; bytesIn: number }[];
  processes: { pid: number; startedAt: string }[];
}

test('status --json: enums and ISO times, with the tunnel of a running up', async () => {
  const config = join(dir, 'json.config.ts');
  const imp = (p: string) => JSON.stringify(stormtunnelModule(p));
  writeFileSync(
    config,
    `import { builtinPlugins } from ${imp('src/builtin-plugins.ts')};
export default {
  plugins: builtinPlugins(),
  settings: { keychain: false, notifications: false },
  tunnels: [{ name: 'db', profile: 'default', region: 'us-east-1', target: 'i-0123456789abcdef0', remotePort: ${echo.port}, localPort: 0 }],
};
`,
  );
  const up = spawn(process.execPath, [BIN, '--config', config, 'up'], {
    cwd: dir,
    env: { ...process.env, ...env, NO_COLOR: '1', ...CLI_ENV },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let upOut = '';
  up.stdout.on('data', (d: Buffer) => (upOut += d.toString()));
  up.stderr.on('data', (d: Buffer) => (upOut += d.toString()));
  const exited = new Promise<number | null>((resolve) => up.once('close', resolve));
  const guard = setTimeout(() => up.kill('SIGKILL'), 120_000);
  try {
    await waitFor(() => /tunnel db: ready/.test(upOut), 60_000, `up ready; got:\n${upOut}`);
    const live = await json<Status>('status', ['status', '--profile', 'dev']);
    assert.is(live.code, 0);
    assert.is(live.out.ok, true);
    assert.equal(
      live.out.profiles.map((p) => [p.name, p.state, p.account]),
      [['dev', 'connected', '111111111111']],
    );
    const work = live.out.entries.find((e) => e.kind === 'sso-session' && e.name === 'work');
    assert.is(work?.state, 'authenticated');
    const db = live.out.tunnels.find((t) => t.name === 'db');
    assert.is(db?.state, 'ready');
    assert.ok(Math.abs(Date.parse(db!.since) - Date.now()) < 10 * 60_000, db?.since);
    assert.is(live.out.processes.length, 1);

    // A profile that does not work: exit 1, state "invalid" with the error class.
    const bad = await json<Status>('status', ['status', '--profile', 'legacy']);
    assert.is(bad.code, 1);
    assert.is(bad.out.profiles[0]?.state, 'invalid');
    const legacy = bad.out.entries.find((e) => e.kind === 'sso-session' && e.name.endsWith('(legacy)'));
    assert.is(legacy?.state, 'not-signed-in', JSON.stringify(bad.out.entries));

    const offline = await json<Status>('status', ['status', '--offline', '--profile', 'dev']);
    assert.equal(offline.out.profiles, []);
  } finally {
    up.kill('SIGINT');
    await exited;
    clearTimeout(guard);
  }
});

test('profiles --json', async () => {
  const r = await json<{ profiles: { name: string; type: string }[] }>('profiles', ['profiles']);
  assert.is(r.code, 0);
  assert.ok(r.out.profiles.some((p) => p.name === 'cross-account' && p.type === 'assume-role'));
});

test('plugins --json, with the built-ins and with the examples config', async () => {
  const builtins = await json<{ plugins: unknown[] }>('plugins', ['plugins']);
  assert.ok(builtins.out.plugins.length > 0);
  const examples = await json<{ config: string }>('plugins', [
    '--config',
    join(REPO_ROOT, 'examples/stormtunnel.config.ts'),
    'plugins',
  ]);
  assert.match(examples.out.config, /examples/);
});

test('roles --json', async () => {
  const r = await json<{ roles: { accountId: string }[] }>('roles', ['roles', '--sso-session', 'work']);
  assert.is(r.code, 0);
  assert.ok(r.out.roles.length > 0);
});

test('check --json, passing and failing', async () => {
  const pass = await json<{ ok: boolean }>('check', ['check', '--profile', 'dev']);
  assert.is(pass.code, 0);
  assert.is(pass.out.ok, true);
  const fail = await json<{ ok: boolean }>('check', ['check', '--profile', 'legacy']);
  assert.is(fail.code, 1);
  assert.is(fail.out.ok, false);
});

test.run();
