// ECS (awsJson1_1, `X-Amz-Target: AmazonEC2ContainerServiceV20141113.<Op>`, SigV4 `ecs`): ListTasks and
// DescribeTasks, enough to turn `cluster/service` into the Session Manager target
// `ecs:<cluster>_<taskId>_<runtimeId>`. Tasks are the state's `ecsTasks`; admin `restartTask` replaces one
// as a service would (new task id, new runtime ids, the old task STOPPED).
import type { Emu } from './context.js';
import { jsonRpcError, parseJsonBody, sendAmzJson, str, strArray, type Exchange } from './http.js';
import { deniedMessage, isDenied, visibleTo } from './scope.js';
import { acceptJsonRequest, type JsonRequest } from './json-request.js';
import type { EmulatorState } from './state.js';
import type { CredentialRecord } from './store.js';

export const ECS_TARGET_PREFIX = 'AmazonEC2ContainerServiceV20141113.';
type Task = EmulatorState['ecsTasks'][number];

type Ctx = JsonRequest;

export async function handleEcs(emu: Emu, ex: Exchange): Promise<void> {
  const body = parseJsonBody(ex);
  const ctx = await acceptJsonRequest(emu, ex, 'ecs', body);
  if (!ctx) return;
  const action = `ecs:${ex.operation}`;
  if (isDenied(ctx.caller, action))
    return jsonRpcError(ex, 400, 'AccessDeniedException', deniedMessage(ctx.caller, action));
  switch (ex.operation) {
    case 'ListTasks':
      return listTasks(ctx);
    case 'DescribeTasks':
      return describeTasks(ctx);
    default:
      return jsonRpcError(
        ex,
        400,
        'UnknownOperationException',
        `Operation ${ex.operation} is not supported by the emulator`,
      );
  }
}

/** A cluster given as a name or an ARN (`arn:aws:ecs:REGION:ACCOUNT:cluster/NAME`); omitted: `default`. */
function clusterName(v: unknown): string {
  const s = str(v) ?? 'default';
  return s.startsWith('arn:') ? (s.split('/').pop() ?? s) : s;
}

export function taskArn(t: Task, region: string, account: string): string {
  return `arn:aws:ecs:${region}:${account}:task/${t.cluster}/${t.taskId}`;
}

function clusterTasks(ctx: Ctx, cluster: string): Task[] | undefined {
  const visible = visibleTo(ctx.emu, ctx.caller, ctx.region, ctx.emu.store.state.ecsTasks);
  const mine = visible.filter((t) => t.cluster === cluster);
  return mine.length || cluster === 'default' ? mine : undefined;
}

function clusterNotFound(ctx: Ctx): void {
  jsonRpcError(ctx.ex, 400, 'ClusterNotFoundException', 'Cluster not found.');
}

function listTasks(ctx: Ctx): void {
  const { body, ex } = ctx;
  const cluster = clusterName(body.cluster);
  ex.params.cluster = cluster;
  const service = str(body.serviceName);
  if (service) ex.params.serviceName = service;
  const tasks = clusterTasks(ctx, cluster);
  if (!tasks) return clusterNotFound(ctx);
  // desiredStatus RUNNING (default) lists running and pending tasks; STOPPED the stopped ones.
  const desired = str(body.desiredStatus) ?? 'RUNNING';
  if (!['RUNNING', 'PENDING', 'STOPPED'].includes(desired))
    return jsonRpcError(ex, 400, 'InvalidParameterException', `Invalid desiredStatus: ${desired}`);
  const listed = tasks.filter(
    (t) =>
      (!service || t.service === service.split('/').pop()) &&
      (desired === 'STOPPED'
        ? t.lastStatus === 'STOPPED'
        : desired === 'RUNNING' && t.lastStatus !== 'STOPPED'),
  );
  const max = typeof body.maxResults === 'number' ? body.maxResults : 100;
  if (!Number.isInteger(max) || max < 1 || max > 100)
    return jsonRpcError(ex, 400, 'InvalidParameterException', 'maxResults must be between 1 and 100');
  let offset = 0;
  const token = str(body.nextToken);
  if (token) {
    const parsed = /^o:(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
    if (!parsed) return jsonRpcError(ex, 400, 'InvalidParameterException', 'Invalid nextToken');
    offset = Number(parsed[1]);
  }
  const page = listed.slice(offset, offset + max);
  const account = ctx.caller.principal.accountId;
  sendAmzJson(ex, {
    taskArns: page.map((t) => taskArn(t, ctx.region, account)),
    ...(offset + page.length < listed.length
      ? { nextToken: Buffer.from(`o:${offset + page.length}`).toString('base64url') }
      : {}),
  });
}

function describeTasks(ctx: Ctx): void {
  const { body, ex } = ctx;
  const cluster = clusterName(body.cluster);
  ex.params.cluster = cluster;
  const wanted = strArray(body.tasks);
  if (!wanted?.length) return jsonRpcError(ex, 400, 'InvalidParameterException', 'Tasks cannot be empty.');
  if (wanted.length > 100)
    return jsonRpcError(ex, 400, 'InvalidParameterException', 'Tasks cannot have more than 100 elements.');
  const tasks = clusterTasks(ctx, cluster);
  if (!tasks) return clusterNotFound(ctx);
  const account = ctx.caller.principal.accountId;
  const found: Task[] = [];
  const failures: { arn: string; reason: string }[] = [];
  for (const w of wanted) {
    const id = w.split('/').pop() ?? w;
    const t = tasks.find((x) => x.taskId === id);
    if (t) found.push(t);
    else
      failures.push({
        arn: w.startsWith('arn:') ? w : `arn:aws:ecs:${ctx.region}:${account}:task/${id}`,
        reason: 'MISSING',
      });
  }
  const clusterArn = `arn:aws:ecs:${ctx.region}:${account}:cluster/${cluster}`;
  sendAmzJson(ex, {
    tasks: found.map((t) => {
      const arn = taskArn(t, ctx.region, account);
      return {
        taskArn: arn,
        clusterArn,
        lastStatus: t.lastStatus,
        desiredStatus: t.lastStatus === 'STOPPED' ? 'STOPPED' : 'RUNNING',
        enableExecuteCommand: t.enableExecuteCommand,
        launchType: t.launchType,
        ...(t.service ? { group: `service:${t.service}` } : { group: 'family:standalone' }),
        startedAt: Date.parse(t.startedAt) / 1000,
        containers: t.containers.map((c) => ({
          containerArn: `arn:aws:ecs:${ctx.region}:${account}:container/${t.cluster}/${t.taskId}/${c.name}`,
          taskArn: arn,
          name: c.name,
          lastStatus: t.lastStatus === 'STOPPED' ? 'STOPPED' : c.lastStatus,
          ...(c.runtimeId ? { runtimeId: c.runtimeId } : {}),
          managedAgents:
            c.execAgent === 'none' || !t.enableExecuteCommand
              ? []
              : [
                  {
                    name: 'ExecuteCommandAgent',
                    lastStatus: t.lastStatus === 'STOPPED' ? 'STOPPED' : c.execAgent,
                  },
                ],
        })),
      };
    }),
    failures,
  });
}

/**
 * The task and container behind a Session Manager target `ecs:<cluster>_<taskId>_<runtimeId>` that the caller
 * can reach, or why not (TargetNotConnected): the task must run, have execute-command on, and the
 * container's exec agent must be RUNNING.
 */
export function ecsSessionTarget(
  emu: Emu,
  caller: CredentialRecord,
  region: string,
  target: string,
): { localAddress: string } | undefined {
  const m = /^ecs:([^_]+)_([0-9a-f]{32})_(.+)$/.exec(target);
  if (!m) return undefined;
  const [, cluster, taskId, runtimeId] = m;
  const task = visibleTo(emu, caller, region, emu.store.state.ecsTasks).find(
    (t) => t.cluster === cluster && t.taskId === taskId,
  );
  if (!task || task.lastStatus !== 'RUNNING' || !task.enableExecuteCommand) return undefined;
  const c = task.containers.find((x) => x.runtimeId === runtimeId);
  if (!c || c.lastStatus !== 'RUNNING' || c.execAgent !== 'RUNNING') return undefined;
  return { localAddress: c.localAddress };
}
