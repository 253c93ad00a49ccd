// Session Manager data-channel client: WebSocket, open JSON, handshake, basic or mux port forwarding,
// WebSocket-ping dead-endpoint detection and resume (new token, same sequence state, no new handshake).
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import { parseAckContent } from './ack.js';
import { BasicStream } from './basic-stream.js';
import { ConnectToPortError, DataChannelClosedError, HandshakeError } from './errors.js';
import { decodeFlag, encodeFlag } from './flags.js';
import { decodeMessage } from './frame.js';
import {
  ActionStatus,
  buildHandshakeResponse,
  parseHandshakeComplete,
  parseHandshakeRequest,
  readSessionTypeParameters,
} from './handshake.js';
import { oneLine } from '../text/shorten.js';
import { DEFAULT_MESSAGE_BURST, DEFAULT_MESSAGE_RATE, MessagePacer } from './pacer.js';
import { Sequencer } from './sequencer.js';
import { SMUX_HEADER_SIZE, SmuxSession } from './smux.js';
import { SocketTransport } from './socket-transport.js';
import { backgroundClock, repeat } from '../engine/clock.js';
import type { Clock, TimerHandle } from '../engine/types.js';
import {
  MessageType,
  PayloadType,
  PortFlag,
  type ClientMessage,
  type DataChannel,
  type DataChannelClosedInfo,
  type DataChannelMode,
  type DataChannelOptions,
  type DataChannelStats,
  type OpenDataChannelInput,
  type PortSessionProperties,
  type ProcessedClientAction,
  type ResumeResult,
  type TunnelStream,
} from './types.js';
import { CLIENT_VERSION, clientSmuxKeepAlive, clientUsesMux } from './versions.js';

/** Opens the data channel and resolves once the handshake is complete. */
export async function openDataChannel(options: DataChannelOptions): Promise<DataChannel> {
  const ch = new DataChannelClient(options);
  await ch.start();
  return ch;
}

/**
 * Send window of one session, shared by all its streams (it is what an upload keeps unacked): 4 MiB is
 * 80 MB/s at a 50 ms round trip, and half of what the sequencer defaults to for the emulator's agent.
 */
const CLIENT_WINDOW_BYTES = 4 * 1024 * 1024;
/**
 * Messages held while one before them is missing or the consumer is full. Over it they are dropped unacked
 * and the agent sends them again, so this bounds memory, not correctness (the reference agent resends
 * unacked messages until they are acked).
 */
const CLIENT_REORDER_BYTES = 8 * 1024 * 1024;

/**
 * Largest payload we send by default: every public client sends at most 1024 bytes per message, and whether
 * the service accepts more is unknown (protocol §9).
 */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1024;
/**
 * Messages that may wait untransmitted behind the pacer before writers are held back (~70 ms at 900/s):
 * the queue stays in smux, in front of the sequencer, where streams take turns.
 */
const MAX_QUEUED_MESSAGES = 64;

type State = 'init' | 'handshaking' | 'open' | 'resuming' | 'closed';

function toBuffer(data: WebSocket.RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

class DataChannelClient extends EventEmitter implements DataChannel {
  mode: DataChannelMode = 'basic';
  agentVersion = '';
  sessionProperties: PortSessionProperties = {};
  customerMessage = '';

  private state: State = 'init';
  private readonly clock: Clock;
  private readonly clientVersion: string;
  private readonly seq: Sequencer;
  private readonly pacer: MessagePacer | undefined;
  private readonly maxPayload: number;
  private transport: SocketTransport | undefined;
  /** Basic mode: a local connection existed; output with none open is the old target's, not a greeting. */
  private basicHadConnection = false;
  /** Basic mode: the current connection got data before it sent any (the target speaks first). */
  private basicSent = false;
  private speaksFirst = false;
  private url: string;
  private token: string;
  private ws: WebSocket | undefined;
  private smux: SmuxSession | undefined;
  private basicCurrent: BasicStream | undefined;
  private readonly basicWaiters: { resolve: (s: TunnelStream) => void; reject: (e: Error) => void }[] = [];
  private readonly drainWaiters: ((err?: Error | null) => void)[] = [];
  private pendingConnectErrors = 0;
  private handshakeWait: { resolve: () => void; reject: (e: Error) => void } | undefined;
  private handshakeTimer: TimerHandle | undefined;
  private responded = false;
  private stopPings: (() => void) | undefined;
  private lastReceived = 0;
  private resuming = false;
  private lostWhileResuming: string | undefined;
  private terminating = false;
  private sleeper: { timer: TimerHandle; resolve: () => void } | undefined;
  private connections = 0;
  private resumes = 0;

  constructor(private readonly opts: DataChannelOptions) {
    super();
    this.clock = opts.clock ?? backgroundClock;
    this.clientVersion = opts.clientVersion ?? CLIENT_VERSION;
    this.url = opts.streamUrl;
    this.token = opts.tokenValue;
    this.maxPayload = opts.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
    if (!Number.isInteger(this.maxPayload) || this.maxPayload < SMUX_HEADER_SIZE + 1) {
      throw new RangeError(`maxPayloadBytes must be an integer above ${SMUX_HEADER_SIZE}`);
    }
    const rate = opts.maxMessagesPerSecond ?? DEFAULT_MESSAGE_RATE;
    this.pacer =
      rate === false
        ? undefined
        : new MessagePacer({
            ratePerSecond: rate,
            burst: Math.min(DEFAULT_MESSAGE_BURST, Math.max(1, Math.floor(rate / 10))),
            clock: this.clock,
          });
    this.seq = new Sequencer({
      role: 'client',
      deliver: (m) => this.onAgentMessage(m),
      clock: this.clock,
      window: {
        maxBytes: CLIENT_WINDOW_BYTES,
        maxQueuedMessages: this.pacer ? MAX_QUEUED_MESSAGES : undefined,
        ...opts.window,
      },
      reorderLimit: opts.reorderLimit ?? { maxMessages: 10_000, maxBytes: CLIENT_REORDER_BYTES },
      // Full smux data frames, once acked, carry later ones: the \`ws\` client masks every frame into a copy
      // before send() returns, so nothing else holds them. A custom wsFactory may not: no reuse then.
      reuseFramesOfPayloadLength: opts.wsFactory ? undefined : this.maxPayload,
    });
    this.seq.on('drain', () => this.onDrain());
  }

  get closed(): boolean {
    return this.state === 'closed';
  }

  get targetSpeaksFirst(): boolean {
    return this.speaksFirst;
  }

  start(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.handshakeWait = { resolve, reject };
      this.state = 'handshaking';
      this.handshakeTimer = this.clock.setTimeout(
        () => this.failOpen(new HandshakeError('timed out waiting for the handshake to complete')),
        this.opts.handshakeTimeoutMs ?? 30_000,
      );
      this.dial().then(
        (ws) => this.attachWs(ws),
        (err: unknown) => this.failOpen(err instanceof Error ? err : new Error(String(err))),
      );
    });
  }

  stats(): DataChannelStats {
    return {
      connections: this.connections,
      resumes: this.resumes,
      openStreams: this.mode === 'mux' ? (this.smux?.streamCount ?? 0) : this.basicCurrent ? 1 : 0,
      sequencer: this.seq.stats(),
      rtoMs: this.seq.rto,
    };
  }

  async openStream(): Promise<TunnelStream> {
    if (this.state === 'closed') throw new DataChannelClosedError('data channel is closed');
    if (this.state === 'handshaking' || this.state === 'init') throw new Error('handshake not complete');
    if (this.mode === 'mux') {
      if (!this.smux) throw new DataChannelClosedError('mux session is closed');
      return this.smux.openStream();
    }
    if (!this.basicCurrent) return this.createBasic();
    return new Promise<TunnelStream>((resolve, reject) => this.basicWaiters.push({ resolve, reject }));
  }

  checkAlive(timeoutMs = 3000): void {
    const ws = this.ws;
    if (!ws || this.state !== 'open') return;
    const asked = this.clock.now();
    try {
      ws.ping();
    } catch {
      /* close follows */
    }
    this.clock.setTimeout(() => {
      if (ws !== this.ws || this.lastReceived >= asked) return;
      this.log('dead-endpoint', { afterCheck: true, silentMs: this.clock.now() - this.lastReceived });
      this.onLost(ws, `no answer within ${timeoutMs} ms of a liveness check`, 0);
      ws.terminate();
    }, timeoutMs);
  }

  async terminate(): Promise<void> {
    if (this.state === 'closed') return;
    this.terminating = true;
    this.seq.send(PayloadType.Flag, encodeFlag(PortFlag.TerminateSession));
    // Bounded wait for the agent to ack the flag (it may also close on us first).
    for (let i = 0; i < 60 && !this.isClosed() && this.seq.unackedCount > 0; i++) await this.sleep(50);
    this.finish({ reason: 'terminated' });
  }

  async close(): Promise<void> {
    this.finish({ reason: 'closed' });
  }

  // ---- connection management ----

  private log(event: string, detail: Record<string, unknown> = {}): void {
    this.opts.log?.(event, { sessionId: this.opts.sessionId, ...detail });
  }

  private emitError(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  private dial(): Promise<WebSocket> {
    const url = this.url;
    const timeoutMs = this.opts.connectTimeoutMs ?? 15_000;
    const ws = this.opts.wsFactory
      ? this.opts.wsFactory(url)
      : new WebSocket(url, {
          perMessageDeflate: false,
          handshakeTimeout: timeoutMs,
          maxPayload: 64 * 1024 * 1024,
        });
    return new Promise<WebSocket>((resolve, reject) => {
      const cleanup = (): void => {
        this.clock.clearTimeout(timer);
        ws.off('open', onOpen);
        ws.off('error', onError);
        ws.off('close', onClose);
      };
      const fail = (err: Error): void => {
        cleanup();
        ws.on('error', () => undefined);
        ws.terminate();
        reject(err);
      };
      const onOpen = (): void => {
        cleanup();
        const open: OpenDataChannelInput = {
          MessageSchemaVersion: '1.0',
          RequestId: randomUUID(),
          TokenValue: this.token,
          ClientId: this.opts.clientId,
          ClientVersion: this.clientVersion,
        };
        ws.send(JSON.stringify(open));
        resolve(ws);
      };
      const onError = (err: Error): void => fail(err);
      const onClose = (code: number): void => fail(new Error(`WebSocket closed before open (${code})`));
      const timer = this.clock.setTimeout(() => fail(new Error('WebSocket open timed out')), timeoutMs);
      ws.once('open', onOpen);
      ws.once('error', onError);
      ws.once('close', onClose);
    });
  }

  private attachWs(ws: WebSocket): void {
    if (this.state === 'closed') {
      ws.terminate();
      return;
    }
    this.ws = ws;
    this.connections++;
    this.lastReceived = this.clock.now();
    ws.on('message', (data, isBinary) => this.onFrame(ws, data, isBinary));
    ws.on('pong', () => {
      if (ws === this.ws) this.markAlive();
    });
    ws.on('error', (err) => this.log('websocket-error', { message: err.message }));
    ws.on('close', (code, reason) => {
      const why = reason.length > 0 ? ` ${oneLine(reason.toString())}` : '';
      this.onLost(ws, `WebSocket closed (${code}${why})`, code);
    });
    const transport = new SocketTransport(ws, this.pacer, () => {
      if (ws === this.ws) this.seq.transportDrained();
    });
    this.transport = transport;
    this.seq.attach(transport);
    this.startPing();
    this.log('connected', { connection: this.connections });
  }

  private startPing(): void {
    this.stopPing();
    const interval = this.opts.pingIntervalMs ?? 5000;
    const deadAfter = this.opts.deadAfterMs ?? 20_000;
    this.stopPings = repeat(this.clock, interval, () => {
      const ws = this.ws;
      if (!ws) return;
      if (this.clock.now() - this.lastReceived > deadAfter) {
        this.log('dead-endpoint', { silentMs: this.clock.now() - this.lastReceived });
        this.onLost(ws, 'endpoint unresponsive (no pong)', 0);
        ws.terminate();
        return;
      }
      try {
        ws.ping();
      } catch {
        /* close follows */
      }
    });
  }

  private stopPing(): void {
    this.stopPings?.();
    this.stopPings = undefined;
  }

  private markAlive(): void {
    this.lastReceived = this.clock.now();
  }

  private onLost(ws: WebSocket, cause: string, code: number): void {
    if (ws !== this.ws) return;
    this.ws = undefined;
    this.transport?.close();
    this.transport = undefined;
    this.seq.detach();
    this.stopPing();
    this.log('connection-lost', { cause });
    if (this.state === 'closed') return;
    if (this.state === 'handshaking') {
      this.failOpen(
        code === 1008 ? new HandshakeError(`token rejected: ${cause}`) : new HandshakeError(cause),
      );
      return;
    }
    if (this.terminating) {
      this.finish({ reason: 'terminated' });
      return;
    }
    void this.resumeLoop(cause);
  }

  /**
   * One outage: the tunnel's `resume` decides whether and when to try (it asks onError) and calls
   * `reconnect` for each try; we only dial. A loss while it runs is picked up once it settles.
   */
  private async resumeLoop(cause: string): Promise<void> {
    if (this.resuming) {
      this.lostWhileResuming = cause;
      return;
    }
    const resume = this.opts.resume;
    if (!resume) {
      this.finish({ reason: 'connection-lost', error: new DataChannelClosedError(cause) });
      return;
    }
    this.resuming = true;
    this.state = 'resuming';
    let tries = 0;
    try {
      await resume({
        cause,
        reconnect: async (r: ResumeResult) => {
          if (this.isClosed()) throw new DataChannelClosedError('data channel is closed');
          tries++;
          this.token = r.tokenValue;
          if (r.streamUrl) this.url = r.streamUrl;
          this.lostWhileResuming = undefined;
          const ws = await this.dial();
          if (this.isClosed()) {
            ws.terminate();
            throw new DataChannelClosedError('data channel is closed');
          }
          this.resumes++;
          this.state = 'open';
          this.attachWs(ws);
          this.log('resumed', { attempt: tries });
          this.emit('resumed', { attempt: tries, cause });
        },
      });
      if (!this.isClosed() && (this.state as State) !== 'open') {
        throw new DataChannelClosedError(`resume gave up without reconnecting: ${cause}`);
      }
    } catch (err) {
      this.resuming = false;
      this.finish({ reason: 'resume-failed', error: err instanceof Error ? err : new Error(String(err)) });
      return;
    }
    this.resuming = false;
    const again = this.lostWhileResuming;
    this.lostWhileResuming = undefined;
    if (again !== undefined && !this.ws && !this.isClosed()) void this.resumeLoop(again);
  }

  private isClosed(): boolean {
    return this.state === 'closed';
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = this.clock.setTimeout(() => {
        this.sleeper = undefined;
        resolve();
      }, ms);
      this.sleeper = { timer, resolve };
    });
  }

  private failOpen(err: Error): void {
    if (this.state !== 'handshaking') return;
    this.finish({ reason: 'protocol-error', error: err });
  }

  private finish(info: DataChannelClosedInfo): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    if (this.handshakeTimer) this.clock.clearTimeout(this.handshakeTimer);
    this.stopPing();
    if (this.sleeper) {
      this.clock.clearTimeout(this.sleeper.timer);
      this.sleeper.resolve();
      this.sleeper = undefined;
    }
    const err = info.error ?? new DataChannelClosedError(`data channel ${info.reason}`);
    const clean =
      info.reason === 'terminated' || info.reason === 'closed' || info.reason === 'channel-closed';
    this.handshakeWait?.reject(err);
    this.handshakeWait = undefined;
    this.seq.close();
    this.pacer?.close();
    this.transport?.close();
    this.smux?.close(clean ? undefined : err);
    if (clean) this.basicCurrent?.destroy();
    else this.basicCurrent?.destroy(err);
    for (const w of this.basicWaiters.splice(0)) w.reject(err);
    for (const cb of this.drainWaiters.splice(0)) cb(err);
    const ws = this.ws;
    this.ws = undefined;
    if (ws) {
      try {
        ws.close(1000);
      } catch {
        ws.terminate();
      }
      // Don't wait forever for the peer's close frame.
      this.clock.setTimeout(() => ws.terminate(), 1000);
    }
    this.log('closed', { reason: info.reason, message: info.error?.message });
    this.emit('closed', info);
  }

  // ---- incoming ----

  private onFrame(ws: WebSocket, data: WebSocket.RawData, isBinary: boolean): void {
    if (ws !== this.ws) return;
    this.markAlive();
    if (!isBinary) return;
    let msg: ClientMessage;
    try {
      msg = decodeMessage(toBuffer(data));
    } catch (err) {
      this.log('frame-rejected', { message: (err as Error).message });
      return;
    }
    switch (msg.messageType) {
      case MessageType.Acknowledge:
        try {
          this.seq.handleAck(parseAckContent(msg.payload).AcknowledgedMessageSequenceNumber);
        } catch (err) {
          this.log('frame-rejected', { message: (err as Error).message });
        }
        break;
      case MessageType.OutputStreamData:
        this.seq.handleData(msg);
        break;
      case MessageType.ChannelClosed:
        this.onChannelClosed(msg.payload);
        break;
      case MessageType.PausePublication:
        this.seq.pausePublication();
        break;
      case MessageType.StartPublication:
        this.seq.startPublication();
        break;
      default:
        // §5: e.g. agent_session_state, meant for the service; ignored quietly.
        this.log('ignored-message', { messageType: oneLine(msg.messageType, 40) });
    }
  }

  private onChannelClosed(payload: Buffer): void {
    let output = '';
    try {
      const o = JSON.parse(payload.toString('utf8')) as { Output?: unknown };
      output = typeof o.Output === 'string' ? oneLine(o.Output) : '';
    } catch {
      this.log('frame-rejected', { message: 'channel_closed payload is not JSON' });
    }
    this.emit('channelClosed', output);
    // After our TerminateSession flag the service answers with channel_closed: that is our terminate.
    this.finish({ reason: this.terminating ? 'terminated' : 'channel-closed', output });
  }

  /** Sequencer delivery (in order, exactly once). Returns false to refuse ("not ready"). */
  private onAgentMessage(m: ClientMessage): boolean {
    switch (m.payloadType) {
      case PayloadType.HandshakeRequest:
        this.onHandshakeRequest(m.payload);
        return true;
      case PayloadType.HandshakeComplete:
        this.onHandshakeComplete(m.payload);
        return true;
      case PayloadType.Output:
        return this.onOutput(m.payload);
      case PayloadType.Flag:
        this.onFlag(m.payload);
        return true;
      default:
        this.log('ignored-payload', { payloadType: m.payloadType });
        return true;
    }
  }

  private onHandshakeRequest(payload: Buffer): void {
    if (this.responded) return;
    let actions: ProcessedClientAction[];
    try {
      const req = parseHandshakeRequest(payload);
      this.agentVersion = req.AgentVersion;
      let sawSessionType = false;
      actions = req.RequestedClientActions.map((a) => {
        if (a.ActionType === 'SessionType') {
          const p = readSessionTypeParameters(a.ActionParameters);
          if (p?.SessionType === 'Port') {
            sawSessionType = true;
            this.sessionProperties = p.Properties;
            return {
              ActionType: a.ActionType,
              ActionStatus: ActionStatus.Success,
              ActionResult: null,
              Error: '',
            };
          }
          return {
            ActionType: a.ActionType,
            ActionStatus: ActionStatus.Failed,
            ActionResult: null,
            Error: `unsupported session type ${p?.SessionType ?? '?'}`,
          };
        }
        // KMSEncryption is never requested for Port sessions; anything else is unsupported here.
        return {
          ActionType: a.ActionType,
          ActionStatus: ActionStatus.Unsupported,
          ActionResult: null,
          Error: `unsupported action ${a.ActionType}`,
        };
      });
      if (!sawSessionType) throw new HandshakeError('HandshakeRequest has no Port SessionType action');
    } catch (err) {
      this.failOpen(err instanceof Error ? err : new HandshakeError(String(err)));
      return;
    }
    this.responded = true;
    // Ack goes out first (right after deliver returns), then the response, like the reference client.
    queueMicrotask(() => {
      if (this.state === 'closed') return;
      this.seq.send(PayloadType.HandshakeResponse, buildHandshakeResponse(this.clientVersion, actions));
    });
  }

  private onHandshakeComplete(payload: Buffer): void {
    if (this.state !== 'handshaking') return;
    if (!this.responded) {
      this.failOpen(new HandshakeError('HandshakeComplete before HandshakeRequest'));
      return;
    }
    try {
      this.customerMessage = parseHandshakeComplete(payload).CustomerMessage;
    } catch (err) {
      this.failOpen(err as Error);
      return;
    }
    this.mode =
      this.opts.forceMode ??
      (clientUsesMux(this.agentVersion, this.sessionProperties.type) ? 'mux' : 'basic');
    if (this.mode === 'mux') this.setupSmux();
    this.state = 'open';
    if (this.handshakeTimer) this.clock.clearTimeout(this.handshakeTimer);
    this.log('handshake-complete', { mode: this.mode, agentVersion: this.agentVersion });
    this.handshakeWait?.resolve();
    this.handshakeWait = undefined;
  }

  private setupSmux(): void {
    const keepAlive = this.opts.smuxKeepAlive ?? clientSmuxKeepAlive(this.agentVersion, this.clientVersion);
    const smux = new SmuxSession({
      role: 'client',
      write: (buf) => this.seq.send(PayloadType.Output, buf),
      writeFrame: (header, payload) =>
        this.seq.send(PayloadType.Output, payload ? [header, payload] : header),
      keepAlive: keepAlive ? {} : false,
      maxReceiveBuffer: this.opts.muxReceiveBuffer,
      // One frame per message: header + payload within the payload limit (§9).
      maxFrameSize: this.maxPayload - SMUX_HEADER_SIZE,
      clock: this.clock,
      onRemoteFin: (s) => {
        // The agent sends Flag 3 right before FINning the stream it could not connect.
        if (this.pendingConnectErrors > 0 && s.bytesReceived === 0) {
          this.pendingConnectErrors--;
          return new ConnectToPortError();
        }
        return undefined;
      },
    });
    smux.on('receiveReady', () => this.seq.resumeDelivery());
    smux.on('close', (err: Error | undefined) => {
      if (this.state !== 'closed')
        this.finish({ reason: 'protocol-error', error: err ?? new Error('smux closed') });
    });
    this.smux = smux;
  }

  /** Returns false to leave the message unacked for later (the agent resends it). */
  private onOutput(payload: Buffer): boolean {
    if (this.state === 'handshaking') return true;
    if (this.mode === 'mux') {
      const smux = this.smux;
      if (!smux) return true;
      smux.feed(payload);
      if (!smux.receiveReady) this.seq.pauseDelivery();
      return true;
    }
    const s = this.basicCurrent;
    if (!s) {
      // §7: the agent dials at session start, so a server that speaks first greets before any local
      // connection exists: keep it unacked for the first one (as the reference client does). After a
      // connection ended, what still arrives is the old target's and must not reach the next connection.
      if (!this.basicHadConnection) return false;
      this.log('discarded-output', { bytes: payload.length });
      return true;
    }
    if (!this.basicSent) this.speaksFirst = true;
    if (!s.pushFromAgent(payload)) this.seq.pauseDelivery();
    return true;
  }

  private onFlag(payload: Buffer): void {
    let flag: number;
    try {
      flag = decodeFlag(payload);
    } catch (err) {
      this.log('frame-rejected', { message: (err as Error).message });
      return;
    }
    this.log('flag', { flag });
    if (flag !== PortFlag.ConnectToPortError) return;
    if (this.mode === 'mux') this.pendingConnectErrors++;
    else this.basicCurrent?.destroy(new ConnectToPortError());
  }

  // ---- outgoing ----

  private onDrain(): void {
    this.smux?.notifyWritable();
    for (const cb of this.drainWaiters.splice(0)) {
      cb();
      if (!this.seq.writable) break;
    }
  }

  private createBasic(): BasicStream {
    this.basicHadConnection = true;
    this.basicSent = false;
    const s = new BasicStream({
      write: (chunk, cb) => this.basicWrite(chunk, cb),
      read: () => this.seq.resumeDelivery(),
      closed: (st) => this.onBasicClosed(st),
    });
    this.basicCurrent = s;
    return s;
  }

  private basicWrite(chunk: Buffer, cb: (err?: Error | null) => void): void {
    if (this.state === 'closed') {
      cb(new DataChannelClosedError('data channel is closed'));
      return;
    }
    this.basicSent = true;
    const max = this.maxPayload;
    for (let off = 0; off < chunk.length; off += max) {
      this.seq.send(PayloadType.Output, chunk.subarray(off, Math.min(chunk.length, off + max)));
    }
    if (this.seq.writable) cb();
    else this.drainWaiters.push(cb);
  }

  private onBasicClosed(st: BasicStream): void {
    if (this.basicCurrent !== st) return;
    this.basicCurrent = undefined;
    if (this.state === 'closed') return;
    this.seq.send(PayloadType.Flag, encodeFlag(PortFlag.DisconnectToPort));
    // Data still arriving for the old connection is discarded from here on.
    this.seq.resumeDelivery();
    const next = this.basicWaiters.shift();
    if (next) next.resolve(this.createBasic());
  }
}
