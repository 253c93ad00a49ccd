// `stormtunnel targets [--profile P] [--region R] [--json]`: the managed nodes the profile can reach, with
// Name tag, id, platform, agent version and ping status; a tunnel's `target` can be the NAME shown.
import type { Command } from 'commander';
import { resolveRegion } from '../../aws/index.js';
import { UsageError } from '../../engine/errors.js';
import type { CommandRegistrar } from '../command.js';
import { printJson, printTable } from '../output.js';

export const registerTargets: CommandRegistrar = (program: Command, run) => {
  program
    .command('targets')
    .description('list the managed nodes (instances) a profile can reach, with their Name tags')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `
A tunnel's target can be the NAME shown ("target: 'bastion'"), a tag selector ("tag:env=prod") or the ID.
Needs ssm:DescribeInstanceInformation; Name tags also need ec2:DescribeInstances.`,
    )
    .action(
      run(async (ctx, opts: { json?: boolean }) => {
        const profile = ctx.profile;
        await ctx.assertProfile(profile);
        const region = ctx.globals.region ?? resolveRegion(await ctx.awsConfig(), profile)?.region;
        if (!region)
          throw new UsageError(`profile "${profile}" has no region`, {
            hint: 'pass --region, or set region in the profile (aws configure set region us-east-1 --profile NAME)',
          });
        const { engine, credentials } = await ctx.commandCredentials('targets', profile, region);
        const progress = opts.json
          ? undefined
          : engine.services.prompt.progress(`Listing managed nodes in ${region}`);
        const { listManagedNodes } = await import('../../targets/managed-nodes.js');
        const listing = await listManagedNodes(engine, { profile, region, credentials }).finally(() =>
          progress?.stop(),
        );
        if (opts.json) {
          printJson(ctx.io.stdout, {
            profile,
            region,
            nodes: listing.nodes,
            namesUnavailable: listing.namesUnavailable ?? null,
          });
          return;
        }
        if (listing.namesUnavailable) ctx.io.stderr.write(`names unknown: ${listing.namesUnavailable}\n`);
        if (!listing.nodes.length) {
          ctx.io.stdout.write(`no managed nodes for profile "${profile}" in ${region}\n`);
          return;
        }
        printTable(
          ctx.io.stdout,
          ['NAME', 'ID', 'PLATFORM', 'AGENT', 'PING'],
          listing.nodes.map((n) => [
            n.name ?? '-',
            n.id,
            n.platform ?? '-',
            n.agentVersion ?? '-',
            n.pingStatus,
          ]),
        );
      }),
    );
};
