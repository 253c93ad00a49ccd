// Where a running `stormtunnel up` puts its control socket, and the background service its lock and log:
// the user's state folder, owner-only.
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * `$XDG_STATE_HOME/stormtunnel`, else `~/.local/state/stormtunnel` (XDG Base Directory); on macOS without
 * XDG_STATE_HOME, `~/Library/Application Support/stormtunnel`, where macOS apps keep their state.
 */
export function stateDir(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  const xdg = env.XDG_STATE_HOME;
  // XDG says relative paths are invalid and must be ignored.
  if (xdg && xdg.startsWith('/')) return join(xdg, 'stormtunnel');
  const home = env.HOME || homedir();
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'stormtunnel');
  return join(home, '.local', 'state', 'stormtunnel');
}

/** Where the background service writes its log: the state folder, or `~/Library/Logs/stormtunnel` on macOS. */
export function logDir(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  const xdg = env.XDG_STATE_HOME;
  if (platform === 'darwin' && !(xdg && xdg.startsWith('/')))
    return join(env.HOME || homedir(), 'Library', 'Logs', 'stormtunnel');
  return stateDir(env, platform);
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
