// The retry plugin: the default onError strategy. It taps at a late stage, so a team's own strategy (stage 0)
// is asked first and can answer or pass (undefined) to this one.
import { z } from 'zod';
import { duration, parsePluginOptions, type StormtunnelPlugin } from '../../src/plugin-kit/index.js';
import { decideRecovery } from './decide.js';
import type { RetryOptions, RetryPolicy } from './types.js';

export type { RetryOptions, RetryPolicy } from './types.js';
export { backoffDelay } from './backoff.js';
export { decideRecovery } from './decide.js';

/** Stage of the built-in strategy's tap; team strategies at the default stage 0 run before it. */
export const RETRY_STAGE = 100;

const optionsSchema = z.strictObject({
  maxAttempts: z.optional(z.number().int().min(1).max(50)),
  maxRecoveryDuration: z.optional(duration({ min: 1000, max: 3_600_000 })),
  jitter: z.optional(z.boolean()),
  baseDelay: z.optional(duration({ min: 1, max: 600_000 })),
  maxDelay: z.optional(duration({ min: 1, max: 3_600_000 })),
  throttleDelay: z.optional(duration({ min: 0, max: 600_000 })),
  random: z.optional(z.custom<() => number>((v) => typeof v === 'function', 'expected a function')),
});

export function retry(options: RetryOptions = {}): StormtunnelPlugin {
  const opts = parsePluginOptions('retry', optionsSchema, options);
  return {
    name: 'retry',
    apply(api) {
      const s = api.settings.retry;
      const policy: RetryPolicy = {
        maxAttempts: opts.maxAttempts ?? s.maxAttempts,
        maxRecoveryDurationMs: opts.maxRecoveryDuration ?? s.maxRecoveryDurationMs,
        jitter: opts.jitter ?? s.jitter,
        baseDelayMs: opts.baseDelay ?? s.baseDelayMs,
        maxDelayMs: opts.maxDelay ?? s.maxDelayMs,
        throttleDelayMs: opts.throttleDelay ?? s.throttleDelayMs,
      };
      const random = opts.random ?? Math.random;
      api.hooks.onError.tap(
        (info) => {
          const decision = decideRecovery(info, policy, random);
          api.logger.debug(`${info.operation}: ${decision.action}`, {
            attempt: info.attempt,
            elapsedMs: info.elapsedMs,
            class: info.classification.class,
            reason: decision.reason,
            ...(decision.action === 'retry' ? { afterMs: decision.afterMs } : {}),
          });
          return decision;
        },
        { stage: RETRY_STAGE },
      );
    },
  };
}
