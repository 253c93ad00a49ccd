// A stand-alone resume policy for users of the data channel without the engine (tests, scripts): the
// reference client's schedule (§6: 100-200 ms doubling to 5 s, 5 attempts). Tunnels do not use it: their
// retries are decided by the engine's onError hook.
import { backgroundClock } from '../engine/clock.js';
import type { Clock } from '../engine/types.js';
import type { LostConnection, ResumeResult } from './types.js';

export interface ResumeWithBackoffOptions {
  /** Tries per loss (default 5). */
  maxAttempts?: number;
  /** Random source in [0, 1) for the jitter (default Math.random). */
  random?: () => number;
  clock?: Clock;
  /** Hears each failed try. */
  onAttemptFailed?: (attempt: number, error: Error) => void;
}

/** Builds a data channel `resume` option from a ResumeSession call. */
export function resumeWithBackoff(
  resumeSession: () => Promise<ResumeResult>,
  opts: ResumeWithBackoffOptions = {},
): (lost: LostConnection) => Promise<void> {
  const timers = opts.clock ?? backgroundClock;
  const random = opts.random ?? Math.random;
  const maxAttempts = opts.maxAttempts ?? 5;
  return async (lost) => {
    let last: Error = new Error(lost.cause);
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const ms = Math.min(5000, (100 + random() * 100) * 2 ** (attempt - 1));
      await new Promise<void>((resolve) => timers.setTimeout(resolve, ms));
      try {
        await lost.reconnect(await resumeSession());
        return;
      } catch (err) {
        last = err instanceof Error ? err : new Error(String(err));
        opts.onAttemptFailed?.(attempt, last);
      }
    }
    throw new Error(`resume failed after ${maxAttempts} attempts: ${last.message}`, { cause: last });
  };
}
