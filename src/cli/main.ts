// Entry point of the `stormtunnel` binary: runs the program, prints failures as one line, sets exit codes.
import { CommanderError } from 'commander';
import { reportOf } from '../engine/classify.js';
import { isPluginError, rootCause } from '../engine/errors.js';
import { redactString } from '../log/redact.js';
import { handleClosedPipes, stdoutClosed } from './pipe.js';
import { buildProgram } from './program.js';
import { installSignalHandling, signalExitCode } from './signals.js';

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
  main(process.argv.slice(2)).then(
    (code) => {
      finished = true;
      // A signal that ended the command keeps its code (128 + its number), as an unhandled one would.
      process.exitCode = signalExitCode() ?? code;
      // The reader is gone and the command has stopped: a stray timer or socket must not keep us running.
      if (stdoutClosed()) process.exit();
    },
    (err: unknown) => {
      finished = true;
      process.exitCode = reportError(err, process.stderr, process.argv.includes('--verbose'));
    },
  );
}
