// Commands whose features have not landed yet. Each is declared with its real options (so --help is
// right) and says plainly that it is not available, exit code 2. Never pretends to succeed.
import type { Command } from 'commander';
import { NotBuiltError } from '../../engine/errors.js';
import type { CommandRegistrar } from '../command.js';

interface Pending {
  name: string;
  args?: string;
  description: string;
  options: [string, string][];
  missing: string;
}

export const PENDING: Pending[] = [
  {
    name: 'demo',
    description: 'show the whole product on this machine against the local AWS emulator',
    options: [],
    missing: 'the local AWS emulator has not landed',
  },
];

export const registerPending: CommandRegistrar = (program: Command, run) => {
  for (const p of PENDING) {
    const cmd = program.command(p.args ? `${p.name} ${p.args}` : p.name).description(p.description);
    for (const [flags, help] of p.options) cmd.option(flags, help);
    cmd.action(
      run(async () => {
        throw new NotBuiltError(p.name, p.missing);
      }),
    );
  }
};
