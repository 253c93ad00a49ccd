// One emulated SSM agent port-forwarding session. It outlives WebSocket connections so clients can resume:
// sequence state, smux session and target connections survive a drop.
import { randomUUID } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import WebSocket from 'ws';
import { parseAckContent } from '../../session-manager/ack.js';
import { decodeFlag, encodeFlag } from '../../session-manager/flags.js';
import { decodeMessage, encodeMessage } from '../../session-manager/frame.js';
import {
  ActionStatus,
  buildHandshakeComplete,
  buildHandshakeRequest,
  parseHandshakeResponse,
} from '../../session-manager/handshake.js';
import { Sequencer } from '../../session-manager/sequencer.js';
import { SmuxSession, type SmuxStream } from '../../session-manager/smux.js';
import {
  HeaderFlag,
  MessageType,
  PayloadType,
  PortFlag,
  type ChannelClosedPayload,
  type ClientMessage,
  type PortSessionProperties,
} from '../../session-manager/types.js';
import { agentSmuxKeepAlive, agentUsesMux } from '../../session-manager/versions.js';
import { ClientLimits, type LimitViolation } from './client-limits.js';
import { FaultLane, seededRandom } from './faults.js';
import { OutputPump } from './pump.js';
import { resolveRealism } from './realism.js';
import type {
  AgentSession,
  AgentSessionOptions,
  AgentSessionStats,
  DataChannelFaults,
  DataChannelRealism,
} from './types.js';

const OPEN_TIMEOUT_MS = 10_000;
/** After asking a target to close (FIN), destroy it if it lingers. */
const TARGET_LINGER_MS = 2000;
/** §6: how long the ending agent waits for its unacked messages to be acked. */
const END_ACK_WAIT_MS = 2000;
/** A socket we ended (FIN, no close frame) is destroyed if the peer does not close it. */
const SOCKET_LINGER_MS = 1000;
/** §5: addressed to the service; a client must ignore it quietly. Not a stream-data message. */
const AGENT_SESSION_STATE = 'agent_session_state';
/** Our choice of close code for a client the service cuts off (§9); AWS's own code is not known. */
const POLICY_CLOSE_CODE = 1008;
/** One smux frame of the agent's (xtaci/smux's default 32 KiB, plus its header): what net.Pipe holds. */
const MUX_PIPE_BYTES = 32 * 1024 + 8;

function toBuffer(data: WebSocket.RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

export class AgentSessionImpl implements AgentSession {
  readonly sessionId: string;
  private token: string;
  private terminatedFlag = false;
  private readonly seq: Sequencer;
  private readonly pump: OutputPump;
  private ws: WebSocket | undefined;
  private rawSocket: Duplex | undefined;
  private readonly frozen: WebSocket[] = [];
  private faults: DataChannelFaults = { dropRate: 0, duplicateRate: 0, reorderRate: 0 };
  private readonly outLane: FaultLane<Buffer>;
  private readonly inLane: FaultLane<ClientMessage>;
  private handshake: 'none' | 'requested' | 'complete' = 'none';
  private handshakeTimer: NodeJS.Timeout | undefined;
  private handshakeStart = 0n;
  private mode: 'basic' | 'mux' | undefined;
  private keepAlive: boolean | undefined;
  private smux: SmuxSession | undefined;
  private basicTarget: Socket | undefined;
  private readonly targets = new Set<Socket>();
  private readonly realism: DataChannelRealism;
  /** Set while the ended session waits for its last acks (§6). */
  private ending: { finish: () => void; timer: NodeJS.Timeout } | undefined;
  private readonly counters = {
    connections: 0,
    bytesToClient: 0,
    bytesFromClient: 0,
    targetConnections: 0,
    rejectedTokens: 0,
  };

  constructor(private readonly opts: AgentSessionOptions) {
    this.sessionId = opts.sessionId;
    this.token = opts.token;
    this.realism = resolveRealism(opts);
    const random = opts.faultSeed !== undefined ? seededRandom(opts.faultSeed) : Math.random;
    this.outLane = new FaultLane<Buffer>(
      () => this.faults,
      random,
      (f) => this.wsSend(f),
    );
    this.inLane = new FaultLane<ClientMessage>(
      () => this.faults,
      random,
      (m) => this.seq.handleData(m),
    );
    this.seq = new Sequencer({
      role: 'agent',
      deliver: (m) => this.onClientMessage(m),
      reorderLimit: { maxMessages: 100_000 },
    });
    this.pump = new OutputPump({
      send: (chunk) => {
        this.seq.send(PayloadType.Output, chunk);
      },
      canSend: () => this.seq.writable && !this.terminatedFlag,
      pacing: this.realism.pacing,
      onDrain: () => {
        this.smux?.notifyWritable();
        this.basicTarget?.resume();
      },
    });
    this.seq.on('drain', () => this.pump.kick());
  }

  get terminated(): boolean {
    return this.terminatedFlag;
  }

  stats(): AgentSessionStats {
    const seq = this.seq.stats();
    return {
      ...this.counters,
      mode: this.mode,
      smuxKeepAlive: this.keepAlive,
      retransmits: seq.retransmits,
      duplicatesReceived: seq.duplicates,
      outOfOrderReceived: seq.outOfOrder,
    };
  }

  rotateToken(newToken: string): void {
    this.token = newToken;
    this.event('token-rotated', {});
  }

  setFaults(f: Partial<DataChannelFaults>): void {
    this.faults = { ...this.faults, ...f };
    this.event('faults', { ...this.faults });
  }

  pausePublication(): void {
    this.sendControl(MessageType.PausePublication);
    this.seq.pausePublication();
    this.event('pause-publication', {});
  }

  startPublication(): void {
    this.sendControl(MessageType.StartPublication);
    this.seq.startPublication();
    this.pump.kick();
    this.event('start-publication', {});
  }

  closeConnection(code = 1000): void {
    this.event('close-connection', { code });
    this.ws?.close(code);
  }

  killConnection(): void {
    this.event('kill-connection', {});
    const ws = this.ws;
    if (!ws) return;
    this.dropConnection(ws);
    ws.terminate();
  }

  freezeConnection(): void {
    const ws = this.ws;
    if (!ws) return;
    this.event('freeze-connection', {});
    this.rawSocket?.pause();
    this.dropConnection(ws);
    this.frozen.push(ws);
  }

  sendChannelClosed(output: string): void {
    this.end('channel_closed', output, false);
  }

  terminate(reason = 'terminated'): void {
    this.end(reason, this.exitOutput(), true);
  }

  /** Emulator shutdown: end at once, without waiting for acks. */
  shutdown(): void {
    this.end('emulator shutting down', this.exitOutput(), false);
    this.ending?.finish();
  }

  private exitOutput(): string {
    return `\n\nExiting session with sessionId: ${this.sessionId}.\n\n`;
  }

  /**
   * Ends the session: nothing new is produced, targets close. §6: the agent waits up to 2 s for its unacked
   * messages (when `waitForAcks`), then the service sends channel_closed and the socket is dropped without
   * a close frame.
   */
  private end(reason: string, output: string, waitForAcks: boolean): void {
    if (this.terminatedFlag) return;
    this.terminatedFlag = true;
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.inLane.release(true);
    this.smux?.close();
    this.pump.close();
    for (const t of this.targets) t.destroy();
    this.targets.clear();
    this.event('terminated', { reason });
    if (!this.realism.agentStyleEnding) {
      this.sendChannelClosedFrame(output);
      const ws = this.ws;
      if (ws) {
        this.dropConnection(ws);
        ws.close(1000);
        setTimeout(() => ws.terminate(), 1000).unref();
      }
      this.release();
      return;
    }
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      if (this.ending) clearTimeout(this.ending.timer);
      this.ending = undefined;
      const ws = this.ws;
      const socket = this.rawSocket;
      if (ws) this.dropConnection(ws);
      this.release();
      if (ws && socket) this.channelClosedThenDrop(ws, socket, output);
    };
    if (waitForAcks && this.ws && this.seq.unackedCount > 0) {
      // The sequencer keeps resending meanwhile; acks are checked in onAck.
      this.ending = { finish, timer: setTimeout(finish, END_ACK_WAIT_MS) };
      this.ending.timer.unref();
      return;
    }
    finish();
  }

  /** Frees what the ended session still held (sequencer, fault lanes, frozen sockets). */
  private release(): void {
    for (const f of this.frozen.splice(0)) f.terminate();
    this.outLane.release(true);
    this.seq.close();
  }

  /** §6: channel_closed (from the service), then the TCP connection ends without a WebSocket close frame. */
  private channelClosedThenDrop(ws: WebSocket, socket: Duplex, output: string): void {
    const drop = () => {
      socket.end();
      setTimeout(() => socket.destroy(), SOCKET_LINGER_MS).unref();
    };
    if (ws.readyState !== WebSocket.OPEN) return drop();
    ws.send(this.channelClosedFrame(output), drop);
  }

  /** A WebSocket upgraded for this session: wait for the open JSON and check its token. */
  attach(ws: WebSocket, socket: Duplex): void {
    ws.on('error', (err) => this.event('websocket-error', { message: err.message }));
    const timer = setTimeout(() => ws.close(1008, 'no open message'), OPEN_TIMEOUT_MS);
    timer.unref();
    ws.once('message', (data, isBinary) => {
      clearTimeout(timer);
      if (this.terminatedFlag) {
        ws.close(1000, 'session terminated');
        return;
      }
      let token: unknown;
      let clientId: unknown;
      try {
        if (isBinary) throw new Error('binary');
        const o = JSON.parse(toBuffer(data).toString('utf8')) as Record<string, unknown>;
        token = o.TokenValue;
        clientId = o.ClientId;
      } catch {
        this.event('open-rejected', { why: 'open message is not JSON text' });
        ws.close(1008, 'invalid open message');
        return;
      }
      if (typeof token !== 'string' || token !== this.token) {
        this.counters.rejectedTokens++;
        this.event('open-rejected', { why: 'invalid token' });
        ws.close(1008, 'invalid token');
        return;
      }
      this.useConnection(ws, socket, String(clientId));
    });
  }

  private event(event: string, detail: Record<string, unknown>): void {
    try {
      this.opts.onEvent?.(event, { sessionId: this.sessionId, ...detail });
    } catch {
      /* a logging hook must not break the session */
    }
  }

  private useConnection(ws: WebSocket, socket: Duplex, clientId: string): void {
    const old = this.ws;
    if (old) {
      this.dropConnection(old);
      old.terminate();
    }
    this.ws = ws;
    this.rawSocket = socket;
    this.counters.connections++;
    this.event('connected', { connection: this.counters.connections, clientId });
    const limits = new ClientLimits(this.realism.clientMessageRateLimit, this.realism.clientPayloadLimit);
    ws.on('message', (data, isBinary) => {
      if (this.ws !== ws || !isBinary) return;
      // §9: every binary frame counts (stream data, acks, flags).
      const tooFast = limits.onMessage();
      if (tooFast) return this.cutOff(ws, tooFast);
      let msg: ClientMessage;
      try {
        msg = decodeMessage(toBuffer(data));
      } catch (err) {
        this.event('frame-rejected', { message: (err as Error).message });
        return;
      }
      const tooBig = limits.onPayload(msg.payload.length);
      if (tooBig) return this.cutOff(ws, tooBig);
      if (msg.messageType === MessageType.InputStreamData) {
        this.clearPause(msg.messageType);
        this.inLane.push(msg);
      } else if (msg.messageType === MessageType.Acknowledge) {
        this.clearPause(msg.messageType);
        try {
          this.onAck(parseAckContent(msg.payload).AcknowledgedMessageSequenceNumber);
        } catch (err) {
          this.event('frame-rejected', { message: (err as Error).message });
        }
      }
    });
    ws.on('close', (code) => {
      if (this.ws !== ws) return;
      this.dropConnection(ws);
      this.event('disconnected', { code });
    });
    this.seq.attach({
      send: (frame, kind) => (kind === 'data' ? this.outLane.push(frame) : this.wsSend(frame)),
    });
    if (this.handshake === 'none') {
      if (this.realism.agentSessionState) this.sendAgentSessionState();
      this.startHandshake();
    }
    this.pump.kick();
  }

  /** §9: the service closes the client's WebSocket; the session survives (the client may resume). */
  private cutOff(ws: WebSocket, v: LimitViolation): void {
    this.event(v.event, v.detail);
    this.dropConnection(ws);
    ws.close(POLICY_CLOSE_CODE, v.reason);
    setTimeout(() => ws.terminate(), SOCKET_LINGER_MS).unref();
  }

  private onAck(seq: number): void {
    this.seq.handleAck(seq);
    if (this.ending && this.seq.unackedCount === 0) this.ending.finish();
  }

  /** §5: the agent clears a pause on every input_stream_data and acknowledge it receives. */
  private clearPause(by: string): void {
    if (!this.realism.clientClearsPause || !this.seq.paused || this.terminatedFlag) return;
    this.seq.startPublication();
    this.pump.kick();
    this.event('pause-cleared', { by });
  }

  /** §5: sent before the handshake, seq 0, flags 3, outside the agent's stream numbering. */
  private sendAgentSessionState(): void {
    const payload = { SchemaVersion: 1, SessionState: 'Connected', SessionId: this.sessionId };
    this.wsSend(
      encodeMessage({
        messageType: AGENT_SESSION_STATE,
        sequenceNumber: 0,
        flags: HeaderFlag.Ack,
        payloadType: PayloadType.Undefined,
        payload: Buffer.from(JSON.stringify(payload)),
      }),
    );
  }

  private dropConnection(ws: WebSocket): void {
    if (this.ws !== ws) return;
    this.ws = undefined;
    this.rawSocket = undefined;
    this.seq.detach();
  }

  private wsSend(frame: Buffer): void {
    const ws = this.ws;
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(frame);
  }

  private sendControl(type: string): void {
    this.wsSend(encodeMessage({ messageType: type, sequenceNumber: 0, payloadType: PayloadType.Undefined }));
  }

  private sendChannelClosedFrame(output: string): void {
    this.wsSend(this.channelClosedFrame(output));
  }

  private channelClosedFrame(output: string): Buffer {
    const payload: ChannelClosedPayload = {
      MessageId: randomUUID(),
      CreatedDate: new Date().toISOString(),
      DestinationId: this.sessionId,
      SessionId: this.sessionId,
      MessageType: 'channel_closed',
      SchemaVersion: 1,
      Output: output,
    };
    return encodeMessage({
      messageType: MessageType.ChannelClosed,
      sequenceNumber: 0,
      payloadType: PayloadType.Output,
      payload: Buffer.from(JSON.stringify(payload)),
    });
  }

  // ---- handshake ----

  /** The port-forwarding documents set `type: LocalPortForwarding`; AWS-StartSSHSession does not. */
  private get localPortForwarding(): boolean {
    return this.opts.documentName !== 'AWS-StartSSHSession';
  }

  private startHandshake(): void {
    this.handshake = 'requested';
    this.handshakeStart = process.hrtime.bigint();
    // AWS-StartSSHSession's properties carry only portNumber: no `type` (targets-and-services §4).
    const props: PortSessionProperties = { portNumber: String(this.opts.portNumber) };
    if (this.localPortForwarding) props.type = 'LocalPortForwarding';
    if (this.opts.localPortNumber !== undefined) props.localPortNumber = this.opts.localPortNumber;
    if (this.opts.documentName === 'AWS-StartPortForwardingSessionToRemoteHost') props.host = this.opts.host;
    this.seq.send(
      PayloadType.HandshakeRequest,
      buildHandshakeRequest(this.opts.agentVersion, props),
      HeaderFlag.Syn,
    );
    this.handshakeTimer = setTimeout(
      () => this.terminate('handshake timed out'),
      this.opts.handshakeTimeoutMs ?? 15_000,
    );
    this.handshakeTimer.unref();
    this.event('handshake-requested', {});
  }

  private onHandshakeResponse(payload: Buffer): void {
    if (this.handshake !== 'requested') return;
    let clientVersion: string;
    try {
      const res = parseHandshakeResponse(payload);
      const actions = res.ProcessedClientActions;
      const failed = actions.filter((a) => a.ActionStatus !== ActionStatus.Success);
      if (actions.length === 0 || failed.length > 0 || !actions.some((a) => a.ActionType === 'SessionType')) {
        throw new Error(
          `client actions failed: ${failed.map((a) => `${a.ActionType}: ${a.Error}`).join('; ')}`,
        );
      }
      clientVersion = res.ClientVersion;
    } catch (err) {
      this.event('handshake-failed', { message: (err as Error).message });
      this.terminate('handshake failed');
      return;
    }
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    // The agent's port plugin muxes only LocalPortForwarding sessions; any other (SSH) is basic (§7).
    this.mode =
      this.localPortForwarding && agentUsesMux(this.opts.agentVersion, clientVersion) ? 'mux' : 'basic';
    if (this.mode === 'mux') this.setupSmux(clientVersion);
    this.handshake = 'complete';
    const ns = Number(process.hrtime.bigint() - this.handshakeStart);
    this.seq.send(PayloadType.HandshakeComplete, buildHandshakeComplete(ns, ''));
    this.event('handshake-complete', { mode: this.mode, clientVersion, smuxKeepAlive: this.keepAlive });
    // §7: basic mode dials at session start, so a server that speaks first greets at once.
    if (this.mode === 'basic' && this.realism.basicEagerDial) this.dialBasic(true);
  }

  private setupSmux(clientVersion: string): void {
    this.keepAlive = agentSmuxKeepAlive(this.opts.agentVersion, clientVersion);
    // The agent hands smux's output to its 1024-byte read loop through net.Pipe (our model, README
    // "Realism"), which buffers nothing: at most the frame being read waits there, the rest waits in smux,
    // where streams take turns.
    if (this.realism.pacing) this.pump.highWater = MUX_PIPE_BYTES;
    const smux = new SmuxSession({
      role: 'server',
      write: (buf) => this.pump.enqueue(buf),
      keepAlive: this.keepAlive
        ? { intervalMs: this.opts.smuxKeepAliveIntervalMs, timeoutMs: this.opts.smuxKeepAliveTimeoutMs }
        : false,
    });
    smux.on('stream', (s: SmuxStream) => this.bridge(s));
    smux.on('receiveReady', () => this.seq.resumeDelivery());
    smux.on('close', (err: Error | undefined) => {
      if (err && !this.terminatedFlag) {
        this.event('smux-closed', { message: err.message });
        this.terminate(`smux: ${err.message}`);
      }
    });
    this.smux = smux;
  }

  // ---- client -> agent ----

  private onClientMessage(m: ClientMessage): boolean {
    if (this.terminatedFlag) return true;
    if (m.payloadType === PayloadType.HandshakeResponse) {
      this.onHandshakeResponse(m.payload);
      return true;
    }
    // Acked but discarded before the handshake completes, like the real agent.
    if (this.handshake !== 'complete') return true;
    if (m.payloadType === PayloadType.Output) {
      if (this.mode === 'mux') {
        const smux = this.smux;
        if (smux) {
          smux.feed(m.payload);
          if (!smux.receiveReady) this.seq.pauseDelivery();
        }
      } else {
        this.basicWrite(m.payload);
      }
    } else if (m.payloadType === PayloadType.Flag) {
      let flag = 0;
      try {
        flag = decodeFlag(m.payload);
      } catch {
        return true;
      }
      this.event('flag', { flag });
      if (flag === PortFlag.DisconnectToPort) this.basicDisconnect();
      else if (flag === PortFlag.TerminateSession) {
        // Let the ack for the flag go out first.
        setImmediate(() => this.terminate('TerminateSession flag'));
      }
    }
    return true;
  }

  // ---- targets ----

  private dialTarget(): Socket {
    const sock = connect({ host: this.opts.host, port: this.opts.portNumber });
    sock.setNoDelay(true);
    this.targets.add(sock);
    this.counters.targetConnections++;
    sock.on('close', () => this.targets.delete(sock));
    return sock;
  }

  private connectFailed(err: Error, detail: Record<string, unknown>): void {
    this.event('target-connect-failed', {
      ...detail,
      code: (err as NodeJS.ErrnoException).code,
      port: this.opts.portNumber,
    });
  }

  private bridge(stream: SmuxStream): void {
    if (this.terminatedFlag) {
      stream.destroy();
      return;
    }
    const sock = this.dialTarget();
    let connected = false;
    stream.on('error', () => undefined);
    sock.once('connect', () => {
      connected = true;
      this.event('target-connected', { stream: stream.id });
      sock.on('data', (d: Buffer) => (this.counters.bytesToClient += d.length));
      stream.on('data', (d: Buffer) => (this.counters.bytesFromClient += d.length));
      sock.pipe(stream);
      stream.pipe(sock);
    });
    sock.on('error', (err) => {
      // Flag 3 goes into the sequence before the stream's FIN, so the client can attribute it.
      if (!connected) {
        this.connectFailed(err, { stream: stream.id });
        this.seq.send(PayloadType.Flag, encodeFlag(PortFlag.ConnectToPortError));
      }
      stream.destroy();
    });
    sock.on('close', (hadError) => {
      if (hadError) stream.destroy();
      else stream.end();
    });
    // No half-close: the stream ending closes the target (after flushing what we wrote).
    stream.on('close', () => {
      if (sock.destroyed) return;
      sock.end();
      setTimeout(() => sock.destroy(), TARGET_LINGER_MS).unref();
    });
  }

  private basicWrite(payload: Buffer): void {
    let t = this.basicTarget;
    if (!t) t = this.dialBasic();
    this.counters.bytesFromClient += payload.length;
    if (!t.write(payload)) {
      this.seq.pauseDelivery();
      t.once('drain', () => this.seq.resumeDelivery());
    }
  }

  /** `atStart`: the dial when the session starts (§7), whose failure ends the session. */
  private dialBasic(atStart = false): Socket {
    const t = this.dialTarget();
    this.basicTarget = t;
    let connected = false;
    t.once('connect', () => {
      connected = true;
      this.event('target-connected', { atStart });
    });
    t.on('data', (d: Buffer) => {
      // Data from a target the client already disconnected must not leak into the next connection.
      if (this.basicTarget !== t) return;
      this.counters.bytesToClient += d.length;
      if (!this.pump.enqueue(d)) t.pause();
    });
    t.on('error', (err) => {
      if (connected || this.basicTarget !== t) return;
      this.basicTarget = undefined;
      this.connectFailed(err, { atStart });
      // §7: the agent's worker exits without a word (no Flag 3 in basic mode); the service tells the client.
      if (atStart) this.terminate('target dial failed');
      // The former lenient emulator answered Flag 3; kept only with basicEagerDial off.
      else if (!this.realism.basicEagerDial)
        this.seq.send(PayloadType.Flag, encodeFlag(PortFlag.ConnectToPortError));
    });
    t.on('close', () => {
      if (this.basicTarget === t) this.basicTarget = undefined;
      this.seq.resumeDelivery();
    });
    return t;
  }

  private basicDisconnect(): void {
    const t = this.basicTarget;
    this.basicTarget = undefined;
    if (t) {
      t.end();
      setTimeout(() => t.destroy(), TARGET_LINGER_MS).unref();
    }
    this.seq.resumeDelivery();
  }
}
