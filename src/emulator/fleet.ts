// What an Auto Scaling group and an ECS service do to their members, for the admin API: a replaced instance
// is terminated (Session Manager ends its sessions: the agent is gone) and a new one with the same tags is
// launched and comes online; a restarted task stops and a new task with new ids runs in its place.
// A real replacement leaves a gap: the new instance is `pending` and not a managed node (its agent has not
// registered) for minutes. `onlineAfterMs` models it on the emulator clock, `hold` until an admin call.
import type { Emu } from './context.js';
import { hexId } from './ids.js';
import type { ReplaceOptions } from './types.js';

export class FleetError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Ends every live session to a target, as the service does when the agent behind it goes away. */
function endSessionsTo(emu: Emu, matches: (target: string) => boolean, reason: string): void {
  for (const rec of emu.store.ssmSessions.values()) {
    if (rec.status === 'Terminated' || !matches(rec.instanceId)) continue;
    emu.registry.get(rec.sessionId)?.terminate(reason);
    rec.status = 'Terminated';
  }
}

export function replaceInstance(
  emu: Emu,
  instanceId: string,
  options: ReplaceOptions = {},
): { instanceId: string } {
  const instances = emu.store.state.instances;
  const old = instances.find((i) => i.instanceId === instanceId);
  if (!old) throw new FleetError(404, `no instance ${instanceId}`);
  if (old.state === 'terminated') throw new FleetError(409, `instance ${instanceId} is already terminated`);
  old.state = 'terminated';
  endSessionsTo(emu, (t) => t === instanceId, 'instance terminated');
  const fresh = {
    ...old,
    tags: { ...old.tags },
    instanceId: `i-${hexId(17)}`,
    state: options.hold || options.onlineAfterMs ? ('pending' as const) : ('running' as const),
    pingStatus: 'Online' as const,
    launchTime: new Date(emu.clock.now()).toISOString(),
    ...(options.onlineAfterMs && !options.hold
      ? { onlineAt: new Date(emu.clock.now() + options.onlineAfterMs).toISOString() }
      : {}),
  };
  instances.push(fresh);
  return { instanceId: fresh.instanceId };
}

/** Launches whose time has come are running (and, with their agent Online, managed nodes); before each request. */
export function settleLaunches(emu: Emu): void {
  const now = emu.clock.now();
  for (const i of emu.store.state.instances) {
    if (i.state !== 'pending' || i.onlineAt === undefined || Date.parse(i.onlineAt) > now) continue;
    i.state = 'running';
    delete i.onlineAt;
  }
}

export function restartTask(emu: Emu, taskId: string): { taskId: string } {
  const tasks = emu.store.state.ecsTasks;
  const old = tasks.find((t) => t.taskId === taskId);
  if (!old) throw new FleetError(404, `no ECS task ${taskId}`);
  if (old.lastStatus === 'STOPPED') throw new FleetError(409, `ECS task ${taskId} is already stopped`);
  old.lastStatus = 'STOPPED';
  endSessionsTo(emu, (t) => t.startsWith(`ecs:${old.cluster}_${taskId}_`), 'task stopped');
  const id = hexId(32);
  const fresh = {
    ...old,
    taskId: id,
    lastStatus: 'RUNNING' as const,
    startedAt: new Date(emu.clock.now()).toISOString(),
    // Fargate's runtime ids are `<taskId>-<number>`: every container of the new task gets a new one.
    containers: old.containers.map((c, n) => ({
      ...c,
      ...(c.runtimeId ? { runtimeId: `${id}-${1000000000 + n}` } : {}),
    })),
  };
  tasks.push(fresh);
  return { taskId: id };
}
