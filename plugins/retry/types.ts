// Public types of the retry plugin.
import type { DurationInput } from '../../src/config/types.js';

export interface RetryOptions {
  /** Attempts before giving up, the first included (default: settings.retry.maxAttempts, 5). */
  maxAttempts?: number;
  /** No retry is scheduled past this much time since the operation started (default "120s"). */
  maxRecoveryDuration?: DurationInput;
  /** Spread delays randomly so many clients do not retry in step (default true). */
  jitter?: boolean;
  /** First backoff delay (default "1s"); doubles each attempt. */
  baseDelay?: DurationInput;
  /** Largest backoff delay (default "30s"). */
  maxDelay?: DurationInput;
  /** Wait after throttling when the service gives no Retry-After (default "30s"). */
  throttleDelay?: DurationInput;
  /** Random source in [0, 1), for tests. */
  random?: () => number;
}

export interface RetryPolicy {
  maxAttempts: number;
  maxRecoveryDurationMs: number;
  jitter: boolean;
  baseDelayMs: number;
  maxDelayMs: number;
  throttleDelayMs: number;
}
