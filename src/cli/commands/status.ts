// `stormtunnel status [--json]`: per profile in use, Connected / Invalid (GetCallerIdentity); per SSO session,
// Authenticated / Expiring soon / Expired with the time left; the token store; and the tunnels of any
// running `stormtunnel up` (asked over its control socket).
import type { Command } from 'commander';
import type { StatusEntry, TunnelStatus } from '../../engine/types.js';
import type { CommandRegistrar } from '../command.js';
import type { CliContext } from '../context.js';
import { printJson, printTable } from '../output.js';
import { sessionsCell } from './up-view.js';
import { entryJson, tunnelJson, type ProfileCheck, type StatusJson } from '../status-json.js';

async function profilesInUse(ctx: CliContext): Promise<string[]> {
  if (ctx.globals.profile) return [ctx.globals.profile];
  const config = await ctx.loadConfig();
  const names = new Set(config.tunnels.map((t) => t.profile ?? ctx.profile));
  if (!names.size) names.add(ctx.profile);
  return [...names];
}

async function checkProfile(ctx: CliContext, profile: string): Promise<ProfileCheck> {
  try {
    await ctx.assertProfile(profile);
    const engine = await ctx.createEngine();
    const creds = await engine.resolveCredentials({
      profile,
      region: ctx.globals.region,
      purpose: { kind: 'command', command: 'status' },
      chain: [],
    });
    const config = await ctx.awsConfig();
    const { resolveRegion } = await import('../../aws/index.js');
    const region = ctx.globals.region ?? resolveRegion(config, profile)?.region ?? 'us-east-1';
    const { GetCallerIdentityCommand } = await import('@aws-sdk/client-sts');
    const sts = await engine.services.aws.sts({ region, credentials: creds });
    const who = await sts.send(new GetCallerIdentityCommand({}));
    return {
      name: profile,
      state: 'connected',
      ...(who.Account ? { account: who.Account } : {}),
      ...(who.Arn ? { arn: who.Arn } : {}),
    };
  } catch (err) {
    // The words every other command prints for this failure.
    const { classifyError, reportOf } = await import('../../engine/classify.js');
    const r = reportOf(err, { profile });
    return {
      name: profile,
      state: 'invalid',
      errorClass: (r.classification ?? classifyError(err, { profile })).class,
      message: r.hint ? `${r.message}; ${r.hint}` : r.message,
    };
  }
}

/** The table line of a profile check, as `status` has always shown it. */
function profileEntry(p: ProfileCheck): StatusEntry {
  return p.state === 'connected'
    ? {
        kind: 'profile',
        name: p.name,
        state: '✅ Connected',
        ok: true,
        detail: `${p.account ?? '?'} ${p.arn ?? ''}`.trim(),
      }
    : {
        kind: 'profile',
        name: p.name,
        state: '❌ Invalid',
        ok: false,
        ...(p.message ? { detail: p.message } : {}),
      };
}

function tunnelRow(t: TunnelStatus, now: number): (string | number | undefined)[] {
  const mins = Math.round((now - t.since) / 60_000);
  return [
    t.name,
    t.state,
    t.localAddress,
    t.target,
    t.connections,
    sessionsCell(t),
    `${fmtBytes(t.bytesIn)} / ${fmtBytes(t.bytesOut)}`,
    mins < 1 ? 'just now' : `${mins}m`,
    t.detail,
  ];
}

function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

export const registerStatus: CommandRegistrar = (program: Command, run) => {
  program
    .command('status')
    .description('show credentials, SSO sessions and running tunnels')
    .option('--json', 'print JSON')
    .option('--offline', 'do not call AWS to check credentials (token times only)')
    .addHelpText(
      'after',
      '\nExit code 0 when the profiles in use have working credentials (with --offline: every SSO session is signed in).',
    )
    .action(
      run(async (ctx, opts: { json?: boolean; offline?: boolean }) => {
        const engine = await ctx.createEngine();
        const profiles = await profilesInUse(ctx);
        const progress = opts.json
          ? undefined
          : engine.services.prompt.progress(`⏳ Checking credentials of ${profiles.join(', ')}`);
        const profileChecks = opts.offline
          ? []
          : await Promise.all(profiles.map((p) => checkProfile(ctx, p))).finally(() => progress?.stop());
        if (opts.offline) progress?.stop();
        const report = await engine.collectStatus({ profiles, live: !opts.offline });

        const { queryRunningUp } = await import('../../tunnel-control/index.js');
        const running = await queryRunningUp(ctx.io.env);
        // Exit 0 when the profiles in use work (live), or every SSO session is signed in (--offline);
        // other lines (a session nobody uses, the token store) are information.
        const ok = opts.offline
          ? report.entries.filter((e) => e.kind === 'sso-session').every((e) => e.ok)
          : profileChecks.every((p) => p.state === 'connected');
        if (opts.json) {
          const json: StatusJson = {
            ok,
            profiles: profileChecks,
            entries: report.entries.map(entryJson),
            tunnels: running?.tunnels.map(tunnelJson) ?? [],
            processes:
              running?.processes.map((p) => ({
                pid: p.pid,
                startedAt: new Date(p.startedAt).toISOString(),
              })) ?? [],
          };
          printJson(ctx.io.stdout, json);
          return ok ? 0 : 1;
        }
        const entries = [...profileChecks.map(profileEntry), ...report.entries];
        printTable(
          ctx.io.stdout,
          ['KIND', 'NAME', 'STATE', 'DETAIL'],
          entries.map((e) => [e.kind, e.name, e.state, e.detail]),
        );
        ctx.io.stdout.write('\n');
        if (running?.tunnels.length) {
          printTable(
            ctx.io.stdout,
            ['TUNNEL', 'STATE', 'LOCAL', 'TARGET', 'CONNS', 'SESSIONS', 'IN / OUT', 'SINCE', 'DETAIL'],
            running.tunnels.map((t) => tunnelRow(t, Date.now())),
          );
        } else ctx.io.stdout.write('no stormtunnel up is running\n');
        return ok ? 0 : 1;
      }),
    );
};
