// login, credential-process, roles, status, profiles and logout through the real binary against the emulator.
import { readdirSync } from 'node:fs';
import { fromProcess } from '@aws-sdk/credential-providers';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { seedConfig } from '../helpers/seed-config.js';
import { testAwsHome, type TestAwsHome } from '../../src/testing/index.js';
import { BIN, runCli, CLI_ENV } from '../helpers/cli.js';

const cli = suite('SSO commands');
let emu: RunningEmulator;
let home: TestAwsHome;
let env: Record<string, string>;

cli.before(async () => {
  emu = await startEmulator({ port: 0, autoApprove: true });
  home = testAwsHome({
    config:
      seedConfig(emu.startUrl) +
      `
[profile cross-account]
role_arn = arn:aws:iam::222222222222:role/Deploy
source_profile = dev

[profile via-stormtunnel]
credential_process = ${process.execPath} ${BIN} credential-process --profile dev
region = us-east-1
`,
    emulatorEnv: emu.env(),
  });
  env = { ...home.env, STORMTUNNEL_STATE_DIR: home.home };
});
cli.after(async () => {
  await emu.close();
  home.cleanup();
});

cli('before sign-in: credential-process says what to do, exit 3, stdout stays empty', async () => {
  const r = await runCli(['credential-process', '--profile', 'dev'], { env, cwd: home.home });
  assert.is(r.code, 3);
  assert.is(r.stdout, '');
  assert.match(r.stderr, /stormtunnel: SSO Authentication Required: not signed in for SSO session "work"/);
  assert.match(r.stderr, /→ run: stormtunnel login --profile dev/);
});

cli(
  'login with the device code prints the code and signs in; the token lands in the AWS CLI cache',
  async () => {
    const r = await runCli(['login', '--profile', 'dev', '--use-device-code', '--no-browser'], {
      env,
      cwd: home.home,
    });
    assert.is(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /confirm the code [A-Z]{4}-[A-Z]{4} at:\n {2}http:\/\/127\.0\.0\.1:\d+\/device\?user_code=/,
    );
    assert.match(r.stdout, /^Signed in to work; valid until .*, refreshed automatically\n$/);
    assert.is(
      readdirSync(home.cacheDir).filter((f) => /^[0-9a-f]{40}\.json$/.test(f)).length,
      2,
      'token + registration',
    );
  },
);

cli(
  'credential-process gives Version 1 JSON that the AWS SDK (and so the AWS CLI) uses, for SSO and chained profiles',
  async () => {
    const r = await runCli(['credential-process', '--profile', 'cross-account'], { env, cwd: home.home });
    assert.is(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, string | number>;
    assert.is(out.Version, 1);
    assert.match(String(out.AccessKeyId), /^ASIA/);
    assert.ok(out.SessionToken && out.Expiration);
    // The SDK's own credential_process provider runs us and gets the SSO role.
    const saved = { ...process.env };
    Object.assign(process.env, env, CLI_ENV);
    try {
      const creds = await fromProcess({ profile: 'via-stormtunnel' })();
      const who = await new STSClient({ region: 'us-east-1', credentials: creds }).send(
        new GetCallerIdentityCommand({}),
      );
      assert.is(who.Account, '111111111111');
    } finally {
      process.env = saved;
    }
    assert.is(
      emu.requests().filter((q) => q.operation === 'StartDeviceAuthorization').length,
      1,
      'no second sign-in',
    );
  },
);

cli('roles lists every account and role with the profiles that use them; --json too', async () => {
  const r = await runCli(['roles', '--profile', 'dev', '--json'], { env, cwd: home.home });
  assert.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as {
    ssoSession: string;
    roles: { accountId: string; roleName: string; profiles: string[] }[];
  };
  assert.is(out.ssoSession, 'work');
  assert.is(out.roles.length, 5);
  assert.equal(
    out.roles.find((x) => x.accountId === '111111111111' && x.roleName === 'AdministratorAccess')?.profiles,
    ['dev'],
  );
  const table = await runCli(['roles', '--sso-session', 'work'], { env, cwd: home.home });
  assert.match(table.stdout, /^ACCOUNT\s+NAME\s+ROLE\s+PROFILES\n/);
});

cli('status shows the profile Connected and the SSO session Authenticated; --json', async () => {
  const r = await runCli(['status', '--profile', 'dev', '--json'], { env, cwd: home.home });
  assert.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as {
    ok: boolean;
    profiles: { name: string; state: string; account?: string; arn?: string }[];
    entries: { kind: string; name: string; state: string; message?: string }[];
  };
  assert.is(out.ok, true);
  const profile = out.profiles.find((p) => p.name === 'dev');
  assert.is(profile?.state, 'connected');
  assert.is(profile?.account, '111111111111');
  assert.match(
    profile?.arn ?? '',
    /^arn:aws:sts::111111111111:assumed-role\/AWSReservedSSO_AdministratorAccess/,
  );
  const session = out.entries.find((e) => e.kind === 'sso-session' && e.name === 'work');
  assert.is(session?.state, 'authenticated');
  assert.match(session?.message ?? '', /^(59|60)m left; refreshes automatically$/);
  // The table for people is unchanged.
  const table = await runCli(['status', '--profile', 'dev'], { env, cwd: home.home });
  assert.match(table.stdout, /profile\s+dev\s+✅ Connected\s+111111111111 arn:/);
  assert.match(table.stdout, /sso-session\s+work\s+Authenticated\s+(59|60)m left/);
});

cli('profiles --json types every profile', async () => {
  const r = await runCli(['profiles', '--json'], { env, cwd: home.home });
  assert.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { profiles: { name: string; type: string; chain?: string[] }[] };
  const types = Object.fromEntries(out.profiles.map((p) => [p.name, p.type]));
  assert.equal(types, {
    default: 'incomplete',
    dev: 'sso',
    readonly: 'sso',
    legacy: 'sso',
    'cross-account': 'assume-role',
    'via-stormtunnel': 'credential-process',
  });
  assert.equal(out.profiles.find((p) => p.name === 'cross-account')?.chain, ['cross-account', 'dev']);
});

cli('bad input: an unknown profile is one line naming it, exit 2', async () => {
  const r = await runCli(['credential-process', '--profile', 'nope'], { env, cwd: home.home });
  assert.is(r.code, 2);
  assert.match(r.stderr, /^stormtunnel: .*profile "nope"/);
  assert.is(
    r.stderr
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('  →')).length,
    1,
  );
  const both = await runCli(['login', '--profile', 'dev', '--sso-session', 'work'], { env, cwd: home.home });
  assert.is(both.code, 2);
  assert.is(both.stderr, 'stormtunnel: give either --profile or --sso-session, not both\n');
});

cli('logout calls SSO Logout and removes the token; credential-process then asks for a sign-in', async () => {
  const r = await runCli(['logout', '--profile', 'dev'], { env, cwd: home.home });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'Signed out of the SSO session of profile dev\n');
  assert.is(emu.requests().filter((q) => q.operation === 'Logout').length, 1);
  const after = await runCli(['credential-process', '--profile', 'dev'], { env, cwd: home.home });
  assert.is(after.code, 3);
});

cli.run();
