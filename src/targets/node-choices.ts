// The target picker's list, shared by `stormtunnel add` and `configure sso --add-tunnel`: the managed nodes
// online for a profile in a region. A node is offered by its Name when no other online node has it (a Name
// target follows an Auto Scaling replacement), else by its id (a shared Name would pick among several).
import type { Choice } from '../configure/picker.js';
import type { Engine } from '../engine/engine.js';
import type { Credentials } from '../engine/types.js';
import { listManagedNodes, type ManagedNode } from './managed-nodes.js';

export function nodeChoices(nodes: readonly ManagedNode[]): Choice<string>[] {
  const online = nodes.filter((n) => n.pingStatus === 'Online');
  const count = new Map<string, number>();
  for (const n of online) if (n.name) count.set(n.name, (count.get(n.name) ?? 0) + 1);
  return online.map((n) => ({
    label: `${(n.name ?? '-').padEnd(24)} ${n.id}  ${n.platform ?? ''}`,
    search: `${n.name ?? ''} ${n.id} ${n.platform ?? ''}`,
    value: n.name && count.get(n.name) === 1 ? n.name : n.id,
  }));
}

/** Lists the nodes (with progress on stderr) and returns the choices; empty when none is online. */
export async function listNodeChoices(
  engine: Pick<Engine, 'services' | 'recover'>,
  where: { profile: string; region: string; credentials: Credentials },
  progress: { stop(): void },
): Promise<Choice<string>[]> {
  const { nodes } = await listManagedNodes(engine, where).finally(() => progress.stop());
  return nodeChoices(nodes);
}
