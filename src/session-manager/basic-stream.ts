// The single connection of basic (non-mux) port forwarding as a Duplex. The data channel owns the wiring.
import { Duplex } from 'node:stream';

export interface BasicStreamHooks {
  /** Sends a chunk to the agent; calls back when the send window has room again. */
  write(chunk: Buffer, cb: (err?: Error | null) => void): void;
  /** The consumer wants more: resume delivery if it was paused for us. */
  read(): void;
  /** The stream is gone (either side): send DisconnectToPort, let the next stream start. */
  closed(stream: BasicStream): void;
}

export class BasicStream extends Duplex {
  private readEnded = false;

  constructor(private readonly hooks: BasicStreamHooks) {
    super({ allowHalfOpen: false });
    this.once('close', () => this.hooks.closed(this));
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.hooks.write(chunk, cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    // No half-close: ending our side ends the connection.
    this.endRead();
    cb();
  }

  override _read(): void {
    this.hooks.read();
  }

  /** Returns false when the consumer's buffer is full. */
  pushFromAgent(data: Buffer): boolean {
    if (this.readEnded || this.destroyed) return true;
    return this.push(data);
  }

  endRead(): void {
    if (this.readEnded) return;
    this.readEnded = true;
    this.push(null);
  }
}
