// Recovery in fake time, in-process against the emulator (whose clock is the engine's): the decided waits
// (30 s default, Retry-After, backoff), token expiry by the clock (silent refresh, then a sign-in needed),
// counted in the emulator's request log. Nothing here really waits.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { profileCredentials } from '../../plugins/profile-credentials/index.js';
import { retry } from '../../plugins/retry/index.js';
import { sso } from '../../plugins/sso/index.js';
import { createAwsClientFactory } from '../../src/aws-sdk/client-factory.js';
import { DEFAULT_SETTINGS } from '../../src/config/defaults.js';
import { FakeClock } from '../../src/engine/clock.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import type { RecoveryFailedError } from '../../src/engine/recovery.js';
import type { AwsClientFactory } from '../../src/engine/types.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { seedConfig } from '../helpers/seed-config.js';
import { testAwsHome, type TestAwsHome } from '../../src/testing/index.js';
import { advanceUntil } from '../helpers/fake-time.js';
import { captureLogger } from '../helpers/logger.js';

const test = suite('error recovery in fake time');
const clock = new FakeClock();
const logger = captureLogger();
let emu: RunningEmulator;
let home: TestAwsHome;
let engine: Engine;
/** When true, SSO portal answers lose their Retry-After header: a service that says nothing. */
let stripRetryAfter = false;

/** The real client factory; the SSO client optionally drops Retry-After before the SDK reads the response. */
function awsFactory(): AwsClientFactory {
  const real = createAwsClientFactory();
  return {
    ...real,
    async sso(o) {
      const client = await real.sso(o);
      client.middlewareStack.add(
        (next) => async (args) => {
          const out = await next(args);
          const res = out.response as { headers?: Record<string, string> };
          if (stripRetryAfter && res.headers) delete res.headers['retry-after'];
          return out;
        },
        { step: 'deserialize', priority: 'low', name: 'test-strip-retry-after' },
      );
      return client;
    },
  };
}

const ops = (operation: string) => emu.requests().filter((q) => q.operation === operation);
const retryLines = () => logger.records.filter((r) => / retrying in /.test(r.msg)).map((r) => r.msg);

function resolve(profile = 'dev') {
  return engine.resolveCredentials({
    profile,
    region: 'us-east-1',
    purpose: { kind: 'command', command: 'credential-process' },
    chain: [],
    allowSignIn: false,
    forceRefresh: true,
  });
}

test.before(async () => {
  emu = await startEmulator({ port: 0, autoApprove: true, now: () => clock.now() });
  home = testAwsHome({ config: seedConfig(emu.startUrl), emulatorEnv: emu.env() });
  process.env.STORMTUNNEL_STATE_DIR = home.home;
  engine = await createEngine({
    plugins: [
      profileCredentials(),
      sso({ sessions: { work: { useDeviceCode: true } } }),
      retry({ jitter: false }),
    ],
    settings: { ...DEFAULT_SETTINGS, keychain: false, notifications: false },
    logger,
    clock,
    services: { aws: awsFactory() },
  });
  await advanceUntil(clock, engine.signIn({ profile: 'dev', noBrowser: true }), 1000, 60);
});

test.after(async () => {
  await engine.shutdown({ reason: 'command-done' });
  await emu.close();
  home.cleanup();
});

test.before.each(() => {
  emu.admin.clearRequests();
  emu.admin.clearFaults();
  logger.records.length = 0;
  stripRetryAfter = false;
});

test('rate limited without Retry-After: waits the 30 s default, then succeeds; 2 requests, not more', async () => {
  stripRetryAfter = true;
  emu.admin.injectFault({ operation: 'GetRoleCredentials', kind: 'throttle', count: 1 });
  const creds = await advanceUntil(clock, resolve(), 1000, 120);
  assert.match(creds.accessKeyId, /^ASIA/);
  assert.equal(retryLines(), ['GetRoleCredentials failed (Rate Limited); retrying in 30 s']);
  const decided = logger.records.find((r) => r.msg === 'GetRoleCredentials: retry');
  assert.is(decided?.fields.afterMs, 30_000);
  assert.is(decided?.fields.reason, 'throttled');
  const calls = ops('GetRoleCredentials');
  assert.equal(
    calls.map((q) => q.status),
    [429, 200],
    'the SDK did not retry on its own',
  );
  // The wait ran on the (fake) emulator clock: at least the 30 s decided. Not exactly: the fake clock also
  // moves in 1 s steps while the real HTTP calls are in flight, more of them on a busy machine.
  const gap = Date.parse(calls[1]!.time) - Date.parse(calls[0]!.time);
  assert.ok(gap >= 30_000 && gap < 60_000, `${gap} ms between the calls on the emulator clock`);
});

test('rate limited with Retry-After: 7: waits what the service says', async () => {
  emu.admin.injectFault({
    operation: 'GetRoleCredentials',
    kind: 'throttle',
    count: 2,
    retryAfterSeconds: 7,
  });
  await advanceUntil(clock, resolve(), 1000, 120);
  assert.equal(retryLines(), [
    'GetRoleCredentials failed (Rate Limited); retrying in 7 s',
    'GetRoleCredentials failed (Rate Limited); retrying in 7 s',
  ]);
  assert.equal(
    ops('GetRoleCredentials').map((q) => q.status),
    [429, 429, 200],
  );
});

test('network resets: backoff 1, 2, 4, 8 s, then "Check Network Connection" after 5 attempts (exit 6)', async () => {
  emu.admin.injectFault({ operation: 'GetRoleCredentials', kind: 'reset', count: 10 });
  const err = await advanceUntil(clock, resolve(), 500, 200).then(
    () => assert.unreachable('should fail'),
    (e: unknown) => e,
  );
  assert.instance(err, Error);
  const e = err as RecoveryFailedError;
  assert.is(e.exitCode, 6);
  assert.match(
    e.message,
    /^Check Network Connection: could not reach AWS \(GetRoleCredentials\): ECONNRESET \(gave up after 5 attempts\)$/,
  );
  assert.is(e.hint, 'check your network connection, VPN and proxy settings');
  assert.equal(retryLines(), [
    'GetRoleCredentials failed (Check Network Connection); retrying in 1 s',
    'GetRoleCredentials failed (Check Network Connection); retrying in 2 s',
    'GetRoleCredentials failed (Check Network Connection); retrying in 4 s',
    'GetRoleCredentials failed (Check Network Connection); retrying in 8 s',
  ]);
  assert.is(ops('GetRoleCredentials').length, 5, 'exactly the attempts the retry plugin decided');
  const retried = logger.records.find((r) => / retrying in /.test(r.msg));
  assert.is(retried?.fields.errorCode, 'ECONNRESET', 'the error code is logged (not redacted)');
});

test('token expired by the clock, refresh token valid: silent refresh, even through a throttled CreateToken', async () => {
  await clock.advance(61 * 60_000); // access token (60 min) over, sign-in session (8 h) not
  emu.admin.injectFault({ operation: 'CreateToken', kind: 'throttle', count: 1, retryAfterSeconds: 2 });
  const creds = await advanceUntil(clock, resolve(), 1000, 120);
  assert.match(creds.accessKeyId, /^ASIA/);
  const tokens = ops('CreateToken');
  assert.equal(
    tokens.map((q) => q.status),
    [429, 200],
  );
  assert.is(tokens[1]!.params.grantType, 'refresh_token');
  assert.ok(retryLines().includes('CreateToken (refresh) failed (Rate Limited); retrying in 2 s'));
  assert.ok(logger.records.some((r) => /^refreshed the sign-in of work/.test(r.msg)));
  assert.is(ops('StartDeviceAuthorization').length, 0, 'no sign-in');
});

test('past the end of the sign-in session: "SSO Authentication Required", run: stormtunnel login --profile dev, exit 3', async () => {
  await clock.advance(9 * 3600_000); // past the 8 h refresh token
  const err = await advanceUntil(clock, resolve(), 1000, 60).then(
    () => assert.unreachable('should fail'),
    (e: unknown) => e,
  );
  const e = err as { message: string; hint?: string; exitCode?: number };
  assert.match(e.message, /^SSO Authentication Required: .*SSO session "work"/);
  assert.is(e.hint, 'run: stormtunnel login --profile dev');
  assert.is(e.exitCode, 3);
  assert.is(ops('GetRoleCredentials').length, 0, 'no call with a token known to be dead');
});

test('a revoked sign-in (refresh token refused too): SSO Authentication Required with the profile, exit 3', async () => {
  await advanceUntil(clock, engine.signIn({ profile: 'dev', noBrowser: true }), 1000, 60);
  await resolve();
  emu.admin.clearRequests();
  emu.admin.revokeTokens();
  const err = await advanceUntil(clock, resolve(), 1000, 60).then(
    () => assert.unreachable('should fail'),
    (e: unknown) => e,
  );
  const e = err as { message: string; hint?: string; exitCode?: number };
  assert.match(e.message, /^SSO Authentication Required: /);
  assert.is(e.hint, 'run: stormtunnel login --profile dev');
  assert.is(e.exitCode, 3);
  assert.equal(
    emu.requests().map((q) => `${q.operation} ${q.errorCode ?? q.status}`),
    ['GetRoleCredentials UnauthorizedException', 'CreateToken InvalidGrantException'],
    'one refresh attempt, no retries of a refused token',
  );
});

test.run();
