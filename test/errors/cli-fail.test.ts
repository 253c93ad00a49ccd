// Failures that are not retried, through the real binary: token expired (silent refresh when it can, else
// "SSO Authentication Required", exit 3), SSO config invalid (exit 2 from our files, 9 from the service),
// permission denied (exit 4), credentials invalid (exit 5), target problems (exit 8), and what --verbose
// adds. The last test scans every stderr of the file for the secrets the emulator issued.
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { errorWorld, report, writeConfig, type ErrorWorld } from './helpers.js';

const test = suite('failures through the CLI');
let w: ErrorWorld;
const cp = (profile: string) => ['credential-process', '--profile', profile];

test.before(async () => {
  w = await errorWorld();
  await w.login();
});
test.after(async () => {
  await w.close();
});
test.before.each(() => {
  w.emu.admin.clearRequests();
  w.emu.admin.clearFaults();
});

/** One line with the product message, one with the next step, and no stack trace. */
function assertReport(stderr: string, message: RegExp, next: string) {
  const lines = report(stderr);
  assert.is(lines.length, 2, stderr);
  assert.match(lines[0]!, message);
  assert.is(lines[1], `  → ${next}`);
  assert.not.match(stderr, /^\s+at /m, 'no stack trace without --verbose');
}

// ---- token expired ----

test('token expired server-side, refresh token valid: silent refresh, success, no sign-in', async () => {
  w.emu.admin.advanceClock(2 * 3600_000);
  const r = await w.st(cp('dev'));
  assert.is(r.code, 0, r.stderr);
  assert.equal(
    w.emu.requests().map((q) => `${q.operation} ${q.errorCode ?? q.status}`),
    ['GetRoleCredentials UnauthorizedException', 'CreateToken 200', 'GetRoleCredentials 200'],
  );
  assert.is(w.ops('CreateToken')[0]!.params.grantType, 'refresh_token');
});

test('sign-in revoked (access and refresh token): "SSO Authentication Required", run: stormtunnel login --profile dev, exit 3', async () => {
  w.emu.admin.revokeTokens();
  const r = await w.st(cp('dev'));
  assert.is(r.code, 3);
  assert.is(r.stdout, '');
  assertReport(
    r.stderr,
    /^stormtunnel: SSO Authentication Required: .* for SSO session "work"$/,
    'run: stormtunnel login --profile dev',
  );
  assert.is(w.ops('CreateToken').length, 1, 'one refresh attempt, not retried');
});

test('the sign-in session ended by the clock (past 8 h): exit 3 with the login command; login again fixes it', async () => {
  await w.login();
  w.emu.admin.advanceClock(9 * 3600_000);
  w.emu.admin.clearRequests();
  const r = await w.st(cp('dev'));
  assert.is(r.code, 3);
  assertReport(
    r.stderr,
    /^stormtunnel: SSO Authentication Required: /,
    'run: stormtunnel login --profile dev',
  );
  await w.login();
  const again = await w.st(cp('dev'));
  assert.is(again.code, 0, again.stderr);
});

// ---- SSO config invalid ----

test('a start URL the SSO service does not know: "SSO Configuration Invalid" naming sso_start_url, exit 9', async () => {
  const r = await w.st(['login', '--profile', 'unknown-url', '--use-device-code', '--no-browser']);
  assert.is(r.code, 9);
  assertReport(
    r.stderr,
    /^stormtunnel: SSO Configuration Invalid: Unknown start URL: http:\/\/127\.0\.0\.1:\d+\/not-an-sso-instance$/,
    'check sso_start_url, sso_region and sso_registration_scopes in your AWS config (stormtunnel profiles)',
  );
  assert.equal(
    w.emu.requests().map((q) => `${q.operation} ${q.errorCode ?? q.status}`),
    ['RegisterClient 200', 'StartDeviceAuthorization InvalidRequestException'],
  );
});

test('missing sso_region and a malformed start URL: found in the file before any call, key named, exit 2', async () => {
  const noRegion = await w.st(cp('no-region'));
  assert.is(noRegion.code, 2);
  assert.match(
    report(noRegion.stderr)[0]!,
    /^stormtunnel: ~\/\.aws\/config line \d+: profile "no-region" has sso_account_id but no sso_region; add sso_region = <region>$/,
  );
  const malformed = await w.st(['login', '--profile', 'malformed-url']);
  assert.is(malformed.code, 2);
  assert.match(
    report(malformed.stderr)[0]!,
    /^stormtunnel: ~\/\.aws\/config line \d+: .*sso_start_url.*not a URL/,
  );
  assert.is(w.emu.requests().length, 0, 'nothing was sent');
});

// ---- permission denied ----

test('a role the user has no access to (ForbiddenException): "Contact AWS Administrator" with the action, exit 4', async () => {
  const r = await w.st(cp('norole'));
  assert.is(r.code, 4);
  assertReport(
    r.stderr,
    /^stormtunnel: Contact AWS Administrator: sso:GetRoleCredentials was denied for profile "norole" \(GetRoleCredentials\)$/,
    'ask your AWS administrator to allow sso:GetRoleCredentials for your role',
  );
  assert.is(w.ops('GetRoleCredentials').length, 1, 'not retried');
});

test('the SSO ReadOnly role denied ssm:StartSession: check names the action and the role; up exits 4', async () => {
  const c = await w.st(['check', '--tunnel', 'readonly']);
  assert.is(c.code, 1, 'check: 1 = some check failed (its documented contract)');
  assert.match(
    c.stdout,
    /❌ start session: Contact AWS Administrator: ssm:StartSession was denied for profile "readonly"/,
  );
  assert.match(
    c.stdout,
    /→ ask your AWS administrator to allow ssm:StartSession for arn:aws:sts::111111111111:assumed-role\/AWSReservedSSO_ReadOnly_/,
  );
  const up = await w.st(['up', 'readonly']);
  assert.is(up.code, 4, up.stdout + up.stderr);
  assert.match(up.stdout, /tunnel readonly: failed: Contact AWS Administrator: ssm:StartSession was denied/);
  assert.is(
    w.ops('StartSession').filter((q) => q.errorCode === 'AccessDeniedException').length,
    2,
    'one each, not retried',
  );
});

// ---- credentials invalid ----

test('static keys AWS does not know (InvalidClientTokenId): "Update Credentials Required", exit 5', async () => {
  const r = await w.st(cp('deploy-bad-keys'));
  assert.is(r.code, 5);
  assertReport(
    r.stderr,
    /^stormtunnel: Update Credentials Required: AWS does not accept the credentials of profile "deploy-bad-keys".*InvalidClientTokenId$/,
    'update the access keys in ~/.aws/credentials (aws configure) or sign in again',
  );
  assert.is(w.ops('AssumeRole').length, 1, 'not retried');
});

test('a wrong secret key (SignatureDoesNotMatch): "Update Credentials Required", exit 5; check and up say the same', async () => {
  const r = await w.st(cp('deploy-wrong-secret'));
  assert.is(r.code, 5);
  assert.match(report(r.stderr)[0]!, /^stormtunnel: Update Credentials Required: .*SignatureDoesNotMatch$/);
  const c = await w.st(['check', '--profile', 'bad-keys']);
  assert.match(c.stdout, /❌ credentials: Update Credentials Required: .*InvalidClientTokenId/);
  const up = await w.st(['up', 'bad-keys']);
  assert.is(up.code, 5, up.stdout + up.stderr);
  assert.match(up.stdout, /tunnel bad-keys: failed: Update Credentials Required: /);
});

// ---- target problems ----

test('target problems through up: offline instance, unknown instance, port in use; each its guidance, exit 8 (2 for the port)', async () => {
  const off = await w.st(['up', 'offline']);
  assert.is(off.code, 8, off.stdout + off.stderr);
  assert.match(
    off.stdout,
    /tunnel offline: failed: Target Unavailable: i-0deadbeefdeadbeef is not connected\.?; check that the instance is running in that region, has the SSM Agent and the AmazonSSMManagedInstanceCore role/,
  );
  const unknown = await w.st(['up', 'unknown']);
  assert.is(unknown.code, 8, unknown.stdout + unknown.stderr);
  // StartSession answers an unknown instance like AWS does (TargetNotConnected); check tells them apart.
  assert.match(
    unknown.stdout,
    /tunnel unknown: failed: Target Unavailable: i-0000000000000dead is not connected/,
  );
  const check = await w.st(['check', '--tunnel', 'unknown']);
  assert.match(
    check.stdout,
    /❌ instance: i-0000000000000dead is not known to Session Manager in us-east-1\n {5}→ .*SSM Agent/,
  );

  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  try {
    const port = (blocker.address() as AddressInfo).port;
    const busy = writeConfig(join(w.home.home, 'busy.config.mjs'), [
      { name: 'busy', profile: 'dev', target: 'i-0123456789abcdef0', remotePort: 5432, localPort: port },
    ]);
    const r = await w.st(['--config', busy, 'up', 'busy']);
    // The local port is the user's input, not the target's state: exit 2 (test/errors/agree.test.ts).
    assert.is(r.code, 2, r.stdout + r.stderr);
    assert.ok(
      r.stdout.includes(
        `tunnel busy: failed: Invalid Input: local port ${port} on 127.0.0.1 is already in use by another program; pick another localPort (0 picks a free one), or stop the program that uses it`,
      ),
      r.stdout,
    );
  } finally {
    await new Promise<void>((r) => blocker.close(() => r()));
  }
  assert.is(
    w.emu.admin.listSessions().filter((s) => s.status !== 'Terminated').length,
    0,
    'no session left open',
  );
});

// ---- --verbose and secrets ----

test('--verbose adds the AWS request id, the error code and the original error; without it none of that', async () => {
  const plain = await w.st(cp('norole'));
  assert.not.match(plain.stderr, /AWS request id|error code:|ForbiddenException:/);
  const r = await w.st([...cp('norole'), '--verbose']);
  assert.is(r.code, 4);
  const requestId = w.ops('GetRoleCredentials').at(-1);
  assert.ok(requestId);
  assert.match(r.stderr, /^ {2}AWS request id: [0-9a-f-]{36}$/m);
  assert.match(r.stderr, /^ {2}error code: ForbiddenException$/m);
  assert.match(r.stderr, /^ForbiddenException: /m);
  assert.match(r.stderr, /^\s+at /m, 'the original stack with --verbose');
});

test('no secret ever reached stderr: tokens, client secret, role and static keys issued in this file', async () => {
  assert.ok(w.secrets.size >= 4, `secrets collected: ${w.secrets.size}`);
  const all = w.stderrs.join('\n');
  for (const s of w.secrets)
    assert.not.ok(all.includes(s), `a secret (${s.slice(0, 4)}…) appeared in stderr`);
});

test.run();
