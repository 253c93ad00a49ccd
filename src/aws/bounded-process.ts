// Runs a helper command (credential_process) with a time limit and bounded output. The command runs in its
// own process group, so that a timeout or an output flood stops everything it started: a shell script's
// `sleep`, an agent it forked. We never wait for a pipe that a grandchild keeps open past the limit.
import { spawn, type ChildProcess } from 'node:child_process';

export interface BoundedRunOptions {
  env: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs: number;
  /** More than this on stdout stops the command. */
  maxStdoutBytes: number;
  /** Only the end of stderr is kept, for the error message. */
  stderrTailBytes?: number;
}

export type BoundedRunResult =
  | { outcome: 'exited'; code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }
  | { outcome: 'could-not-start'; reason: string }
  /** `exited`: the command itself had ended, but something it started kept stdout or stderr open. */
  | { outcome: 'timed-out'; exited: boolean; stderr: string }
  | { outcome: 'too-much-output'; stderr: string };

// Windows has no process groups to signal; there only the command itself is stopped.
const GROUPS = process.platform !== 'win32';

/**
 * SIGTERM first so that a helper's own cleanup runs (bash traps removing lock or temp files), then SIGKILL
 * for whatever ignores it. The SIGKILL timer is not unref'd: the group must be gone before we exit, and
 * this wait (at most KILL_GRACE_MS) happens only after a failure.
 */
export const KILL_GRACE_MS = 1_000;

// Process groups still running; stopped when we exit (they are not in our terminal's group, so a Ctrl-C
// that ends `up` would not reach them).
const live = new Set<number>();
const stopLiveGroups = () => {
  for (const pgid of live) signalGroup(pgid, 'SIGTERM');
};

function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false; // ESRCH: the group is gone
  }
}

function stopAll(child: ChildProcess): void {
  const pid = child.pid;
  if (pid === undefined) return;
  if (!GROUPS) {
    child.kill('SIGKILL');
    return;
  }
  if (signalGroup(pid, 'SIGTERM')) setTimeout(() => signalGroup(pid, 'SIGKILL'), KILL_GRACE_MS);
}

/** Runs `file args` without a shell; always settles by `timeoutMs`, whatever the command's children do. */
export function runBounded(
  file: string,
  args: string[],
  options: BoundedRunOptions,
): Promise<BoundedRunResult> {
  const tailBytes = options.stderrTailBytes ?? 4096;
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = spawn(file, args, {
        env: options.env,
        ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: GROUPS,
        windowsHide: true,
      });
    } catch (err) {
      // Arguments spawn rejects outright (a NUL byte in the command).
      resolve({
        outcome: 'could-not-start',
        reason: (err as NodeJS.ErrnoException).code ?? 'invalid command',
      });
      return;
    }
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let stderr = Buffer.alloc(0);
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let openPipes = 2;
    let settled = false;
    const tail = () => stderr.toString('utf8');
    const finish = (result: BoundedRunResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (child.pid !== undefined) live.delete(child.pid);
      if (live.size === 0) process.off('exit', stopLiveGroups);
      resolve(result);
    };
    const stop = () => {
      stopAll(child);
      // Our ends of the pipes: a grandchild that holds theirs must not keep us (or our event loop) waiting.
      child.stdout?.destroy();
      child.stderr?.destroy();
    };
    // Our own timer, not spawn's `timeout` option: that one is cleared only on 'exit', which a command that
    // could not start never emits, so it kept the process alive for the whole timeout.
    const timer = setTimeout(() => {
      stop();
      finish({ outcome: 'timed-out', exited: exit !== undefined, stderr: tail() });
    }, options.timeoutMs);
    if (child.pid !== undefined && GROUPS) {
      if (live.size === 0) process.on('exit', stopLiveGroups);
      live.add(child.pid);
    }

    child.on('error', (err: NodeJS.ErrnoException) => {
      if (child.pid === undefined) finish({ outcome: 'could-not-start', reason: err.code ?? err.message });
    });
    child.stdout!.on('data', (d: Buffer) => {
      stdoutBytes += d.length;
      if (stdoutBytes > options.maxStdoutBytes) {
        stop();
        finish({ outcome: 'too-much-output', stderr: tail() });
      } else stdout.push(d);
    });
    child.stderr!.on('data', (d: Buffer) => {
      const joined = Buffer.concat([stderr, d]);
      stderr = joined.length > tailBytes ? joined.subarray(joined.length - tailBytes) : joined;
    });
    const maybeDone = () => {
      if (exit && openPipes === 0)
        finish({
          outcome: 'exited',
          ...exit,
          stdout: Buffer.concat(stdout).toString('utf8'),
          stderr: tail(),
        });
    };
    for (const pipe of [child.stdout!, child.stderr!])
      pipe.on('close', () => {
        openPipes--;
        maybeDone();
      });
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      maybeDone();
    });
  });
}
