// Shared helpers for the session-manager tests: fake timers, loopback emulator + target servers, transfers.
import { createHash, randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  createDataChannelRegistry,
  type AgentSessionOptions,
  type DataChannelRegistry,
} from '../../src/emulator/agent/index.js';
import type { Clock, TimerHandle } from '../../src/engine/types.js';
import { withTimeout } from '../helpers/wait.js';

/**
 * Deterministic fake clock for the data channel's unit tests: the engine's Clock, with timers that fire only
 * from a synchronous `advance()` (these tests step protocol state machines without awaiting).
 */
export class FakeTimers implements Clock {
  private t = 1_700_000_000_000;
  private nextId = 1;
  private readonly pending = new Map<number, { at: number; fn: () => void; every?: number }>();

  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    this.pending.set(id, { at: this.t + ms, fn });
    return { id };
  }
  clearTimeout(handle: TimerHandle): void {
    this.pending.delete(handle.id);
  }
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimeout(resolve, ms));
  }
  get timerCount(): number {
    return this.pending.size;
  }
  /** Moves time forward, firing due timers in order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (let guard = 0; guard < 1_000_000; guard++) {
      let nextId = -1;
      let nextAt = Infinity;
      for (const [id, p] of this.pending) {
        if (p.at < nextAt) {
          nextAt = p.at;
          nextId = id;
        }
      }
      if (nextId < 0 || nextAt > end) break;
      const p = this.pending.get(nextId);
      if (!p) break;
      this.t = nextAt;
      if (p.every !== undefined) p.at += p.every;
      else this.pending.delete(nextId);
      p.fn();
    }
    this.t = end;
  }
}

export function sha256hex(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

export function data(n: number): Buffer {
  return randomBytes(n);
}

/** Resolves when `cond()` is true; polls every 10 ms; rejects after `ms`. */

export { waitFor, withTimeout } from '../helpers/wait.js';
export { freePort as refusedPort, startEchoServer, type TcpServer } from '../helpers/tcp.js';

export interface Emulator {
  registry: DataChannelRegistry;
  port: number;
  url(sessionId: string): string;
  close(): Promise<void>;
}

export async function startEmulator(): Promise<Emulator> {
  const registry = createDataChannelRegistry();
  const server: HttpServer = createHttpServer((_req, res) => res.writeHead(404).end());
  server.on('upgrade', (req, socket, head) => {
    if (!registry.handleUpgrade(req, socket, head)) socket.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    registry,
    port,
    url: (id) => `ws://127.0.0.1:${port}/v1/data-channel/${id}?role=publish_subscribe&cell-number=1`,
    close: async () => {
      await registry.closeAll();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export function sessionOptions(
  sessionId: string,
  targetPort: number,
  extra: Partial<AgentSessionOptions> = {},
): AgentSessionOptions {
  return {
    sessionId,
    documentName: 'AWS-StartPortForwardingSession',
    portNumber: targetPort,
    host: '127.0.0.1',
    agentVersion: '3.3.1802.0',
    pacing: false,
    token: `token-${sessionId}-0`,
    ...extra,
  };
}

/**
 * Writes `payload` to an echo connection and reads back as many bytes; returns the SHA-256 of what came back.
 * Writes in `chunk` pieces honouring backpressure.
 */
export async function echoRoundTrip(stream: Duplex, payload: Buffer, chunk = 65536): Promise<string> {
  const hash = createHash('sha256');
  let got = 0;
  const done = new Promise<void>((resolve, reject) => {
    stream.on('data', (d: Buffer) => {
      hash.update(d);
      got += d.length;
      if (got >= payload.length) resolve();
    });
    stream.once('error', reject);
    stream.once('close', () => {
      if (got < payload.length) reject(new Error(`stream closed after ${got}/${payload.length} bytes`));
    });
  });
  for (let off = 0; off < payload.length; off += chunk) {
    if (!stream.write(payload.subarray(off, off + chunk))) {
      await new Promise<void>((resolve, reject) => {
        const onDrain = (): void => {
          stream.off('close', onClose);
          resolve();
        };
        const onClose = (): void => {
          stream.off('drain', onDrain);
          reject(new Error('stream closed while writing'));
        };
        stream.once('drain', onDrain);
        stream.once('close', onClose);
      });
    }
  }
  await done;
  return hash.digest('hex');
}

/** Ends a stream and waits for 'close'. */
export async function closeStream(stream: Duplex): Promise<void> {
  if (stream.destroyed) return;
  const closed = new Promise<void>((r) => stream.once('close', () => r()));
  stream.end();
  stream.resume();
  await withTimeout(closed, 5000, 'stream close');
}
