// The retry plugin: the default onError strategy. It taps at a late stage, so a team's own strategy (stage 0)
// is asked first and can answer or pass (undefined) to this one.
import { z } from 'zod';
import {
  parsePluginOptions,
  retrySettingsShape,
  type StormtunnelPlugin,
} from '../../src/plugin-kit/index.js';
import { decideRecovery } from './decide.js';
import type { RetryOptions, RetryPolicy } from './types.js';

export type { RetryOptions, RetryPolicy } from './types.js';
export { backoffDelay } from './backoff.js';
export { decideRecovery } from './decide.js';

/** Stage of the built-in strategy's tap; team strategies at the default stage 0 run before it. */
export const RETRY_STAGE = 100;

// The same knobs and limits as `settings.retry` (declared once, in the plugin kit), plus a random source.
const optionsSchema = z.strictObject({
  ...retrySettingsShape,
  random: z.optional(z.custom<() => number>((v) => typeof v === 'function', 'expected a function')),
});

export function retry(options: RetryOptions = {}): StormtunnelPlugin {
  const opts = parsePluginOptions('retry', optionsSchema, options);
  return {
    name: 'retry',
    apply(api) {
      // The plugin's own options win over the config's `settings.retry` shorthand (already with defaults).
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
