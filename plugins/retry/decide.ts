// The default recovery strategy, from the product's recovery table:
// network -> backoff with jitter; throttled -> wait (Retry-After or 30 s); token expired -> re-authenticate;
// anything else -> fail with guidance. Never schedules a retry past the attempt or duration budget.
import type { ErrorInfo, RecoveryDecision } from '../../src/plugin-kit/index.js';
import { backoffDelay } from './backoff.js';
import type { RetryPolicy } from './types.js';

export function decideRecovery(info: ErrorInfo, policy: RetryPolicy, random: () => number): RecoveryDecision {
  const c = info.classification;
  if (c.class === 'token-expired') return { action: 'reauthenticate', reason: c.detail };
  if (c.class !== 'network' && c.class !== 'throttled') {
    return { action: 'fail', reason: `${c.class} errors are not retried` };
  }
  if (info.attempt >= policy.maxAttempts) {
    return {
      action: 'fail',
      reason: `gave up after ${info.attempt} attempts`,
      message: `${c.title}: ${c.detail} (gave up after ${info.attempt} attempts)`,
      guidance: c.next,
    };
  }
  const delay =
    c.class === 'throttled'
      ? (c.retryAfterMs ?? policy.throttleDelayMs)
      : backoffDelay(info.attempt, policy, random);
  if (info.elapsedMs + delay > policy.maxRecoveryDurationMs) {
    return {
      action: 'fail',
      reason: `a retry in ${delay} ms would pass the ${policy.maxRecoveryDurationMs} ms recovery budget`,
      message: `${c.title}: ${c.detail} (gave up after ${Math.round(info.elapsedMs / 1000)} s of retries)`,
      guidance: c.next,
    };
  }
  return {
    action: 'retry',
    afterMs: delay,
    reason:
      c.class === 'throttled'
        ? c.retryAfterMs !== undefined
          ? 'throttled; Retry-After'
          : 'throttled'
        : `${c.code ?? 'network'}; backoff`,
  };
}
