// §9: what the service enforces on a client's data-channel messages, checked per WebSocket connection:
// `rate` binary messages per second, sustained (a bucket of DEFAULT_BURST), and (our guess, unverified on
// AWS) a payload size cap.

export interface LimitViolation {
  event: 'rate-limit-exceeded' | 'payload-limit-exceeded';
  /** WebSocket close reason. */
  reason: string;
  detail: Record<string, number>;
}

/**
 * How far a client may run ahead of `rate` before it is closed: 250 messages, a quarter second at the limit.
 * §9 says the service closes a client that sends faster "for more than a moment"; an exact one-second
 * window would also close a client that sent steadily at 900/s whose messages reached us in a bunch (a
 * stall of our own event loop of ~60 ms was enough, or on the real path, network jitter).
 */
export const DEFAULT_BURST = 250;

export class ClientLimits {
  /** Token bucket: refills at `rate` per second up to `burst`; a message without a token is a violation. */
  private tokens: number;
  private last: number;
  private count = 0;

  constructor(
    private readonly rate: number | false,
    private readonly payloadLimit: number | false,
    private readonly now: () => number = () => performance.now(),
    private readonly burst = DEFAULT_BURST,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  /** Counts one binary message; a violation once the client has run `burst` messages ahead of `rate`. */
  onMessage(): LimitViolation | undefined {
    if (this.rate === false) return undefined;
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) * this.rate) / 1000);
    this.last = t;
    this.count++;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return undefined;
    }
    return {
      event: 'rate-limit-exceeded',
      reason: 'rate exceeded',
      detail: {
        limitPerSecond: this.rate,
        burst: this.burst,
        messagesOnConnection: this.count,
      },
    };
  }

  onPayload(length: number): LimitViolation | undefined {
    if (this.payloadLimit === false || length <= this.payloadLimit) return undefined;
    return {
      event: 'payload-limit-exceeded',
      reason: 'payload too large',
      detail: { payloadBytes: length, limitBytes: this.payloadLimit },
    };
  }
}
