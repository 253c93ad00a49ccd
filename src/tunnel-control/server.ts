// The control socket of a running `up`: answers {"op":"status"} with the tunnels' figures. Unix socket in
// the user's state folder (folder 0700, socket 0600); removed when `up` ends.
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger, TunnelStatus } from '../engine/types.js';
import { socketPath, stateDir, upPid } from './paths.js';
import type { ControlResponse } from './types.js';

/** A request larger than this is not ours. */
const MAX_REQUEST = 64 * 1024;

export interface ControlServer {
  readonly path: string;
  close(): Promise<void>;
}

export async function startControlServer(opts: {
  env: NodeJS.ProcessEnv;
  status: () => TunnelStatus[];
  logger: Logger;
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
    socket.setTimeout(5000, () => socket.destroy());
    let buf = '';
    socket.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      if (buf.length > MAX_REQUEST) {
        socket.destroy();
        return;
      }
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      socket.end(JSON.stringify(answer(buf.slice(0, nl))) + '\n');
    });
  });

  function answer(line: string): ControlResponse {
    let req: unknown;
    try {
      req = JSON.parse(line);
    } catch {
      return { ok: false, error: 'request is not JSON' };
    }
    if ((req as { op?: unknown } | null)?.op !== 'status') return { ok: false, error: 'unknown op' };
    return { ok: true, pid: upPid(opts.env), startedAt, tunnels: opts.status() };
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
