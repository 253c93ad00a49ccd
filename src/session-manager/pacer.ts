// Token bucket for the messages a client sends on one data channel. The real service allows about 1000
// messages per second per session and closes the WebSocket of a client that sends faster (protocol §9), so
// everything the client sends (stream data, acks, flags) takes a token first.
import type { Clock, TimerHandle } from '../engine/types.js';

/** 900/s with a burst of 50: at most 950 in any one-second window, under the service's ~1000. */
export const DEFAULT_MESSAGE_RATE = 900;
export const DEFAULT_MESSAGE_BURST = 50;

/** Tokens a waiting sender is woken for: one timer per batch, not per message (~9 ms at 900/s). */
const WAKE_BATCH = 8;

export interface MessagePacerOptions {
  /** Messages per second. */
  ratePerSecond: number;
  /** Tokens the bucket holds when full (the largest burst). */
  burst: number;
  clock: Clock;
}

export class MessagePacer {
  private tokens: number;
  private refilledAt: number;
  private wakeTimer: TimerHandle | undefined;
  private readonly waiters: (() => void)[] = [];
  private closed = false;

  constructor(private readonly opts: MessagePacerOptions) {
    if (!(opts.ratePerSecond > 0) || !(opts.burst >= 1)) {
      throw new RangeError('a message pacer needs a positive rate and a burst of at least 1');
    }
    this.tokens = opts.burst;
    this.refilledAt = opts.clock.now();
  }

  /** Takes one token if there is one. */
  take(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Whether a token is there now (without taking it). */
  get available(): boolean {
    this.refill();
    return this.tokens >= 1;
  }

  /** Calls `cb` once, from a timer, when a batch of tokens is there; waiters are served in order. */
  whenAvailable(cb: () => void): void {
    if (this.closed) return;
    this.waiters.push(cb);
    this.schedule();
  }

  close(): void {
    this.closed = true;
    this.waiters.length = 0;
    if (this.wakeTimer !== undefined) this.opts.clock.clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
  }

  private refill(): void {
    const now = this.opts.clock.now();
    const elapsed = now - this.refilledAt;
    if (elapsed <= 0) return;
    this.refilledAt = now;
    this.tokens = Math.min(this.opts.burst, this.tokens + (elapsed * this.opts.ratePerSecond) / 1000);
  }

  private schedule(): void {
    if (this.wakeTimer !== undefined || this.closed) return;
    this.refill();
    const want = Math.min(WAKE_BATCH, this.opts.burst);
    const ms = Math.max(1, Math.ceil(((want - this.tokens) * 1000) / this.opts.ratePerSecond));
    this.wakeTimer = this.opts.clock.setTimeout(() => {
      this.wakeTimer = undefined;
      for (const cb of this.waiters.splice(0)) cb();
      if (this.waiters.length > 0) this.schedule();
    }, ms);
  }
}
