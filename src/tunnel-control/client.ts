// Asks every running `stormtunnel up` of this user for its tunnels (what `stormtunnel status` shows).
import { readdirSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { SOCKET_PREFIX, SOCKET_SUFFIX, stateDir } from './paths.js';
import type { ControlResponse, RunningUp } from './types.js';

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

async function ask(path: string, timeoutMs: number): Promise<RunningUp['processes'][number] | undefined> {
  const result = await new Promise<{ stale: boolean; response?: ControlResponse }>((resolve) => {
    const socket = connect(path);
    let buf = '';
    const done = (r: { stale: boolean; response?: ControlResponse }) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    // Slow but alive: not stale, just not answering now.
    const timer = setTimeout(() => done({ stale: false }), timeoutMs);
    socket.once('connect', () => socket.write(JSON.stringify({ op: 'status' }) + '\n'));
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
  if (result.stale) rmSync(path, { force: true });
  const r = result.response;
  if (!r?.ok) return undefined;
  return { pid: r.pid, startedAt: r.startedAt, tunnels: r.tunnels };
}
