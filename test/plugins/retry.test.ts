import { TooManyRequestsException } from '@aws-sdk/client-sso';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { retry, backoffDelay } from '../../plugins/retry/index.js';
import { DEFAULT_SETTINGS } from '../../src/config/defaults.js';
import { FakeClock } from '../../src/engine/clock.js';
import { createEngine } from '../../src/engine/engine.js';
import type { StormtunnelPlugin } from '../../src/engine/plugin.js';
import { RecoveryFailedError } from '../../src/engine/recovery.js';
import type { RecoverableOperation } from '../../src/engine/types.js';
import { captureLogger } from '../helpers/logger.js';

const netErr = () => Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
const throttle = (retryAfter?: string) =>
  Object.assign(
    new TooManyRequestsException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 429 } }),
    {
      $response: { statusCode: 429, headers: retryAfter ? { 'retry-after': retryAfter } : {} },
    },
  );

async function setup(plugins: StormtunnelPlugin[]) {
  const clock = new FakeClock();
  const logger = captureLogger();
  const engine = await createEngine({ plugins, settings: DEFAULT_SETTINGS, logger, clock });
  return { clock, engine, logger };
}

/** Runs an operation with recovery in fake time; returns when it settles, with the times each attempt started. */
async function drive<T>(
  s: Awaited<ReturnType<typeof setup>>,
  op: RecoverableOperation,
  fn: (attempt: number) => Promise<T>,
): Promise<{ result?: T; error?: unknown; attemptTimes: number[] }> {
  const attemptTimes: number[] = [];
  const start = s.clock.now();
  let settled = false;
  let out: { result?: T; error?: unknown } = {};
  s.engine
    .recover(op, (n) => {
      attemptTimes.push(s.clock.now() - start);
      return fn(n);
    })
    .then(
      (result) => (out = { result }),
      (error: unknown) => (out = { error }),
    )
    .finally(() => (settled = true));
  for (let i = 0; i < 1000 && !settled; i++) await s.clock.advance(250);
  assert.ok(settled, 'the operation settled within the simulated time');
  return { ...out, attemptTimes };
}

const op: RecoverableOperation = { phase: 'credentials', operation: 'GetRoleCredentials', profile: 'dev' };

const strategy = suite('retry strategy');

strategy('throttling then success: waits the 30 s default, then succeeds', async () => {
  const s = await setup([retry({ jitter: false })]);
  const r = await drive(s, op, async (n) => {
    if (n === 1) throw throttle();
    return 'ok';
  });
  assert.is(r.result, 'ok');
  assert.equal(r.attemptTimes, [0, 30_000]);
});

strategy('Retry-After from the service is honoured instead of the default', async () => {
  const s = await setup([retry({ jitter: false })]);
  const r = await drive(s, op, async (n) => {
    if (n === 1) throw throttle('7');
    return 'ok';
  });
  assert.equal(r.attemptTimes, [0, 7000]);
});

strategy('five network failures end in "Check Network Connection" within the budget', async () => {
  const s = await setup([retry({ jitter: false })]);
  const r = await drive(s, op, async () => {
    throw netErr();
  });
  assert.instance(r.error, RecoveryFailedError);
  const e = r.error as RecoveryFailedError;
  assert.is(e.attempts, 5);
  assert.match(
    e.message,
    /^Check Network Connection: could not reach AWS \(GetRoleCredentials\): ECONNRESET \(gave up after 5 attempts\)$/,
  );
  assert.is(e.hint, 'check your network connection, VPN and proxy settings');
  assert.is(e.exitCode, 6);
  assert.equal(r.attemptTimes, [0, 1000, 3000, 7000, 15_000], 'backoff 1, 2, 4, 8 s');
  assert.ok(r.attemptTimes.at(-1)! <= 120_000);
});

strategy('retries never outlive the recovery budget', async () => {
  const s = await setup([retry({ jitter: false, maxAttempts: 50, maxRecoveryDuration: '120s' })]);
  const r = await drive(s, op, async () => {
    throw throttle(); // 30 s each
  });
  assert.instance(r.error, RecoveryFailedError);
  assert.equal(r.attemptTimes, [0, 30_000, 60_000, 90_000, 120_000]);
  assert.match((r.error as Error).message, /^Rate Limited: /);
});

strategy(
  'non-transient errors fail at once with their guidance; token expiry asks to re-authenticate',
  async () => {
    const s = await setup([retry()]);
    const denied = await drive(s, { ...op, action: 'sso:GetRoleCredentials' }, async () => {
      throw Object.assign(new Error('No access'), { name: 'ForbiddenException' });
    });
    assert.equal(denied.attemptTimes, [0]);
    assert.is(
      (denied.error as Error).message,
      'Contact AWS Administrator: sso:GetRoleCredentials was denied for profile "dev" (GetRoleCredentials)',
    );

    let reauths = 0;
    const expired = await drive(
      s,
      {
        ...op,
        reauthenticate: async () => {
          reauths++;
        },
      },
      async (n) => {
        if (n === 1)
          throw Object.assign(new Error('Session token not found or invalid'), {
            name: 'UnauthorizedException',
          });
        return 'after sign-in';
      },
    );
    assert.is(reauths, 1);
    assert.is(expired.result, 'after sign-in');
  },
);

strategy('jitter spreads 100 simulated clients: no two identical schedules, all within bounds', async () => {
  const policy = { baseDelayMs: 1000, maxDelayMs: 30_000, jitter: true };
  const schedules = new Set<string>();
  for (let client = 0; client < 100; client++) {
    const delays = [1, 2, 3, 4].map((attempt) => backoffDelay(attempt, policy, Math.random));
    delays.forEach((d, i) => {
      const exp = Math.min(30_000, 1000 * 2 ** i);
      assert.ok(d >= exp / 2 && d <= exp, `attempt ${i + 1}: ${d} within [${exp / 2}, ${exp}]`);
    });
    schedules.add(delays.join(','));
  }
  assert.is(schedules.size, 100);
});

strategy('a team retry plugin overrides the default; passing (undefined) falls back to it', async () => {
  const decisions: string[] = [];
  const team: StormtunnelPlugin = {
    name: 'team-retry',
    apply(api) {
      api.hooks.onError.tap((info) => {
        decisions.push(info.classification.class);
        if (info.classification.class === 'network')
          return { action: 'retry', afterMs: 5, reason: 'team: fast retry' };
        return undefined;
      });
    },
  };
  // Listed after retry on purpose: the built-in taps at a late stage, so the team's strategy still goes first.
  const s = await setup([retry({ jitter: false }), team]);
  const r = await drive(s, op, async (n) => {
    if (n < 3) throw netErr();
    if (n === 3) throw throttle();
    return 'done';
  });
  assert.is(r.result, 'done');
  assert.equal(r.attemptTimes, [0, 5, 10, 30_010]);
  assert.equal(decisions, ['network', 'network', 'throttled']);
});

strategy('a decision is logged with its reason', async () => {
  const s = await setup([retry({ jitter: false })]);
  await drive(s, op, async (n) => {
    if (n === 1) throw netErr();
    return 1;
  });
  const line = s.logger.records.find((r) => /retrying in 1 s/.test(r.msg));
  assert.ok(line, 'logged');
  assert.is(line.fields.reason, 'ECONNRESET; backoff');
});

strategy('options are validated when the config loads', () => {
  assert.throws(() => retry({ maxAttempts: 0 }), /plugin "retry" options: maxAttempts/);
  assert.throws(
    () => retry({ baseDelay: 'soon' as never }),
    /plugin "retry" options: baseDelay: expected a duration/,
  );
});

strategy.run();
