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
    .command('forward <target> <remote-port>')
    .description('forward a local port to a port of an instance (or a host it reaches) until Ctrl-C')
    .option('-l, --local-port <port>', 'local port to listen on (default: any free port, shown when ready)')
    .option(
      '--remote-host <host>',
      'forward to this host as the instance reaches it (a database endpoint, say)',
    )
    .option('--bind-address <address>', 'local address to listen on', '127.0.0.1')
    .option('--no-sign-in', 'never open a browser to sign in; wait for `stormtunnel login` instead')
    .addHelpText(
      'after',
      `
Examples:
  stormtunnel forward i-0123456789abcdef0 5432 --local-port 15432
  stormtunnel forward i-0123456789abcdef0 5432 --remote-host db.internal --profile dev`,
    )
    .action(
      // Commander passes each positional as given (strings).
      run(async (ctx, flags: ForwardFlags, ...args: unknown[]) =>
        forward(ctx, flags, args[0] as string, args[1] as string),
      ),
    );
};

async function forward(
  ctx: CliContext,
  flags: ForwardFlags,
  target: string,
  remotePort: string,
): Promise<number> {
  const tunnel = forwardTunnel(ctx, flags, target, remotePort);
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
function forwardTunnel(
  ctx: CliContext,
  flags: ForwardFlags,
  target: string,
  remotePortArg: string,
): TunnelConfig {
  if (!target.trim() || /\s/.test(target)) {
    throw new UsageError(`TARGET: "${target}" is not an instance id`, {
      hint: 'pass an instance id like i-0123456789abcdef0',
    });
  }
  const remotePort = parsePortArgument('REMOTE_PORT', remotePortArg);
  const localPort =
    flags.localPort === undefined ? 0 : parsePortArgument('--local-port', flags.localPort, true);
  if (
    flags.remoteHost !== undefined &&
    !/^[A-Za-z0-9.-]{1,253}$|^\[?[0-9a-fA-F:]+\]?$/.test(flags.remoteHost)
  ) {
    throw new UsageError(`--remote-host: "${flags.remoteHost}" is not a host name or IP address`);
  }
  return {
    // Shown in every line about it; the port tells two forwards of one shell history apart.
    name: `forward-${remotePort}`,
    profile: ctx.globals.profile,
    region: ctx.globals.region,
    // Symbolic targets (tag:...) go to the engine as they are: its prepare path resolves them.
    target,
    remotePort,
    localPort,
    remoteHost: flags.remoteHost,
    bindAddress: flags.bindAddress ?? '127.0.0.1',
    autostart: true,
  };
}
