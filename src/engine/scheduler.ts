// The engine's timers: repeating plugin tasks (`api.every`) and long-running watchers, all on the engine's
// clock (a FakeClock in tests), all stopped at shutdown.
import { ExitGuard } from './exit-guard.js';
import type { Clock, Logger } from './types.js';

export class Scheduler {
  private readonly cancels = new Set<() => void>();
  // Runs still going: shutdown waits for them, so no plugin task writes (a token, the AWS CLI cache) after
  // the engine has stopped.
  private readonly runs = new ExitGuard();

  constructor(private readonly clock: Clock) {}

  /** Runs `task` every `intervalMs`; a run still going when the next is due is skipped, never overlapped. */
  every(intervalMs: number, task: () => Promise<void>, logger: Logger): () => void {
    let handle: ReturnType<Clock['setTimeout']> | undefined;
    let running = false;
    let stopped = false;
    const tick = () => {
      if (stopped) return;
      if (!running) {
        running = true;
        this.runs
          .run('a scheduled task', task)
          .catch((err: unknown) => logger.error('scheduled task failed', { err }))
          .finally(() => (running = false));
      }
      handle = this.clock.setTimeout(tick, intervalMs);
    };
    handle = this.clock.setTimeout(tick, intervalMs);
    const cancel = () => {
      stopped = true;
      if (handle) this.clock.clearTimeout(handle);
      this.cancels.delete(cancel);
    };
    this.cancels.add(cancel);
    return cancel;
  }

  /** Stops `cancel`'s timer with the others at shutdown. */
  add(cancel: () => void): void {
    this.cancels.add(cancel);
  }

  stopAll(): void {
    for (const cancel of [...this.cancels]) cancel();
    this.cancels.clear();
  }

  /** True once no run is going; false after `timeoutMs` of real time (a request that never answers). */
  settled(timeoutMs: number): Promise<boolean> {
    return this.runs.settled(timeoutMs);
  }
}
