// One background service per config: its identity is the config file's real path, and its lock and log
// live in the user's state folder under a key derived from that path (two checkouts, two services).
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { SEARCH_PLACES } from '../config/load.js';
import { UsageError } from '../engine/errors.js';
import { logDir, stateDir } from '../tunnel-control/paths.js';

export interface Instance {
  /** The config file's real path. */
  config: string;
  /** 12 hex digits of the path's SHA-256: names the lock, the log and the service units. */
  key: string;
  lockFile: string;
  logFile: string;
}

/** What the lock file holds. */
export interface LockInfo {
  pid: number;
  /** The tunnels named when it started (none: the autostart ones); `restart` starts the same. */
  tunnels: string[];
  config: string;
  log: string;
  startedAt: string;
}

/**
 * The config file the commands would load, found without running it (so `stop` and `logs` work with a
 * broken config): --config, else the first of cosmiconfig's search places from `cwd` up to the home folder.
 */
export function findConfigFile(explicit: string | undefined, cwd: string, env: NodeJS.ProcessEnv): string {
  if (explicit) {
    const file = resolve(cwd, explicit);
    if (!existsSync(file))
      throw new UsageError(`--config: ${file} does not exist`, {
        hint: 'give the path of your stormtunnel config',
      });
    return realpathSync(file);
  }
  const home = env.HOME || homedir();
  let dir = resolve(cwd);
  for (;;) {
    for (const name of SEARCH_PLACES) {
      const file = join(dir, name);
      if (existsSync(file) && (name !== 'package.json' || hasStormtunnelKey(file))) return realpathSync(file);
    }
    const up = dirname(dir);
    if (dir === home || up === dir) break;
    dir = up;
  }
  throw new UsageError(`no stormtunnel.config.* found in ${cwd} or above`, {
    hint: 'the background service runs a config file: create stormtunnel.config.ts, or pass --config <file>',
  });
}

function hasStormtunnelKey(file: string): boolean {
  try {
    return Object.hasOwn(JSON.parse(readFileSync(file, 'utf8')) as object, 'stormtunnel');
  } catch {
    return false;
  }
}

export function instanceOf(config: string, env: NodeJS.ProcessEnv): Instance {
  const key = createHash('sha256').update(config).digest('hex').slice(0, 12);
  return {
    config,
    key,
    lockFile: join(stateDir(env), `service-${key}.lock`),
    logFile: join(logDir(env), `service-${key}.log`),
  };
}

/** The running service of this instance, or undefined (a lock left by a dead process is removed). */
export function readLock(instance: Instance): LockInfo | undefined {
  let info: LockInfo;
  try {
    info = JSON.parse(readFileSync(instance.lockFile, 'utf8')) as LockInfo;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    // Half-written or damaged: nobody can be identified by it.
    rmSync(instance.lockFile, { force: true });
    return undefined;
  }
  if (Number.isInteger(info.pid) && isAlive(info.pid)) return info;
  rmSync(instance.lockFile, { force: true });
  return undefined;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but is not ours (a recycled pid); ESRCH: gone.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A dead service not yet reaped (its parent, `start`, is gone and a container's pid 1 may not reap)
  // still answers signal 0: on Linux its state in /proc says so.
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/**
 * Takes the instance's lock for `pid` (exclusive create, so two starting services cannot both win), or
 * throws the one line that names the running one. Returns the release function.
 */
export function acquireLock(instance: Instance, pid: number, tunnels: string[]): () => void {
  mkdirSync(dirname(instance.lockFile), { recursive: true, mode: 0o700 });
  const info: LockInfo = {
    pid,
    tunnels,
    config: instance.config,
    log: instance.logFile,
    startedAt: new Date().toISOString(),
  };
  for (let attempt = 0; attempt < 2; attempt++) {
    let fd: number;
    try {
      fd = openSync(instance.lockFile, 'wx', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = readLock(instance); // removes a dead holder's lock, then we try once more
      if (holder) throw alreadyRunning(instance, holder);
      continue;
    }
    writeSync(fd, JSON.stringify(info) + '\n');
    closeSync(fd);
    return () => {
      if (readLock(instance)?.pid === pid) rmSync(instance.lockFile, { force: true });
    };
  }
  throw alreadyRunning(instance, readLock(instance));
}

export function alreadyRunning(instance: Instance, holder: { pid: number } | undefined): UsageError {
  return new UsageError(
    `a stormtunnel service already runs for ${instance.config}${holder ? ` (pid ${holder.pid})` : ''}`,
    { hint: 'stormtunnel restart to run it again, stormtunnel stop to end it' },
  );
}
