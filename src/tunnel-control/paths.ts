// Where a running `stormtunnel up` puts its control socket: the user's state folder (XDG), owner-only.
import { homedir } from 'node:os';
import { join } from 'node:path';

/** `$XDG_STATE_HOME/stormtunnel`, else `~/.local/state/stormtunnel`. */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_STATE_HOME;
  // XDG says relative paths are invalid and must be ignored.
  if (xdg && xdg.startsWith('/')) return join(xdg, 'stormtunnel');
  return join(env.HOME || homedir(), '.local', 'state', 'stormtunnel');
}

export const SOCKET_PREFIX = 'up-';
export const SOCKET_SUFFIX = '.sock';

/**
 * The pid `up` is known by: the process the user started. `bin/stormtunnel.js` runs `up` in a child Node
 * (see there) and tells it its own pid in STORMTUNNEL_UP_PID.
 */
export function upPid(env: NodeJS.ProcessEnv = process.env): number {
  const pid = Number(env.STORMTUNNEL_UP_PID);
  return Number.isInteger(pid) && pid > 0 ? pid : process.pid;
}

/** One socket per `up` process, so two `up`s with different tunnels both answer. */
export function socketPath(env: NodeJS.ProcessEnv, pid = upPid(env)): string {
  return join(stateDir(env), `${SOCKET_PREFIX}${pid}${SOCKET_SUFFIX}`);
}
