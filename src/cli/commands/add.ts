// `stormtunnel add`: adds a tunnel to the stormtunnel config, picking the target from the managed nodes the
// profile can reach (type to filter; numbered choices when stdin is not a terminal). The target is written as
// the node's Name when no other online node has it (so an Auto Scaling replacement is followed), else its id.
// The config file is edited in place, keeping its comments, and checked by loading it before it is written.
import type { Command } from 'commander';
import { resolveRegion } from '../../aws/index.js';
import { UsageError } from '../../engine/errors.js';
import type { CommandRegistrar } from '../command.js';
import type { CliContext } from '../context.js';

interface AddFlags {
  target?: string;
  remotePort: string;
  localPort?: string;
  name?: string;
  remoteHost?: string;
}

export const registerAdd: CommandRegistrar = (program: Command, run) => {
  program
    .command('add')
    .description(
      'add a tunnel to the stormtunnel config, picking its target from the nodes a profile can reach',
    )
    .requiredOption('--remote-port <port>', 'port on the target (or on --remote-host)')
    .option('--local-port <port>', 'local port (default: the remote port; 0 picks a free one)')
    .option('--name <name>', 'tunnel name (default: the target)')
    .option(
      '--target <target>',
      'skip the picker: an instance id, a Name, tag:Key=value or ecs:CLUSTER/SERVICE',
    )
    .option('--remote-host <host>', 'forward to this host (or rds:IDENTIFIER) through the target')
    .action(
      run(async (ctx, flags: AddFlags) => {
        const { checkFlag, checks, portNumber } = await import('../../configure/inputs.js');
        checkFlag('--remote-port', flags.remotePort, checks.remotePort);
        checkFlag('--local-port', flags.localPort, checks.localPort);
        checkFlag('--target', flags.target, checks.target);
        const profile = ctx.profile;
        await ctx.assertProfile(profile);
        const region = ctx.globals.region ?? resolveRegion(await ctx.awsConfig(), profile)?.region;
        if (!region)
          throw new UsageError(`profile "${profile}" has no region`, {
            hint: 'pass --region, or set region in the profile',
          });
        const target = flags.target ?? (await pickTarget(ctx, profile, region));
        const name = (
          flags.name ?? target.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '')
        ).slice(0, 63);
        checkFlag('--name', name, checks.tunnelName);
        const remotePort = portNumber(flags.remotePort, 1)!;
        const spec = {
          name,
          profile,
          region,
          target,
          remotePort,
          localPort: flags.localPort === undefined ? remotePort : portNumber(flags.localPort, 0)!,
          ...(flags.remoteHost ? { remoteHost: flags.remoteHost } : {}),
        };
        const { builtinPlugins } = await import('../../builtin-plugins.js');
        const { addTunnelToConfig } = await import('../../configure/tunnel-config.js');
        let file = ctx.globals.config;
        if (!file) file = (await ctx.loadConfig()).file;
        const result = await addTunnelToConfig(spec, { file, cwd: ctx.io.cwd, builtins: builtinPlugins });
        if (result.kind === 'snippet') {
          ctx.io.stderr.write(
            `not written to ${result.file ?? 'a config'}: ${result.reason}; add this to \`tunnels\`:\n`,
          );
          ctx.io.stdout.write(`${result.snippet}\n`);
          return 1;
        }
        ctx.io.stdout.write(
          `tunnel "${name}" (${target} port ${remotePort}) ${result.kind === 'created' ? 'written to a new' : 'added to'} ${result.file}; start it: stormtunnel up ${name}\n`,
        );
        return 0;
      }),
    );
};

async function pickTarget(ctx: CliContext, profile: string, region: string): Promise<string> {
  const { engine, credentials } = await ctx.commandCredentials('add', profile, region);
  const { listNodeChoices } = await import('../../targets/node-choices.js');
  const choices = await listNodeChoices(
    engine,
    { profile, region, credentials },
    engine.services.prompt.progress(`Listing managed nodes in ${region}`),
  );
  if (!choices.length)
    throw new UsageError(`no managed node is online for profile "${profile}" in ${region}`, {
      hint: 'check the region (--region), or pass --target; stormtunnel targets lists every node',
    });
  const { pick } = await import('../../configure/picker.js');
  return pick('Target', choices, { input: process.stdin, output: ctx.io.stderr, env: ctx.io.env });
}
