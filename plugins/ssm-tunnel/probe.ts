// The ssm-tunnel plugin's answer to probeTunnel (`stormtunnel check`): is the target known and online in the
// region (DescribeInstanceInformation), can a session start (StartSession with the prepared draft, then
// TerminateSession at once). It only ever sees a connection the engine prepared, so a veto from
// beforeConnect means no session is opened.
import { classifyError, type Classification } from '../../src/plugin-kit/index.js';
import {
  DescribeInstanceInformationCommand,
  StartSessionCommand,
  TerminateSessionCommand,
} from '@aws-sdk/client-ssm';
import type { PluginApi, ConnectDraft, ProbeStep, TunnelProbeRequest } from '../../src/plugin-kit/index.js';
import { documentFor } from './documents.js';
import { maxSessionsOf } from './pool-policy.js';
import type { ResolvedSsmTunnelOptions } from './types.js';

const skip = (id: string, why: string): ProbeStep => ({ id, status: 'skip', message: `skipped: ${why}` });
const failure = (id: string, error: unknown, note = ''): ProbeStep => ({
  id,
  status: 'fail',
  message: note,
  error,
});

export async function probeTunnel(
  api: PluginApi,
  request: TunnelProbeRequest,
  options: ResolvedSsmTunnelOptions,
): Promise<ProbeStep[]> {
  if ('skipped' in request.connection) {
    const why = request.connection.skipped;
    return [skip('instance', why), skip('start-session', why), skip('end-session', why)];
  }
  if ('error' in request.connection) {
    const error = request.connection.error;
    const denied = deniedActionOf(error);
    if (denied && RESOLUTION_ACTIONS.has(denied)) {
      const why = `the target was not resolved (${denied} denied)`;
      return [
        failure('permissions', error),
        skip('instance', why),
        skip('start-session', why),
        skip('end-session', why),
      ];
    }
    const why = 'the connection was not prepared';
    return [failure('instance', error), skip('start-session', why), skip('end-session', why)];
  }
  const draft = request.connection.draft;
  const granted = permissionsStep(draft);
  return granted
    ? [granted, ...(await probeConnection(api, request, options))]
    : probeConnection(api, request, options);
}

/**
 * The IAM actions a target resolution (the built-in targets plugin) calls: a Name or tag: selector
 * (ec2:DescribeInstances, then ssm:DescribeInstanceInformation), ecs: (ecs:ListTasks, ecs:DescribeTasks),
 * rds: (rds:DescribeDBInstances, rds:DescribeDBClusters for Aurora). A denial of one is the resolution's.
 */
const RESOLUTION_ACTIONS = new Set([
  'ec2:DescribeInstances',
  'ssm:DescribeInstanceInformation',
  'ecs:ListTasks',
  'ecs:DescribeTasks',
  'rds:DescribeDBInstances',
  'rds:DescribeDBClusters',
]);

/** The denied IAM action: the recovery loop's classification knows the operation's action, the SDK error may not. */
function deniedActionOf(error: unknown): string | undefined {
  for (let e = error, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const c = (e as { classification?: Classification }).classification;
    if (c?.class === 'permission-denied') return c.deniedAction;
    e = (e as { cause?: unknown }).cause;
  }
  return classifyError(error).deniedAction;
}

/** What the resolution needed, granted (it answered); none when the target needed no resolution. */
function permissionsStep(draft: ConnectDraft): ProbeStep | undefined {
  const actions = draft.resolution?.actions;
  if (!actions?.length) return undefined;
  const requested = draft.resolution!.requested;
  const what = [requested.target, requested.remoteHost].filter((x) => x && x !== draft.target).join(' and ');
  return {
    id: 'permissions',
    status: 'pass',
    message: `granted: ${actions.join(', ')} (to resolve ${what || requested.target})`,
  };
}

async function probeConnection(
  api: PluginApi,
  request: TunnelProbeRequest,
  options: ResolvedSsmTunnelOptions,
): Promise<ProbeStep[]> {
  if (!('draft' in request.connection)) return [];
  const draft = request.connection.draft;
  // An ECS task is no managed node (DescribeInstanceInformation does not list it): its resolution is the check.
  if (draft.target.startsWith('ecs:')) {
    const what = draft.resolution?.description ?? draft.target;
    return [
      { id: 'instance', status: 'pass', message: `${what} (ECS task)` },
      ...(await probeSession(api, draft, draft.target)),
    ];
  }
  const instance = await probeInstance(api, draft, request.tunnel.target);
  if (instance.online === false) {
    const why = 'the instance is not online in this region';
    return [instance.step, skip('start-session', why), skip('end-session', why)];
  }
  const steps = await probeSession(api, draft, instance.instanceId ?? draft.target);
  const start = steps.find((s) => s.id === 'start-session' && s.status === 'pass');
  if (start) start.message += `; ${poolNote(maxSessionsOf(api, request.tunnel, options.maxSessions))}`;
  return [instance.step, ...steps];
}

/** What the tunnel's pool means for the account's records, and how to turn it off. */
function poolNote(maxSessions: number): string {
  if (maxSessions <= 1) return '`up` runs one session for this tunnel (maxSessions: 1)';
  return `\`up\` may run up to ${maxSessions} sessions for this tunnel when connections are busy, each one StartSession in Session Manager history and CloudTrail (maxSessions: 1 keeps one)`;
}

/** DescribeInstanceInformation for the instance id the connection goes to (after beforeConnect, as `up`). */
async function probeInstance(
  api: PluginApi,
  draft: ConnectDraft,
  configuredTarget: string,
): Promise<{ step: ProbeStep; instanceId?: string; online: boolean | undefined }> {
  const target = draft.target;
  // A plugin resolved the configured target (e.g. a tag selector) to this instance: say which.
  const resolvedFrom = configuredTarget !== target ? ` for ${configuredTarget}` : '';
  try {
    const out = await api.recover(
      {
        phase: 'command',
        operation: 'DescribeInstanceInformation',
        profile: draft.profile,
        action: 'ssm:DescribeInstanceInformation',
      },
      async () =>
        (await api.services.aws.ssm({ region: draft.region, credentials: draft.credentials })).send(
          new DescribeInstanceInformationCommand({
            Filters: [{ Key: 'InstanceIds', Values: [target] }],
            MaxResults: 50,
          }),
        ),
    );
    const list = out.InstanceInformationList ?? [];
    const found = list.find((i) => i.PingStatus === 'Online') ?? list[0];
    if (!found?.InstanceId) {
      return {
        online: false,
        step: {
          id: 'instance',
          status: 'fail',
          message: `${target} is not known to Session Manager in ${draft.region}`,
          hint: `check that ${draft.region} is the instance's region (set region on the tunnel), that the SSM Agent runs on it, and that its instance profile has the AmazonSSMManagedInstanceCore policy`,
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
        step: {
          id: 'instance',
          status: 'fail',
          message: `${what} is registered in ${draft.region} but its SSM Agent is offline (${found.PingStatus ?? 'no ping status'})`,
          hint: 'start the instance, or check that the SSM Agent runs and can reach Session Manager (network, VPC endpoints)',
          errorClass: 'target',
        },
      };
    }
    return {
      online: true,
      instanceId: found.InstanceId,
      step: {
        id: 'instance',
        status: 'pass',
        message: `${what} is online in ${draft.region}${found.AgentVersion ? `, SSM Agent ${found.AgentVersion}` : ''}`,
      },
    };
  } catch (err) {
    // Unknown state (e.g. describe not allowed): the session check still runs and tells more.
    return { online: undefined, step: failure('instance', err) };
  }
}

/** StartSession with the prepared draft's document and parameters, then TerminateSession at once. */
async function probeSession(api: PluginApi, draft: ConnectDraft, instanceId: string): Promise<ProbeStep[]> {
  const ssm = () => api.services.aws.ssm({ region: draft.region, credentials: draft.credentials });
  const documentName = documentFor(draft);
  let sessionId: string | undefined;
  try {
    const out = await api.recover(
      { phase: 'command', operation: 'StartSession', profile: draft.profile, action: 'ssm:StartSession' },
      async () =>
        (await ssm()).send(
          new StartSessionCommand({
            Target: instanceId,
            DocumentName: documentName,
            Parameters: {
              portNumber: [String(draft.remotePort)],
              ...(draft.remoteHost ? { host: [draft.remoteHost] } : {}),
            },
          }),
        ),
    );
    sessionId = out.SessionId;
  } catch (err) {
    return [failure('start-session', err), skip('end-session', 'no session was started')];
  }
  const start: ProbeStep = {
    id: 'start-session',
    status: 'pass',
    message: `StartSession works (${documentName}, port ${draft.remotePort}${draft.remoteHost ? ` on ${draft.remoteHost}` : ''})`,
  };
  if (!sessionId) return [start, skip('end-session', 'StartSession returned no session id')];
  try {
    await api.recover(
      {
        phase: 'command',
        operation: 'TerminateSession',
        profile: draft.profile,
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
    return [
      start,
      failure('end-session', err, ` (test session ${sessionId} stays open until Session Manager ends it)`),
    ];
  }
}
