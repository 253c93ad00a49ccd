// examples/office-hours-retry: decisions on a fake clock, the hand-over to the built-in strategy, and real
// throttled STS calls against the emulator carried out by the engine's recovery loop.
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { inOfficeHours, officeHoursRetry } from '../../examples/office-hours-retry/index.js';
import { PluginOptionsError } from '../../src/index.js';
import {
  advanceUntil,
  createTestEngine,
  FakeClock,
  startTestEmulator,
  type TestEmulator,
} from '../../src/testing/index.js';

const test = suite('example: office-hours-retry');
let emu: TestEmulator;
test.before(async () => {
  emu = await startTestEmulator();
});
test.after(async () => {
  await emu.close();
});

const TUESDAY_10 = Date.UTC(2026, 0, 6, 10, 0); // Tuesday 6 January 2026, 10:00 UTC
const TUESDAY_20 = Date.UTC(2026, 0, 6, 20, 0);
const SATURDAY_10 = Date.UTC(2026, 0, 3, 10, 0);

const throttled = () =>
  Object.assign(new Error('Rate exceeded'), {
    name: 'ThrottlingException',
    $metadata: { httpStatusCode: 400 },
  });
const reset = () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
const expired = () =>
  Object.assign(new Error('Session token not found or invalid'), { name: 'UnauthorizedException' });

test('options are checked when the config loads', () => {
  assert.throws(
    () => officeHoursRetry({ timeZone: 'Mars/Olympus' }),
    (e: unknown) =>
      e instanceof PluginOptionsError &&
      e.message ===
        'plugin "office-hours-retry" options: timeZone: expected an IANA time zone like "Europe/Berlin"',
  );
  assert.throws(
    () => officeHoursRetry({ hours: [18, 8] }),
    /options: hours: the start must be before the end/,
  );
  assert.throws(() => officeHoursRetry({ days: ['someday'] } as never), /options: days\[0\]: /);
});

test('office hours follow the time zone', () => {
  const opts = { hours: [8, 18] as const, days: ['mon', 'tue', 'wed', 'thu', 'fri'], timeZone: 'UTC' };
  assert.ok(inOfficeHours(TUESDAY_10, opts));
  assert.not.ok(inOfficeHours(TUESDAY_20, opts));
  assert.not.ok(inOfficeHours(SATURDAY_10, opts));
  // 20:00 UTC is 05:00 on Wednesday in Tokyo.
  assert.not.ok(inOfficeHours(TUESDAY_20, { ...opts, timeZone: 'Asia/Tokyo' }));
  assert.ok(inOfficeHours(Date.UTC(2026, 0, 6, 23, 0), { ...opts, timeZone: 'Asia/Tokyo' }));
});

test('in office hours: throttling waits a fixed 5 s; the rest passes to the built-in strategy', async () => {
  const t = await createTestEngine({
    builtins: true,
    clock: new FakeClock(TUESDAY_10),
    plugins: [officeHoursRetry()],
  });
  try {
    assert.equal(await t.decide(throttled()), {
      action: 'retry',
      afterMs: 5000,
      reason: 'throttled: team fixed delay',
    });
    // Network failures: the built-in backoff (its reason names the code).
    const network = await t.decide(reset());
    assert.is(network.action, 'retry');
    assert.is(network.reason, 'ECONNRESET; backoff');
    // An expired sign-in is not a retry: the built-in strategy re-authenticates.
    assert.is((await t.decide(expired())).action, 'reauthenticate');
    // After maxAttempts (settings.retry.maxAttempts, 5) the built-in strategy gives up with its message.
    const last = await t.decide(throttled(), { attempt: 5, operation: 'StartSession' });
    assert.is(last.action, 'fail');
    assert.match(last.action === 'fail' ? (last.message ?? '') : '', /\(gave up after 5 attempts\)$/);
  } finally {
    await t.shutdown();
  }
});

test('outside office hours and at weekends: network and throttling failures are not retried', async () => {
  for (const time of [TUESDAY_20, SATURDAY_10]) {
    const t = await createTestEngine({
      builtins: true,
      clock: new FakeClock(time),
      plugins: [officeHoursRetry()],
    });
    try {
      const d = await t.decide(throttled(), { operation: 'StartSession' });
      assert.equal(d, {
        action: 'fail',
        reason: 'outside office hours: not retried',
        message:
          'Rate Limited: AWS is limiting request rates (StartSession): ThrottlingException (not retried outside office hours)',
        guidance:
          'stormtunnel waits and retries; with many tunnels, start fewer at once; run the command again when you are ready',
      });
      assert.is((await t.decide(reset())).action, 'fail');
      assert.is((await t.decide(expired())).action, 'reauthenticate');
    } finally {
      await t.shutdown();
    }
  }
});

/** A fake clock that remembers the sleeps asked of it (the waits recovery decided, whatever the I/O took). */
class SleepRecordingClock extends FakeClock {
  readonly sleeps: number[] = [];
  override sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    return super.sleep(ms, signal);
  }
}

async function callerIdentityThrottled(time: number, failures: number) {
  const clock = new SleepRecordingClock(time);
  const t = await createTestEngine({ builtins: true, clock, plugins: [officeHoursRetry()] });
  emu.emulator.admin.clearRequests();
  emu.emulator.admin.injectFault({ operation: 'GetCallerIdentity', kind: 'throttle', count: failures });
  const credentials = await t.engine.resolveCredentials({
    profile: 'ci',
    region: 'us-east-1',
    purpose: { kind: 'library' },
    chain: [],
  });
  const sts = await t.engine.services.aws.sts({ region: 'us-east-1', credentials });
  const call = t.engine.recover({ phase: 'command', operation: 'GetCallerIdentity', profile: 'ci' }, () =>
    sts.send(new GetCallerIdentityCommand({})),
  );
  const outcome = await advanceUntil(clock, call, 500).then(
    (v) => ({ ok: true as const, account: v.Account }),
    (e: unknown) => ({ ok: false as const, error: e as Error & { exitCode?: number } }),
  );
  const calls = emu.emulator.requests().filter((r) => r.operation === 'GetCallerIdentity');
  emu.emulator.admin.clearFaults();
  await t.shutdown();
  return { outcome, calls, sleeps: clock.sleeps };
}

test('against the emulator: two throttled GetCallerIdentity calls are retried 5 s apart on a Tuesday', async () => {
  const { outcome, calls, sleeps } = await callerIdentityThrottled(TUESDAY_10, 2);
  assert.equal(outcome, { ok: true, account: '111111111111' });
  assert.equal(
    calls.map((c) => c.fault ?? c.status),
    ['throttle', 'throttle', 200],
  );
  // Two waits of 5 s on the engine clock (the emulator sent Retry-After: 1, shorter than the fixed wait). The
  // waits asked for, not the clock's total: the fake clock also moves while the real HTTP calls run.
  assert.equal(sleeps, [5000, 5000]);
});

test('against the emulator: on a Saturday the first throttle is final, with exit code 7', async () => {
  const { outcome, calls } = await callerIdentityThrottled(SATURDAY_10, 1);
  assert.is(outcome.ok, false);
  if (outcome.ok) return;
  assert.match(outcome.error.message, /^Rate Limited: .*\(not retried outside office hours\)$/);
  assert.is(outcome.error.exitCode, 7);
  assert.is(calls.length, 1);
});

test.run();
