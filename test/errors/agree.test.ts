// The same bad input gives the same line and exit code from every command (issue 16): an undefined profile,
// a malformed AWS config line, a misspelt key, a local port in use (also by another `up`), a tag: target
// nothing resolves, a plugin's veto, and AWS_PROFILE never touching a profile a tunnel names.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { BIN, CLI_ENV, stormtunnelModule } from '../helpers/cli.js';
import { waitFor, withTimeout } from '../helpers/wait.js';
import { errorWorld, report, writeConfig, type ErrorWorld } from './helpers.js';

const test = suite('errors agree between commands');
let w: ErrorWorld;
let original: string;
const DB = { name: 'db', profile: 'dev', target: 'i-0123456789abcdef0', remotePort: 5432 };

test.before(async () => {
  w = await errorWorld();
  await w.login();
  original = readFileSync(w.home.configFile, 'utf8');
});
test.after(async () => {
  await w.close();
});
test.after.each(() => {
  writeFileSync(w.home.configFile, original);
});

const config = (name: string, tunnels: object[]) => writeConfig(join(w.home.home, name), tunnels);

/** The `stormtunnel:` line and exit code, with no stack trace. */
async function line(args: string[], env: Record<string, string> = {}): Promise<[string, number | null]> {
  const r = await w.st(args, env);
  assert.not.match(r.stderr, /^\s+at /m, 'no stack trace without --verbose');
  const first = report(r.stderr).find((l) => l.startsWith('stormtunnel: '));
  assert.ok(first, `${args.join(' ')}: no error line\n${r.stdout}${r.stderr}`);
  return [first, r.code];
}

/** login, credential-process, check and up on profile dev print one identical line, exit 2; returns it. */
async function sameEverywhere(profile: string, tunnelConfig: string): Promise<string> {
  const results = [
    await line(['login', '--profile', profile]),
    await line(['credential-process', '--profile', profile]),
    await line(['check', '--config', tunnelConfig]),
    await line(['up', 'db', '--config', tunnelConfig]),
  ];
  for (const r of results) assert.equal(r, results[0], results.map((x) => x.join(' exit ')).join('\n'));
  assert.is(results[0]![1], 2);
  return results[0]![0].slice('stormtunnel: '.length);
}

/** `profiles` names the problem once, in the same words, and exits 2. */
async function profilesSay(message: string, env: Record<string, string> = {}): Promise<void> {
  const r = await w.st(['profiles'], env);
  assert.is(r.code, 2, r.stdout);
  assert.is(r.stdout.split('\n').filter((l) => l.includes(message)).length, 1, r.stdout);
  assert.ok(r.stdout.includes(`❌ ${message}`), r.stdout);
}

test('an undefined profile: one line with "use one of", exit 2, from every command', async () => {
  const cfg = config('devv.mjs', [{ ...DB, profile: 'devv' }]);
  const message = await sameEverywhere('devv', cfg);
  assert.match(message, /^~\/\.aws\/config: profile "devv" is not defined; .* or use one of: default, dev, /);
  await profilesSay(message, { AWS_PROFILE: 'devv' });
  const status = await w.st(['status', '--config', cfg]);
  assert.is(status.code, 1);
  assert.ok(status.stdout.includes(message), status.stdout);
});

test('a malformed AWS config line: named once (file and line), exit 2, from every command', async () => {
  writeFileSync(
    w.home.configFile,
    original.replace('[profile readonly]', 'this is not ini\n[profile readonly]'),
  );
  const message = await sameEverywhere('dev', config('ok.mjs', [DB]));
  assert.match(message, /^~\/\.aws\/config line \d+: not a "key = value" line/);
  await profilesSay(message);
});

test('a misspelt key: "did you mean sso_account_id?", exit 2, from every command', async () => {
  writeFileSync(
    w.home.configFile,
    original.replace(
      'sso_account_id = 111111111111\nsso_role_name = AdministratorAccess',
      'sso_acount_id = 111111111111\nsso_role_name = AdministratorAccess',
    ),
  );
  const message = await sameEverywhere('dev', config('ok.mjs', [DB]));
  assert.match(
    message,
    /^~\/\.aws\/config line \d+: profile "dev" has sso_acount_id, which the AWS CLI and SDK do not read; did you mean sso_account_id\?$/,
  );
  await profilesSay(message);
});

test('a tag: target nothing resolves: check and up say the same, exit 2', async () => {
  const cfg = config('tag.mjs', [{ ...DB, target: 'tag:Name=bastion' }]);
  const [checkLine, checkCode] = await line(['check', '--config', cfg]);
  assert.is(checkCode, 2);
  const message = checkLine.slice('stormtunnel: '.length);
  assert.is(
    message,
    'tunnel "db": target the tag selector tag:Name=bastion is not an instance id, and no plugin resolved it to one',
  );
  const up = await w.st(['up', 'db', '--config', cfg]);
  assert.is(up.code, 2, up.stdout + up.stderr);
  assert.ok(up.stdout.includes(message), up.stdout);
  assert.not.match(up.stdout, /is not connected/);
});

test('a plugin’s veto: up, ssh-proxy and rds-token say the same, exit 10', async () => {
  const cfg = join(w.home.home, 'veto.mjs');
  const builtins = JSON.stringify(stormtunnelModule('src/index.ts'));
  writeFileSync(
    cfg,
    `import { builtinPlugins } from ${builtins};
const freeze = { name: 'change-freeze', apply(api) {
  api.hooks.beforeConnect.tap(() => ({ veto: true, reason: 'no sessions during the freeze' }));
} };
export default {
  plugins: [...builtinPlugins(), freeze],
  settings: { keychain: false, notifications: false },
  tunnels: [{ ...${JSON.stringify(DB)}, remoteHost: 'rds:orders', region: 'us-east-1', localPort: 0 }],
};
`,
  );
  const words =
    'Connection Stopped by Plugin: tunnel "db" was stopped by plugin "change-freeze": no sessions during the freeze';
  for (const args of [
    ['ssh-proxy', 'db'],
    ['rds-token', 'db', '--user', 'app'],
  ]) {
    const r = await w.st(['--config', cfg, ...args]);
    assert.is(r.code, 10, `${args[0]}: ${r.stderr}`);
    assert.is(r.stdout, '', `${args[0]} prints nothing on stdout`);
    assert.equal(report(r.stderr), [
      `stormtunnel: ${words}`,
      '  → the plugin named above decided this; change its settings or the tunnel',
    ]);
  }
  const up = await w.st(['up', 'db', '--config', cfg]);
  assert.is(up.code, 10, up.stdout + up.stderr);
  assert.ok(up.stdout.includes(`tunnel db: failed: ${words}`), up.stdout);
});

test('AWS_PROFILE never affects a profile the config names', async () => {
  const cfg = config('ok.mjs', [DB]);
  const r = await w.st(['status', '--config', cfg], { AWS_PROFILE: 'devv' });
  assert.is(r.code, 0, r.stdout);
  assert.match(r.stdout, /profile\s+dev\s+✅ Connected/);
});

test('a local port in use: check and up name the port, the tunnel and the fix, exit 2', async () => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const port = (blocker.address() as AddressInfo).port;
  try {
    const cfg = config('busy.mjs', [{ ...DB, localPort: port }]);
    const c = await w.st(['check', '--config', cfg]);
    assert.is(c.code, 2, c.stdout + c.stderr);
    const words = `local port ${port} on 127.0.0.1 is already in use by another program`;
    assert.equal(report(c.stderr), [
      `stormtunnel: tunnel "db": ${words}`,
      `  → pick another localPort for tunnel "db" (0 picks a free one), or stop the program that uses it`,
    ]);
    const up = await w.st(['up', 'db', '--config', cfg]);
    assert.is(up.code, 2, up.stdout + up.stderr);
    assert.ok(
      up.stdout.includes(`tunnel db: failed: Invalid Input: ${words}; pick another localPort`),
      up.stdout,
    );
  } finally {
    await new Promise<void>((r) => blocker.close(() => r()));
  }
});

test('a second up of the same tunnels: check and up say another stormtunnel up runs it, exit 2', async () => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const port = (blocker.address() as AddressInfo).port;
  await new Promise<void>((r) => blocker.close(() => r()));
  const cfg = config('fixed.mjs', [{ ...DB, remotePort: 22, localPort: port }]);
  const first = spawn(process.execPath, [BIN, 'up', 'db', '--config', cfg], {
    cwd: w.home.home,
    env: { ...process.env, ...w.env, NO_COLOR: '1', ...CLI_ENV },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  first.stdout.on('data', (d: Buffer) => (out += d.toString()));
  first.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => first.once('close', (code) => r(code)));
  try {
    await waitFor(
      () => /tunnel db: ready/.test(out),
      30_000,
      () => `the first up to be ready:\n${out}`,
    );
    const c = await line(['check', '--config', cfg]);
    const again = await line(['up', 'db', '--config', cfg]);
    assert.equal(again, c);
    assert.is(c[1], 2);
    assert.match(
      c[0],
      new RegExp(
        `^stormtunnel: tunnel "db": local port ${port} on 127\\.0\\.0\\.1 is already in use by another stormtunnel up \\(pid \\d+, tunnel "db"\\)$`,
      ),
    );
  } finally {
    first.kill('SIGINT');
    await withTimeout(exited, 30_000, 'the first up to stop');
  }
});

test.run();
