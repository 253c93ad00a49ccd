// smux protocol v1 (xtaci/smux) over an arbitrary byte stream: 8-byte header (version 1, cmd, uint16 LE
// length, uint32 LE stream id). Input may be split at any byte; streams are Node Duplexes without half-close.
import { EventEmitter } from 'node:events';
import { Duplex } from 'node:stream';
import { SmuxError } from './errors.js';
import { backgroundClock, repeat } from '../engine/clock.js';
import type { Clock } from '../engine/types.js';
import type { SmuxOptions, SmuxStreamInfo } from './types.js';

export const SMUX_VERSION = 1;
export const SmuxCmd = { SYN: 0, FIN: 1, PSH: 2, NOP: 3 } as const;
export const SMUX_HEADER_SIZE = 8;
export const DEFAULT_MAX_FRAME = 32768;
/**
 * Unsent stream data the session queues before it holds back the write callbacks of the streams whose data
 * went out (which keeps their sources paused). This bounds writers that do not ask for room first
 * (`pipe()`, the emulator's agent); tunnels ask first (ROOM_THRESHOLD, STREAM_ROOM), so at most about one
 * chunk of theirs queues here beyond the threshold.
 */
export const QUEUE_HIGH_WATER = 256 * 1024;
/**
 * Queued stream data below which the session has room for another write at once (`hasRoomToWrite`). A
 * source that reads only when there is room (tunnels' local sockets) leaves the rest in the kernel: with
 * 200 busy streams each otherwise held one chunk here and read one more ahead, 25 MB of live Buffers.
 */
export const ROOM_THRESHOLD = 64 * 1024;
/**
 * A stream with this much of its own data queued waits for its turn before it may write more, so a bulk
 * stream cannot fill the session's room alone and a quiet one still finds room at once.
 */
export const STREAM_ROOM = 16 * 1024;

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

/**
 * One stream's frames waiting for the sink, in order (SYN, data, FIN). Streams take turns one frame at a
 * time (round robin), so a connection with little to send is not stuck behind a bulk one: one session
 * carries every connection of a tunnel at ~1 MB/s (protocol §9), where 64 KiB ahead costs 60+ ms.
 */
interface StreamQueue {
  frames: QueuedFrame[];
  /** Bytes of stream data in `frames` not yet given to the sink. */
  bytes: number;
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

  /** The session can take a write at once (WriteRoom): its queue and this stream's share of it are short. */
  hasRoomToWrite(): boolean {
    return this.session.hasRoom(this);
  }

  /** Calls `cb` once, later, when this stream has room (never synchronously); dropped if it closes. */
  onRoomToWrite(cb: () => void): void {
    this.session.waitForRoom(this, cb);
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
  private readonly clock: Clock;
  private readonly sink: (chunk: Buffer) => boolean;
  private readonly frameSink: SmuxOptions['writeFrame'];
  /** Reused for every frame given to `writeFrame` (it copies the header before returning). */
  private readonly header8 = Buffer.alloc(SMUX_HEADER_SIZE);
  private readonly maxFrame: number;
  private readonly maxReceiveBuffer: number;
  private readonly onRemoteFin: SmuxOptions['onRemoteFin'];
  private readonly streams = new Map<number, SmuxStream>();
  private nextId: number;
  /** Session frames (keepalive NOP): they go before any stream's. */
  private readonly control: QueuedFrame[] = [];
  private readonly streamQueues = new Map<number, StreamQueue>();
  /** Streams with frames waiting, in turn order: each sends one frame, then goes to the back. */
  private readonly turns: number[] = [];
  /** Bytes of stream data queued, all streams together, not yet given to the sink. */
  private queuedData = 0;
  /** Write callbacks of sent chunks held back while `queuedData` is over QUEUE_HIGH_WATER, oldest first. */
  private readonly heldBack: ((err?: Error | null) => void)[] = [];
  /** Streams' sources waiting for room to write, oldest first (each gets its turn). */
  private readonly roomWaiters: { stream: SmuxStream; cb: () => void }[] = [];
  private grantingRoom = false;
  private sinkWritable = true;
  private recvBlocked = false;
  private closedFlag = false;
  private stopKeepAlive: (() => void) | undefined;
  private stopWatchdog: (() => void) | undefined;
  private dataSeen = false;

  // Incoming reassembly: chunks not yet parsed, plus the parsed header of the frame being awaited.
  private readonly chunks: Buffer[] = [];
  private chunkBytes = 0;
  private header: { cmd: number; len: number; sid: number } | undefined;

  constructor(opts: SmuxOptions) {
    super();
    this.clock = opts.clock ?? backgroundClock;
    this.sink = opts.write;
    this.frameSink = opts.writeFrame;
    this.maxFrame = Math.min(opts.maxFrameSize ?? DEFAULT_MAX_FRAME, 0xffff);
    this.maxReceiveBuffer = opts.maxReceiveBuffer ?? 4 * 1024 * 1024;
    this.onRemoteFin = opts.onRemoteFin;
    this.nextId = opts.role === 'client' ? 1 : 0;
    if (opts.keepAlive) {
      const interval = opts.keepAlive.intervalMs ?? 10_000;
      const timeout = opts.keepAlive.timeoutMs ?? 30_000;
      this.stopKeepAlive = repeat(this.clock, interval, () => this.enqueue(SmuxCmd.NOP, 0));
      this.stopWatchdog = repeat(this.clock, timeout, () => {
        if (!this.dataSeen) this.close(new SmuxError('smux keepalive timeout'));
        this.dataSeen = false;
      });
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
    this.stopKeepAlive?.();
    this.stopWatchdog?.();
    const pending = [...this.control.splice(0), ...[...this.streamQueues.values()].flatMap((q) => q.frames)];
    this.streamQueues.clear();
    this.turns.length = 0;
    for (const q of pending) q.cb?.(new SmuxError('smux session closed'));
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

  /**
   * @internal Room does not wait for the sink: streams queue here (bounded) even while it is full, because
   * this queue is where they take turns; a stream that waited for the sink would find a bulk one ahead.
   */
  hasRoom(s: SmuxStream): boolean {
    return (
      !this.closedFlag &&
      this.queuedData < ROOM_THRESHOLD &&
      (this.streamQueues.get(s.id)?.bytes ?? 0) < STREAM_ROOM
    );
  }

  /** @internal */
  waitForRoom(stream: SmuxStream, cb: () => void): void {
    if (this.closedFlag) return;
    this.roomWaiters.push({ stream, cb });
    // Never call back synchronously: the caller is in the middle of its read loop.
    if (this.hasRoom(stream)) queueMicrotask(() => this.grantRoom());
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
    const frame: QueuedFrame = { cmd, sid, data, off: 0, cb };
    const bytes = data?.length ?? 0;
    this.queuedData += bytes;
    if (sid === 0) {
      this.control.push(frame);
    } else {
      let q = this.streamQueues.get(sid);
      if (!q) {
        q = { frames: [], bytes: 0 };
        this.streamQueues.set(sid, q);
        this.turns.push(sid);
      }
      q.frames.push(frame);
      q.bytes += bytes;
    }
    this.flush();
  }

  private flush(): void {
    while (this.sinkWritable && !this.closedFlag) {
      let q = this.control[0];
      let owner: StreamQueue | undefined;
      if (!q) {
        const sid = this.turns.shift();
        if (sid === undefined) break;
        owner = this.streamQueues.get(sid);
        q = owner?.frames[0];
        if (!owner || !q) continue;
      }
      let part: Buffer | undefined;
      if (q.data) {
        const end = Math.min(q.data.length, q.off + this.maxFrame);
        part = q.data.subarray(q.off, end);
        this.queuedData -= end - q.off;
        if (owner) owner.bytes -= end - q.off;
        q.off = end;
      }
      const done = !q.data || q.off >= q.data.length;
      if (!owner) {
        if (done) this.control.shift();
      } else {
        if (done) owner.frames.shift();
        // One frame per turn: a stream with more goes to the back of the line.
        if (owner.frames.length > 0) this.turns.push(q.sid);
        else this.streamQueues.delete(q.sid);
      }
      this.sinkWritable = this.emitFrame(q.cmd, q.sid, part);
      // A frame went out: room for one more chunk from a held-back stream.
      if (this.queuedData < QUEUE_HIGH_WATER) this.heldBack.shift()?.();
      if (done && q.cb) {
        if (this.queuedData < QUEUE_HIGH_WATER && this.heldBack.length === 0) q.cb();
        else this.heldBack.push(q.cb);
      }
    }
    // Everything went out and the sink takes more: nothing to hold back for.
    if (this.control.length === 0 && this.turns.length === 0 && this.sinkWritable) {
      for (const cb of this.heldBack.splice(0)) cb();
    }
    this.grantRoom();
  }

  /**
   * Gives waiting sources their turn, oldest first, each whose stream has room (a turn may write or not); a
   * stream with its own data still queued waits while the others go.
   */
  private grantRoom(): void {
    if (this.grantingRoom) return;
    this.grantingRoom = true;
    try {
      for (let i = 0; i < this.roomWaiters.length && !this.closedFlag;) {
        const w = this.roomWaiters[i];
        if (w && this.hasRoom(w.stream)) {
          this.roomWaiters.splice(i, 1);
          w.cb();
        } else {
          i++;
        }
      }
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
