// smux protocol v1 (xtaci/smux) over an arbitrary byte stream: 8-byte header (version 1, cmd, uint16 LE
// length, uint32 LE stream id). Input may be split at any byte; streams are Node Duplexes without half-close.
import { EventEmitter } from 'node:events';
import { Duplex } from 'node:stream';
import { SmuxError } from './errors.js';
import { realTimers } from './timers.js';
import type { SmuxOptions, SmuxStreamInfo, TimerApi } from './types.js';

export const SMUX_VERSION = 1;
export const SmuxCmd = { SYN: 0, FIN: 1, PSH: 2, NOP: 3 } as const;
export const SMUX_HEADER_SIZE = 8;
export const DEFAULT_MAX_FRAME = 32768;
/**
 * Unsent stream data the session queues before it holds back the write callbacks of the streams whose data
 * went out (which keeps their sources paused). This bounds writers that do not ask for room first
 * (`pipe()`, the emulator's agent); tunnels ask (ROOM_THRESHOLD), so their chunks never queue up here.
 */
export const QUEUE_HIGH_WATER = 256 * 1024;
/**
 * Queued stream data below which the session has room for another write at once (`hasRoomToWrite`). A
 * source that reads only when there is room (tunnels' local sockets) leaves the rest in the kernel: with
 * 200 busy streams each otherwise held one chunk here and read one more ahead, 25 MB of live Buffers.
 */
export const ROOM_THRESHOLD = 64 * 1024;

export function encodeSmuxFrame(cmd: number, streamId: number, data?: Buffer): Buffer {
  const len = data?.length ?? 0;
  if (len > 0xffff) throw new SmuxError(`smux frame too large (${len})`);
  const buf = Buffer.allocUnsafe(SMUX_HEADER_SIZE + len);
  buf[0] = SMUX_VERSION;
  buf[1] = cmd;
  buf.writeUInt16LE(len, 2);
  buf.writeUInt32LE(streamId >>> 0, 4);
  if (data) data.copy(buf, SMUX_HEADER_SIZE);
  return buf;
}

/** A frame to send, encoded only when the sink takes it; PSH data is cut into frames on the way out. */
interface QueuedFrame {
  cmd: number;
  sid: number;
  data: Buffer | undefined;
  /** How much of `data` went out already. */
  off: number;
  cb: ((err?: Error | null) => void) | undefined;
}

/** One multiplexed connection. Ends both directions when either side closes. */
export class SmuxStream extends Duplex implements SmuxStreamInfo {
  bytesReceived = 0;
  bytesSent = 0;
  /** FIN sent by us. */
  finSent = false;
  /** No more data will be pushed (remote FIN, local end or destroy). */
  readClosed = false;

  constructor(
    private readonly session: SmuxSession,
    readonly id: number,
  ) {
    super({ allowHalfOpen: false });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.session.writeStreamData(this, chunk, cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.session.sendFin(this);
    this.endRead();
    cb();
  }

  override _read(): void {
    this.session.onStreamRead();
  }

  /** The session can send a write at once (WriteRoom): its queue is short and the sink takes frames. */
  hasRoomToWrite(): boolean {
    return this.session.hasRoom();
  }

  /** Calls `cb` once, later, when the session has room (never synchronously); dropped if it closes. */
  onRoomToWrite(cb: () => void): void {
    this.session.waitForRoom(cb);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.readClosed = true;
    this.session.onStreamDestroyed(this);
    cb(err);
  }

  /** @internal */
  pushData(data: Buffer): void {
    if (this.readClosed || this.destroyed) return;
    this.bytesReceived += data.length;
    this.push(data);
  }

  /** @internal */
  endRead(): void {
    if (this.readClosed) return;
    this.readClosed = true;
    this.push(null);
  }
}

/**
 * Events: 'stream' (SmuxStream opened by the peer), 'close' (Error | undefined), 'receiveReady' (the
 * receive buffer drained below the limit after `receiveReady` was false).
 */
export class SmuxSession extends EventEmitter {
  private readonly timers: TimerApi;
  private readonly sink: (chunk: Buffer) => boolean;
  private readonly frameSink: SmuxOptions['writeFrame'];
  /** Reused for every frame given to `writeFrame` (it copies the header before returning). */
  private readonly header8 = Buffer.alloc(SMUX_HEADER_SIZE);
  private readonly maxFrame: number;
  private readonly maxReceiveBuffer: number;
  private readonly onRemoteFin: SmuxOptions['onRemoteFin'];
  private readonly streams = new Map<number, SmuxStream>();
  private nextId: number;
  private readonly queue: QueuedFrame[] = [];
  /** Bytes of stream data in `queue` not yet given to the sink. */
  private queuedData = 0;
  /** Write callbacks of sent chunks held back while `queuedData` is over QUEUE_HIGH_WATER, oldest first. */
  private readonly heldBack: ((err?: Error | null) => void)[] = [];
  /** Streams' sources waiting for room to write, oldest first (each gets its turn). */
  private readonly roomWaiters: (() => void)[] = [];
  private grantingRoom = false;
  private sinkWritable = true;
  private recvBlocked = false;
  private closedFlag = false;
  private keepAliveTimer: unknown;
  private watchdogTimer: unknown;
  private dataSeen = false;

  // Incoming reassembly: chunks not yet parsed, plus the parsed header of the frame being awaited.
  private readonly chunks: Buffer[] = [];
  private chunkBytes = 0;
  private header: { cmd: number; len: number; sid: number } | undefined;

  constructor(opts: SmuxOptions) {
    super();
    this.timers = opts.timers ?? realTimers;
    this.sink = opts.write;
    this.frameSink = opts.writeFrame;
    this.maxFrame = Math.min(opts.maxFrameSize ?? DEFAULT_MAX_FRAME, 0xffff);
    this.maxReceiveBuffer = opts.maxReceiveBuffer ?? 4 * 1024 * 1024;
    this.onRemoteFin = opts.onRemoteFin;
    this.nextId = opts.role === 'client' ? 1 : 0;
    if (opts.keepAlive) {
      const interval = opts.keepAlive.intervalMs ?? 10_000;
      const timeout = opts.keepAlive.timeoutMs ?? 30_000;
      this.keepAliveTimer = this.timers.setInterval(() => this.enqueue(SmuxCmd.NOP, 0), interval);
      this.watchdogTimer = this.timers.setInterval(() => {
        if (!this.dataSeen) this.close(new SmuxError('smux keepalive timeout'));
        this.dataSeen = false;
      }, timeout);
    }
  }

  get closed(): boolean {
    return this.closedFlag;
  }
  get streamCount(): number {
    return this.streams.size;
  }
  /** False when streams buffer more than maxReceiveBuffer unread bytes: stop feeding until 'receiveReady'. */
  get receiveReady(): boolean {
    return !this.recvBlocked;
  }

  openStream(): SmuxStream {
    if (this.closedFlag) throw new SmuxError('smux session closed');
    this.nextId += 2;
    const s = this.addStream(this.nextId);
    this.enqueue(SmuxCmd.SYN, s.id);
    return s;
  }

  /** Feeds bytes from the peer (any split). */
  feed(data: Buffer): void {
    if (this.closedFlag || data.length === 0) return;
    this.chunks.push(data);
    this.chunkBytes += data.length;
    for (;;) {
      if (!this.header) {
        if (this.chunkBytes < SMUX_HEADER_SIZE) return;
        const h = this.take(SMUX_HEADER_SIZE);
        const ver = h[0];
        const cmd = h[1] ?? 255;
        if (ver !== SMUX_VERSION || cmd > SmuxCmd.NOP) {
          this.close(new SmuxError(`smux protocol error (version ${ver}, cmd ${cmd})`));
          return;
        }
        this.header = { cmd, len: h.readUInt16LE(2), sid: h.readUInt32LE(4) };
      }
      if (this.chunkBytes < this.header.len) return;
      const { cmd, len, sid } = this.header;
      this.header = undefined;
      this.handleFrame(cmd, sid, len > 0 ? this.take(len) : EMPTY);
      if (this.closedFlag) return;
    }
  }

  /** The sink accepts data again. */
  notifyWritable(): void {
    this.sinkWritable = true;
    this.flush();
  }

  close(err?: Error): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    if (this.keepAliveTimer !== undefined) this.timers.clearInterval(this.keepAliveTimer);
    if (this.watchdogTimer !== undefined) this.timers.clearInterval(this.watchdogTimer);
    for (const q of this.queue.splice(0)) q.cb?.(new SmuxError('smux session closed'));
    this.queuedData = 0;
    this.roomWaiters.length = 0;
    // Those went out: their writes succeeded.
    for (const cb of this.heldBack.splice(0)) cb();
    // A clean close (no err) ends streams without an 'error' event.
    for (const s of [...this.streams.values()]) s.destroy(err);
    this.streams.clear();
    this.emit('close', err);
  }

  /** @internal */
  writeStreamData(s: SmuxStream, chunk: Buffer, cb: (err?: Error | null) => void): void {
    if (this.closedFlag || s.finSent) {
      cb(new SmuxError(this.closedFlag ? 'smux session closed' : 'smux stream closed'));
      return;
    }
    s.bytesSent += chunk.length;
    if (chunk.length === 0) {
      cb();
      return;
    }
    // Queued as is (no copy): a stream has at most one chunk here, since the callback waits for the sink.
    this.enqueue(SmuxCmd.PSH, s.id, chunk, cb);
  }

  /** @internal */
  sendFin(s: SmuxStream): void {
    if (s.finSent || this.closedFlag) return;
    s.finSent = true;
    this.enqueue(SmuxCmd.FIN, s.id);
  }

  /** @internal */
  hasRoom(): boolean {
    return !this.closedFlag && this.sinkWritable && this.queuedData < ROOM_THRESHOLD;
  }

  /** @internal */
  waitForRoom(cb: () => void): void {
    if (this.closedFlag) return;
    this.roomWaiters.push(cb);
    // Never call back synchronously: the caller is in the middle of its read loop.
    if (this.roomWaiters.length === 1 && this.hasRoom()) queueMicrotask(() => this.grantRoom());
  }

  /** @internal */
  onStreamRead(): void {
    if (!this.recvBlocked) return;
    if (this.bufferedBytes() < this.maxReceiveBuffer) {
      this.recvBlocked = false;
      this.emit('receiveReady');
    }
  }

  /** @internal */
  onStreamDestroyed(s: SmuxStream): void {
    this.sendFin(s);
    if (this.streams.get(s.id) === s) this.streams.delete(s.id);
    this.onStreamRead();
  }

  private addStream(id: number): SmuxStream {
    const s = new SmuxStream(this, id);
    this.streams.set(id, s);
    return s;
  }

  private bufferedBytes(): number {
    let n = 0;
    for (const s of this.streams.values()) n += s.readableLength;
    return n;
  }

  private handleFrame(cmd: number, sid: number, data: Buffer): void {
    this.dataSeen = true;
    switch (cmd) {
      case SmuxCmd.SYN:
        if (!this.streams.has(sid)) this.emit('stream', this.addStream(sid));
        break;
      case SmuxCmd.PSH: {
        const s = this.streams.get(sid);
        if (!s) break;
        s.pushData(data);
        if (this.bufferedBytes() >= this.maxReceiveBuffer) this.recvBlocked = true;
        break;
      }
      case SmuxCmd.FIN: {
        const s = this.streams.get(sid);
        if (!s) break;
        const err = this.onRemoteFin?.(s);
        if (err) {
          s.destroy(err);
        } else {
          // Remote closed: deliver what is buffered, then end; allowHalfOpen=false ends our side too.
          s.endRead();
        }
        break;
      }
      default:
        break; // NOP
    }
  }

  private take(n: number): Buffer {
    this.chunkBytes -= n;
    const first = this.chunks[0];
    if (first && first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let off = 0;
    while (off < n) {
      const c = this.chunks[0];
      if (!c) throw new SmuxError('smux reassembly underflow');
      const k = Math.min(c.length, n - off);
      c.copy(out, off, 0, k);
      off += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    return out;
  }

  private enqueue(cmd: number, sid: number, data?: Buffer, cb?: (err?: Error | null) => void): void {
    if (this.closedFlag) {
      cb?.(new SmuxError('smux session closed'));
      return;
    }
    this.queue.push({ cmd, sid, data, off: 0, cb });
    if (data) this.queuedData += data.length;
    this.flush();
  }

  private flush(): void {
    while (this.sinkWritable && !this.closedFlag) {
      const q = this.queue[0];
      if (!q) break;
      let part: Buffer | undefined;
      if (q.data) {
        const end = Math.min(q.data.length, q.off + this.maxFrame);
        part = q.data.subarray(q.off, end);
        this.queuedData -= end - q.off;
        q.off = end;
      }
      const done = !q.data || q.off >= q.data.length;
      if (done) this.queue.shift();
      this.sinkWritable = this.emitFrame(q.cmd, q.sid, part);
      // A frame went out: room for one more chunk from a held-back stream.
      if (this.queuedData < QUEUE_HIGH_WATER) this.heldBack.shift()?.();
      if (done && q.cb) {
        if (this.queuedData < QUEUE_HIGH_WATER && this.heldBack.length === 0) q.cb();
        else this.heldBack.push(q.cb);
      }
    }
    // Everything went out and the sink takes more: nothing to hold back for.
    if (this.queue.length === 0 && this.sinkWritable) for (const cb of this.heldBack.splice(0)) cb();
    this.grantRoom();
  }

  /** Gives waiting sources their turn, oldest first, while there is room (a turn may write or not). */
  private grantRoom(): void {
    if (this.grantingRoom) return;
    this.grantingRoom = true;
    try {
      while (this.roomWaiters.length > 0 && this.hasRoom()) this.roomWaiters.shift()?.();
    } finally {
      this.grantingRoom = false;
    }
  }

  private emitFrame(cmd: number, sid: number, data: Buffer | undefined): boolean {
    if (!this.frameSink) return this.sink(encodeSmuxFrame(cmd, sid, data));
    const h = this.header8;
    h[0] = SMUX_VERSION;
    h[1] = cmd;
    h.writeUInt16LE(data?.length ?? 0, 2);
    h.writeUInt32LE(sid >>> 0, 4);
    return this.frameSink(h, data);
  }
}

const EMPTY = Buffer.alloc(0);
