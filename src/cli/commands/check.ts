// `stormtunnel check`: the product's "Check Permissions". For a profile or each tunnel: are the credentials
// valid (GetCallerIdentity), is the target known and online in the region (DescribeInstanceInformation), can a
// session start (StartSession, then TerminateSession at once). Each failure comes with what to do; a check
// that depends on a failed one is shown as skipped. Exit 0 only when every check passes.
import type { Command } from 'commander';
import { loadSharedConfig, resolveRegion, type SharedConfig } from '../../aws/index.js';
import {
  classifyError,
  ERROR_TITLES,
  EXIT_CODES,
  reportOf,
  type Classification,
} from '../../engine/classify.js';
import type { Engine } from '../../engine/engine.js';
import { rootCause, UsageError } from '../../engine/errors.js';
import type { TunnelConfig } from '../../engine/plugin.js';
import type { ConnectDraft, Credentials } from '../../engine/types.js';
import { redactString } from '../../log/redact.js';
import type { CommandRegistrar } from '../command.js';
import type { CliContext } from '../context.js';
import { printJson } from '../output.js';

export type CheckId = 'credentials' | 'instance' | 'start-session' | 'end-session';
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

const LABEL: Record<CheckId, string> = {
  credentials: 'credentials',
  instance: 'instance',
  'start-session': 'start session',
  'end-session': 'end session',
};
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

const skipped = (id: CheckId, why: string): CheckResult => ({
  id,
  status: 'skip',
  message: `skipped: ${why}`,
});

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

/** DescribeInstanceInformation for the instance id the connection goes to (after beforeConnect, as `up`). */
async function checkInstance(
  engine: Engine,
  plan: Plan & { tunnel: TunnelConfig },
  credentials: Credentials,
  instanceId: string,
): Promise<{ result: CheckResult; instanceId?: string; online: boolean | undefined }> {
  const target = instanceId;
  // A plugin resolved the configured target (e.g. a tag selector) to this instance: say which.
  const resolvedFrom = plan.tunnel.target !== instanceId ? ` for ${plan.tunnel.target}` : '';
  const filter = { Key: 'InstanceIds', Values: [instanceId] };
  try {
    const { DescribeInstanceInformationCommand } = await import('@aws-sdk/client-ssm');
    const out = await engine.recover(
      {
        phase: 'command',
        operation: 'DescribeInstanceInformation',
        profile: plan.profile,
        action: 'ssm:DescribeInstanceInformation',
      },
      async () =>
        (await engine.services.aws.ssm({ region: plan.region, credentials })).send(
          new DescribeInstanceInformationCommand({ Filters: [filter], MaxResults: 50 }),
        ),
    );
    const list = out.InstanceInformationList ?? [];
    const found = list.find((i) => i.PingStatus === 'Online') ?? list[0];
    if (!found?.InstanceId) {
      return {
        online: false,
        result: {
          id: 'instance',
          status: 'fail',
          message: `${target} is not known to Session Manager in ${plan.region}`,
          hint: `check that ${plan.region} is the instance's region (set region on the tunnel), that the SSM Agent runs on it, and that its instance profile has the AmazonSSMManagedInstanceCore policy`,
          errorClass: 'target',
        },
      };
    }
    const name = found.Name ? ` (${found.Name})` : '';
    const what = `${found.InstanceId}${name}${resolvedFrom}`;
    if (found.PingStatus !== 'Online') {
      return {
        online: false,
        instanceId: found.InstanceId,
        result: {
          id: 'instance',
          status: 'fail',
          message: `${what} is registered in ${plan.region} but its SSM Agent is offline (${found.PingStatus ?? 'no ping status'})`,
          hint: 'start the instance, or check that the SSM Agent runs and can reach Session Manager (network, VPC endpoints)',
          errorClass: 'target',
        },
      };
    }
    return {
      online: true,
      instanceId: found.InstanceId,
      result: {
        id: 'instance',
        status: 'pass',
        message: `${what} is online in ${plan.region}${found.AgentVersion ? `, SSM Agent ${found.AgentVersion}` : ''}`,
      },
    };
  } catch (err) {
    // Unknown state (e.g. describe not allowed): the session check still runs and tells more.
    return { online: undefined, result: failed('instance', err) };
  }
}

async function checkSession(
  engine: Engine,
  plan: Plan & { tunnel: TunnelConfig },
  credentials: Credentials,
  instanceId: string,
  arn: string | undefined,
): Promise<CheckResult[]> {
  const t = plan.tunnel;
  // Loaded here, not at startup: the engine module brings the hooks and AWS client code (slow for --help).
  const { PORT_FORWARDING_DOCUMENT, REMOTE_HOST_DOCUMENT } = await import('../../engine/engine.js');
  const documentName = t.remoteHost ? REMOTE_HOST_DOCUMENT : PORT_FORWARDING_DOCUMENT;
  const { StartSessionCommand, TerminateSessionCommand } = await import('@aws-sdk/client-ssm');
  const ssm = () => engine.services.aws.ssm({ region: plan.region, credentials });
  const askFor = (f: Failure) =>
    f.classification.class === 'permission-denied' && f.classification.deniedAction && arn
      ? `ask your AWS administrator to allow ${f.classification.deniedAction} for ${arn}`
      : undefined;
  let sessionId: string | undefined;
  try {
    const out = await engine.recover(
      { phase: 'command', operation: 'StartSession', profile: plan.profile, action: 'ssm:StartSession' },
      async () =>
        (await ssm()).send(
          new StartSessionCommand({
            Target: instanceId,
            DocumentName: documentName,
            Parameters: {
              portNumber: [String(t.remotePort)],
              ...(t.remoteHost ? { host: [t.remoteHost] } : {}),
            },
          }),
        ),
    );
    sessionId = out.SessionId;
  } catch (err) {
    return [failed('start-session', err, askFor), skipped('end-session', 'no session was started')];
  }
  const start: CheckResult = {
    id: 'start-session',
    status: 'pass',
    message: `StartSession works (${documentName}, port ${t.remotePort}${t.remoteHost ? ` on ${t.remoteHost}` : ''})`,
  };
  if (!sessionId) return [start, skipped('end-session', 'StartSession returned no session id')];
  try {
    await engine.recover(
      {
        phase: 'command',
        operation: 'TerminateSession',
        profile: plan.profile,
        action: 'ssm:TerminateSession',
      },
      async () => (await ssm()).send(new TerminateSessionCommand({ SessionId: sessionId })),
    );
    return [
      start,
      {
        id: 'end-session',
        status: 'pass',
        message: `TerminateSession works; test session ${sessionId} ended`,
      },
    ];
  } catch (err) {
    const r = failed('end-session', err, askFor);
    r.message += ` (test session ${sessionId} stays open until Session Manager ends it)`;
    return [start, r];
  }
}

async function runPlan(
  engine: Engine,
  plan: Plan,
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
  if (!creds.credentials) {
    const why = 'needs valid credentials';
    subject.checks.push(skipped('instance', why), skipped('start-session', why), skipped('end-session', why));
    return subject;
  }
  const withTunnel = { ...plan, tunnel: t };
  // The target as `up` connects to it: the same draft, through the plugins' beforeConnect.
  let draft: ConnectDraft;
  try {
    const { connectDraft } = await import('../../engine/engine.js');
    draft = await engine.prepareConnection(connectDraft(t, plan.profile, plan.region, creds.credentials));
  } catch (err) {
    // Invalid input (a target nothing resolves) stops check with the line `up` shows for it, exit 2.
    if (reportOf(err).exitCode === EXIT_CODES.usage) throw err;
    const why = 'the connection was not prepared';
    subject.checks.push(failed('instance', err), skipped('start-session', why), skipped('end-session', why));
    return subject;
  }
  const instance = await checkInstance(engine, withTunnel, creds.credentials, draft.target);
  subject.checks.push(instance.result);
  if (instance.online === false) {
    const why = 'the instance is not online in this region';
    subject.checks.push(skipped('start-session', why), skipped('end-session', why));
    return subject;
  }
  const target = instance.instanceId ?? draft.target;
  subject.checks.push(
    ...(await checkSession(engine, withTunnel, creds.credentials, target, creds.identity?.arn)),
  );
  return subject;
}

function plansFor(
  ctx: CliContext,
  tunnels: readonly TunnelConfig[],
  aws: SharedConfig,
  opts: { tunnel?: string },
  configFile: string | undefined,
): Plan[] {
  const regionOf = (profile: string, own?: string) =>
    own ?? ctx.globals.region ?? resolveRegion(aws, profile)?.region;
  const tunnelPlan = (t: TunnelConfig): Plan => {
    const profile = t.profile ?? ctx.profile;
    const region = regionOf(profile, t.region);
    if (!region) {
      throw new UsageError(`tunnel "${t.name}" has no region`, {
        hint: `set region on the tunnel, pass --region, or set region in profile "${profile}" of your AWS config`,
      });
    }
    return { kind: 'tunnel', name: t.name, profile, region, tunnel: t };
  };
  // STS answers in every region; a profile without one is checked against us-east-1.
  const profilePlan = (profile: string): Plan => ({
    kind: 'profile',
    name: profile,
    profile,
    region: regionOf(profile) ?? 'us-east-1',
  });
  if (opts.tunnel) {
    const t = tunnels.find((x) => x.name === opts.tunnel);
    if (!t) {
      const names = tunnels.map((x) => x.name);
      throw new UsageError(`no tunnel named "${opts.tunnel}" in ${configFile ?? 'the stormtunnel config'}`, {
        hint: names.length
          ? `tunnels: ${names.join(', ')}`
          : 'add it to `tunnels` in your stormtunnel config',
      });
    }
    return [tunnelPlan(t)];
  }
  if (ctx.globals.profile) {
    const profile = ctx.globals.profile;
    return [
      profilePlan(profile),
      ...tunnels.filter((t) => (t.profile ?? profile) === profile).map(tunnelPlan),
    ];
  }
  return tunnels.length ? tunnels.map(tunnelPlan) : [profilePlan(ctx.profile)];
}

function printHuman(out: NodeJS.WritableStream, subjects: CheckSubject[]): void {
  for (const s of subjects) {
    const where =
      s.kind === 'tunnel'
        ? `tunnel "${s.name}" (profile ${s.profile}, ${s.region}, ${s.target} port ${s.remotePort}${s.remoteHost ? ` on ${s.remoteHost}` : ''})`
        : `profile "${s.name}" (${s.region})`;
    out.write(`${where}\n`);
    for (const c of s.checks) {
      out.write(`  ${MARK[c.status]} ${LABEL[c.id]}: ${c.message}\n`);
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
        const plans = plansFor(ctx, config.tunnels, aws, opts, config.file);
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
        for (const plan of plans) subjects.push(await runPlan(engine, plan, credentialChecks));
        const ok = subjects.every((s) => s.checks.every((c) => c.status === 'pass'));
        if (opts.json) printJson(ctx.io.stdout, { ok, subjects });
        else printHuman(ctx.io.stdout, subjects);
        return ok ? 0 : 1;
      }),
    );
};
