// `stormtunnel credential-process --profile P`: the AWS credential_process JSON (Version 1), so the AWS CLI
// and other tools can use stormtunnel's sign-in, keychain and role chains:
//   [profile dev-via-stormtunnel]
//   credential_process = stormtunnel credential-process --profile dev
import type { Command } from 'commander';
import type { CommandRegistrar } from '../command.js';

export const registerCredentialProcess: CommandRegistrar = (program: Command, run) => {
  program
    .command('credential-process')
    .description('print credentials for a profile as AWS credential_process JSON (Version 1)')
    .option('--sign-in', 'start a sign-in (browser or device code) when the SSO session needs one')
    .addHelpText(
      'after',
      '\nUse it from ~/.aws/config:\n  [profile dev-via-stormtunnel]\n  credential_process = stormtunnel credential-process --profile dev',
    )
    .action(
      run(async (ctx, opts: { signIn?: boolean }) => {
        await ctx.assertProfile(ctx.profile);
        const engine = await ctx.createEngine();
        const creds = await engine.resolveCredentials({
          profile: ctx.profile,
          region: ctx.globals.region,
          purpose: { kind: 'command', command: 'credential-process' },
          chain: [],
          allowSignIn: Boolean(opts.signIn),
        });
        const out: Record<string, unknown> = {
          Version: 1,
          AccessKeyId: creds.accessKeyId,
          SecretAccessKey: creds.secretAccessKey,
        };
        if (creds.sessionToken) out.SessionToken = creds.sessionToken;
        if (creds.expiration) out.Expiration = creds.expiration.toISOString();
        if (creds.accountId) out.AccountId = creds.accountId;
        ctx.io.stdout.write(JSON.stringify(out) + '\n');
      }),
    );
};
