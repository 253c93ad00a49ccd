// `stormtunnel check`: the product's "Check Permissions". For a profile or each tunnel: are the credentials
// valid (GetCallerIdentity); then the tunnel's connection, prepared by the engine exactly as `up` prepares it
// (beforeConnect may amend or veto), is probed by the plugin that runs tunnels (the built-in ssm-tunnel:
// instance online, StartSession then TerminateSession at once). Each failure comes with what to do; a check
// that depends on a failed one is shown as skipped. Exit 0 only when every check passes.
import type { Command } from 'commander';
import { loadSharedConfig, resolveRegion, type SharedConfig } from '../../aws/index.js';
import { classifyError, ERROR_TITLES, type Classification } from '../../engine/classify.js';
import type { Engine } from '../../engine/engine.js';
import { rootCause } from '../../engine/errors.js';
import type { TunnelConfig } from '../../engine/plugin.js';
import { placeTunnel, selectTunnels, type TunnelDefaults } from '../../engine/tunnel-selection.js';
import type { Credentials } from '../../engine/types.js';
import { redactString } from '../../log/redact.js';
import type { CommandRegistrar } from '../command.js';
import type { CliContext } from '../context.js';
import { printJson } from '../output.js';

/** `credentials`, then the steps of the plugin that probes tunnels (built-in: `instance`, `start-session`, `end-session`). */
export type CheckId = string;
export type CheckStatus = 'pass' | 'fail' | 'skip';

export interface CheckResult {
  id: CheckId;
  status: CheckStatus;
  /** One line: what was found, or why it failed or was skipped. */
  message: string;
  /** What to do next (failures only). */
  hint?: string;
  /** The error class (src/engine/classify.ts) and AWS error code of a failure. */
  errorClass?: string;
  errorCode?: string;
}

export interface CheckSubject {
  kind: 'tunnel' | 'profile';
  name: string;
  profile: string;
  region: string;
  target?: string;
  remotePort?: number;
  remoteHost?: string;
  identity?: { account: string; arn: string };
  checks: CheckResult[];
}

const MARK: Record<CheckStatus, string> = { pass: '✅', fail: '❌', skip: '⏭️' };

interface Plan {
  kind: 'tunnel' | 'profile';
  name: string;
  profile: string;
  region: string;
  tunnel?: TunnelConfig;
}

interface Failure {
  detail: string;
  guidance: string;
  classification: Classification;
}

/**
 * The product's message for a failure: the recovery loop's classification when there is one. Duck-typed, as
 * main.ts is: plugins loaded from a config file may carry their own copy of the error classes.
 */
function describeFailure(err: unknown): Failure {
  const root = rootCause(err);
  const e = root as {
    message?: unknown;
    hint?: unknown;
    exitCode?: unknown;
    classification?: Classification;
  };
  const hint = typeof e?.hint === 'string' ? e.hint : undefined;
  const message = typeof e?.message === 'string' ? e.message : String(root);
  if (e?.classification && typeof e.classification === 'object') {
    return { detail: message, guidance: hint ?? e.classification.next, classification: e.classification };
  }
  let classification = classifyError(root);
  if (typeof e?.exitCode !== 'number') {
    return {
      detail: `${classification.title}: ${classification.detail}`,
      guidance: classification.next,
      classification,
    };
  }
  if (e.exitCode === 2 && classification.class === 'unknown') {
    classification = { ...classification, class: 'usage', title: ERROR_TITLES.usage, exitCode: 2 };
  }
  const next =
    classification.class === 'usage'
      ? 'fix the setting named above and run the check again'
      : classification.next;
  return { detail: message, guidance: hint ?? next, classification };
}

function failed(id: CheckId, err: unknown, guidance?: (f: Failure) => string | undefined): CheckResult {
  const f = describeFailure(err);
  return {
    id,
    status: 'fail',
    // Error text is redacted like every error shown; our own guidance (role ARNs) is not secret.
    message: redactString(f.detail),
    hint: guidance?.(f) ?? redactString(f.guidance),
    errorClass: f.classification.class,
    ...(f.classification.code ? { errorCode: f.classification.code } : {}),
  };
}

interface CredentialCheck {
  result: CheckResult;
  credentials?: Credentials;
  identity?: { account: string; arn: string };
}

async function checkCredentials(engine: Engine, profile: string, region: string): Promise<CredentialCheck> {
  try {
    const credentials = await engine.resolveCredentials({
      profile,
      region,
      purpose: { kind: 'command', command: 'check' },
      chain: [],
    });
    const { GetCallerIdentityCommand } = await import('@aws-sdk/client-sts');
    const out = await engine.recover(
      { phase: 'command', operation: 'GetCallerIdentity', profile, action: 'sts:GetCallerIdentity' },
      async () =>
        (await engine.services.aws.sts({ region, credentials })).send(new GetCallerIdentityCommand({})),
    );
    const identity = { account: out.Account ?? '?', arn: out.Arn ?? '?' };
    return {
      credentials,
      identity,
      result: {
        id: 'credentials',
        status: 'pass',
        message: `valid: account ${identity.account}, ${identity.arn}`,
      },
    };
  } catch (err) {
    return { result: failed('credentials', err) };
  }
}

async function runPlan(
  engine: Engine,
  plan: Plan,
  defaults: TunnelDefaults,
  credentialChecks: Map<string, Promise<CredentialCheck>>,
): Promise<CheckSubject> {
  const t = plan.tunnel;
  const subject: CheckSubject = {
    kind: plan.kind,
    name: plan.name,
    profile: plan.profile,
    region: plan.region,
    ...(t ? { target: t.target, remotePort: t.remotePort } : {}),
    ...(t?.remoteHost ? { remoteHost: t.remoteHost } : {}),
    checks: [],
  };
  // One credential check per profile and region, however many tunnels use it.
  const key = `${plan.profile}\n${plan.region}`;
  let pending = credentialChecks.get(key);
  if (!pending) {
    pending = checkCredentials(engine, plan.profile, plan.region);
    credentialChecks.set(key, pending);
  }
  const creds = await pending;
  subject.checks.push(creds.result);
  if (creds.identity) subject.identity = creds.identity;
  if (!t) return subject;
  // The connection as `up` makes it (credentials, beforeConnect, target), tested by the plugin that runs
  // tunnels: a veto is a failed check and no session is opened.
  const steps = await engine.probeTunnel({
    name: t.name,
    ...defaults,
    ...(creds.credentials ? { credentials: creds.credentials } : { skip: 'needs valid credentials' }),
  });
  const askFor = (f: Failure) =>
    f.classification.class === 'permission-denied' && f.classification.deniedAction && creds.identity
      ? `ask your AWS administrator to allow ${f.classification.deniedAction} for ${creds.identity.arn}`
      : undefined;
  for (const step of steps) {
    if (step.status === 'fail' && step.error !== undefined) {
      const r = failed(step.id, step.error, askFor);
      r.message += step.message;
      subject.checks.push(r);
    } else {
      const { error: _error, ...result } = step;
      subject.checks.push(result);
    }
  }
  return subject;
}

/** Where tunnels that name no profile or region connect from: the same defaults as `up`. */
function tunnelDefaults(ctx: CliContext, aws: SharedConfig): TunnelDefaults {
  return {
    defaultProfile: ctx.profile,
    regionFor: async (profile) => ctx.globals.region ?? resolveRegion(aws, profile)?.region,
  };
}

async function plansFor(
  ctx: CliContext,
  tunnels: readonly TunnelConfig[],
  defaults: TunnelDefaults,
  opts: { tunnel?: string },
  configFile: string | undefined,
): Promise<Plan[]> {
  const tunnelPlan = async (t: TunnelConfig): Promise<Plan> => ({
    kind: 'tunnel',
    name: t.name,
    ...(await placeTunnel(t, defaults)),
    tunnel: t,
  });
  // STS answers in every region; a profile without one is checked against us-east-1.
  const profilePlan = async (profile: string): Promise<Plan> => ({
    kind: 'profile',
    name: profile,
    profile,
    region: (await defaults.regionFor(profile)) ?? 'us-east-1',
  });
  if (opts.tunnel) return [await tunnelPlan(selectTunnels(tunnels, [opts.tunnel], configFile)[0]!)];
  if (ctx.globals.profile) {
    const profile = ctx.globals.profile;
    return Promise.all([
      profilePlan(profile),
      ...tunnels.filter((t) => (t.profile ?? profile) === profile).map(tunnelPlan),
    ]);
  }
  return tunnels.length ? Promise.all(tunnels.map(tunnelPlan)) : [await profilePlan(ctx.profile)];
}

function printHuman(out: NodeJS.WritableStream, subjects: CheckSubject[]): void {
  for (const s of subjects) {
    const where =
      s.kind === 'tunnel'
        ? `tunnel "${s.name}" (profile ${s.profile}, ${s.region}, ${s.target} port ${s.remotePort || "(the database's)"}${s.remoteHost ? ` on ${s.remoteHost}` : ''})`
        : `profile "${s.name}" (${s.region})`;
    out.write(`${where}\n`);
    for (const c of s.checks) {
      out.write(`  ${MARK[c.status]} ${c.id.replaceAll('-', ' ')}: ${c.message}\n`);
      if (c.status === 'fail' && c.hint) out.write(`     → ${c.hint}\n`);
    }
  }
  const all = subjects.flatMap((s) => s.checks);
  const failedCount = all.filter((c) => c.status === 'fail').length;
  const skippedCount = all.filter((c) => c.status === 'skip').length;
  out.write(
    failedCount || skippedCount
      ? `${failedCount} of ${all.length} checks failed${skippedCount ? `, ${skippedCount} skipped` : ''}\n`
      : `${all.length === 1 ? 'the check' : `all ${all.length} checks`} passed\n`,
  );
}

export const registerCheck: CommandRegistrar = (program: Command, run) => {
  program
    .command('check')
    .description('check credentials, targets and Session Manager permissions for a profile or each tunnel')
    .option('--tunnel <name>', 'check one tunnel')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `
Without --tunnel: every tunnel of the config; with --profile: that profile and the tunnels that use it.
Exit code 0 when every check passes, 1 otherwise; 2 (and no checks) for invalid input: a profile that is
not defined or not usable, a malformed AWS config, a local port in use, a target nothing resolves.`,
    )
    .action(
      run(async (ctx, opts: { tunnel?: string; json?: boolean }) => {
        const config = await ctx.loadConfig();
        const aws = await loadSharedConfig({ env: ctx.io.env });
        const defaults = tunnelDefaults(ctx, aws);
        const plans = await plansFor(ctx, config.tunnels, defaults, opts, config.file);
        const { assertLocalPortsFree, assertProfilesUsable } = await import('../preflight.js');
        await assertProfilesUsable(
          ctx,
          plans.map((p) => p.profile),
        );
        await assertLocalPortsFree(
          ctx,
          plans.flatMap((p) => (p.tunnel ? [p.tunnel] : [])),
        );
        const engine = await ctx.createEngine();
        const credentialChecks = new Map<string, Promise<CredentialCheck>>();
        const subjects: CheckSubject[] = [];
        // One after another: checks of the same profile share its credentials, and output stays in order.
        for (const plan of plans) subjects.push(await runPlan(engine, plan, defaults, credentialChecks));
        const ok = subjects.every((s) => s.checks.every((c) => c.status === 'pass'));
        if (opts.json) printJson(ctx.io.stdout, { ok, subjects });
        else printHuman(ctx.io.stdout, subjects);
        return ok ? 0 : 1;
      }),
    );
};
