// Entry point of the `stormtunnel` binary: runs the program, prints failures as one line, sets exit codes.
import { CommanderError } from 'commander';
import { rootCause } from '../engine/errors.js';
import { redactString } from '../log/redact.js';
import { buildProgram } from './program.js';

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

/** One line (plus a hint line) for a failure; the stack only with --verbose. Returns the exit code. */
export function reportError(err: unknown, stderr: NodeJS.WritableStream, verbose: boolean): number {
  const e = err as { message?: unknown; hint?: unknown; exitCode?: unknown; stack?: unknown };
  const message = typeof e?.message === 'string' ? e.message : String(err);
  stderr.write(`stormtunnel: ${redactString(message)}\n`);
  if (typeof e?.hint === 'string') stderr.write(`  → ${redactString(e.hint)}\n`);
  if (verbose) {
    const root = rootCause(err) as { stack?: unknown };
    const stack =
      typeof root?.stack === 'string' ? root.stack : typeof e?.stack === 'string' ? e.stack : undefined;
    if (stack) stderr.write(redactString(stack) + '\n');
  }
  return typeof e?.exitCode === 'number' ? e.exitCode : 1;
}

const invokedDirectly = process.argv[1] && /(?:stormtunnel(?:\.js)?|main\.[jt]s)$/.test(process.argv[1]);
if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.exitCode = reportError(err, process.stderr, process.argv.includes('--verbose'));
    },
  );
}
