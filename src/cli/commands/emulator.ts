// `stormtunnel emulator`: the local AWS emulator on 127.0.0.1, for trying stormtunnel without an AWS
// account and for testing plugins against the real wire protocols.
import { Option, type Command } from 'commander';
import { UsageError } from '../../engine/errors.js';
import type { CommandRegistrar } from '../command.js';

export const registerEmulator: CommandRegistrar = (program: Command, run) => {
  program
    .command('emulator')
    .description(
      'run the local AWS emulator (SSO, STS, SSM and the Session Manager data channel) on 127.0.0.1',
    )
    .option('--port <port>', 'port to listen on (0 picks a free one)', '0')
    .option('--state <file>', 'seed state from a JSON or YAML file')
    .option('--auto-approve', 'approve sign-ins without the browser form')
    .option('--no-pacing', 'no agent pacing (AWS sends 1024 bytes, then sleeps 1 ms)')
    // Pacing is the default now; --pacing stays accepted (hidden) for old scripts.
    .addOption(new Option('--pacing').hideHelp())
    .option('--print-env', 'print the environment variables to export')
    .addHelpText(
      'after',
      '\nThe first line is "stormtunnel emulator listening on http://127.0.0.1:PORT"; with --print-env, the\n"export ..." lines follow. It runs until Ctrl-C, so run it in its own terminal, e.g.\n  stormtunnel emulator --port 4566 --print-env --auto-approve\nand paste the export lines into the terminal where you run stormtunnel (sign-in: dev / stormtunnel).',
    )
    .action(
      run(
        async (
          ctx,
          opts: { port: string; state?: string; autoApprove?: boolean; pacing?: boolean; printEnv?: boolean },
        ) => {
          const port = Number(opts.port);
          if (!/^\d+$/.test(opts.port) || port > 65535) {
            throw new UsageError(`--port: expected a port number 0-65535, got "${opts.port}"`);
          }
          const { runEmulatorCommand } = await import('../../emulator/index.js');
          await runEmulatorCommand(
            {
              port,
              ...(opts.state ? { state: opts.state } : {}),
              autoApprove: Boolean(opts.autoApprove),
              pacing: opts.pacing !== false,
              printEnv: Boolean(opts.printEnv),
            },
            { stdout: ctx.io.stdout, stderr: ctx.io.stderr },
          );
        },
      ),
    );
};
