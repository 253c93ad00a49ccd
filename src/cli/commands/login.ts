// `stormtunnel login` and `stormtunnel logout`: sign in to / out of an SSO session.
import type { Command } from 'commander';
import { UsageError } from '../../engine/errors.js';
import type { CommandRegistrar } from '../command.js';
import type { CliContext } from '../context.js';

function target(ctx: CliContext, ssoSession: string | undefined): { profile?: string; ssoSession?: string } {
  if (ssoSession && ctx.globals.profile) {
    throw new UsageError('give either --profile or --sso-session, not both');
  }
  return ssoSession ? { ssoSession } : { profile: ctx.profile };
}

function untilText(d: Date): string {
  return d.toLocaleString(undefined, { hour: '2-digit', minute: '2-digit', day: 'numeric', month: 'short' });
}

export const registerLogin: CommandRegistrar = (program: Command, run) => {
  program
    .command('login')
    .description('sign in to the SSO session of a profile (browser with PKCE, or device code)')
    .option('--sso-session <name>', "sign in to this sso-session instead of the profile's")
    .option('--no-browser', 'print the URL and code instead of opening a browser')
    .option('--use-device-code', 'use the device code flow (for headless and remote machines)')
    .addHelpText(
      'after',
      '\nExamples:\n  stormtunnel login --profile dev\n  stormtunnel login --sso-session work --use-device-code --no-browser',
    )
    .action(
      run(async (ctx, opts: { ssoSession?: string; browser: boolean; useDeviceCode?: boolean }) => {
        const which = target(ctx, opts.ssoSession);
        if (which.profile) await ctx.assertProfile(which.profile);
        const engine = await ctx.createEngine();
        const result = await engine.signIn({
          ...which,
          noBrowser: !opts.browser,
          ...(opts.useDeviceCode ? { useDeviceCode: true } : {}),
        });
        ctx.io.stdout.write(
          `Signed in to ${result.session}; valid until ${untilText(result.expiresAt)}${result.refreshable ? ', refreshed automatically' : ' (cannot be refreshed: sign in again then)'}\n`,
        );
      }),
    );

  program
    .command('logout')
    .description('sign out of an SSO session: SSO Logout, then its token removed from every store')
    .option('--sso-session <name>', 'sign out of this sso-session')
    .option('--all', 'sign out of every SSO session')
    .action(
      run(async (ctx, opts: { ssoSession?: string; all?: boolean }) => {
        if (opts.all && (opts.ssoSession || ctx.globals.profile)) {
          throw new UsageError(
            '--all signs out of every session; do not combine it with --profile or --sso-session',
          );
        }
        const engine = await ctx.createEngine();
        if (opts.all) {
          await engine.signOut({ all: true });
          ctx.io.stdout.write('Signed out of every SSO session\n');
          return;
        }
        const which = target(ctx, opts.ssoSession);
        await engine.signOut(which.ssoSession ? { session: which.ssoSession } : { profile: which.profile });
        ctx.io.stdout.write(
          `Signed out of ${which.ssoSession ?? `the SSO session of profile ${which.profile}`}\n`,
        );
      }),
    );
};
