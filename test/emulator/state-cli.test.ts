// Seed state loading (JSON/YAML, clear errors), the CLI entry (first line, --print-env, signals), env(),
// and the HTTP admin API (clock shift, settings, approvals, MFA code, reset).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ListAccountsCommand } from '@aws-sdk/client-sso';
import { CreateTokenCommand, StartDeviceAuthorizationCommand } from '@aws-sdk/client-sso-oidc';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import {
  EmulatorStateError,
  SEED_MFA_CODE,
  SEED_MFA_SERIAL,
  loadEmulatorState,
  runEmulatorCommand,
  seedState,
  startEmulator,
  type RunningEmulator,
} from '../../src/emulator/index.js';
import {
  adminFetch,
  deviceLogin,
  oidcClient,
  registerDeviceClient,
  rejects,
  ssoClient,
  stsClient,
} from './helpers.js';

const test = suite<{ dir: string }>('state, cli, admin');
test.before((ctx) => {
  ctx.dir = mkdtempSync(join(tmpdir(), 'emu-state-'));
});
test.after((ctx) => {
  rmSync(ctx.dir, { recursive: true, force: true });
});

test('seed state: one user, two accounts with roles, online instances, static key, MFA device', () => {
  const s = seedState();
  assert.is(s.users.length, 1);
  assert.equal(
    s.accounts.map((a) => a.accountId),
    ['111111111111', '222222222222'],
  );
  assert.ok(s.instances.some((i) => i.pingStatus === 'Online'));
  assert.is(s.iamUsers[0]?.accessKeyId, 'AKIAEMULATORSTATIC01');
  assert.is(s.mfaDevices[0]?.serial, SEED_MFA_SERIAL);
  assert.is(s.settings.accessTokenSeconds, 3600);
  assert.is(s.settings.refreshTokenSeconds, 28800);
});

test('loadEmulatorState: YAML with some keys; the rest from the seed', async ({ dir }) => {
  const file = join(dir, 'state.yaml');
  writeFileSync(
    file,
    `settings:\n  accessTokenSeconds: 5\ninstances:\n  - instanceId: i-0abcdef0123456789\n    name: only\n    accountId: "111111111111"\n`,
  );
  const s = await loadEmulatorState(file);
  assert.is(s.settings.accessTokenSeconds, 5);
  assert.is(s.settings.refreshTokenSeconds, 28800);
  assert.equal(
    s.instances.map((i) => i.instanceId),
    ['i-0abcdef0123456789'],
  );
  assert.is(s.accounts.length, 2);
});

test('loadEmulatorState: errors name the file and the key', async ({ dir }) => {
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ accounts: [{ accountId: '12', accountName: 'x' }] }));
  let err = await rejects(loadEmulatorState(bad));
  assert.instance(err, EmulatorStateError);
  assert.match(
    err.message,
    new RegExp(`${bad.replace(/[.]/g, '\\.')}: accounts\\[0\\]\\.accountId: expected a 12-digit account id`),
  );
  writeFileSync(bad, '{"users": [');
  err = await rejects(loadEmulatorState(bad));
  assert.match(err.message, /bad\.json: not valid JSON/);
  const unknown = join(dir, 'unknown.yaml');
  writeFileSync(unknown, 'acounts: []\n');
  err = await rejects(loadEmulatorState(unknown));
  assert.match(err.message, /unknown\.yaml: acounts: unknown key/);
  const ref = join(dir, 'ref.yaml');
  writeFileSync(ref, 'instances:\n  - instanceId: i-0abcdef0123456789\n    accountId: "999999999999"\n');
  err = await rejects(loadEmulatorState(ref));
  assert.match(err.message, /ref\.yaml: instances\[0\]\.accountId: unknown account 999999999999/);
  err = await rejects(loadEmulatorState(join(dir, 'missing.yaml')));
  assert.match(err.message, /missing\.yaml: cannot read/);
});

test('runEmulatorCommand: first line, --print-env, --state, stops on abort', async ({ dir }) => {
  const file = join(dir, 'cli.yaml');
  writeFileSync(file, 'settings:\n  pollIntervalSeconds: 3\n');
  const stdout = new PassThrough();
  let text = '';
  stdout.on('data', (d: Buffer) => (text += d.toString()));
  const ac = new AbortController();
  let running: RunningEmulator | undefined;
  let errText = '';
  const stderr = new PassThrough();
  stderr.on('data', (d: Buffer) => (errText += d.toString()));
  const done = runEmulatorCommand(
    {
      port: 0,
      state: file,
      printEnv: true,
      autoApprove: true,
      signal: ac.signal,
      onReady: (e) => (running = e),
    },
    { stdout, stderr },
  );
  for (let i = 0; i < 100 && !running; i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(running);
  assert.not.match(errText, /listening/, 'one "listening" line, on stdout');
  const lines = text.trimEnd().split('\n');
  assert.match(lines[0] ?? '', /^stormtunnel emulator listening on http:\/\/127\.0\.0\.1:\d+$/);
  assert.is(lines[0], `stormtunnel emulator listening on ${running.url}`);
  assert.ok(lines.includes(`export AWS_ENDPOINT_URL=${running.url}`));
  assert.ok(lines.includes('export AWS_REGION=us-east-1'));
  assert.ok(lines.includes(`export AWS_ENDPOINT_URL_SSO_OIDC=${running.url}`));
  // --state took effect and --auto-approve approves at once.
  const reg = await registerDeviceClient(running);
  const auth = await oidcClient(running).send(
    new StartDeviceAuthorizationCommand({ ...reg, startUrl: running.startUrl }),
  );
  assert.is(auth.interval, 3);
  const tok = await oidcClient(running).send(
    new CreateTokenCommand({
      ...reg,
      grantType: 'urn:ietf:params:oauth:grant-type:device_code',
      deviceCode: auth.deviceCode,
    }),
  );
  assert.ok(tok.accessToken);
  ac.abort();
  await done;
  const err = await rejects(fetch(`${running.url}/_emulator/health`));
  assert.ok(err);
});

test('runEmulatorCommand: SIGTERM closes it and resolves', async () => {
  const stdout = new PassThrough();
  let url = '';
  const done = runEmulatorCommand({ port: '0', onReady: (e) => (url = e.url) }, { stdout });
  for (let i = 0; i < 100 && !url; i++) await new Promise((r) => setTimeout(r, 10));
  process.kill(process.pid, 'SIGTERM');
  await done;
  await rejects(fetch(`${url}/_emulator/health`));
  await rejects(runEmulatorCommand({ port: 70000 }, { stdout }));
});

test('env(): every service on the one URL', async () => {
  const emu = await startEmulator({ port: 0 });
  try {
    const env = emu.env();
    for (const k of [
      'AWS_ENDPOINT_URL',
      'AWS_ENDPOINT_URL_SSO_OIDC',
      'AWS_ENDPOINT_URL_SSO',
      'AWS_ENDPOINT_URL_STS',
      'AWS_ENDPOINT_URL_SSM',
    ]) {
      assert.is(env[k], emu.url);
    }
    assert.is(env.AWS_REGION, 'us-east-1');
    assert.is(emu.startUrl, `${emu.url}/start`);
    assert.match(emu.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  } finally {
    await emu.close();
  }
});

test('admin HTTP API: device approval, clock shift ages tokens, settings, MFA code, reset', async () => {
  const emu = await startEmulator({ port: 0 });
  try {
    const oidc = oidcClient(emu);
    const reg = await registerDeviceClient(emu);
    const auth = await oidc.send(new StartDeviceAuthorizationCommand({ ...reg, startUrl: emu.startUrl }));
    let r = await adminFetch(emu, 'GET', 'device');
    assert.equal(
      r.json.deviceAuthorizations?.map((d) => [d.userCode, d.status]),
      [[auth.userCode, 'pending']],
    );
    assert.not.ok(JSON.stringify(r.json).includes(auth.deviceCode!));
    r = await adminFetch(emu, 'POST', 'device/approve', { userCode: auth.userCode });
    assert.is(r.status, 200);
    r = await adminFetch(emu, 'POST', 'device/approve', { userCode: auth.userCode });
    assert.is(r.status, 404);
    const tok = await oidc.send(
      new CreateTokenCommand({
        ...reg,
        grantType: 'urn:ietf:params:oauth:grant-type:device_code',
        deviceCode: auth.deviceCode,
      }),
    );
    await ssoClient(emu).send(new ListAccountsCommand({ accessToken: tok.accessToken }));

    // Another process can age tokens by shifting the emulator clock.
    r = await adminFetch(emu, 'POST', 'clock', { advanceSeconds: 3601 });
    assert.is(r.json.offsetMs, 3601_000);
    let err = await rejects(ssoClient(emu).send(new ListAccountsCommand({ accessToken: tok.accessToken })));
    assert.is(err.name, 'UnauthorizedException');
    // SigV4 still works with a shifted clock (skew is checked against real time).
    const id = await stsClient(emu, {
      accessKeyId: 'AKIAEMULATORSTATIC01',
      secretAccessKey: seedState().iamUsers[0]!.secretAccessKey,
    }).send(new GetCallerIdentityCommand({}));
    assert.is(id.Account, '111111111111');

    r = await adminFetch(emu, 'POST', 'settings', { accessTokenSeconds: 2 });
    assert.is(r.json.settings?.accessTokenSeconds, 2);
    const short = await deviceLogin(emu);
    assert.is(short.token.expiresIn, 2);
    r = await adminFetch(emu, 'POST', 'settings', { accessTokenSeconds: 0 });
    assert.is(r.status, 400);

    r = await adminFetch(emu, 'GET', `mfa?serial=${encodeURIComponent(SEED_MFA_SERIAL)}`);
    assert.is(r.json.code, SEED_MFA_CODE);

    r = await adminFetch(emu, 'POST', 'tokens/revoke', {});
    assert.ok((r.json.revoked ?? 0) >= 1);
    err = await rejects(
      ssoClient(emu).send(new ListAccountsCommand({ accessToken: short.token.accessToken })),
    );
    assert.is(err.name, 'UnauthorizedException');

    r = await adminFetch(emu, 'GET', 'requests');
    assert.ok(r.json.requests?.some((e) => e.operation === 'StartDeviceAuthorization'));
    // Admin calls themselves stay out of the log.
    assert.not.ok(r.json.requests?.some((e) => e.service === 'admin'));

    r = await adminFetch(emu, 'POST', 'reset', {});
    assert.is(r.status, 200);
    assert.equal(emu.requests(), []);
    r = await adminFetch(emu, 'GET', 'clock');
    assert.is(r.json.offsetMs, 0);
    err = await rejects(oidc.send(new StartDeviceAuthorizationCommand({ ...reg, startUrl: emu.startUrl })));
    assert.is(err.name, 'InvalidClientException');
    r = await adminFetch(emu, 'GET', 'nope');
    assert.is(r.status, 404);
  } finally {
    await emu.close();
  }
});

test.run();
