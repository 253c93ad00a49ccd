// A bare data-channel client for the emulator's realism tests: the project's codec over `ws`, nothing
// else (no sequencer, no resend), so a test sees and controls every frame on the wire.
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { StartSessionCommand } from '@aws-sdk/client-ssm';
import { encodeAck } from '../../src/session-manager/ack.js';
import { encodeFlag } from '../../src/session-manager/flags.js';
import { decodeMessage, encodeMessage } from '../../src/session-manager/frame.js';
import { ActionStatus, buildHandshakeResponse } from '../../src/session-manager/handshake.js';
import {
  MessageType,
  PayloadType,
  type ClientMessage,
  type PortFlagValue,
} from '../../src/session-manager/types.js';
import {
  SEED_STATIC_ACCESS_KEY_ID,
  SEED_STATIC_SECRET_ACCESS_KEY,
  type RunningEmulator,
} from '../../src/emulator/index.js';
import { withTimeout } from '../helpers/wait.js';
import { ssmClient } from './helpers.js';

export const STATIC = {
  accessKeyId: SEED_STATIC_ACCESS_KEY_ID,
  secretAccessKey: SEED_STATIC_SECRET_ACCESS_KEY,
};

export interface Arrival {
  msg: ClientMessage;
  /** performance.now() when it arrived. */
  at: number;
}

export class RawChannel {
  readonly arrivals: Arrival[] = [];
  /** Message types and 'close <code>' in arrival order. */
  readonly trace: string[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  /** Ack every output_stream_data on arrival. */
  autoAck = true;
  sent = 0;
  private readonly waiters = new Set<() => void>();

  /** `nextSeq`: the client's next sequence number (a resumed channel keeps counting). */
  private constructor(
    readonly ws: WebSocket,
    private nextSeq: number,
  ) {
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.trace.push(`close ${code}`);
        this.notify();
        resolve({ code, reason: reason.toString() });
      });
    });
    ws.on('error', () => undefined);
    ws.on('message', (data: Buffer, isBinary) => {
      if (!isBinary) return;
      const msg = decodeMessage(data);
      this.arrivals.push({ msg, at: performance.now() });
      this.trace.push(msg.messageType);
      if (this.autoAck && msg.messageType === MessageType.OutputStreamData) this.ack(msg);
      this.notify();
    });
  }

  static async open(url: string, token: string, nextSeq = 0): Promise<RawChannel> {
    const ws = new WebSocket(url);
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      }),
      5000,
      'data channel open',
    );
    const ch = new RawChannel(ws, nextSeq);
    ws.send(
      JSON.stringify({
        MessageSchemaVersion: '1.0',
        RequestId: randomUUID(),
        TokenValue: token,
        ClientId: randomUUID(),
        ClientVersion: '1.2.707.0',
      }),
    );
    return ch;
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Agent stream messages of this payload type, in arrival order (resends included). */
  outputs(payloadType: number = PayloadType.Output): ClientMessage[] {
    return this.arrivals
      .map((a) => a.msg)
      .filter((m) => m.messageType === MessageType.OutputStreamData && m.payloadType === payloadType);
  }

  /** Concatenated Output payloads, each sequence number once. */
  outputText(): string {
    const seen = new Set<number>();
    let s = '';
    for (const m of this.outputs()) {
      if (seen.has(m.sequenceNumber)) continue;
      seen.add(m.sequenceNumber);
      s += m.payload.toString('latin1');
    }
    return s;
  }

  /** Resolves once `cond` holds (checked on every arrival and close); rejects after `ms`. */
  async until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
    if (cond()) return;
    let check: () => void = () => undefined;
    try {
      await withTimeout(
        new Promise<void>((resolve) => {
          check = () => {
            if (cond()) resolve();
          };
          this.waiters.add(check);
        }),
        ms,
        what,
      );
    } finally {
      this.waiters.delete(check);
    }
  }

  /** The first arrival matching `pred` (waiting for it). */
  async next(pred: (m: ClientMessage) => boolean, what: string, ms = 10_000): Promise<ClientMessage> {
    let found: ClientMessage | undefined;
    await this.until(() => (found = this.arrivals.find((a) => pred(a.msg))?.msg) !== undefined, what, ms);
    return found!;
  }

  send(frame: Buffer): void {
    this.sent++;
    this.ws.send(frame);
  }

  ack(msg: ClientMessage): void {
    this.send(encodeAck(msg, Date.now()));
  }

  sendData(payloadType: number, payload: Buffer): void {
    this.send(
      encodeMessage({
        messageType: MessageType.InputStreamData,
        sequenceNumber: this.nextSeq++,
        payloadType,
        payload,
      }),
    );
  }

  sendFlag(flag: PortFlagValue): void {
    this.sendData(PayloadType.Flag, encodeFlag(flag));
  }

  /** Answers the HandshakeRequest and waits for HandshakeComplete. */
  async handshake(clientVersion = '1.2.707.0'): Promise<void> {
    await this.next((m) => m.payloadType === PayloadType.HandshakeRequest, 'HandshakeRequest');
    const action = {
      ActionType: 'SessionType',
      ActionStatus: ActionStatus.Success,
      ActionResult: null,
      Error: '',
    };
    this.sendData(PayloadType.HandshakeResponse, buildHandshakeResponse(clientVersion, [action]));
    await this.next((m) => m.payloadType === PayloadType.HandshakeComplete, 'HandshakeComplete');
  }

  /** A WebSocket ping round trip: everything the emulator wrote before the pong has arrived. */
  async settle(): Promise<void> {
    await withTimeout(
      new Promise<void>((r) => (this.ws.ping(), this.ws.once('pong', () => r()))),
      5000,
      'pong',
    );
  }

  close(): void {
    this.ws.terminate();
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }
}

export interface Started {
  sessionId: string;
  token: string;
  streamUrl: string;
  ch: RawChannel;
}

/** StartSession for `instanceId` and target `port` (as the static IAM user), then the raw channel. */
export async function startRaw(emu: RunningEmulator, instanceId: string, port: number): Promise<Started> {
  const s = await ssmClient(emu, STATIC).send(
    new StartSessionCommand({
      Target: instanceId,
      DocumentName: 'AWS-StartPortForwardingSession',
      Parameters: { portNumber: [String(port)] },
    }),
  );
  const ch = await RawChannel.open(s.StreamUrl!, s.TokenValue!);
  return { sessionId: s.SessionId!, token: s.TokenValue!, streamUrl: s.StreamUrl!, ch };
}
