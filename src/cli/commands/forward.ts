// `stormtunnel forward TARGET REMOTE_PORT`: a tunnel from the command line, no config needed. It runs exactly
// as a configured tunnel under `up` (engine.startTunnels, the same recovery, sign-in and Ctrl-C).
import type { Command } from 'commander';
import { UsageError } from '../../engine/errors.js';
import type { TunnelConfig } from '../../engine/plugin.js';
import type { CommandRegistrar } from '../command.js';
import type { CliContext } from '../context.js';
import { parsePortArgument } from './port-argument.js';
import { runTunnels } from './up.js';

interface ForwardFlags {
  localPort?: string;
  remoteHost?: string;
  bindAddress?: string;
  signIn?: boolean;
}

export const registerForward: CommandRegistrar = (program: Command, run) => {
  program
    .command('forward <target> [remote-port]')
    .description('forward a local port to a port of an instance (or a host it reaches) until Ctrl-C')
    .option('-l, --local-port <port>', 'local port to listen on (default: any free port, shown when ready)')
    .option(
      '--remote-host <host>',
      "forward to this host as the instance reaches it: a database endpoint, say, or rds:IDENTIFIER (REMOTE_PORT then defaults to the database's)",
    )
    .option('--bind-address <address>', 'local address to listen on', '127.0.0.1')
    .option('--no-sign-in', 'never open a browser to sign in; wait for `stormtunnel login` instead')
    .addHelpText(
      'after',
      `
TARGET is what a config's target may be: an instance id, a Name tag (bastion),
tag:Key=Value or ecs:CLUSTER/SERVICE.

Examples:
  stormtunnel forward i-0123456789abcdef0 5432 --local-port 15432
  stormtunnel forward bastion 5432 --remote-host db.internal --profile dev
  stormtunnel forward bastion --remote-host rds:orders --local-port 15432`,
    )
    .action(
      // Commander passes each positional as given (strings).
      run(async (ctx, flags: ForwardFlags, ...args: unknown[]) =>
        forward(ctx, flags, args[0] as string, args[1] as string | undefined),
      ),
    );
};

async function forward(
  ctx: CliContext,
  flags: ForwardFlags,
  target: string,
  remotePort: string | undefined,
): Promise<number> {
  const tunnel = await forwardTunnel(ctx, flags, target, remotePort);
  const { assertLocalPortsFree, assertProfilesUsable } = await import('../preflight.js');
  await assertProfilesUsable(ctx, [ctx.profile]);
  await assertLocalPortsFree(ctx, [tunnel], { onlyHeldByUp: true });
  return runTunnels(ctx, {
    defs: [tunnel],
    selected: [tunnel.name],
    followAutostart: false,
    opts: { ...(flags.signIn === false ? { signIn: false } : {}), watch: false },
  });
}

/** The command line as a tunnel of the config would be written; profile and region come from the globals. */
async function forwardTunnel(
  ctx: CliContext,
  flags: ForwardFlags,
  target: string,
  remotePortArg: string | undefined,
): Promise<TunnelConfig> {
  // Loaded when the command runs: the config's patterns bring zod, which --help does not need.
  const { parseRemoteHostArgument, parseTargetArgument } = await import('./target-argument.js');
  parseTargetArgument(target);
  const remoteHost = flags.remoteHost === undefined ? undefined : parseRemoteHostArgument(flags.remoteHost);
  const database = remoteHost?.startsWith('rds:') ? remoteHost.slice(4) : undefined;
  if (remotePortArg === undefined && !database) {
    throw new UsageError('REMOTE_PORT is missing: the port on the target to forward to', {
      hint: 'e.g. stormtunnel forward i-0123456789abcdef0 5432; only --remote-host rds:IDENTIFIER may leave it to the database',
    });
  }
  // 0: the database's port, filled in by the targets plugin as for a config's rds: tunnel.
  const remotePort = remotePortArg === undefined ? 0 : parsePortArgument('REMOTE_PORT', remotePortArg);
  const localPort =
    flags.localPort === undefined ? 0 : parsePortArgument('--local-port', flags.localPort, true);
  return {
    // Shown in every line about it; the port (or database) tells two forwards of one shell history apart.
    name: `forward-${remotePort > 0 ? remotePort : (database ?? 'rds')}`,
    profile: ctx.globals.profile,
    region: ctx.globals.region,
    // Symbolic targets (tag:...) go to the engine as they are: its prepare path resolves them.
    target,
    remotePort,
    localPort,
    remoteHost,
    bindAddress: flags.bindAddress ?? '127.0.0.1',
    autostart: true,
  };
}
