// `--json` of the background service's commands as data: `start` (schemas/start.schema.json), `tunnel
// up|down` and `reload` (schemas/control.schema.json), `service status` (schemas/service-status.schema.json).
// Tunnels have the same shape as in `status --json` (src/cli/status-json.ts).
import type { TunnelJson } from './status-json.js';

export interface StartJson {
  /** `ready`: every tunnel settled and none failed; `failed`: one failed (the service keeps running);
   * `timeout`: not settled within --timeout (it keeps trying); `exited`: the service ended before. */
  outcome: 'ready' | 'failed' | 'timeout' | 'exited';
  ok: boolean;
  pid: number;
  config: string;
  logFile: string;
  tunnels: TunnelJson[];
}

export interface ControlJson {
  op: 'tunnel-up' | 'tunnel-down' | 'reload';
  /** One per running `up` or service of the config that answered. */
  processes: {
    pid: number;
    service: boolean;
    /** tunnel-up / tunnel-down: whether the tunnel was started or stopped (false: it already was). */
    changed?: boolean;
    /** reload: the tunnels started, stopped and restarted. */
    changes?: { started: string[]; stopped: string[]; restarted: string[] };
    /** The tunnels the command started or restarted, once settled (none for tunnel-down). */
    tunnels: TunnelJson[];
  }[];
}

export interface ServiceStatusJson {
  platform: 'linux' | 'darwin';
  config: string;
  unit: { name: string; path: string; installed: boolean };
  /** Whether the service of this config runs now, however it was started (`start` or the unit). */
  service: { state: 'running' | 'stopped'; pid: number | null; startedAt: string | null };
  logFile: string;
  /** The service manager's own view of the unit. */
  statusCommand: string[];
}
