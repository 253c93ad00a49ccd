// `stormtunnel ssh-config`: prints the ~/.ssh/config blocks that run `stormtunnel ssh-proxy` as the
// ProxyCommand, with this very stormtunnel (absolute paths: ssh runs it with its own PATH and directory).
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { packageRoot } from '../../package-root.js';
import type { CommandRegistrar } from '../command.js';
import type { CliContext } from '../context.js';
import { sshConfigBlock } from '../ssh-config-block.js';

export const registerSshConfig: CommandRegistrar = (program: Command, run) => {
  program
    .command('ssh-config')
    .description(
      'print ~/.ssh/config Host blocks for SSH over Session Manager (instance ids, tunnels by name)',
    )
    .addHelpText(
      'after',
      `
The blocks run this stormtunnel as OpenSSH's ProxyCommand (stormtunnel ssh-proxy), with --config,
--profile and --region as given here. Tunnels of the config come first, by name (ssh NAME reaches the
tunnel's instance); then any instance id (ssh i-0123456789abcdef0).

Examples:
  stormtunnel ssh-config --profile dev >> ~/.ssh/config
  ssh ec2-user@i-0123456789abcdef0`,
    )
    .action(run(async (ctx) => sshConfig(ctx)));
};

async function sshConfig(ctx: CliContext): Promise<number> {
  const config = await ctx.loadConfig();
  ctx.io.stdout.write(
    sshConfigBlock({
      node: process.execPath,
      bin: join(packageRoot(), 'bin', 'stormtunnel.js'),
      configFile: config.file ? resolve(ctx.io.cwd, config.file) : undefined,
      profile: ctx.globals.profile,
      region: ctx.globals.region,
      tunnels: config.tunnels,
    }),
  );
  return 0;
}
