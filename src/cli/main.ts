// Entry point of the `stormtunnel` binary: runs the program, prints failures as one line, sets exit codes.
import { CommanderError } from 'commander';
import { reportOf } from '../engine/classify.js';
import { isConfigExitAttempt, loadedConfigCode } from '../config/loaded-code.js';
import { oneLine } from '../text/shorten.js';
import { isPluginError, isStormtunnelError, rootCause } from '../engine/errors.js';
import { packageRoot } from '../package-root.js';
import { describeOrigin, faultOrigin } from './fault-origin.js';
import { redactString } from '../log/redact.js';
import { handleClosedPipes, stdoutClosed } from './pipe.js';
import { buildProgram } from './program.js';
import { exitAfterGuardedWork, installSignalHandling, signalExitCode } from './signals.js';

// The AWS SDK versions are pinned in package.json, so its "newer versions need Node 22" notice is not
// something a user can act on; keep stderr for our own messages.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export async function main(
  argv: string[],
  io = { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() },
): Promise<number> {
  let exitCode = 0;
  const program = buildProgram(io, (code) => (exitCode = code));
  const verbose = argv.includes('--verbose') || argv.includes('-v');
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end through here with code 0; usage mistakes are exit 2.
      return err.exitCode === 0 ? 0 : 2;
    }
    return reportError(err, io.stderr, verbose);
  }
}

/**
 * One line for a failure, in the product's words ("Contact AWS Administrator: ..."), then the next step.
 * --verbose adds the AWS request id and the original error with its stack. Returns the exit code.
 */
export function reportError(err: unknown, stderr: NodeJS.WritableStream, verbose: boolean): number {
  const { message, hint, exitCode, classification } = reportOf(err);
  stderr.write(`stormtunnel: ${redactString(message)}\n`);
  if (hint) stderr.write(`  → ${redactString(hint)}\n`);
  if (verbose) {
    if (classification?.requestId) stderr.write(`  AWS request id: ${classification.requestId}\n`);
    if (classification?.code) stderr.write(`  error code: ${classification.code}\n`);
    if (isPluginError(err)) stderr.write(`  from plugin "${err.plugin}" (${err.hook})\n`);
    // The original error: the innermost cause of plugin tags and recovery wrappers.
    let original: unknown = rootCause(err);
    while (original instanceof Error && 'classification' in original && original.cause !== undefined)
      original = original.cause;
    const o = original as { stack?: unknown; message?: unknown };
    const text =
      typeof o?.stack === 'string' ? o.stack : typeof o?.message === 'string' ? o.message : String(original);
    stderr.write(redactString(text) + '\n');
  }
  return exitCode;
}

/**
 * An error no hook caught: thrown in a plugin's timer or callback, or a promise nobody awaited. One line
 * naming whose code it was (the stack only with --verbose). Our own errors keep their words and exit code;
 * anything else is a failure of that code: exit 1, as for a plugin that throws in a hook.
 */
export function reportUncaught(err: unknown, stderr: NodeJS.WritableStream, verbose: boolean): number {
  if (isStormtunnelError(err)) return reportError(err, stderr, verbose);
  const origin = faultOrigin(err, { packageRoot: packageRoot(), configs: loadedConfigCode() });
  const text = err instanceof Error ? err.message || err.name : String(err);
  stderr.write(
    `stormtunnel: ${redactString(`${describeOrigin(origin)} failed outside any hook: ${oneLine(text, 200)}`)}\n`,
  );
  stderr.write(
    origin.kind === 'internal'
      ? '  → run again with --verbose and report the output\n'
      : '  → run again with --verbose for the stack; fix or remove that plugin or code\n',
  );
  if (verbose) {
    const stack = (err as { stack?: unknown } | null)?.stack;
    stderr.write(redactString(typeof stack === 'string' ? stack : text) + '\n');
  }
  return 1;
}

/** Exits once what we wrote to stdout and stderr is out (pipes may be asynchronous, as on macOS). */
function exitWhenWritten(code: number): void {
  process.exitCode = code;
  let pending = 2;
  const done = () => {
    // A rotated refresh token being written is finished first (src/cli/signals.ts).
    if (--pending === 0) void exitAfterGuardedWork(code);
  };
  // A stdout that failed is its reader gone: handleClosedPipes ends us (exit 0, as for every command in a
  // closed pipe) on the 'error' event, which may still be queued; give it that turn first.
  const stdoutDone = () => setImmediate(done);
  if (process.stdout.destroyed || !process.stdout.writable) stdoutDone();
  else process.stdout.write('', (err) => (err ? stdoutDone() : done()));
  if (process.stderr.destroyed || !process.stderr.writable) done();
  else process.stderr.write('', () => done());
}

const invokedDirectly = process.argv[1] && /(?:stormtunnel(?:\.js)?|main\.[jt]s)$/.test(process.argv[1]);
if (invokedDirectly) {
  handleClosedPipes(process.stdout, process.stderr);
  installSignalHandling(process.stderr);
  let finished = false;
  // Should the event loop ever empty while a command still waits, say so instead of exiting 0 silently.
  process.once('beforeExit', () => {
    if (finished) return;
    process.stderr.write(
      'stormtunnel: internal error: the command stopped before it finished (nothing left to wait for)\n',
    );
    process.exitCode = 1;
  });
  const verbose = process.argv.includes('--verbose') || process.argv.includes('-v');
  // Whatever a plugin or the config throws outside a hook ends the command with one line, not a stack.
  let failedOutside = false;
  const onUncaught = (err: unknown) => {
    // The first one is the cause; the rest follow from it. A config's process.exit from a timer while it
    // loads: the load fails with that same error and reports it.
    if (failedOutside || isConfigExitAttempt(err)) return;
    failedOutside = true;
    finished = true;
    exitWhenWritten(reportUncaught(err, process.stderr, verbose));
  };
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUncaught);
  main(process.argv.slice(2)).then(
    (code) => {
      if (failedOutside) return;
      finished = true;
      // A signal that ended the command keeps its code (128 + its number), as an unhandled one would.
      const exitCode = signalExitCode() ?? code;
      process.exitCode = exitCode;
      // The reader is gone, or the command failed: a stray timer or socket (a config's code that never
      // settled, say) must not keep us running.
      if (stdoutClosed()) process.exit();
      else if (exitCode !== 0) exitWhenWritten(exitCode);
    },
    (err: unknown) => {
      if (failedOutside) return;
      finished = true;
      exitWhenWritten(reportError(err, process.stderr, verbose));
    },
  );
}
