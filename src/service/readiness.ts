// Waiting for a running `up` to have settled its tunnels (each ready, idle, waiting for a sign-in or
// failed), asked over its control socket: what `start`, `tunnel up` and `reload` report before returning.
import type { TunnelStatus } from '../engine/types.js';
import { sendControl } from '../tunnel-control/client.js';

/** The states a tunnel rests in until something happens (see plugins/ssm-tunnel/tunnel-set.ts). */
const SETTLED = new Set(['ready', 'idle', 'waiting-for-sign-in', 'failed', 'stopped']);
const POLL_MS = 100;

export type Readiness =
  | { kind: 'settled'; tunnels: TunnelStatus[] }
  | { kind: 'exited' }
  | { kind: 'timeout'; tunnels: TunnelStatus[] };

/**
 * Asks the socket until the tunnels (`names`, else all, at least one) have settled; stops early when
 * `exited` settles (the process ended) or after `timeoutMs`.
 */
export async function waitForTunnels(opts: {
  socket: string;
  names?: readonly string[];
  timeoutMs: number;
  exited?: Promise<unknown>;
}): Promise<Readiness> {
  let gone = false;
  void opts.exited?.then(() => (gone = true));
  const end = Date.now() + opts.timeoutMs;
  let last: TunnelStatus[] = [];
  for (;;) {
    if (gone) return { kind: 'exited' };
    const { response } = await sendControl(opts.socket, { op: 'status' }, 2000);
    if (response?.ok) {
      last = opts.names ? response.tunnels.filter((t) => opts.names!.includes(t.name)) : response.tunnels;
      if (last.length > 0 && last.every((t) => SETTLED.has(t.state)))
        return { kind: 'settled', tunnels: last };
    }
    if (gone) return { kind: 'exited' };
    if (Date.now() > end) return { kind: 'timeout', tunnels: last };
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** "tunnel db: ready 127.0.0.1:5432 -> i-0123456789abcdef0:5432", as `up` prints it. */
export function tunnelLine(t: TunnelStatus): string {
  if (t.state === 'ready') return `tunnel ${t.name}: ready ${t.localAddress ?? '-'} -> ${t.target}`;
  return `tunnel ${t.name}: ${t.state}${t.detail ? `: ${t.detail}` : ''}`;
}
