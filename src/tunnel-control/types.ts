// The control socket's wire format: one JSON line in, one JSON line out.
import type { TunnelStatus } from '../engine/types.js';

export type ControlRequest =
  | { op: 'status' }
  /** Stop one tunnel (sessions terminated, port closed); the others are not touched. */
  | { op: 'tunnel-down'; tunnel: string }
  /** Start one tunnel of the config that is not running. */
  | { op: 'tunnel-up'; tunnel: string }
  /** Read the config file again and apply what changed. */
  | { op: 'reload' };

export type ControlOp = ControlRequest['op'];

/** What a reload did, by tunnel name. */
export interface ControlChanges {
  started: string[];
  stopped: string[];
  restarted: string[];
}

export type ControlResponse =
  | {
      ok: true;
      pid: number;
      startedAt: string;
      tunnels: TunnelStatus[];
      /** The real path of the config file the process runs (absent: no config file). */
      config?: string;
      /** Whether the process runs as the background service (`up --service`). */
      service?: boolean;
      /** tunnel-up / tunnel-down: whether anything changed; reload: what changed. */
      changed?: boolean;
      changes?: ControlChanges;
    }
  | { ok: false; error: string; hint?: string };

/** One running `up`, as its socket describes it. */
export interface RunningProcess {
  pid: number;
  startedAt: string;
  tunnels: TunnelStatus[];
  config?: string;
  service?: boolean;
  /** Its control socket. */
  socket: string;
}

/** What `stormtunnel status` gets from every running `up`. */
export interface RunningUp {
  processes: RunningProcess[];
  /** Every tunnel of every process. */
  tunnels: TunnelStatus[];
}
