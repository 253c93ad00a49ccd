// What a configured target names, read once: a Session Manager target as is, EC2 tags (a plain name is its
// Name tag; several `tag:` parts joined by ",tag:" are ANDed, as separate DescribeInstances filters are), or an
// ECS task by service or task id. Remote hosts: `rds:IDENTIFIER`.
export type TargetSpec =
  | { kind: 'session'; target: string }
  | { kind: 'ec2'; tags: [key: string, value: string][]; label: string }
  | { kind: 'ecs'; cluster: string; service?: string; taskId?: string; container?: string; label: string };

const SESSION_TARGET = /^(i-[0-9a-f]{8,17}|mi-[0-9a-f]{17}|ecs:[A-Za-z0-9-]+_[0-9a-f]{32}_\S+)$/;
const TASK_ID = /^[0-9a-f]{32}$/;

export function parseTarget(target: string): TargetSpec {
  if (SESSION_TARGET.test(target)) return { kind: 'session', target };
  if (target.startsWith('ecs:')) {
    const [cluster = '', which = '', container] = target.slice(4).split('/');
    const label = target;
    return TASK_ID.test(which)
      ? { kind: 'ecs', cluster, taskId: which, ...(container ? { container } : {}), label }
      : { kind: 'ecs', cluster, service: which, ...(container ? { container } : {}), label };
  }
  if (target.startsWith('tag:')) {
    const tags = target
      .slice(4)
      .split(',tag:')
      .map((part): [string, string] => {
        const eq = part.indexOf('=');
        return [part.slice(0, eq), part.slice(eq + 1)];
      });
    return { kind: 'ec2', tags, label: tags.map(([k, v]) => `${k}=${v}`).join(', ') };
  }
  return { kind: 'ec2', tags: [['Name', target]], label: `Name=${target}` };
}

/** The identifier of an `rds:IDENTIFIER` remote host, or undefined for a plain host. */
export function rdsIdentifier(host: string | undefined): string | undefined {
  return host?.startsWith('rds:') ? host.slice(4) : undefined;
}
