// An ECS task as a Session Manager target `ecs:<cluster>_<taskId>_<runtimeId>`: the service's running tasks
// (ListTasks), their containers (DescribeTasks), then the container's Docker runtime id. A task takes a
// session only with execute-command on (set when the task started; it cannot be turned on later) and its
// container's ExecuteCommandAgent RUNNING.
import { DescribeTasksCommand, ListTasksCommand, type Container, type Task } from '@aws-sdk/client-ecs';
import type { PluginApi, ConnectDraft, ResolvedTarget } from '../../src/plugin-kit/index.js';
import { choose, type Candidate, type PickPolicy } from './choose.js';
import { TargetPendingError, TargetResolutionError } from './errors.js';

interface EcsSpec {
  cluster: string;
  service?: string;
  taskId?: string;
  container?: string;
  label: string;
}

const idOf = (arn: string | undefined) => arn?.split('/').pop() ?? '?';

export async function resolveEcs(
  api: PluginApi,
  draft: ConnectDraft,
  spec: EcsSpec,
  pick: PickPolicy,
  random: () => number,
  /** This tunnel resolved this target before: no task now is the service replacing it (waited for). */
  seenBefore = false,
): Promise<ResolvedTarget> {
  const ecs = await api.services.aws.ecs({ region: draft.region, credentials: draft.credentials });
  const op = (operation: string) => ({
    phase: 'connect' as const,
    operation,
    profile: draft.profile,
    action: `ecs:${operation}`,
  });
  const fail = (message: string, hint?: string) =>
    new TargetResolutionError(draft.tunnel, `${spec.label}: ${message}`, hint);
  // A service starts a new task when one stops (PROVISIONING -> PENDING -> RUNNING, then the exec agent):
  // waited for like an Auto Scaling replacement (wait.ts), never for a setting only a person can change.
  const pending = (message: string) =>
    new TargetPendingError(
      draft.tunnel,
      `${spec.label}: waiting for a task to start: ${message}`,
      'the service starts a new task and its ExecuteCommandAgent within minutes; the tunnel connects once it runs',
    );
  let arns: string[];
  if (spec.taskId) arns = [spec.taskId];
  else {
    arns = [];
    let nextToken: string | undefined;
    do {
      const token = nextToken;
      const page = await api.recover(op('ListTasks'), () =>
        ecs.send(
          new ListTasksCommand({
            cluster: spec.cluster,
            serviceName: spec.service,
            desiredStatus: 'RUNNING',
            ...(token ? { nextToken: token } : {}),
          }),
        ),
      );
      arns.push(...(page.taskArns ?? []));
      nextToken = page.nextToken || undefined;
    } while (nextToken);
    if (!arns.length && seenBefore)
      throw pending(
        `service "${spec.service}" has no running task in ECS cluster "${spec.cluster}" in ${draft.region}`,
      );
    if (!arns.length)
      throw fail(
        `service "${spec.service}" has no running task in ECS cluster "${spec.cluster}" in ${draft.region}`,
        'check the cluster and service names and the region; the service may be scaled to 0',
      );
  }
  const tasks: Task[] = [];
  for (let i = 0; i < arns.length; i += 100) {
    const batch = arns.slice(i, i + 100);
    const out = await api.recover(op('DescribeTasks'), () =>
      ecs.send(new DescribeTasksCommand({ cluster: spec.cluster, tasks: batch })),
    );
    tasks.push(...(out.tasks ?? []));
  }
  if (!tasks.length)
    throw fail(
      `no task ${spec.taskId ?? ''} in ECS cluster "${spec.cluster}" in ${draft.region}`.replace('  ', ' '),
    );

  // Each running task either gives a container ready for a session, or the reason it cannot.
  const ready: (Candidate & { container: Container; task: Task })[] = [];
  const reasons: string[] = [];
  let starting = 0;
  for (const task of tasks) {
    const why = notReady(task, spec.container);
    if ('why' in why) {
      reasons.push(`task ${idOf(task.taskArn)} ${why.why}`);
      if (why.starting) starting++;
    } else
      ready.push({
        id: idOf(task.taskArn),
        startedAt: task.startedAt?.getTime() ?? 0,
        label: `task ${idOf(task.taskArn)}`,
        container: why,
        task,
      });
  }
  // Every task still starting (or, followed before, none usable now): wait; else a setting is wrong.
  if (!ready.length)
    throw starting === tasks.length || seenBefore ? pending(reasons.join('; ')) : fail(reasons.join('; '));
  const choice = choose(ready, pick, random);
  if ('several' in choice)
    throw fail(
      `${choice.several.length} running tasks can take a session and pick is "only": ${choice.several.map((c) => c.id).join(', ')}`,
      'name one task (ecs:CLUSTER/TASK_ID), or set pick to "newest" or "random"',
    );
  const { task, container } = choice.chosen;
  // Session Manager wants the cluster's short name (every documented example uses it).
  const cluster = task.clusterArn?.split('/').pop() ?? spec.cluster;
  return {
    target: `ecs:${cluster}_${choice.chosen.id}_${container.runtimeId!}`,
    description: `${spec.label}: task ${choice.chosen.id} container ${container.name ?? '?'}, ${choice.why} in ${draft.region}`,
  };
}

/** The container a session goes to, or why this task has none (`starting`: it may yet, on its own). */
function notReady(task: Task, wanted: string | undefined): Container | { why: string; starting: boolean } {
  const starting = (why: string) => ({ why, starting: true });
  const wrong = (why: string) => ({ why, starting: false });
  if (task.lastStatus !== 'RUNNING')
    return starting(`is ${task.lastStatus ?? 'in an unknown state'}, not RUNNING`);
  if (!task.enableExecuteCommand)
    return wrong(
      'has execute-command turned off (enableExecuteCommand false); enable it on the service and start new tasks',
    );
  const containers = task.containers ?? [];
  const names = containers.map((c) => c.name ?? '?').join(', ');
  const container = wanted
    ? containers.find((c) => c.name === wanted)
    : containers.length === 1
      ? containers[0]
      : undefined;
  if (!container)
    return wrong(
      wanted
        ? `has no container "${wanted}" (containers: ${names})`
        : `has ${containers.length} containers (${names}); name one: ecs:CLUSTER/SERVICE/CONTAINER`,
    );
  if (!container.runtimeId)
    return starting(
      `container "${container.name ?? '?'}" has no runtime id yet (lastStatus ${container.lastStatus ?? 'unknown'})`,
    );
  const agent = container.managedAgents?.find((a) => a.name === 'ExecuteCommandAgent');
  if (agent?.lastStatus !== 'RUNNING') {
    const why = `container "${container.name ?? '?'}" has ${agent ? `its ExecuteCommandAgent ${agent.lastStatus ?? 'in an unknown state'}` : 'no ExecuteCommandAgent'}, not RUNNING`;
    // No agent at all is the task role or image, not a start in progress.
    return agent ? starting(why) : wrong(why);
  }
  return container;
}
