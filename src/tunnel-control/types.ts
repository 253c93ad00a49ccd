// The control socket's wire format: one JSON line in, one JSON line out.
import type { TunnelStatus } from '../engine/types.js';

export type ControlRequest = { op: 'status' };

export type ControlResponse =
  { ok: true; pid: number; startedAt: string; tunnels: TunnelStatus[] } | { ok: false; error: string };

/** What `stormtunnel status` gets from every running `up`. */
export interface RunningUp {
  processes: { pid: number; startedAt: string; tunnels: TunnelStatus[] }[];
  /** Every tunnel of every process. */
  tunnels: TunnelStatus[];
}
