// The background service's log file and its rotation. The service writes to the file through an fd opened
// with O_APPEND (its stdout and stderr), so rotation copies the file aside and truncates it in place
// (logrotate's copytruncate): every write after the truncation lands at the new end, none in a renamed file.
import { copyFileSync, existsSync, renameSync, rmSync, statSync, truncateSync } from 'node:fs';

export const LOG_MAX_BYTES = 5 * 1024 * 1024;
export const LOG_KEEP = 3;

/** Moves `file` to `file.1` (older ones to .2, .3...) when it has reached `maxBytes`; returns whether it did. */
export function rotateLog(file: string, maxBytes = LOG_MAX_BYTES, keep = LOG_KEEP): boolean {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    return false;
  }
  if (size < maxBytes) return false;
  rmSync(`${file}.${keep}`, { force: true });
  for (let i = keep - 1; i >= 1; i--)
    if (existsSync(`${file}.${i}`)) renameSync(`${file}.${i}`, `${file}.${i + 1}`);
  // Lines written between the copy and the truncation are lost: at most one check interval's tail end.
  copyFileSync(file, `${file}.1`);
  truncateSync(file, 0);
  return true;
}

/** Checks the log every `intervalMs` while the service runs; returns the stop function. */
export function keepLogRotated(file: string, intervalMs = 60_000, maxBytes = LOG_MAX_BYTES): () => void {
  const timer = setInterval(() => rotateLog(file, maxBytes), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
