// `stormtunnel <command> --help` as the program prints it into a pipe (80 columns), produced in this process:
// the README check needs ~40 of them, and 40 CLI start-ups at once do not finish on a busy 2-core machine.
// One real binary run in the test shows the binary prints the same.
import { PassThrough } from 'node:stream';
import { buildProgram } from '../../src/cli/program.js';
import { REPO_ROOT } from './cli.js';

export async function helpText(words: readonly string[]): Promise<string> {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  const io = {
    stdout: out as unknown as NodeJS.WriteStream,
    stderr: out as unknown as NodeJS.WriteStream,
    env: process.env,
    cwd: REPO_ROOT,
  };
  const program = buildProgram(io, () => undefined);
  // A pipe has no columns: commander wraps at 80, as the binary does when its stdout is not a terminal.
  program.configureOutput({
    writeOut: (s) => out.write(s),
    writeErr: (s) => out.write(s),
    getOutHelpWidth: () => 80,
    getErrHelpWidth: () => 80,
  });
  try {
    await program.parseAsync(['node', 'stormtunnel', ...words, '--help']);
  } catch (err) {
    if ((err as { code?: string }).code !== 'commander.helpDisplayed') throw err;
  }
  return text;
}
