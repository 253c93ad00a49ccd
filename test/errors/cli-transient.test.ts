// Transient failures through the real binary: network (reset, timeout, nobody listening, 5xx) is retried
// with backoff and ends in "Check Network Connection" (exit 6); throttling waits what the service says.
// Attempts are counted in the emulator's request log: exactly what the retry plugin decided, never the SDK.
import { createServer, type AddressInfo } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { errorWorld, report, type ErrorWorld } from './helpers.js';

const test = suite('transient errors through the CLI');
let w: ErrorWorld;
const cp = ['credential-process', '--profile', 'dev'];

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

const statuses = (op: string) => w.ops(op).map((q) => q.fault ?? q.status);

test('connection resets on GetRoleCredentials: retried with backoff, success when the fault clears', async () => {
  w.emu.admin.injectFault({ operation: 'GetRoleCredentials', kind: 'reset', count: 2 });
  const r = await w.st([...cp, '--verbose']);
  assert.is(r.code, 0, r.stderr);
  assert.match((JSON.parse(r.stdout) as { AccessKeyId: string }).AccessKeyId, /^ASIA/);
  assert.equal(statuses('GetRoleCredentials'), ['reset', 'reset', 200]);
  assert.match(r.stderr, /GetRoleCredentials failed \(Check Network Connection\); retrying in 20 ms/);
  assert.match(r.stderr, /GetRoleCredentials failed \(Check Network Connection\); retrying in 40 ms/);
  assert.match(r.stderr, /"errorCode":"ECONNRESET"/, 'the error code is logged, not redacted');
});

test('a request held unanswered: our deadline ends it, it is retried, success', async () => {
  w.emu.admin.injectFault({ operation: 'GetRoleCredentials', kind: 'timeout', count: 1, holdSeconds: 60 });
  const r = await w.st(cp, { STORMTUNNEL_AWS_TIMEOUT_MS: '300' });
  assert.is(r.code, 0, r.stderr);
  assert.equal(statuses('GetRoleCredentials'), ['timeout', 200]);
  assert.match(r.stderr, /GetRoleCredentials failed \(Check Network Connection\); retrying in 20 ms/);
});

test('resets that never clear: 5 attempts, then "Check Network Connection" with the next step, exit 6', async () => {
  w.emu.admin.injectFault({ operation: 'GetRoleCredentials', kind: 'reset', count: 50 });
  const r = await w.st(cp);
  assert.is(r.code, 6);
  assert.is(r.stdout, '');
  assert.equal(report(r.stderr), [
    'stormtunnel: Check Network Connection: could not reach AWS (GetRoleCredentials): ECONNRESET (gave up after 5 attempts)',
    '  → check your network connection, VPN and proxy settings',
  ]);
  assert.is(w.ops('GetRoleCredentials').length, 5, '5 of ours, no SDK retries on top');
  assert.is((r.stderr.match(/retrying in/g) ?? []).length, 4);
});

test('timeouts that never clear: 5 attempts, exit 6', async () => {
  w.emu.admin.injectFault({ operation: 'GetRoleCredentials', kind: 'timeout', count: 50, holdSeconds: 60 });
  const r = await w.st(cp, { STORMTUNNEL_AWS_TIMEOUT_MS: '200' });
  assert.is(r.code, 6, r.stderr);
  assert.match(
    report(r.stderr)[0]!,
    /^stormtunnel: Check Network Connection: .*\(gave up after 5 attempts\)$/,
  );
  assert.is(w.ops('GetRoleCredentials').length, 5);
});

test('an endpoint nobody listens on: ECONNREFUSED retried 5 times, exit 6', async () => {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const r = await w.st(cp, { AWS_ENDPOINT_URL_SSO: `http://127.0.0.1:${port}` });
  assert.is(r.code, 6);
  assert.equal(report(r.stderr), [
    'stormtunnel: Check Network Connection: could not reach AWS (GetRoleCredentials): ECONNREFUSED (gave up after 5 attempts)',
    '  → check your network connection, VPN and proxy settings',
  ]);
  assert.is((r.stderr.match(/retrying in/g) ?? []).length, 4);
  assert.is(w.ops('GetRoleCredentials').length, 0, 'never reached the emulator');
});

test('AWS 5xx that persist: the same network class, exit 6, 5 attempts', async () => {
  w.emu.admin.injectFault({ operation: 'GetRoleCredentials', kind: '5xx', count: 50, status: 503 });
  const r = await w.st(cp);
  assert.is(r.code, 6);
  assert.match(report(r.stderr)[0]!, /^stormtunnel: Check Network Connection: AWS had a temporary failure/);
  assert.is(w.ops('GetRoleCredentials').length, 5);
});

test('throttled GetRoleCredentials with Retry-After: 1: waits 1 s (what the service said), succeeds; 2 requests', async () => {
  w.emu.admin.injectFault({
    operation: 'GetRoleCredentials',
    kind: 'throttle',
    count: 1,
    retryAfterSeconds: 1,
  });
  const r = await w.st([...cp, '--verbose']);
  assert.is(r.code, 0, r.stderr);
  assert.equal(statuses('GetRoleCredentials'), ['throttle', 200]);
  assert.match(
    r.stderr,
    /GetRoleCredentials failed \(Rate Limited\); retrying in 1 s .*"reason":"throttled; Retry-After"/,
  );
});

test('throttled refresh (CreateToken) after the server-side expiry: waits, refreshes silently, succeeds', async () => {
  w.emu.admin.advanceClock(61 * 60_000); // the emulator's access token is over; the refresh token is not
  w.emu.admin.injectFault({ operation: 'CreateToken', kind: 'throttle', count: 2, retryAfterSeconds: 0 });
  const r = await w.st(cp);
  assert.is(r.code, 0, r.stderr);
  assert.equal(statuses('CreateToken'), ['throttle', 'throttle', 200]);
  assert.equal(
    w.ops('GetRoleCredentials').map((q) => q.errorCode ?? q.status),
    ['UnauthorizedException', 200],
  );
  assert.is(w.ops('StartDeviceAuthorization').length, 0, 'no sign-in');
  assert.is(
    (r.stderr.match(/CreateToken \(refresh\) failed \(Rate Limited\); retrying in 0 ms/g) ?? []).length,
    2,
  );
});

test('throttled StartSession (check --tunnel healthy): retried, the check passes; one more StartSession only', async () => {
  w.emu.admin.injectFault({ operation: 'StartSession', kind: 'throttle', count: 2, retryAfterSeconds: 0 });
  const r = await w.st(['check', '--tunnel', 'healthy']);
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.equal(statuses('StartSession'), ['throttle', 'throttle', 200]);
  assert.equal(statuses('TerminateSession'), [200]);
});

test('throttling that never ends: 5 attempts, then "Rate Limited" with its next step, exit 7', async () => {
  w.emu.admin.injectFault({
    operation: 'GetRoleCredentials',
    kind: 'throttle',
    count: 50,
    retryAfterSeconds: 0,
  });
  const r = await w.st(cp);
  assert.is(r.code, 7);
  assert.equal(report(r.stderr), [
    'stormtunnel: Rate Limited: AWS is limiting request rates (GetRoleCredentials): TooManyRequestsException (gave up after 5 attempts)',
    '  → stormtunnel waits and retries; with many tunnels, start fewer at once',
  ]);
  assert.is(w.ops('GetRoleCredentials').length, 5);
});

test.run();
