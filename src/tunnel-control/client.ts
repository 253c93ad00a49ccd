// Talks to every running `stormtunnel up` of this user: their tunnels (what `stormtunnel status` shows) and
// the commands of `stormtunnel tunnel up|down` and `reload`.
import { readdirSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { SOCKET_PREFIX, SOCKET_SUFFIX, stateDir } from './paths.js';
import type { ControlRequest, ControlResponse, RunningProcess, RunningUp } from './types.js';

/** Largest answer accepted (a few hundred tunnels fit easily). */
const MAX_RESPONSE = 4 * 1024 * 1024;

/**
 * The tunnels of every running `up`, or undefined when none runs. Socket files nobody answers on (a
 * crashed `up`) are removed.
 */
export async function queryRunningUp(
  env: NodeJS.ProcessEnv = process.env,
  options: { timeoutMs?: number } = {},
): Promise<RunningUp | undefined> {
  const dir = stateDir(env);
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.startsWith(SOCKET_PREFIX) && n.endsWith(SOCKET_SUFFIX));
  } catch {
    return undefined;
  }
  const answers = await Promise.all(names.map((n) => ask(join(dir, n), options.timeoutMs ?? 2000)));
  const processes = answers.filter((a): a is NonNullable<typeof a> => a !== undefined);
  if (processes.length === 0) return undefined;
  processes.sort((a, b) => a.pid - b.pid);
  return { processes, tunnels: processes.flatMap((p) => p.tunnels) };
}

/** The running `up` processes of the config at `configPath` (its real path). */
export async function runningUpsOf(
  env: NodeJS.ProcessEnv,
  configPath: string,
  options: { timeoutMs?: number } = {},
): Promise<RunningProcess[]> {
  return ((await queryRunningUp(env, options))?.processes ?? []).filter((p) => p.config === configPath);
}

/**
 * Sends one request to the socket at `path`. `stale`: nobody listens there (a crashed `up`); `response`
 * undefined and not stale: it did not answer in time.
 */
export function sendControl(
  path: string,
  request: ControlRequest,
  timeoutMs: number,
): Promise<{ stale: boolean; response?: ControlResponse }> {
  return new Promise((resolve) => {
    const socket = connect(path);
    let buf = '';
    const done = (r: { stale: boolean; response?: ControlResponse }) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    // Slow but alive: not stale, just not answering now.
    const timer = setTimeout(() => done({ stale: false }), timeoutMs);
    socket.once('connect', () => socket.write(JSON.stringify(request) + '\n'));
    socket.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      if (buf.length > MAX_RESPONSE) done({ stale: false });
    });
    socket.once('end', () => {
      try {
        done({ stale: false, response: JSON.parse(buf) as ControlResponse });
      } catch {
        done({ stale: false });
      }
    });
    socket.once('error', (err: NodeJS.ErrnoException) =>
      done({ stale: err.code === 'ECONNREFUSED' || err.code === 'ENOENT' }),
    );
  });
}

async function ask(path: string, timeoutMs: number): Promise<RunningProcess | undefined> {
  const result = await sendControl(path, { op: 'status' }, timeoutMs);
  if (result.stale) rmSync(path, { force: true });
  const r = result.response;
  if (!r?.ok) return undefined;
  return {
    pid: r.pid,
    startedAt: r.startedAt,
    tunnels: r.tunnels,
    socket: path,
    ...(r.config ? { config: r.config } : {}),
    ...(r.service ? { service: true } : {}),
  };
}
