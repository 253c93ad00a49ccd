// The stormtunnel command line: global options, the commands, and help that reads well.
import { Command, Option } from 'commander';
import { packageVersion } from '../package-root.js';
import type { RunAction } from './command.js';
import { registerBackground } from './commands/background.js';
import { registerAdd } from './commands/add.js';
import { registerCheck } from './commands/check.js';
import { registerConfigure } from './commands/configure.js';
import { registerCredentialProcess } from './commands/credential-process.js';
import { registerDemo } from './commands/demo.js';
import { registerEmulator } from './commands/emulator.js';
import { registerForward } from './commands/forward.js';
import { registerLogin } from './commands/login.js';
import { registerPlugins } from './commands/plugins.js';
import { registerProfiles } from './commands/profiles.js';
import { registerRoles } from './commands/roles.js';
import { registerService } from './commands/service.js';
import { registerSshConfig } from './commands/ssh-config.js';
import { registerSshProxy } from './commands/ssh-proxy.js';
import { registerStatus } from './commands/status.js';
import { registerTunnel } from './commands/tunnel.js';
import { registerRdsToken } from './commands/rds-token.js';
import { registerTargets } from './commands/targets.js';
import { registerUp } from './commands/up.js';
import type { CliIo, GlobalOptions } from './context.js';

export function buildProgram(io: CliIo, onResult: (code: number) => void): Command {
  const program = new Command('stormtunnel');
  program
    .description(
      'Keeps AWS Session Manager port-forward tunnels up for engineers who sign in with IAM Identity Center (SSO).',
    )
    .version(packageVersion(), '-V, --version', 'print the version')
    .option('-c, --config <file>', 'use this config file instead of searching for stormtunnel.config.*')
    .option('-p, --profile <name>', 'AWS profile (default: AWS_PROFILE, then "default")')
    .option('-r, --region <region>', "AWS region (default: the profile's region)")
    .option('-v, --verbose', 'debug logging, AWS request ids and stack traces')
    .addOption(
      new Option('--log-format <format>', 'log format on stderr')
        .choices(['pretty', 'json'])
        .default('pretty'),
    )
    .showSuggestionAfterError(true)
    // Set before the commands are added so that they inherit it: usage mistakes become exit code 2.
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .addHelpText(
      'after',
      `
Examples:
  stormtunnel demo                      try everything against the local AWS emulator
  stormtunnel login --profile dev       sign in to the SSO session of profile "dev"
  stormtunnel up                        start the autostart tunnels of stormtunnel.config.ts
  stormtunnel credential-process --profile dev   credentials for the AWS CLI (credential_process)

Logging: STORMTUNNEL_LOG_LEVEL=debug|info|warn|error, or --verbose.`,
    );

  const run: RunAction =
    (action) =>
    async (...args: unknown[]) => {
      const command = args[args.length - 1] as Command;
      const options = command.opts();
      const positional = args.slice(0, -2) as string[][];
      // Loaded when a command runs, not for --help/--version: it brings the plugins, config loader and logger.
      const { CliContext } = await import('./context.js');
      const ctx = new CliContext(command.optsWithGlobals<GlobalOptions>(), io);
      try {
        const code = await action(ctx, options as never, ...positional);
        onResult(typeof code === 'number' ? code : 0);
      } finally {
        await ctx.close();
      }
    };

  registerStatus(program, run);
  registerLogin(program, run);
  registerProfiles(program, run);
  registerRoles(program, run);
  registerCredentialProcess(program, run);
  registerEmulator(program, run);
  registerDemo(program, run);
  registerPlugins(program, run);
  registerCheck(program, run);
  registerUp(program, run);
  registerBackground(program, run);
  registerTunnel(program, run);
  registerService(program, run);
  registerConfigure(program, run);
  registerSshProxy(program, run);
  registerSshConfig(program, run);
  registerForward(program, run);
  registerTargets(program, run);
  registerRdsToken(program, run);
  registerAdd(program, run);
  return program;
}
