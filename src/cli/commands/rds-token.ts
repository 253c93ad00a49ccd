// `stormtunnel rds-token TUNNEL --user NAME`: an RDS IAM authentication token for a tunnel whose remoteHost
// is `rds:IDENTIFIER`. Signed for the database's real endpoint and port (RDS checks the signed host: a token
// signed for 127.0.0.1 fails with "PAM authentication failed"), with the tunnel's credentials and region;
// the client connects to the tunnel's local port and sends this as its password. Valid 15 minutes for new
// connections. Signing calls nothing: a token is produced even when rds-db:connect is not allowed.
import type { Command } from 'commander';
import { UsageError } from '../../engine/errors.js';
import type { CommandRegistrar } from '../command.js';

export const registerRdsToken: CommandRegistrar = (program: Command, run) => {
  program
    .command('rds-token <tunnel>')
    .description("print an RDS IAM auth token for a tunnel's rds: database (signed for its real endpoint)")
    .requiredOption('-u, --user <name>', 'the database user the token is for')
    .addHelpText(
      'after',
      `
Example:
  PGPASSWORD="$(stormtunnel rds-token orders --user app)" psql "host=127.0.0.1 port=5432 user=app sslmode=require"`,
    )
    .action(
      run(async (ctx, opts: { user: string }, name?: string[]) => {
        // Commander passes the one <tunnel> argument as a string (RunAction types positionals as lists).
        const config = await ctx.loadConfig();
        const { selectTunnels, placeTunnel } = await import('../../engine/tunnel-selection.js');
        const [t] = selectTunnels(config.tunnels, [String(name)], config.file);
        if (!t!.remoteHost?.startsWith('rds:'))
          throw new UsageError(
            `tunnel "${t!.name}" has no rds: remoteHost${t!.remoteHost ? ` (it is "${t!.remoteHost}")` : ''}`,
            { hint: "give the tunnel remoteHost: 'rds:IDENTIFIER' (an RDS instance or Aurora cluster)" },
          );
        const { resolveRegion } = await import('../../aws/index.js');
        const aws = await ctx.awsConfig();
        const { profile, region } = await placeTunnel(t!, {
          defaultProfile: ctx.profile,
          regionFor: async (p) => ctx.globals.region ?? resolveRegion(aws, p)?.region,
        });
        const { engine, credentials } = await ctx.commandCredentials('rds-token', profile, region);
        // The tunnel's own connection path (resolveTarget, beforeConnect): the endpoint is whatever the
        // resolving plugin says the tunnel's sessions reach, and a team's guard that refuses the tunnel
        // refuses its token too.
        const { connectDraft } = await import('../../engine/connection-draft.js');
        const draft = await engine.prepareConnection(connectDraft(t!, profile, region, credentials));
        const { Signer } = await import('@aws-sdk/rds-signer');
        const token = await new Signer({
          hostname: draft.remoteHost!,
          port: draft.remotePort,
          username: opts.user,
          region,
          credentials,
        }).getAuthToken();
        ctx.io.stdout.write(`${token}\n`);
      }),
    );
};
