// `stormtunnel profiles [--json]`: every AWS profile with its type, region, account/role or role chain and
// SSO session, plus the problems that would stop it from working and where the AWS CLI and SDK disagree.
import type { Command } from 'commander';
import type { CommandRegistrar } from '../command.js';
import { printJson, printTable } from '../output.js';

export const registerProfiles: CommandRegistrar = (program: Command, run) => {
  program
    .command('profiles')
    .description('list the AWS profiles with their type, region, account/role and SSO session')
    .option('--json', 'print JSON')
    .action(
      run(async (ctx, opts: { json?: boolean }) => {
        const { describeProfiles, displayPath, shortValue, validateConfig } =
          await import('../../aws/index.js');
        const config = await ctx.awsConfig();
        const rows = describeProfiles(config);
        // Problems no row shows: the file's own, and AWS_PROFILE naming a profile that is not there.
        const validation = validateConfig(config);
        const fileProblems = validation.errors.filter((e) => !e.profile || !config.profiles.has(e.profile));
        // Without rows, warnings about the files (a header the AWS CLI ignores...) are the only explanation.
        const fileWarnings = rows.length ? [] : validation.warnings.filter((w) => w.profile === undefined);
        // Any problem that stops a profile is invalid input, as it is for the commands that use it.
        const exitCode = fileProblems.length || rows.some((r) => r.errors.length) ? 2 : 0;
        if (opts.json) {
          printJson(ctx.io.stdout, {
            configFile: config.configFile.path,
            credentialsFile: config.credentialsFile.path,
            selectedProfile: config.selectedProfile,
            profiles: rows,
            problems: fileProblems.map((e) => e.message),
          });
          return exitCode;
        }
        const hasSections = [config.configFile, config.credentialsFile].some(
          (f) => f.document.sections.length,
        );
        if (!rows.length && hasSections)
          ctx.io.stdout.write(
            `no profile the AWS CLI can read in ${config.configFile.path} or ${config.credentialsFile.path}; see below\n`,
          );
        else if (!rows.length)
          ctx.io.stdout.write(
            `no profiles in ${config.configFile.path}; add one with: stormtunnel configure sso\n`,
          );
        else
          printTable(
            ctx.io.stdout,
            ['PROFILE', 'TYPE', 'REGION', 'ACCOUNT / ROLE', 'SSO SESSION'],
            rows.map((r) => [
              r.name === config.selectedProfile ? `${r.name} *` : r.name,
              r.errors.length ? `${r.type} ❌` : r.type,
              r.region === undefined ? undefined : shortValue(r.region),
              r.chain && r.chain.length > 1
                ? `${r.roleArn ?? ''} via ${r.chain.slice(1).join(' -> ')}`
                : (r.roleArn ?? [r.accountId, r.roleName].filter(Boolean).join(' / ')),
              r.ssoSession ?? (r.startUrl ? `(legacy) ${r.startUrl}` : undefined),
            ]),
          );
        // Each problem once, in the words every other command prints for it (they name file, line, profile).
        const notes = [
          ...new Set([...fileProblems.map((e) => e.message), ...rows.flatMap((r) => r.errors)]),
        ].map((e) => `❌ ${e}`);
        notes.push(
          ...fileWarnings.map(
            (w) =>
              `⚠ ${displayPath(w.file, config.home)}${w.line !== undefined ? ` line ${w.line}` : ''}: ${w.message}`,
          ),
        );
        notes.push(...rows.flatMap((r) => r.warnings.map((w) => `⚠ ${r.name}: ${w}`)));
        if (notes.length) ctx.io.stdout.write('\n' + notes.join('\n') + '\n');
        if (rows.some((r) => r.name === config.selectedProfile))
          ctx.io.stdout.write(
            `\n* the profile used when none is given (${config.selectedProfileSource === 'AWS_PROFILE' ? 'AWS_PROFILE' : 'default'})\n`,
          );
        return exitCode;
      }),
    );
};
