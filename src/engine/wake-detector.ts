// Notices that the machine slept (or the wall clock jumped, or the process was frozen): timers do not run
// during suspend, so after a wake WebSockets and tokens may be stale for minutes until the next check.
// Two signs (targets-and-services.md §8): the wall clock moved against the monotonic clock (Linux's
// monotonic clock stops during suspend), or a periodic timer fired far later than asked.
import type { Clock, TimerHandle, WakeEvent } from './types.js';

export interface WakeDetectorOptions {
  clock: Clock;
  /** A clock that does not move during suspend (default `performance.now`). */
  monotonicNow?: () => number;
  /** How often to look (default 5 s). */
  intervalMs?: number;
  /** Gaps smaller than this are a busy machine, not a sleep (default 10 s). */
  thresholdMs?: number;
  onWake: (event: WakeEvent) => void;
}

/** Starts watching; returns a function that stops it. */
export function startWakeDetector(opts: WakeDetectorOptions): () => void {
  const mono = opts.monotonicNow ?? (() => performance.now());
  const interval = opts.intervalMs ?? 5000;
  const threshold = opts.thresholdMs ?? 10_000;
  let lastWall = opts.clock.now();
  let lastMono = mono();
  let handle: TimerHandle | undefined;
  let stopped = false;
  const tick = (): void => {
    if (stopped) return;
    const wall = opts.clock.now();
    const now = mono();
    const wallElapsed = wall - lastWall;
    const drift = wallElapsed - (now - lastMono);
    lastWall = wall;
    lastMono = now;
    if (Math.abs(drift) > threshold) opts.onWake({ awayMs: Math.abs(drift), detectedBy: 'clock-jump' });
    else if (wallElapsed > interval + threshold) {
      opts.onWake({ awayMs: wallElapsed - interval, detectedBy: 'late-timer' });
    }
    handle = opts.clock.setTimeout(tick, interval);
  };
  handle = opts.clock.setTimeout(tick, interval);
  return () => {
    stopped = true;
    if (handle) opts.clock.clearTimeout(handle);
  };
}
