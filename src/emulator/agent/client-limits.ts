// §9: what the service enforces on a client's data-channel messages, checked per WebSocket connection:
// at most `rate` binary messages in any 1000 ms, and (our guess, unverified on AWS) a payload size cap.

export interface LimitViolation {
  event: 'rate-limit-exceeded' | 'payload-limit-exceeded';
  /** WebSocket close reason. */
  reason: string;
  detail: Record<string, number>;
}

export const WINDOW_MS = 1000;

export class ClientLimits {
  /** Arrival times of the last `rate` messages (a ring): O(1) per message, exact sliding window. */
  private readonly stamps: Float64Array | undefined;
  private next = 0;
  private count = 0;

  constructor(
    private readonly rate: number | false,
    private readonly payloadLimit: number | false,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (rate !== false) this.stamps = new Float64Array(rate);
  }

  /** Counts one binary message; a violation when it is message rate+1 within WINDOW_MS. */
  onMessage(): LimitViolation | undefined {
    const stamps = this.stamps;
    if (!stamps || this.rate === false) return undefined;
    const t = this.now();
    this.count++;
    // stamps[next] holds the arrival of the message `rate` messages before this one.
    const over = this.count > this.rate && t - (stamps[this.next] ?? 0) < WINDOW_MS;
    stamps[this.next] = t;
    this.next = (this.next + 1) % this.rate;
    if (!over) return undefined;
    return {
      event: 'rate-limit-exceeded',
      reason: 'rate exceeded',
      detail: {
        limitPerSecond: this.rate,
        messagesInWindow: this.rate + 1,
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
