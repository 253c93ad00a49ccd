import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { profileCredentials } from '../../plugins/profile-credentials/index.js';
import { sso } from '../../plugins/sso/index.js';
import type { CheckSubject } from '../../src/cli/commands/check.js';
import { main } from '../../src/cli/main.js';
import { DEFAULT_SETTINGS } from '../../src/config/defaults.js';
import { createEngine } from '../../src/engine/engine.js';
import {
  SEED_STATIC_ACCESS_KEY_ID,
  SEED_STATIC_SECRET_ACCESS_KEY,
  startEmulator,
  type RunningEmulator,
} from '../../src/emulator/index.js';
import { seedConfig } from '../helpers/seed-config.js';
import { testAwsHome, type TestAwsHome } from '../../src/testing/index.js';
import { runCli, stormtunnelModule } from '../helpers/cli.js';
import { captureLogger } from '../helpers/logger.js';

const plugin = (path: string) => pathToFileURL(stormtunnelModule(path)).href;

const TUNNELS = [
  { name: 'healthy', profile: 'dev', region: 'us-east-1', target: 'i-0123456789abcdef0', remotePort: 5432 },
  { name: 'offline', profile: 'dev', region: 'us-east-1', target: 'i-0deadbeefdeadbeef', remotePort: 22 },
  {
    name: 'readonly',
    profile: 'readonly',
    region: 'us-east-1',
    target: 'i-0123456789abcdef0',
    remotePort: 5432,
  },
  {
    name: 'wrong-region',
    profile: 'dev',
    region: 'us-east-1',
    target: 'i-0aaaabbbbccccdddd',
    remotePort: 80,
  },
  { name: 'west', profile: 'dev', region: 'us-west-2', target: 'i-0aaaabbbbccccdddd', remotePort: 80 },
  {
    name: 'prod-db',
    profile: 'deploy',
    region: 'us-east-1',
    target: 'i-0222222222222222a',
    remoteHost: 'db.internal',
    remotePort: 5432,
  },
  {
    name: 'not-signed-in',
    profile: 'legacy',
    region: 'us-east-1',
    target: 'i-0123456789abcdef0',
    remotePort: 22,
  },
].map((t) => ({ ...t, localPort: 0 }));

const CONFIG = `
import { assumeRole } from ${JSON.stringify(plugin('plugins/assume-role/index.ts'))};
import { profileCredentials } from ${JSON.stringify(plugin('plugins/profile-credentials/index.ts'))};
import { retry } from ${JSON.stringify(plugin('plugins/retry/index.ts'))};
import { sso } from ${JSON.stringify(plugin('plugins/sso/index.ts'))};
import { ssmTunnel } from ${JSON.stringify(plugin('plugins/ssm-tunnel/index.ts'))};
export default {
  plugins: [profileCredentials(), assumeRole(), sso(), retry(), ssmTunnel()],
  tunnels: ${JSON.stringify(TUNNELS)},
};
`;

let emu: RunningEmulator;
let home: TestAwsHome;

async function check(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const collect = () => {
    const s = new PassThrough();
    let text = '';
    s.on('data', (d: Buffer) => (text += d.toString()));
    return { stream: s as unknown as typeof process.stdout & typeof process.stderr, text: () => text };
  };
  const out = collect();
  const err = collect();
  const code = await main(['check', ...args], {
    stdout: out.stream,
    stderr: err.stream,
    env: { ...process.env, STORMTUNNEL_LOG_LEVEL: 'silent' },
    cwd: home.home,
  });
  return { code, stdout: out.text(), stderr: err.text() };
}

async function checkJson(args: string[]): Promise<{ code: number; ok: boolean; subjects: CheckSubject[] }> {
  const r = await check([...args, '--json']);
  const parsed = JSON.parse(r.stdout) as { ok: boolean; subjects: CheckSubject[] };
  return { code: r.code, ...parsed };
}

const statuses = (s: CheckSubject | undefined) => s?.checks.map((c) => `${c.id}:${c.status}`);

const cli = suite('stormtunnel check');

cli.before(async () => {
  emu = await startEmulator({ port: 0, autoApprove: true });
  home = testAwsHome({
    config:
      seedConfig(emu.startUrl) +
      `\n[profile deploy]\nrole_arn = arn:aws:iam::222222222222:role/Deploy\nsource_profile = dev\n` +
      `\n[profile cross-account]\nrole_arn = arn:aws:iam::222222222222:role/Deploy\nsource_profile = default\n`,
    credentials: `[default]\naws_access_key_id = ${SEED_STATIC_ACCESS_KEY_ID}\naws_secret_access_key = ${SEED_STATIC_SECRET_ACCESS_KEY}\n`,
    emulatorEnv: emu.env(),
  });
  writeFileSync(join(home.home, 'stormtunnel.config.ts'), CONFIG);
  // Sign in to the "work" session once; the CLI reads the token from the AWS CLI cache.
  const engine = await createEngine({
    plugins: [profileCredentials(), sso({ sessions: { work: { useDeviceCode: true } } })],
    settings: DEFAULT_SETTINGS,
    logger: captureLogger(),
  });
  await engine.signIn({ profile: 'dev', noBrowser: true });
  await engine.shutdown({ reason: 'command-done' });
});

cli.after(async () => {
  await emu.close();
  home.cleanup();
});

cli('a healthy tunnel: every check passes, the test session is ended at once, exit 0', async () => {
  emu.admin.clearRequests();
  const r = await check(['--tunnel', 'healthy']);
  assert.is(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.is(lines[0], 'tunnel "healthy" (profile dev, us-east-1, i-0123456789abcdef0 port 5432)');
  assert.match(
    lines[1]!,
    /^ {2}✅ credentials: valid: account 111111111111, arn:aws:sts::111111111111:assumed-role\/AWSReservedSSO_AdministratorAccess_/,
  );
  assert.match(
    lines[2]!,
    /^ {2}✅ instance: i-0123456789abcdef0 \(bastion\) is online in us-east-1, SSM Agent 3\.3\.1957\.0$/,
  );
  assert.match(
    lines[3]!,
    /^ {2}✅ start session: StartSession works \(AWS-StartPortForwardingSession, port 5432\); `up` may run up to 4 sessions for this tunnel when connections are busy, each one StartSession in Session Manager history and CloudTrail \(maxSessions: 1 keeps one\)$/,
  );
  assert.match(lines[4]!, /^ {2}✅ end session: TerminateSession works; test session \S+ ended$/);
  assert.is(lines[5], 'all 4 checks passed');
  const ops = emu.requests().map((q) => q.operation);
  assert.equal(
    ops.filter((o) => ['StartSession', 'TerminateSession'].includes(o)),
    ['StartSession', 'TerminateSession'],
  );
  assert.ok(
    emu.admin.listSessions().every((s) => s.status === 'Terminated'),
    'no session left open',
  );
});

cli('an offline instance: ❌ with the agent guidance, the session checks skipped, exit 1', async () => {
  const r = await check(['--tunnel', 'offline']);
  assert.is(r.code, 1);
  assert.match(
    r.stdout,
    /❌ instance: i-0deadbeefdeadbeef \(offline-box\) is registered in us-east-1 but its SSM Agent is offline \(ConnectionLost\)\n {5}→ start the instance, or check that the SSM Agent runs/,
  );
  assert.match(r.stdout, /⏭️ start session: skipped: the instance is not online in this region/);
  assert.match(r.stdout, /1 of 4 checks failed, 2 skipped/);
});

cli(
  'a denied StartSession (SSO ReadOnly role): ask the admin for ssm:StartSession for that role',
  async () => {
    const j = await checkJson(['--tunnel', 'readonly']);
    assert.is(j.code, 1);
    assert.is(j.ok, false);
    const s = j.subjects[0]!;
    assert.equal(statuses(s), [
      'credentials:pass',
      'instance:pass',
      'start-session:fail',
      'end-session:skip',
    ]);
    const start = s.checks[2]!;
    assert.match(
      start.message,
      /^Contact AWS Administrator: ssm:StartSession was denied for profile "readonly"/,
    );
    assert.is(start.errorClass, 'permission-denied');
    assert.is(start.errorCode, 'AccessDeniedException');
    assert.match(
      start.hint ?? '',
      /^ask your AWS administrator to allow ssm:StartSession for arn:aws:sts::111111111111:assumed-role\/AWSReservedSSO_ReadOnly_/,
    );
    assert.is(s.identity?.account, '111111111111');
  },
);

cli('the wrong region: instance unknown there, with the region / agent / role guidance', async () => {
  const j = await checkJson(['--tunnel', 'wrong-region']);
  assert.is(j.code, 1);
  const inst = j.subjects[0]!.checks[1]!;
  assert.is(inst.status, 'fail');
  assert.is(inst.message, 'i-0aaaabbbbccccdddd is not known to Session Manager in us-east-1');
  assert.match(
    inst.hint ?? '',
    /us-east-1 is the instance's region.*SSM Agent.*AmazonSSMManagedInstanceCore/,
  );
  const west = await checkJson(['--tunnel', 'west']);
  assert.is(west.code, 0, 'the same instance in its own region passes');
});

cli('an expired or missing sign-in: stormtunnel login, the rest skipped', async () => {
  const r = await check(['--tunnel', 'not-signed-in']);
  assert.is(r.code, 1);
  assert.match(
    r.stdout,
    /❌ credentials: SSO Authentication Required: .*\n {5}→ run: stormtunnel login --profile legacy\n/,
  );
  assert.match(r.stdout, /⏭️ instance: skipped: needs valid credentials/);
});

cli(
  'a role chain tunnel (SSO -> Deploy) to a remote host; a tag selector nothing resolves is exit 2',
  async () => {
    const j = await checkJson(['--tunnel', 'prod-db']);
    assert.is(j.code, 0, JSON.stringify(j.subjects));
    assert.match(j.subjects[0]!.identity?.arn ?? '', /^arn:aws:sts::222222222222:assumed-role\/Deploy\//);
    assert.match(
      j.subjects[0]!.checks[2]!.message,
      /AWS-StartPortForwardingSessionToRemoteHost, port 5432 on db\.internal/,
    );
    // The built-in plugins take instance ids; `up` says the same for this tunnel (test/errors/agree.test.ts).
    writeFileSync(
      join(home.home, 'tag.config.ts'),
      CONFIG.replace(
        /tunnels: .*\n/,
        `tunnels: ${JSON.stringify([{ name: 'by-tag', profile: 'dev', region: 'us-east-1', target: 'tag:Name=db-proxy', remotePort: 6379, localPort: 0 }])},\n`,
      ),
    );
    const tag = await check(['--config', join(home.home, 'tag.config.ts'), '--tunnel', 'by-tag']);
    assert.is(tag.code, 2, tag.stdout + tag.stderr);
    assert.match(
      tag.stderr,
      /^stormtunnel: tunnel "by-tag": target the tag selector tag:Name=db-proxy is not an instance id, and no plugin resolved it to one\n/,
    );
  },
);

cli(
  '--profile: the profile and its tunnels; the seed cross-account profile resolves from static keys',
  async () => {
    const j = await checkJson(['--profile', 'cross-account']);
    assert.is(j.code, 0);
    assert.is(j.subjects.length, 1);
    assert.is(j.subjects[0]!.kind, 'profile');
    assert.match(
      j.subjects[0]!.identity?.arn ?? '',
      /^arn:aws:sts::222222222222:assumed-role\/Deploy\/stormtunnel-/,
    );
    const dev = await checkJson(['--profile', 'dev']);
    assert.equal(
      dev.subjects.map((s) => `${s.kind}:${s.name}`),
      ['profile:dev', 'tunnel:healthy', 'tunnel:offline', 'tunnel:wrong-region', 'tunnel:west'],
    );
    assert.is(dev.code, 1);
  },
);

cli('every tunnel at once; an unknown tunnel is a usage error (exit 2)', async () => {
  const all = await checkJson([]);
  assert.is(all.subjects.length, TUNNELS.length);
  assert.is(all.code, 1);
  const r = await check(['--tunnel', 'nope']);
  assert.is(r.code, 2);
  assert.match(
    r.stderr,
    /^stormtunnel: unknown tunnel "nope" in stormtunnel\.config\.ts\n {2}→ the config has: healthy, offline/,
  );
});

/** The test CONFIG with `extra` added to its plugins, written next to it. */
function configWith(file: string, extra: string): string {
  const path = join(home.home, file);
  writeFileSync(path, CONFIG.replace('ssmTunnel()],', `ssmTunnel(), ${extra}],`));
  return path;
}

cli(
  'a tunnel a beforeConnect plugin vetoes: a failed check with its reason and no StartSession',
  async () => {
    const veto = `{ name: 'change-freeze', apply(api) { api.hooks.beforeConnect.tap((d) => d.tunnel === 'healthy' ? { veto: true, reason: 'no sessions during the change freeze' } : undefined) } }`;
    const config = configWith('veto.config.ts', veto);
    emu.admin.clearRequests();
    const j = await checkJson(['--config', config, '--tunnel', 'healthy']);
    assert.is(j.code, 1);
    const s = j.subjects[0]!;
    assert.equal(statuses(s), [
      'credentials:pass',
      'instance:fail',
      'start-session:skip',
      'end-session:skip',
    ]);
    assert.is(
      s.checks[1]!.message,
      'tunnel "healthy" was stopped by plugin "change-freeze": no sessions during the change freeze',
    );
    assert.is(s.checks[1]!.errorClass, 'vetoed');
    const ops = emu.requests().map((q) => q.operation);
    assert.ok(ops.includes('GetCallerIdentity'), ops.join(', '));
    assert.not.ok(ops.includes('StartSession'), 'no session was opened: ' + ops.join(', '));
    assert.not.ok(ops.includes('DescribeInstanceInformation'), ops.join(', '));
  },
);

cli("the probe is the plugin's: a team plugin that answers probeTunnel first replaces it", async () => {
  const probe = `{ name: 'dry-probe', apply(api) { api.hooks.probeTunnel.tap((r) => [{ id: 'dry-run', status: 'pass', message: 'would connect to ' + r.connection.draft.target + ' in ' + r.connection.draft.region }], { stage: -1 }) } }`;
  const config = configWith('probe.config.ts', probe);
  emu.admin.clearRequests();
  const r = await check(['--config', config, '--tunnel', 'west']);
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /\n {2}✅ dry run: would connect to i-0aaaabbbbccccdddd in us-west-2\n/);
  assert.not.ok(emu.requests().some((q) => q.operation === 'StartSession'));
});

cli(
  'tunnels and no plugin that probes them (no ssm-tunnel in plugins): exit 2 saying what to add',
  async () => {
    const path = join(home.home, 'no-transport.config.ts');
    writeFileSync(path, CONFIG.replace(', ssmTunnel()]', ']'));
    const r = await check(['--config', path, '--tunnel', 'healthy']);
    assert.is(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /^stormtunnel: no plugin can check tunnels\n {2}→ keep the built-in plugins/);
  },
);

cli('the real binary: check --tunnel healthy --json exits 0', async () => {
  const r = await runCli(['check', '--tunnel', 'healthy', '--json'], {
    cwd: home.home,
    env: { STORMTUNNEL_LOG_LEVEL: 'silent' },
  });
  assert.is(r.code, 0, r.stderr);
  assert.is((JSON.parse(r.stdout) as { ok: boolean }).ok, true);
});

cli.run();
