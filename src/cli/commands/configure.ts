// `stormtunnel configure sso` (the SSO profile wizard) and `stormtunnel configure populate` (a profile per
// account and role). The profile's region is the global --region; --profile-name names the profile because
// --profile is the global option that selects one.
import type { Command } from 'commander';
import type { SsoWizardOptions } from '../../configure/types.js';
import type { CommandRegistrar } from '../command.js';
import type { CliContext } from '../context.js';
import { printTable } from '../output.js';

interface SsoFlags {
  ssoSession?: string;
  startUrl?: string;
  ssoRegion?: string;
  scopes?: string;
  accountId?: string;
  roleName?: string;
  profileName?: string;
  browser?: boolean;
  useDeviceCode?: boolean;
  addTunnel?: boolean;
  tunnelName?: string;
  target?: string;
  remotePort?: string;
  localPort?: string;
  remoteHost?: string;
  yes?: boolean;
}

interface PopulateFlags {
  ssoSession: string;
  prefix?: string;
  template?: string;
  dryRun?: boolean;
  browser?: boolean;
  useDeviceCode?: boolean;
}

// The wizards and the AWS config code load when a configure command runs, not for --help (startup time).
async function wizardIo(ctx: CliContext) {
  const { createTerminalPrompt } = await import('../../terminal/prompt.js');
  const { terminalWizardIo } = await import('../../configure/wizard-io.js');
  const prompt = createTerminalPrompt({ input: process.stdin, output: ctx.io.stderr });
  return terminalWizardIo(prompt, { input: process.stdin, output: ctx.io.stderr, env: ctx.io.env });
}

async function awsPaths(ctx: CliContext) {
  const { configFilePath, homeDir } = await import('../../aws/index.js');
  return { configPath: configFilePath(ctx.io.env), home: homeDir(ctx.io.env) };
}

export const registerConfigure: CommandRegistrar = (program: Command, run) => {
  const configure = program
    .command('configure')
    .description(
      'set up SSO profiles in ~/.aws/config: "sso" (wizard) or "populate" (a profile per account and role)',
    );

  configure
    .command('sso')
    .description(
      'the SSO profile wizard: sso-session, sign-in, account and role, profile; optionally a tunnel for it',
    )
    .option('--sso-session <name>', 'sso-session to use or create')
    .option(
      '--start-url <url>',
      'AWS access portal URL of a new session, e.g. https://my-org.awsapps.com/start',
    )
    .option('--sso-region <region>', 'region of IAM Identity Center for a new session')
    .option(
      '--scopes <list>',
      'registration scopes of a new session, comma separated (default sso:account:access)',
    )
    .option('--account-id <id>', 'the account of the profile')
    .option('--role-name <role>', 'the role (permission set) of the profile')
    .option('--profile-name <name>', 'name of the profile to write (default: <account name>-<role>)')
    .option('--no-browser', 'print the sign-in URL instead of opening a browser')
    .option('--use-device-code', 'sign in with the device code flow')
    .option('--add-tunnel', 'add a tunnel for the profile to the stormtunnel config without asking')
    .option('--no-add-tunnel', 'do not offer to add a tunnel')
    .option('--tunnel-name <name>', 'name of the tunnel (default: the profile name)')
    .option(
      '--target <target>',
      'the tunnel target: an instance id, a Name, tag:Key=value or ecs:CLUSTER/SERVICE (default: picked from the nodes the profile reaches)',
    )
    .option('--remote-port <port>', 'port on the target')
    .option('--local-port <port>', 'local port (default: the remote port; 0 picks a free one)')
    .option('--remote-host <host>', 'forward to this host through the target')
    .option('-y, --yes', 'update an existing profile that has other settings (a backup is kept)')
    .addHelpText(
      'after',
      `
The profile's default region is the global --region (default: the SSO region).
Without a terminal every answer must be a flag, e.g.
  stormtunnel configure sso --sso-session work --start-url https://my-org.awsapps.com/start \\
    --sso-region us-east-1 --account-id 111111111111 --role-name ReadOnly --use-device-code --no-browser`,
    )
    .action(
      run(async (ctx, flags: SsoFlags) => {
        const { browser, ...rest } = flags;
        // Loaded here, not at startup: the built-in plugins bring the AWS SDK (slow for --help).
        const { builtinPlugins } = await import('../../builtin-plugins.js');
        const { runSsoWizard } = await import('../../configure/sso-wizard.js');
        const options: SsoWizardOptions = {
          ...rest,
          ...(browser === false ? { noBrowser: true } : {}),
          ...(ctx.globals.region ? { region: ctx.globals.region } : {}),
        };
        const result = await runSsoWizard(
          {
            engine: () => ctx.createEngine(),
            io: await wizardIo(ctx),
            ...(await awsPaths(ctx)),
            tunnelConfig: {
              file: async () => ctx.globals.config ?? (await ctx.loadConfig()).file,
              cwd: ctx.io.cwd,
              builtins: builtinPlugins,
            },
          },
          options,
        );
        const name = result.profile.name;
        ctx.io.stdout.write(
          `Profile "${name}" uses ${result.profile.roleName} in ${result.profile.accountId} through sso-session "${result.session.name}".\n` +
            `Try: aws sts get-caller-identity --profile ${name}` +
            (result.tunnel && result.tunnel.kind !== 'snippet' ? `, or: stormtunnel up\n` : '\n'),
        );
      }),
    );

  configure
    .command('populate')
    .description(
      'add a profile for every account and role of an sso-session; existing profiles are left untouched',
    )
    .requiredOption('--sso-session <name>', 'the sso-session whose accounts and roles get profiles')
    .option('--prefix <text>', 'put this before every profile name')
    .option(
      '--template <template>',
      'profile names from {account_name}, {account_id}, {role_name}',
      '{account_name}-{role_name}',
    )
    .option('--dry-run', 'print the change to ~/.aws/config as a diff; write nothing')
    .option('--no-browser', 'print the sign-in URL instead of opening a browser')
    .option('--use-device-code', 'sign in with the device code flow')
    .addHelpText(
      'after',
      "\nEach profile's region is the global --region (default: the session's sso_region).",
    )
    .action(
      run(async (ctx, flags: PopulateFlags) => {
        const { runPopulate } = await import('../../configure/populate.js');
        const { displayPath, homeDir } = await import('../../aws/index.js');
        const result = await runPopulate(
          { engine: () => ctx.createEngine(), io: await wizardIo(ctx), ...(await awsPaths(ctx)) },
          {
            ssoSession: flags.ssoSession,
            ...(ctx.globals.region ? { region: ctx.globals.region } : {}),
            ...(flags.prefix ? { prefix: flags.prefix } : {}),
            ...(flags.template ? { template: flags.template } : {}),
            ...(flags.dryRun ? { dryRun: true } : {}),
            ...(flags.browser === false ? { noBrowser: true } : {}),
            ...(flags.useDeviceCode ? { useDeviceCode: true } : {}),
          },
        );
        const out = ctx.io.stdout;
        const home = homeDir(ctx.io.env);
        if (flags.dryRun) out.write(result.diff || '(no change)\n');
        const verb = flags.dryRun ? 'would be added' : 'added';
        printTable(
          out,
          ['PROFILE', 'ACCOUNT', 'ROLE', 'RESULT'],
          result.entries.map((e) => [
            e.profile,
            `${e.accountName} (${e.accountId})`,
            e.roleName,
            e.action === 'add'
              ? verb
              : e.action === 'exists'
                ? 'exists, left untouched'
                : `already configured ${e.detail ?? ''}`,
          ]),
        );
        const added = result.entries.filter((e) => e.action === 'add').length;
        const skipped = result.entries.length - added;
        out.write(
          `${flags.dryRun ? 'Dry run: ' : ''}${added} profile${added === 1 ? '' : 's'} ${verb}, ${skipped} left untouched` +
            (result.written
              ? ` in ${displayPath(result.plan.file, home)}${result.backup ? ` (backup: ${displayPath(result.backup, home)})` : ''}`
              : '') +
            (flags.dryRun ? '; nothing was written' : '') +
            '\n',
        );
      }),
    );
};
