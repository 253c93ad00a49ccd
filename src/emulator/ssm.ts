// SSM (awsJson1_1, SigV4): StartSession for the port documents (port forwarding and SSH), ResumeSession,
// TerminateSession, DescribeInstanceInformation. The data channel of each session is the agent's
// (src/emulator/agent); this file only registers sessions and rotates their tokens.
import type { Emu } from './context.js';
import { jsonRpcError, parseJsonBody, sendAmzJson, str, strArray, type Exchange } from './http.js';
import { hexId, randomToken } from './ids.js';
import { acceptJsonRequest } from './json-request.js';
import { ecsSessionTarget } from './ecs.js';
import { instanceTags } from './ec2.js';
import { vpcAddress } from './rds.js';
import type { CredentialRecord } from './store.js';
import type { EmulatorState } from './state.js';

export const PORT_DOCUMENTS = [
  'AWS-StartPortForwardingSession',
  'AWS-StartPortForwardingSessionToRemoteHost',
  // A Port session whose properties set no `type`: the agent runs it in basic mode and the reference client
  // forwards stdin/stdout (targets-and-services §4). Its one parameter is portNumber, default 22.
  'AWS-StartSSHSession',
] as const;
const SSH_DOCUMENT = PORT_DOCUMENTS[2];
type PortDocument = (typeof PORT_DOCUMENTS)[number];

type Instance = EmulatorState['instances'][number];

export async function handleSsm(emu: Emu, ex: Exchange): Promise<void> {
  const body = parseJsonBody(ex);
  noteParams(ex, body);
  const ctx = await acceptJsonRequest(emu, ex, 'ssm', body);
  if (!ctx) return;
  switch (ex.operation) {
    case 'StartSession':
      return startSession(ctx);
    case 'ResumeSession':
      return resumeSession(ctx);
    case 'TerminateSession':
      return terminateSession(ctx);
    case 'DescribeInstanceInformation':
      return describeInstanceInformation(ctx);
    default:
      return jsonRpcError(
        ex,
        400,
        'UnknownOperationException',
        `Operation ${ex.operation} is not supported by the emulator`,
      );
  }
}

interface Ctx {
  emu: Emu;
  ex: Exchange;
  body: Record<string, unknown>;
  caller: CredentialRecord;
  region: string;
}

function noteParams(ex: Exchange, body: Record<string, unknown> | undefined): void {
  if (!body) return;
  const target = str(body.Target);
  if (target) ex.params.instanceId = target;
  const doc = str(body.DocumentName);
  if (doc) ex.params.documentName = doc;
  const sid = str(body.SessionId);
  if (sid) ex.params.sessionId = sid;
  const params = body.Parameters as Record<string, unknown> | undefined;
  if (params && typeof params === 'object') {
    for (const k of ['portNumber', 'localPortNumber', 'host']) {
      const v = strArray(params[k])?.[0];
      if (v !== undefined) ex.params[k] = v;
    }
  }
}

function denied(ctx: Ctx, action: string, resource: string): boolean {
  const p = ctx.caller.principal;
  if (!p.deny.includes(action)) return false;
  jsonRpcError(
    ctx.ex,
    400,
    'AccessDeniedException',
    `User: ${p.arn} is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`,
  );
  return true;
}

/**
 * Managed nodes this caller can see: its account (unset account = first account), the request's region, and
 * running (Session Manager never returns stopped or terminated nodes).
 */
function visibleInstances(ctx: Ctx): Instance[] {
  const first = ctx.emu.store.state.accounts[0]?.accountId;
  return ctx.emu.store.state.instances.filter(
    (i) =>
      (i.accountId ?? first) === ctx.caller.principal.accountId &&
      i.region === ctx.region &&
      i.state === 'running',
  );
}

function startSession(ctx: Ctx): void {
  const { emu, ex, body } = ctx;
  const target = str(body.Target);
  if (!target)
    return jsonRpcError(
      ex,
      400,
      'ValidationException',
      "1 validation error detected: Value null at 'target' failed to satisfy constraint: Member must not be null",
    );
  const documentName = str(body.DocumentName) ?? 'SSM-SessionManagerRunShell';
  const ecsTask = /^ecs:([^_]+)_([0-9a-f]{32})_/.exec(target);
  const resource = ecsTask
    ? `arn:aws:ecs:${ctx.region}:${ctx.caller.principal.accountId}:task/${ecsTask[1]}/${ecsTask[2]}`
    : `arn:aws:ec2:${ctx.region}:${ctx.caller.principal.accountId}:instance/${target}`;
  if (denied(ctx, 'ssm:StartSession', resource)) return;
  if (!(PORT_DOCUMENTS as readonly string[]).includes(documentName)) {
    return jsonRpcError(
      ex,
      400,
      'InvalidDocument',
      documentName === 'SSM-SessionManagerRunShell'
        ? `The emulator only runs the port documents (${PORT_DOCUMENTS.join(', ')})`
        : `Document with name ${documentName} does not exist.`,
    );
  }
  // An ECS task's container (its exec agent) or a managed node; either way "not connected" when unreachable.
  const instance = ecsTask
    ? undefined
    : visibleInstances(ctx).find((i) => i.instanceId === target && i.pingStatus === 'Online');
  const node = ecsTask ? ecsSessionTarget(emu, ctx.caller, ctx.region, target) : instance;
  if (!node) return jsonRpcError(ex, 400, 'TargetNotConnected', `${target} is not connected.`);
  const params = (body.Parameters ?? {}) as Record<string, unknown>;
  if (typeof params !== 'object' || Array.isArray(params)) {
    return jsonRpcError(ex, 400, 'InvalidParameters', 'Parameters must be a map of string lists');
  }
  const one = (k: string) => strArray(params[k])?.[0];
  const known = new Set([
    'portNumber',
    ...(documentName === SSH_DOCUMENT ? [] : ['localPortNumber']),
    ...(documentName === PORT_DOCUMENTS[1] ? ['host'] : []),
  ]);
  const unknownParam = Object.keys(params).find((k) => !known.has(k));
  if (unknownParam)
    return jsonRpcError(
      ex,
      400,
      'InvalidParameters',
      `Parameter "${unknownParam}" is not defined in document ${documentName}.`,
    );
  const defaultPort = { [PORT_DOCUMENTS[0]]: '80', [SSH_DOCUMENT]: '22' }[documentName] ?? '';
  const port = Number(one('portNumber') ?? defaultPort);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    return jsonRpcError(
      ex,
      400,
      'InvalidParameters',
      'Parameter "portNumber" must be a port number (1-65535).',
    );
  }
  const remoteHost = one('host');
  if (documentName === PORT_DOCUMENTS[1] && !remoteHost) {
    return jsonRpcError(
      ex,
      400,
      'InvalidParameters',
      'Parameter "host" is required by document AWS-StartPortForwardingSessionToRemoteHost.',
    );
  }
  const sessionId = `${ctx.caller.principal.sessionName.replace(/[^\w.@-]/g, '-')}-${hexId(17)}`;
  const token = randomToken('', 120);
  const localPortNumber = one('localPortNumber');
  emu.registry.registerSession({
    sessionId,
    documentName: documentName as PortDocument,
    portNumber: port,
    host: documentName === PORT_DOCUMENTS[1] ? vpcAddress(emu, remoteHost ?? '') : node.localAddress,
    ...(localPortNumber !== undefined ? { localPortNumber } : {}),
    agentVersion: instance?.agentVersion ?? emu.settings().agentVersion,
    ...emu.dataChannel,
    token,
    onEvent: (event, detail) => onAgentEvent(emu, sessionId, event, detail),
  });
  emu.store.ssmSessions.set(sessionId, {
    sessionId,
    instanceId: target,
    documentName,
    ownerArn: ctx.caller.principal.arn,
    accountId: ctx.caller.principal.accountId,
    status: 'Connected',
  });
  ex.params.sessionId = sessionId;
  sendAmzJson(ex, {
    SessionId: sessionId,
    TokenValue: token,
    StreamUrl: streamUrl(emu, sessionId, ctx.region),
  });
}

/** Agent events that also go to the request log (service 'data-channel', operation = the event). */
const LOGGED_EVENTS = new Set([
  'rate-limit-exceeded',
  'payload-limit-exceeded',
  'target-connect-failed',
  'terminated',
]);

function onAgentEvent(emu: Emu, sessionId: string, event: string, detail: Record<string, unknown>): void {
  const clean = safeDetail(detail);
  emu.logger(`session ${sessionId}: ${event} ${JSON.stringify(clean)}`);
  // The agent can end a session without the API (client Flag 2, failed basic-mode dial): same as Terminate.
  const rec = event === 'terminated' ? emu.store.ssmSessions.get(sessionId) : undefined;
  if (rec) rec.status = 'Terminated';
  if (LOGGED_EVENTS.has(event)) emu.log.event('data-channel', event, clean, emu.clock.now());
}

function safeDetail(detail: Record<string, unknown>): Record<string, string | number | boolean> {
  // Event details come from the agent; drop anything that looks like a token and keep plain values.
  const clean: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(detail)) {
    if (/token|secret/i.test(k)) continue;
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') clean[k] = v;
  }
  return clean;
}

function streamUrl(emu: Emu, sessionId: string, region: string): string {
  const cell = Buffer.from(JSON.stringify({ region, cell: '1' })).toString('base64url');
  return `${emu.url.replace(/^http/, 'ws')}/v1/data-channel/${sessionId}?role=publish_subscribe&cell-number=${cell}`;
}

function ownedSession(ctx: Ctx, sessionId: string) {
  const rec = ctx.emu.store.ssmSessions.get(sessionId);
  return rec && rec.accountId === ctx.caller.principal.accountId ? rec : undefined;
}

/** The request's SessionId when present and the caller may act on it; otherwise the error is sent. */
function sessionIdAllowed(ctx: Ctx, action: string): string | undefined {
  const sessionId = str(ctx.body.SessionId);
  if (!sessionId) {
    jsonRpcError(
      ctx.ex,
      400,
      'ValidationException',
      "1 validation error detected: Value null at 'sessionId' failed to satisfy constraint: Member must not be null",
    );
    return undefined;
  }
  const resource = `arn:aws:ssm:${ctx.region}:${ctx.caller.principal.accountId}:session/${sessionId}`;
  return denied(ctx, action, resource) ? undefined : sessionId;
}

function resumeSession(ctx: Ctx): void {
  const { emu, ex } = ctx;
  const sessionId = sessionIdAllowed(ctx, 'ssm:ResumeSession');
  if (!sessionId) return;
  const rec = ownedSession(ctx, sessionId);
  const agent = emu.registry.get(sessionId);
  if (!rec || rec.status === 'Terminated' || !agent || agent.terminated) {
    return jsonRpcError(
      ex,
      400,
      'DoesNotExistException',
      `Session ${sessionId} does not exist or is terminated.`,
    );
  }
  const token = randomToken('', 120);
  agent.rotateToken(token);
  sendAmzJson(ex, {
    SessionId: sessionId,
    TokenValue: token,
    StreamUrl: streamUrl(emu, sessionId, ctx.region),
  });
}

function terminateSession(ctx: Ctx): void {
  const { emu, ex } = ctx;
  const sessionId = sessionIdAllowed(ctx, 'ssm:TerminateSession');
  if (!sessionId) return;
  // Idempotent like AWS: terminating an unknown or ended session still answers its id.
  const rec = ownedSession(ctx, sessionId);
  if (rec && rec.status !== 'Terminated') {
    rec.status = 'Terminated';
    emu.registry.get(sessionId)?.terminate('TerminateSession');
  }
  sendAmzJson(ex, { SessionId: sessionId });
}

const FILTER_KEYS = ['InstanceIds', 'PingStatus', 'PlatformTypes', 'AgentVersion', 'ResourceType'] as const;

function describeInstanceInformation(ctx: Ctx): void {
  const { ex, body } = ctx;
  if (denied(ctx, 'ssm:DescribeInstanceInformation', '*')) return;
  const conditions: { key: string; values: string[] }[] = [];
  const legacy = body.InstanceInformationFilterList;
  if (legacy !== undefined) {
    if (!Array.isArray(legacy))
      return jsonRpcError(
        ex,
        400,
        'InvalidInstanceInformationFilterValue',
        'InstanceInformationFilterList must be a list',
      );
    for (const f of legacy as Record<string, unknown>[]) {
      const key = str(f?.key) ?? '';
      const values = strArray(f?.valueSet) ?? [];
      if (!(FILTER_KEYS as readonly string[]).includes(key))
        return jsonRpcError(ex, 400, 'InvalidFilterKey', `Invalid filter key: ${key}`);
      if (values.length === 0)
        return jsonRpcError(ex, 400, 'InvalidInstanceInformationFilterValue', `Filter ${key} needs values`);
      conditions.push({ key, values });
    }
  }
  const filters = body.Filters;
  if (filters !== undefined) {
    if (!Array.isArray(filters)) return jsonRpcError(ex, 400, 'InvalidFilterKey', 'Filters must be a list');
    for (const f of filters as Record<string, unknown>[]) {
      const key = str(f?.Key) ?? '';
      const values = strArray(f?.Values) ?? [];
      if (!(FILTER_KEYS as readonly string[]).includes(key) && !key.startsWith('tag:')) {
        return jsonRpcError(ex, 400, 'InvalidFilterKey', `Invalid filter key: ${key}`);
      }
      if (values.length === 0)
        return jsonRpcError(ex, 400, 'InvalidInstanceInformationFilterValue', `Filter ${key} needs values`);
      conditions.push({ key, values });
    }
  }
  const ids = conditions.filter((c) => c.key === 'InstanceIds').flatMap((c) => c.values);
  if (ids.length) ex.params.instanceIds = ids;
  const bad = ids.find((id) => !/^(i|mi)-[0-9a-f]{8,17}$/.test(id));
  if (bad) return jsonRpcError(ex, 400, 'InvalidInstanceId', `Instance id ${bad} is not valid`);
  const maxRaw = body.MaxResults;
  const max = maxRaw === undefined ? 50 : Number(maxRaw);
  if (!Number.isInteger(max) || max < 5 || max > 50) {
    return jsonRpcError(
      ex,
      400,
      'ValidationException',
      `1 validation error detected: Value '${String(maxRaw)}' at 'maxResults' failed to satisfy constraint: Member must have value between 5 and 50`,
    );
  }
  const settings = ctx.emu.settings();
  const matches = (i: Instance) =>
    conditions.every((c) => {
      switch (c.key) {
        case 'InstanceIds':
          return c.values.includes(i.instanceId);
        case 'PingStatus':
          return c.values.includes(i.pingStatus);
        case 'PlatformTypes':
          return c.values.includes('Linux');
        case 'AgentVersion':
          return c.values.includes(i.agentVersion ?? settings.agentVersion);
        case 'ResourceType':
          return c.values.includes(i.instanceId.startsWith('mi-') ? 'ManagedInstance' : 'EC2Instance');
        default: {
          const tag = c.key.startsWith('tag:') ? instanceTags(i)[c.key.slice(4)] : undefined;
          return tag !== undefined && c.values.includes(tag);
        }
      }
    });
  const all = visibleInstances(ctx).filter(matches);
  let offset = 0;
  const token = str(body.NextToken);
  if (token) {
    const parsed = /^o:(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
    if (!parsed || Number(parsed[1]) > all.length)
      return jsonRpcError(ex, 400, 'InvalidNextToken', 'The specified token is not valid.');
    offset = Number(parsed[1]);
  }
  const page = all.slice(offset, offset + max);
  const now = ctx.emu.clock.now() / 1000;
  const out: Record<string, unknown> = {
    InstanceInformationList: page.map((i) => ({
      InstanceId: i.instanceId,
      PingStatus: i.pingStatus,
      LastPingDateTime: i.pingStatus === 'Online' ? now : now - 3600,
      AgentVersion: i.agentVersion ?? settings.agentVersion,
      IsLatestVersion: false,
      PlatformType: 'Linux',
      PlatformName: i.platformName,
      PlatformVersion: i.platformVersion,
      ResourceType: i.instanceId.startsWith('mi-') ? 'ManagedInstance' : 'EC2Instance',
      IPAddress: i.ipAddress,
      ComputerName: i.name ? `${i.name}.internal` : `${i.instanceId}.internal`,
      ...(i.name ? { Name: i.name } : {}),
      AssociationStatus: 'Success',
    })),
  };
  if (offset + page.length < all.length)
    out.NextToken = Buffer.from(`o:${offset + page.length}`).toString('base64url');
  sendAmzJson(ex, out);
}
