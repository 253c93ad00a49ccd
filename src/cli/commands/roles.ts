// `stormtunnel roles [--json]`: every account and role the SSO sign-in can use, with the profiles that
// already point at each.
import type { Command } from 'commander';
import { UsageError } from '../../engine/errors.js';
import type { CommandRegistrar } from '../command.js';
import { printJson, printTable } from '../output.js';

export const registerRoles: CommandRegistrar = (program: Command, run) => {
  program
    .command('roles')
    .description('list every account and role the SSO sign-in can use')
    .option('--sso-session <name>', 'list for this sso-session (default: the session of --profile)')
    .option('--json', 'print JSON')
    .action(
      run(async (ctx, opts: { ssoSession?: string; json?: boolean }) => {
        if (opts.ssoSession && ctx.globals.profile)
          throw new UsageError('give either --profile or --sso-session, not both');
        if (!opts.ssoSession) await ctx.assertProfile(ctx.profile);
        const engine = await ctx.createEngine();
        const token = await engine.getSsoToken({
          ...(opts.ssoSession ? { ssoSession: opts.ssoSession } : { profile: ctx.profile }),
          allowSignIn: engine.services.prompt.interactive,
        });
        const progress = opts.json
          ? undefined
          : engine.services.prompt.progress('Listing accounts and roles');
        const { listAccountRoles } = await import('../../configure/accounts.js');
        const accounts = await listAccountRoles(engine, token, {
          onAccount: (done, total) =>
            progress?.update(`Listing accounts and roles (${done}/${total} accounts)`),
        }).finally(() => progress?.stop());

        // Profiles that already use each account/role through this session.
        const { classifyProfile } = await import('../../aws/index.js');
        const config = await ctx.awsConfig();
        const byPair = new Map<string, string[]>();
        for (const name of config.profiles.keys()) {
          const p = classifyProfile(name, config);
          if (p.type !== 'sso' || (p.ssoSession ?? p.startUrl) !== token.session) continue;
          const key = `${p.accountId}/${p.roleName}`;
          byPair.set(key, [...(byPair.get(key) ?? []), name]);
        }
        const rows = accounts.flatMap((a) =>
          a.roles.map((role) => ({
            accountId: a.accountId,
            accountName: a.accountName,
            roleName: role,
            profiles: byPair.get(`${a.accountId}/${role}`) ?? [],
          })),
        );
        if (opts.json) {
          printJson(ctx.io.stdout, { ssoSession: token.session, roles: rows });
          return;
        }
        if (!rows.length) {
          ctx.io.stdout.write(`no accounts or roles are assigned to you in ${token.session}\n`);
          return;
        }
        printTable(
          ctx.io.stdout,
          ['ACCOUNT', 'NAME', 'ROLE', 'PROFILES'],
          rows.map((r) => [r.accountId, r.accountName, r.roleName, r.profiles.join(', ')]),
        );
      }),
    );
};
