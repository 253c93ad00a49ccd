// The control socket of a running `up`: answers {"op":"status"} with the tunnels' figures and carries out
// the commands of `stormtunnel tunnel up|down` and `reload`. Unix socket in the user's state folder (folder
// 0700, socket 0600: only the owner can connect, which is the whole of its access control); removed when
// `up` ends.
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger, TunnelStatus } from '../engine/types.js';
import { socketPath, stateDir, upPid } from './paths.js';
import type { ControlChanges, ControlRequest, ControlResponse } from './types.js';

/** A request larger than this is not ours. */
const MAX_REQUEST = 64 * 1024;
/** Idle connections are dropped; a command being carried out (a reload bundles the config) gets longer. */
const IDLE_TIMEOUT_MS = 5000;
const COMMAND_TIMEOUT_MS = 120_000;

export interface ControlServer {
  readonly path: string;
  close(): Promise<void>;
}

/** What the process does for each command; a thrown error is answered as {ok:false} with its words. */
export interface ControlHandlers {
  tunnelUp(name: string): Promise<boolean>;
  tunnelDown(name: string): Promise<boolean>;
  reload(): Promise<ControlChanges>;
  /** The one-line message and hint of a failure, as every command words it. */
  describeError(err: unknown): { message: string; hint?: string };
}

export async function startControlServer(opts: {
  env: NodeJS.ProcessEnv;
  status: () => TunnelStatus[];
  logger: Logger;
  config?: string;
  service?: boolean;
  handlers?: ControlHandlers;
}): Promise<ControlServer> {
  const dir = stateDir(opts.env);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // mkdir leaves an existing folder's mode alone; the socket must not be reachable by others.
  chmodSync(dir, 0o700);
  const path = socketPath(opts.env);
  rmSync(path, { force: true }); // a previous process with our pid died without cleaning up
  const startedAt = new Date().toISOString();
  const sockets = new Set<Socket>();

  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.setTimeout(IDLE_TIMEOUT_MS, () => socket.destroy());
    let buf = '';
    let answered = false;
    socket.on('data', (d: Buffer) => {
      if (answered) return;
      buf += d.toString('utf8');
      if (buf.length > MAX_REQUEST) {
        socket.destroy();
        return;
      }
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      answered = true;
      socket.setTimeout(COMMAND_TIMEOUT_MS);
      void answer(buf.slice(0, nl)).then((r) => socket.end(JSON.stringify(r) + '\n'));
    });
  });

  const ok = (extra: Partial<Extract<ControlResponse, { ok: true }>> = {}): ControlResponse => ({
    ok: true,
    pid: upPid(opts.env),
    startedAt,
    tunnels: opts.status(),
    ...(opts.config ? { config: opts.config } : {}),
    ...(opts.service ? { service: true } : {}),
    ...extra,
  });

  async function answer(line: string): Promise<ControlResponse> {
    let req: ControlRequest;
    try {
      req = JSON.parse(line) as ControlRequest;
    } catch {
      return { ok: false, error: 'request is not JSON' };
    }
    if (req?.op === 'status') return ok();
    const h = opts.handlers;
    if (!h) return { ok: false, error: 'unknown op' };
    try {
      switch (req?.op) {
        case 'tunnel-up':
        case 'tunnel-down': {
          if (typeof req.tunnel !== 'string') return { ok: false, error: 'tunnel: a name is required' };
          const changed =
            req.op === 'tunnel-up' ? await h.tunnelUp(req.tunnel) : await h.tunnelDown(req.tunnel);
          return ok({ changed });
        }
        case 'reload':
          return ok({ changes: await h.reload() });
        default:
          return { ok: false, error: 'unknown op' };
      }
    } catch (err) {
      const { message, hint } = h.describeError(err);
      return { ok: false, error: message, ...(hint ? { hint } : {}) };
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  chmodSync(path, 0o600);
  server.on('error', (err) => opts.logger.warn(`control socket: ${err.message}`));
  opts.logger.debug('control socket listening', { path });

  return {
    path,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(path, { force: true });
    },
  };
}
