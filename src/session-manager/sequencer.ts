// Reliable, ordered message stream over a lossy, resumable transport: the sequencing/ack/retransmission
// rules of the Session Manager data channel, shared by the client and the emulator's agent.
import { EventEmitter } from 'node:events';
import { encodeAck } from './ack.js';
import { encodedLength, encodeMessage, HEADER_LENGTH } from './frame.js';
import { backgroundClock, repeat } from '../engine/clock.js';
import type { Clock } from '../engine/types.js';
import {
  MessageType,
  type ClientMessage,
  type SequencerOptions,
  type SequencerStats,
  type SequencerTransport,
} from './types.js';

export const INITIAL_RTO_MS = 200;
export const INITIAL_SRTT_MS = 100;
export const MAX_RTO_MS = 1000;
export const MIN_RTO_VARIANCE_MS = 10;
export const RESEND_TICK_MS = 100;

interface Outgoing {
  seq: number;
  frame: Buffer;
  size: number;
  acked: boolean;
  /** undefined while never transmitted (detached or paused). */
  lastSent: number | undefined;
}

interface Held {
  msg: ClientMessage;
  acked: boolean;
}

/**
 * Events: 'drain' when the send window opens again after `send()` returned false.
 */
export class Sequencer extends EventEmitter {
  private readonly clock: Clock;
  private readonly outType: string;
  private readonly inType: string;
  private readonly deliver: (msg: ClientMessage) => boolean;
  private readonly maxWindowBytes: number;
  private readonly maxWindowMessages: number;
  private readonly maxQueuedMessages: number;
  private readonly maxHeldMessages: number;
  private readonly maxHeldBytes: number;
  private readonly reAck: boolean;
  /** Encoded length of the messages whose buffers are reused after their ack (0: none are). */
  private readonly reuseLength: number;
  /** Buffers of acked messages, ready for the next message of `reuseLength` (at most a window of them). */
  private readonly spare: Buffer[] = [];
  private readonly maxSpare: number;

  private transport: SequencerTransport | undefined;
  /** The transport said it holds enough unsent bytes: data waits in the window until `transportDrained()`. */
  private transportBusy = false;
  /** Sequence number of the next message to (re)transmit: everything before it went out at least once. */
  private cursor = 0;
  private publicationPaused = false;
  private closed = false;
  private nextSeq = 0;
  /** Sent messages from the oldest unacked to the newest; acked ones stay until the front is acked. */
  private readonly inFlight: Outgoing[] = [];
  private inFlightBytes = 0;
  private needDrain = false;

  private expected = 0;
  private readonly held = new Map<number, Held>();
  private heldBytes = 0;
  private deliveryPaused = false;
  private draining = false;

  private srtt = INITIAL_SRTT_MS;
  private rttvar = 0;
  private rtoMs = INITIAL_RTO_MS;
  private readonly stopTick: () => void;
  private readonly counters: SequencerStats = {
    sent: 0,
    retransmits: 0,
    received: 0,
    duplicates: 0,
    outOfOrder: 0,
    droppedOverLimit: 0,
  };

  constructor(opts: SequencerOptions) {
    super();
    this.clock = opts.clock ?? backgroundClock;
    this.outType = opts.role === 'client' ? MessageType.InputStreamData : MessageType.OutputStreamData;
    this.inType = opts.role === 'client' ? MessageType.OutputStreamData : MessageType.InputStreamData;
    this.deliver = opts.deliver;
    this.maxWindowBytes = opts.window?.maxBytes ?? 8 * 1024 * 1024;
    this.maxWindowMessages = opts.window?.maxMessages ?? 4096;
    this.maxQueuedMessages = opts.window?.maxQueuedMessages ?? Infinity;
    this.maxHeldMessages = opts.reorderLimit?.maxMessages ?? 10_000;
    this.maxHeldBytes = opts.reorderLimit?.maxBytes ?? 64 * 1024 * 1024;
    this.reAck = opts.reAckDuplicates ?? true;
    const reuse = opts.reuseFramesOfPayloadLength;
    this.reuseLength = reuse ? encodedLength(reuse) : 0;
    this.maxSpare = reuse ? Math.ceil(this.maxWindowBytes / reuse) + 1 : 0;
    this.stopTick = repeat(this.clock, RESEND_TICK_MS, () => this.onTick());
  }

  get rto(): number {
    return this.rtoMs;
  }
  get smoothedRtt(): number {
    return this.srtt;
  }
  get rttVariance(): number {
    return this.rttvar;
  }
  /** Next outgoing sequence number. */
  get nextSequenceNumber(): number {
    return this.nextSeq;
  }
  /** Next incoming sequence number we will deliver. */
  get expectedSequenceNumber(): number {
    return this.expected;
  }
  get unackedCount(): number {
    return this.inFlight.reduce((n, m) => (m.acked ? n : n + 1), 0);
  }
  get heldCount(): number {
    return this.held.size;
  }
  get windowBytes(): number {
    return this.inFlightBytes;
  }
  /** Messages queued and not yet transmitted (held back by the transport, its pacer, or a detach). */
  get queuedCount(): number {
    return this.nextSeq - this.cursor;
  }
  /** False while the send window or the queue is full: producers should wait for 'drain'. */
  get writable(): boolean {
    return (
      !this.closed &&
      this.inFlight.length < this.maxWindowMessages &&
      this.inFlightBytes < this.maxWindowBytes &&
      this.queuedCount < this.maxQueuedMessages
    );
  }
  get attached(): boolean {
    return this.transport !== undefined;
  }
  get paused(): boolean {
    return this.publicationPaused;
  }

  stats(): SequencerStats {
    return { ...this.counters };
  }

  /**
   * Queues a stream-data message with the next sequence number and transmits it when possible (never
   * refused). `payload` may be given in parts (copied once, into the message). Returns `writable`
   * afterwards, like `Writable.write()`.
   */
  send(payloadType: number, payload: Buffer | readonly Buffer[], flags = 0): boolean {
    if (this.closed) return false;
    const now = this.clock.now();
    const seq = this.nextSeq++;
    let reuse: Buffer | undefined;
    if (this.spare.length > 0) {
      let n = 0;
      for (const p of Buffer.isBuffer(payload) ? [payload] : payload) n += p.length;
      if (encodedLength(n) === this.reuseLength) reuse = this.spare.pop();
    }
    const frame = encodeMessage(
      {
        messageType: this.outType,
        sequenceNumber: seq,
        flags,
        payloadType,
        payload,
        createdDate: now,
      },
      reuse,
    );
    const m: Outgoing = {
      seq,
      frame,
      size: frame.length - HEADER_LENGTH - 4,
      acked: false,
      lastSent: undefined,
    };
    this.inFlight.push(m);
    this.inFlightBytes += m.size;
    this.counters.sent++;
    this.pump();
    const w = this.writable;
    if (!w) this.needDrain = true;
    return w;
  }

  /** Handles an incoming message of our peer's stream type or an acknowledge; others are ignored. */
  handleMessage(msg: ClientMessage, ackedSeq?: number): void {
    if (msg.messageType === this.inType) this.handleData(msg);
    else if (msg.messageType === MessageType.Acknowledge && ackedSeq !== undefined) this.handleAck(ackedSeq);
  }

  handleAck(seq: number): void {
    const first = this.inFlight[0];
    if (!first) return;
    const m = this.inFlight[seq - first.seq];
    if (!m || m.acked) return;
    if (m.lastSent !== undefined) this.updateRtt(this.clock.now() - m.lastSent);
    m.acked = true;
    // Acked: never transmitted again, so its buffer can carry a later message (see reuseFramesOfPayloadLength).
    if (m.frame.length === this.reuseLength && this.spare.length < this.maxSpare) this.spare.push(m.frame);
    m.frame = EMPTY;
    while (this.inFlight[0]?.acked) {
      const done = this.inFlight.shift();
      if (done) this.inFlightBytes -= done.size;
    }
    this.emitDrainIfWritable();
  }

  handleData(msg: ClientMessage): void {
    if (this.closed) return;
    this.counters.received++;
    const s = msg.sequenceNumber;
    if (s < this.expected) {
      this.counters.duplicates++;
      if (this.reAck) this.sendAck(msg);
      return;
    }
    const existing = this.held.get(s);
    if (existing) {
      this.counters.duplicates++;
      // Re-ack what we already acked (our ack may have been lost); a refused message stays unacked.
      if (existing.acked) this.sendAck(msg);
      return;
    }
    if (s === this.expected) {
      this.hold(msg, false);
      this.drain();
      return;
    }
    if (this.held.size >= this.maxHeldMessages || this.heldBytes + msg.payload.length > this.maxHeldBytes) {
      this.counters.droppedOverLimit++;
      return;
    }
    if (this.deliveryPaused) {
      // The consumer is full: keep it unacked, like the refused one, so the peer's send buffer fills and it
      // stops sending. Acked, a peer that frees acked messages out of order (the real agent does) would go
      // on sending until our reorder limit.
      this.hold(msg, false);
      return;
    }
    this.counters.outOfOrder++;
    this.hold(msg, true);
    this.sendAck(msg);
  }

  /** Stops delivering (and acking) in-order messages until `resumeDelivery()`: the consumer is not ready. */
  pauseDelivery(): void {
    this.deliveryPaused = true;
  }

  resumeDelivery(): void {
    if (!this.deliveryPaused) return;
    this.deliveryPaused = false;
    this.drain();
  }

  get deliveryIsPaused(): boolean {
    return this.deliveryPaused;
  }

  /** Connects a transport: every unacked message is (re)sent, as after a resume. */
  attach(transport: SequencerTransport): void {
    this.transport = transport;
    this.transportBusy = false;
    this.cursor = this.inFlight[0]?.seq ?? this.nextSeq;
    this.pump();
    this.emitDrainIfWritable();
  }

  /** The transport takes data again after its `send()` returned false. */
  transportDrained(): void {
    if (!this.transportBusy) return;
    this.transportBusy = false;
    this.pump();
    this.emitDrainIfWritable();
  }

  /** The transport is gone: keep everything, send nothing until the next `attach()`. */
  detach(): void {
    this.transport = undefined;
  }

  /** pause_publication: stop sending (messages keep queuing in the window). */
  pausePublication(): void {
    this.publicationPaused = true;
  }

  /** start_publication: send what queued while paused. */
  startPublication(): void {
    if (!this.publicationPaused) return;
    this.publicationPaused = false;
    this.pump();
    this.emitDrainIfWritable();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopTick();
    this.transport = undefined;
    this.inFlight.length = 0;
    this.inFlightBytes = 0;
    this.spare.length = 0;
    this.held.clear();
    this.heldBytes = 0;
  }

  /** Not from inside send(): a producer woken there would re-enter it. */
  private emitDrainIfWritable(): void {
    if (this.needDrain && this.writable) {
      this.needDrain = false;
      this.emit('drain');
    }
  }

  private hold(msg: ClientMessage, acked: boolean): void {
    this.held.set(msg.sequenceNumber, { msg, acked });
    this.heldBytes += msg.payload.length;
  }

  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      while (!this.deliveryPaused && !this.closed) {
        const h = this.held.get(this.expected);
        if (!h) break;
        if (!this.deliver(h.msg)) {
          this.deliveryPaused = true;
          break;
        }
        // The consumer may have closed us from inside deliver().
        if (this.closed) break;
        this.held.delete(this.expected);
        this.heldBytes -= h.msg.payload.length;
        if (!h.acked) this.sendAck(h.msg);
        this.expected++;
      }
    } finally {
      this.draining = false;
    }
  }

  private sendAck(msg: ClientMessage): void {
    this.transport?.send(encodeAck(msg, this.clock.now()), 'ack');
  }

  private transmit(m: Outgoing, now: number): void {
    m.lastSent = now;
    if (this.transport?.send(m.frame, 'data') === false) this.transportBusy = true;
  }

  /** Transmits from the cursor on, in order, while the transport takes more. */
  private pump(): void {
    const now = this.clock.now();
    // Indexes are recomputed each turn: a synchronous transport may get acks (and shifts) back mid-loop.
    while (this.transport && !this.publicationPaused && !this.transportBusy) {
      const first = this.inFlight[0];
      if (!first) return;
      const m = this.inFlight[Math.max(0, this.cursor - first.seq)];
      if (!m) return;
      this.cursor = m.seq + 1;
      if (!m.acked) this.transmit(m, now);
    }
  }

  private updateRtt(sample: number): void {
    this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - sample);
    this.srtt = 0.875 * this.srtt + 0.125 * sample;
    this.rtoMs = Math.min(MAX_RTO_MS, this.srtt + Math.max(MIN_RTO_VARIANCE_MS, 4 * this.rttvar));
  }

  private onTick(): void {
    // A busy transport still holds what we sent: a copy of it would only queue behind.
    if (!this.transport || this.publicationPaused || this.transportBusy) return;
    // The front of inFlight is always the oldest unacked message.
    const oldest = this.inFlight[0];
    if (!oldest || oldest.lastSent === undefined) return;
    const now = this.clock.now();
    if (now - oldest.lastSent > this.rtoMs) {
      this.counters.retransmits++;
      this.transmit(oldest, now);
    }
  }
}

const EMPTY = Buffer.alloc(0);
