// Public types of the Session Manager data-channel implementation (client and emulator agent share them).
// Protocol facts: docs/session-manager-protocol.md (shared docs). Everything here is wire-compatible with
// the reference session-manager-plugin and amazon-ssm-agent.
import type { Duplex } from 'node:stream';
import type WebSocket from 'ws';
// The data channel runs on the engine's one clock type (a FakeClock in tests, unref'd real time by default).
import type { Clock } from '../engine/types.js';

/** Values of the 32-byte MessageType header field. */
export const MessageType = {
  InputStreamData: 'input_stream_data',
  OutputStreamData: 'output_stream_data',
  Acknowledge: 'acknowledge',
  ChannelClosed: 'channel_closed',
  StartPublication: 'start_publication',
  PausePublication: 'pause_publication',
} as const;
export type MessageTypeName = (typeof MessageType)[keyof typeof MessageType];

/** Values of the PayloadType header field. */
export const PayloadType = {
  Undefined: 0,
  Output: 1,
  Error: 2,
  Size: 3,
  Parameter: 4,
  HandshakeRequest: 5,
  HandshakeResponse: 6,
  HandshakeComplete: 7,
  EncChallengeRequest: 8,
  EncChallengeResponse: 9,
  Flag: 10,
  StdErr: 11,
  ExitCode: 12,
} as const;
export type PayloadTypeValue = (typeof PayloadType)[keyof typeof PayloadType];

/** Header `Flags` bits (informational; nobody reads them). Acks carry SYN|FIN = 3. */
export const HeaderFlag = { None: 0, Syn: 1, Fin: 2, Ack: 3 } as const;

/** Payload (uint32 BE) of a PayloadType.Flag message. */
export const PortFlag = {
  DisconnectToPort: 1,
  TerminateSession: 2,
  ConnectToPortError: 3,
} as const;
export type PortFlagValue = (typeof PortFlag)[keyof typeof PortFlag];

/** A decoded data-channel message (header + payload). */
export interface ClientMessage {
  headerLength: number;
  messageType: string;
  schemaVersion: number;
  /** Milliseconds since the epoch. */
  createdDate: number;
  sequenceNumber: number;
  flags: number;
  /** Lowercase hyphenated UUID. */
  messageId: string;
  payloadDigest: Buffer;
  payloadType: number;
  payloadLength: number;
  payload: Buffer;
}

/** What `encodeMessage` needs; missing fields get defaults (schema 1, now, random UUID). */
export interface NewMessage {
  messageType: string;
  sequenceNumber: number;
  flags?: number;
  payloadType: number;
  /** One buffer, or parts that are concatenated (without an intermediate copy). */
  payload?: Buffer | readonly Buffer[];
  messageId?: string;
  createdDate?: number;
  schemaVersion?: number;
}

/** First (text) WebSocket frame a client sends on every (re)connection. */
export interface OpenDataChannelInput {
  MessageSchemaVersion: '1.0';
  RequestId: string;
  TokenValue: string;
  ClientId: string;
  ClientVersion: string;
}

export interface AcknowledgeContent {
  AcknowledgedMessageType: string;
  AcknowledgedMessageId: string;
  AcknowledgedMessageSequenceNumber: number;
  IsSequentialMessage: boolean;
}

/** Properties of the SessionType action for Port sessions (document parameters are strings). */
export interface PortSessionProperties {
  portNumber?: string;
  type?: string;
  localPortNumber?: string;
  host?: string;
  [key: string]: unknown;
}

export interface RequestedClientAction {
  ActionType: string;
  ActionParameters: unknown;
}
export interface SessionTypeActionParameters {
  SessionType: string;
  Properties: PortSessionProperties;
}
export interface HandshakeRequestPayload {
  AgentVersion: string;
  RequestedClientActions: RequestedClientAction[];
}
/** ActionStatus: 1 success, 2 failed, 3 unsupported. */
export interface ProcessedClientAction {
  ActionType: string;
  ActionStatus: number;
  ActionResult: unknown;
  Error: string;
}
export interface HandshakeResponsePayload {
  ClientVersion: string;
  ProcessedClientActions: ProcessedClientAction[];
  Errors: string[];
}
export interface HandshakeCompletePayload {
  /** Nanoseconds. */
  HandshakeTimeToComplete: number;
  CustomerMessage: string;
}
export interface ChannelClosedPayload {
  MessageId: string;
  CreatedDate: string;
  DestinationId: string;
  SessionId: string;
  MessageType: 'channel_closed';
  SchemaVersion: number;
  Output: string;
}

/** Where a sequencer puts frames. `kind` lets a fault injector treat stream data and acks differently. */
export interface SequencerTransport {
  /**
   * Returning false (data only) means the transport holds enough unsent bytes: the sequencer keeps further
   * messages in its window, unsent, until `transportDrained()`, so a frame is not held twice.
   */
  send(frame: Buffer, kind: 'data' | 'ack'): boolean | void;
}

export interface SequencerOptions {
  /** 'client' sends input_stream_data and receives output_stream_data; 'agent' the opposite. */
  role: 'client' | 'agent';
  /**
   * Called once per incoming stream-data message, in sequence order. Return false to refuse it ("not
   * ready"): it is not acked, stays held, and delivery pauses until `resumeDelivery()`.
   */
  deliver: (msg: ClientMessage) => boolean;
  clock?: Clock;
  /**
   * Send window, counted from the oldest unacked message to the newest sent. `send()` returns false and
   * `writable` is false once either bound is reached; 'drain' is emitted when acks open it again.
   * Defaults: 8 MiB, 4096 messages. `maxQueuedMessages` also closes it while that many messages wait
   * untransmitted (a paced transport holds them back), so producers queue in front of the sequencer, where
   * a fair scheduler can still reorder them; default unbounded.
   */
  window?: { maxBytes?: number; maxMessages?: number; maxQueuedMessages?: number };
  /**
   * Bound on messages held by the receiver, out of order or while delivery is paused (beyond it they are
   * dropped unacked). Defaults: 10,000 messages, 64 MiB.
   */
  reorderLimit?: { maxMessages?: number; maxBytes?: number };
  /** Re-ack messages below the expected sequence so the peer stops resending (default true). */
  reAckDuplicates?: boolean;
  /**
   * Reuse the buffers of acked messages of this payload length for later messages of the same length, so
   * that a steady upload allocates no new message buffers (they would otherwise live for a round trip in the
   * window, outlive V8's young generation and pile up as old garbage). Only safe when the transport keeps no
   * reference to a frame once its `send()` returned (the `ws` client copies every frame when it masks it);
   * an ack proves the agent got the message, but a retransmission may still sit in a transport's queue.
   */
  reuseFramesOfPayloadLength?: number;
}

export interface SequencerStats {
  sent: number;
  retransmits: number;
  received: number;
  duplicates: number;
  outOfOrder: number;
  droppedOverLimit: number;
}

export interface SmuxOptions {
  /** Only affects which stream ids `openStream()` allocates: client odd from 3, server even from 2. */
  role: 'client' | 'server';
  /** Sink for encoded frames. Return false when the sink is full; call `notifyWritable()` later. */
  write: (chunk: Buffer) => boolean;
  /**
   * Used instead of `write` when given: the 8-byte header and the payload apart, so a sink that copies
   * anyway (into a data-channel message) saves a copy. `header` is reused: copy it before returning.
   */
  writeFrame?: (header: Buffer, payload: Buffer | undefined) => boolean;
  /** NOP every `intervalMs`, close when nothing arrived for `timeoutMs`. false disables (default). */
  keepAlive?: false | { intervalMs?: number; timeoutMs?: number };
  /** Largest PSH payload we send (default 32768). */
  maxFrameSize?: number;
  /** Total bytes buffered in streams' readable sides before `receiveReady` turns false (default 4 MiB). */
  maxReceiveBuffer?: number;
  clock?: Clock;
  /**
   * Consulted when the peer FINs a stream. Returning an Error fails the stream with it instead of a clean
   * end (used for ConnectToPortError, which the agent signals out of band before the FIN).
   */
  onRemoteFin?: (stream: SmuxStreamInfo) => Error | undefined;
}

export interface SmuxStreamInfo {
  readonly id: number;
  readonly bytesReceived: number;
  readonly bytesSent: number;
}

/** What a data channel's `resume` gets when its WebSocket is lost. */
export interface LostConnection {
  /** Why the connection was lost (one line). */
  cause: string;
  /** Dials the stream URL again with a ResumeSession token (same sequence state, no new handshake, §6). */
  reconnect(result: ResumeResult): Promise<void>;
}

/** What the tunnel layer's ResumeSession call yields. */
export interface ResumeResult {
  tokenValue: string;
  /** Dial this one from now on when given (the reference client ignores it; we honour it). */
  streamUrl?: string;
}

export interface DataChannelOptions {
  /** StartSession's StreamUrl. */
  streamUrl: string;
  /** StartSession's TokenValue. Never logged. */
  tokenValue: string;
  /** UUID, one per process. */
  clientId: string;
  /** Reported to the agent; it picks mux mode and smux keepalive from it. Default CLIENT_VERSION. */
  clientVersion?: string;
  /** For logs and errors only. */
  sessionId?: string;
  /**
   * Called once per loss of the WebSocket (close, error or dead endpoint). It decides whether and when to
   * try again (the caller's recovery policy, not ours) and, for each try, calls ResumeSession and passes its
   * token to `lost.reconnect`, which dials and rejects when that fails. Resolving means the connection is
   * back; rejecting ends the channel ('resume-failed' with that error). Without it a loss closes the channel.
   */
  resume?: (lost: LostConnection) => Promise<void>;
  /** WebSocket ping period (default 5000). */
  pingIntervalMs?: number;
  /** The endpoint is declared dead when nothing (frame or pong) arrived for this long (default 20000). */
  deadAfterMs?: number;
  /** Time allowed from WebSocket open to HandshakeComplete (default 30000). */
  handshakeTimeoutMs?: number;
  /** WebSocket open timeout per dial (default 15000). */
  connectTimeoutMs?: number;
  /**
   * Largest payload of a message we send, in both modes (default 1024, what every public client sends;
   * larger payloads are unverified against AWS, protocol §9).
   */
  maxPayloadBytes?: number;
  /**
   * Messages per second we send, acks and flags included (default 900, a token bucket with a burst of 50:
   * the service closes the WebSocket of a client above ~1000/s, protocol §9). Higher rates are unverified
   * against AWS; `false` sends unpaced (benchmarks of the client's own cost, emulator only).
   */
  maxMessagesPerSecond?: number | false;
  /** Send window (default 4 MiB, 4096 messages). */
  window?: SequencerOptions['window'];
  /** Messages held out of order or while the consumer is full (default 10,000 and 8 MiB). */
  reorderLimit?: SequencerOptions['reorderLimit'];
  /** smux receive buffer across streams (default 4 MiB). */
  muxReceiveBuffer?: number;
  /** Override the smux keepalive decision (tests). */
  smuxKeepAlive?: boolean;
  /** Override mux/basic (tests). */
  forceMode?: DataChannelMode;
  /** Factory for the WebSocket (tests, proxies). Default: `new WebSocket(url)` from `ws`. */
  wsFactory?: (url: string) => WebSocket;
  /** Diagnostic events; detail never contains tokens. */
  log?: (event: string, detail: Record<string, unknown>) => void;
  clock?: Clock;
}

export type DataChannelMode = 'basic' | 'mux';

export interface DataChannelClosedInfo {
  reason: 'terminated' | 'closed' | 'channel-closed' | 'connection-lost' | 'resume-failed' | 'protocol-error';
  /** channel_closed Output, when the service sent one. */
  output?: string;
  error?: Error;
}

export interface DataChannelResumedInfo {
  /** Attempts used in this outage (1 = first try worked). */
  attempt: number;
  /** Why the previous connection was lost. */
  cause: string;
}

/**
 * Offered by streams that share a send queue (mux): a source reads only when there is room, so with many
 * busy connections the data waits in the kernel rather than in memory.
 */
export interface WriteRoom {
  /** A write now would go out at once (not wait in a queue). */
  hasRoomToWrite(): boolean;
  /** Calls `cb` once, asynchronously, when there is room; never if the stream's session closes first. */
  onRoomToWrite(cb: () => void): void;
}

/** A tunnel connection: bytes written go to the target, bytes read come from it. No half-close. */
export type TunnelStream = Duplex & Partial<WriteRoom>;

/**
 * An open Session Manager data channel (handshake done). Created by `openDataChannel()`.
 *
 * Events: 'resumed' (DataChannelResumedInfo), 'closed' (DataChannelClosedInfo, once), 'channelClosed'
 * (output string), 'error' (Error; non-fatal, e.g. a failed resume attempt; only emitted with a listener).
 */
export interface DataChannel {
  readonly mode: DataChannelMode;
  readonly agentVersion: string;
  readonly sessionProperties: PortSessionProperties;
  readonly customerMessage: string;
  readonly closed: boolean;
  /**
   * Basic mode: a connection received data before it sent any. The agent redials the target only on client
   * data after a DisconnectToPort (§7), so such a target cannot greet the next connection of this session.
   */
  readonly targetSpeaksFirst: boolean;
  /**
   * Opens a connection to the target. Mux: a new smux stream, resolves at once (a dial failure on the agent
   * fails the stream with ConnectToPortError). Basic: one connection at a time; resolves when the previous
   * stream has closed (then DisconnectToPort was sent).
   */
  openStream(): Promise<TunnelStream>;
  /**
   * Pings now and treats the connection as lost (resume) when nothing arrives within `timeoutMs` (default
   * 3000): after a wake from sleep a WebSocket is often dead without knowing it.
   */
  checkAlive(timeoutMs?: number): void;
  /** Sends Flag TerminateSession, waits (bounded) for its ack, closes. */
  terminate(): Promise<void>;
  /** Closes the WebSocket without ending the session (it could be resumed by another client). */
  close(): Promise<void>;
  stats(): DataChannelStats;
  on(event: 'resumed', listener: (info: DataChannelResumedInfo) => void): this;
  on(event: 'closed', listener: (info: DataChannelClosedInfo) => void): this;
  on(event: 'channelClosed', listener: (output: string) => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
  once(event: 'resumed', listener: (info: DataChannelResumedInfo) => void): this;
  once(event: 'closed', listener: (info: DataChannelClosedInfo) => void): this;
  once(event: 'channelClosed', listener: (output: string) => void): this;
  once(event: 'error', listener: (error: Error) => void): this;
  off(event: 'resumed', listener: (info: DataChannelResumedInfo) => void): this;
  off(event: 'closed', listener: (info: DataChannelClosedInfo) => void): this;
  off(event: 'channelClosed', listener: (output: string) => void): this;
  off(event: 'error', listener: (error: Error) => void): this;
}

export interface DataChannelStats {
  connections: number;
  resumes: number;
  openStreams: number;
  sequencer: SequencerStats;
  rtoMs: number;
}
