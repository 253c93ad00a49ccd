// Agent output path: bytes bound for the client (smux frames or target data) cut into Output payloads,
// optionally paced like the real agent (1024 bytes, then 1 ms sleep).

export interface OutputPumpOptions {
  /** Sends one Output payload. */
  send(chunk: Buffer): void;
  /** Whether the data channel accepts more now. */
  canSend(): boolean;
  pacing: boolean;
  /** Payload size when not paced (default 32768). */
  chunkSize?: number;
  /** Queue size above which `enqueue` returns false (default 1 MiB). */
  highWater?: number;
  /** Called when the queue went below highWater after `enqueue` returned false. */
  onDrain(): void;
}

export class OutputPump {
  private readonly queue: Buffer[] = [];
  private queued = 0;
  private needDrain = false;
  private pacingTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private running = false;
  /** Queue size above which `enqueue` returns false (mux mode lowers it to one smux frame, see session.ts). */
  highWater: number;

  constructor(private readonly opts: OutputPumpOptions) {
    this.highWater = opts.highWater ?? 1024 * 1024;
  }

  get queuedBytes(): number {
    return this.queued;
  }

  enqueue(buf: Buffer): boolean {
    if (this.closed) return false;
    if (buf.length > 0) {
      this.queue.push(buf);
      this.queued += buf.length;
    }
    this.kick();
    const ok = this.queued < this.highWater;
    if (!ok) this.needDrain = true;
    return ok;
  }

  /** Try to send (call when the data channel drains or publication restarts). */
  kick(): void {
    if (this.closed || this.running || this.pacingTimer) return;
    this.running = true;
    try {
      const size = this.opts.pacing ? 1024 : (this.opts.chunkSize ?? 32768);
      while (this.queued > 0 && this.opts.canSend() && !this.closed) {
        this.opts.send(this.take(size));
        if (this.opts.pacing) {
          this.pacingTimer = setTimeout(() => {
            this.pacingTimer = undefined;
            this.kick();
          }, 1);
          break;
        }
      }
    } finally {
      this.running = false;
    }
    if (this.needDrain && this.queued < this.highWater) {
      this.needDrain = false;
      this.opts.onDrain();
    }
  }

  close(): void {
    this.closed = true;
    if (this.pacingTimer) clearTimeout(this.pacingTimer);
    this.pacingTimer = undefined;
    this.queue.length = 0;
    this.queued = 0;
  }

  private take(n: number): Buffer {
    const parts: Buffer[] = [];
    let got = 0;
    while (got < n && this.queue.length > 0) {
      const head = this.queue[0];
      if (!head) break;
      const k = Math.min(head.length, n - got);
      parts.push(head.subarray(0, k));
      got += k;
      if (k === head.length) this.queue.shift();
      else this.queue[0] = head.subarray(k);
    }
    this.queued -= got;
    return parts.length === 1 && parts[0] ? parts[0] : Buffer.concat(parts, got);
  }
}
