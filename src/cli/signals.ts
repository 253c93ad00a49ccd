// What Ctrl-C, SIGTERM and SIGHUP do, for every command: the command's own stop when it has one (`up`
// stops its tunnels), else exit at once with 128 + the signal's number, as an unhandled signal would. Either
// way, work in the exit guard (a rotated refresh token being written, src/engine/exit-guard.ts) finishes
// first: the service has already replaced the old token, and cutting the write short costs a sign-in.
import { constants } from 'node:os';
import { EXIT_GUARD_TIMEOUT_MS, exitGuard } from '../engine/exit-guard.js';

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
type StopSignal = (typeof STOP_SIGNALS)[number];

let installed = false;
let stderr: NodeJS.WritableStream = process.stderr;
let commandStop: ((signal: StopSignal) => void) | undefined;
let stopping = false;
let exitCodeOfSignal: number | undefined;
let exiting = false;

export function exitCodeFor(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}

/** Listens for the stop signals (once per process); `out` gets the "finishing ..." line. */
export function installSignalHandling(out: NodeJS.WritableStream = process.stderr): void {
  stderr = out;
  if (installed) return;
  installed = true;
  for (const signal of STOP_SIGNALS) process.on(signal, () => onSignal(signal));
}

/**
 * The running command stops itself on the first signal (`stop` is called once); a second signal exits
 * after the guarded work. Returns the function that hands signals back.
 */
export function onStopSignal(stop: (signal: StopSignal) => void): () => void {
  installSignalHandling(stderr);
  commandStop = stop;
  stopping = false;
  return () => {
    if (commandStop === stop) commandStop = undefined;
  };
}

/** The exit code a signal has set (128 + its number), when a signal ended a command that had no stop. */
export function signalExitCode(): number | undefined {
  return exitCodeOfSignal;
}

function onSignal(signal: StopSignal): void {
  if (commandStop && !stopping) {
    stopping = true;
    commandStop(signal);
    return;
  }
  // A command that listens for the signal itself (the emulator saves its state on the way out) stops its
  // own way; listeners run in order and ours came first, so theirs is still registered here.
  if (!commandStop && process.listenerCount(signal) > 1) return;
  exitCodeOfSignal ??= exitCodeFor(signal);
  process.exitCode = exitCodeOfSignal;
  if (exiting) return;
  exiting = true;
  void exitAfterGuardedWork(exitCodeOfSignal);
}

/** Exits with `code` once guarded work has finished (or after EXIT_GUARD_TIMEOUT_MS). */
export async function exitAfterGuardedWork(code: number): Promise<never> {
  if (exitGuard.busy) {
    stderr.write(`stormtunnel: finishing before stopping: ${exitGuard.describe().join(', ')}\n`);
    if (!(await exitGuard.settled(EXIT_GUARD_TIMEOUT_MS)))
      stderr.write('stormtunnel: stopped without finishing; the next refresh may need a new sign-in\n');
  }
  process.exit(code);
}
