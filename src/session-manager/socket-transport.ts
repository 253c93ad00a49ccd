// The sequencer's transport over one WebSocket connection: paces every message through the channel's
// token bucket (protocol §9: ~1000 messages/s per session, acks included) and keeps at most WS_HIGH_WATER
// bytes of data frames in the socket ahead of the network, so the send window is not held twice.
import WebSocket from 'ws';
import type { MessagePacer } from './pacer.js';
import type { SequencerTransport } from './types.js';

const WS_HIGH_WATER = 256 * 1024;
const WS_LOW_WATER = 64 * 1024;

export class SocketTransport implements SequencerTransport {
  /** Bytes of data frames handed to `ws` and not yet written to the network. */
  private unsent = 0;
  /** Frames waiting for a token, acks before data (an ack held back makes the peer resend). */
  private readonly acks: Buffer[] = [];
  private readonly data: Buffer[] = [];
  private waitingForToken = false;
  /** We told the sequencer to stop; `onDrained` tells it to go on. */
  private busy = false;
  private closed = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly pacer: MessagePacer | undefined,
    private readonly onDrained: () => void,
  ) {}

  send(frame: Buffer, kind: 'data' | 'ack'): boolean {
    if (this.closed || this.ws.readyState !== WebSocket.OPEN) return true;
    const queued = this.acks.length + this.data.length > 0;
    if (kind === 'ack') {
      if (!queued && this.token()) this.ws.send(frame);
      else this.enqueue(this.acks, frame);
      return true;
    }
    if (!queued && this.token()) this.sendData(frame);
    else this.enqueue(this.data, frame);
    if (this.canTakeMore()) return true;
    this.busy = true;
    if (this.pacer && !this.pacer.available) this.waitForToken();
    return false;
  }

  /** The connection is gone: drop what waits (data stays unacked in the sequencer and is resent). */
  close(): void {
    this.closed = true;
    this.acks.length = 0;
    this.data.length = 0;
  }

  private token(): boolean {
    return this.pacer ? this.pacer.take() : true;
  }

  private canTakeMore(): boolean {
    return (
      this.acks.length + this.data.length === 0 &&
      this.unsent < WS_HIGH_WATER &&
      (!this.pacer || this.pacer.available)
    );
  }

  private enqueue(queue: Buffer[], frame: Buffer): void {
    queue.push(frame);
    this.waitForToken();
  }

  private sendData(frame: Buffer): void {
    const n = frame.length;
    this.unsent += n;
    this.ws.send(frame, () => {
      this.unsent -= n;
      if (this.unsent <= WS_LOW_WATER) this.maybeDrained();
    });
  }

  private waitForToken(): void {
    if (this.waitingForToken || !this.pacer) return;
    this.waitingForToken = true;
    this.pacer.whenAvailable(() => {
      this.waitingForToken = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.closed || this.ws.readyState !== WebSocket.OPEN) return;
    while (this.acks.length > 0 && this.token()) {
      const ack = this.acks.shift();
      if (ack) this.ws.send(ack);
    }
    while (this.acks.length === 0 && this.data.length > 0 && this.token()) {
      const frame = this.data.shift();
      if (frame) this.sendData(frame);
    }
    if (this.acks.length + this.data.length > 0) this.waitForToken();
    else this.maybeDrained();
  }

  private maybeDrained(): void {
    if (!this.busy || this.closed) return;
    if (this.canTakeMore()) {
      this.busy = false;
      this.onDrained();
    } else if (this.unsent < WS_HIGH_WATER) {
      // Only tokens are missing: the pacer wakes us.
      this.waitForToken();
    }
  }
}
