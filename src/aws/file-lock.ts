// Cross-process lock for read-refresh-write of cache files. The lock is a file created atomically
// (written to a temp name, then hard-linked: link fails if the lock exists) holding pid, host and time.
// A holder touches it while working; a lock whose holder is gone (same host, dead pid) or that has not been
// touched for `staleMs` is taken over through a short "breaker" file, so two waiters never both break it.
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LockTimeoutError, displayPath } from './errors.js';

export interface LockOptions {
  /** Give up waiting after this long (default 30 s). */
  timeoutMs?: number;
  /** A lock not touched for this long is stale (default 20 s); holders touch it every staleMs / 4. */
  staleMs?: number;
  /** For messages: the home folder to shorten paths with. */
  home?: string;
}

interface LockInfo {
  raw: string;
  mtimeMs: number;
  pid?: number;
  host?: string;
  createdAt?: string;
  nonce?: string;
}

async function readLock(path: string): Promise<LockInfo | undefined> {
  try {
    const [raw, st] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    let parsed: Partial<{ pid: number; host: string; createdAt: string; nonce: string }> = {};
    try {
      parsed = JSON.parse(raw) as typeof parsed;
    } catch {
      // An unreadable lock is judged by its age only.
    }
    return { raw, mtimeMs: st.mtimeMs, ...parsed };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function isStale(info: LockInfo, staleMs: number): boolean {
  if (Date.now() - info.mtimeMs > staleMs) return true;
  return (
    info.host === hostname() &&
    typeof info.pid === 'number' &&
    info.pid !== process.pid &&
    !pidAlive(info.pid)
  );
}

async function tryCreate(path: string, content: string): Promise<boolean> {
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(tmp, content, { mode: 0o600, flag: 'wx' });
  try {
    await link(tmp, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

/** True when this call removed the stale lock (or found it gone). */
async function breakStale(path: string, seen: LockInfo, staleMs: number): Promise<boolean> {
  const breaker = `${path}.break`;
  let fh;
  try {
    fh = await open(breaker, 'wx', 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    // Someone else is breaking it; if they died doing so, clear their breaker.
    const b = await stat(breaker).catch(() => undefined);
    if (b && Date.now() - b.mtimeMs > staleMs) await unlink(breaker).catch(() => undefined);
    return false;
  }
  try {
    await fh.close();
    const now = await readLock(path);
    if (now && now.raw === seen.raw && now.mtimeMs === seen.mtimeMs) {
      await unlink(path).catch(() => undefined);
    }
    return true;
  } finally {
    await unlink(breaker).catch(() => undefined);
  }
}

/** Runs `fn` while holding the lock file `lockPath`; waits (bounded) for other holders. */
export async function withFileLock<T>(
  lockPath: string,
  fn: () => Promise<T>,
  options: LockOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const staleMs = options.staleMs ?? 20_000;
  const nonce = randomBytes(12).toString('hex');
  const content = JSON.stringify({
    pid: process.pid,
    host: hostname(),
    createdAt: new Date().toISOString(),
    nonce,
  });
  const deadline = Date.now() + timeoutMs;
  let delay = 2;
  await mkdir(dirname(lockPath), { recursive: true, mode: 0o700 });
  for (;;) {
    if (await tryCreate(lockPath, content)) break;
    const info = await readLock(lockPath);
    if (!info) continue;
    const broke = isStale(info, staleMs) && (await breakStale(lockPath, info, staleMs));
    if (Date.now() >= deadline) {
      const holder =
        info.pid !== undefined
          ? ` held by pid ${info.pid} on ${info.host ?? 'unknown host'} since ${info.createdAt ?? '?'}`
          : '';
      throw new LockTimeoutError(
        lockPath,
        `timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${displayPath(lockPath, options.home)}${holder}; if that process is gone, delete the lock file`,
      );
    }
    // After breaking a stale lock retry at once; otherwise back off (bounded) with jitter.
    if (broke) continue;
    await sleep(delay + Math.random() * delay);
    delay = Math.min(delay * 2, 50);
  }

  const ours = async () => (await readLock(lockPath))?.nonce === nonce;
  const heartbeat = setInterval(
    () => {
      void (async () => {
        if (await ours()) {
          const now = new Date();
          await utimes(lockPath, now, now);
        }
      })().catch(() => undefined);
    },
    Math.max(50, Math.floor(staleMs / 4)),
  );
  heartbeat.unref();
  try {
    return await fn();
  } finally {
    clearInterval(heartbeat);
    // Only remove our own lock: if it was taken over (we stalled past staleMs) it belongs to someone else now.
    if (await ours().catch(() => false)) await unlink(lockPath).catch(() => undefined);
  }
}
