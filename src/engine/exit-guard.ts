// Work that must finish before the process exits, whatever stops it: the durable write of a rotated SSO
// refresh token. IAM Identity Center replaces the refresh token at CreateToken and documents no grace period
// for the old one, so a process that exits between the answer and the write leaves a refresh token the
// service no longer accepts, and the user must sign in again. A signal handler (src/cli/signals.ts) and the
// engine's shutdown wait here, bounded, before they let the process go.

export interface GuardedWork {
  /** What is being finished, for the line printed while a signal waits ("saving the refreshed sign-in"). */
  readonly what: string;
  readonly done: Promise<unknown>;
}

export class ExitGuard {
  private readonly pending = new Set<GuardedWork>();

  /** Runs `fn`; until it settles, a stop waits for it. Its result and failure are the caller's. */
  run<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const result = fn();
    const work: GuardedWork = { what, done: result.then(noop, noop) };
    this.pending.add(work);
    void work.done.then(() => this.pending.delete(work));
    return result;
  }

  get busy(): boolean {
    return this.pending.size > 0;
  }

  /** What is running now, each named once. */
  describe(): string[] {
    return [...new Set([...this.pending].map((w) => w.what))];
  }

  /**
   * Resolves once nothing is pending (work started meanwhile included), true; or false after `timeoutMs`:
   * a request that never answers must not keep a stopped process alive.
   */
  async settled(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      while (this.pending.size > 0) {
        const all = Promise.all([...this.pending].map((w) => w.done)).then(() => true as const);
        if (!(await Promise.race([all, timedOut]))) return false;
      }
      return true;
    } finally {
      clearTimeout(timer);
    }
  }
}

function noop(): void {}

/** One per process: signals are process-wide, and so is the work they must not cut short. */
export const exitGuard = new ExitGuard();

/** How long a stop waits for guarded work: a CreateToken on a slow network plus two local writes. */
export const EXIT_GUARD_TIMEOUT_MS = 15_000;
