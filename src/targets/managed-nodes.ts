// The managed nodes a profile can reach in a region, as people know them: Session Manager's list
// (DescribeInstanceInformation, every page) with each EC2 instance's Name tag (DescribeInstances, filtered by
// instance-id so an id that just left does not fail the call). Used by `stormtunnel targets` and the picker.
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { DescribeInstanceInformationCommand } from '@aws-sdk/client-ssm';
import type { Engine } from '../engine/engine.js';
import type { Credentials } from '../engine/types.js';

export interface ManagedNode {
  id: string;
  /** The EC2 Name tag (or a hybrid node's registered name); null when it has none or names were not readable. */
  name: string | null;
  platform: string | null;
  agentVersion: string | null;
  pingStatus: 'Online' | 'ConnectionLost' | 'Inactive';
  resourceType: string | null;
}

export interface NodeListing {
  nodes: ManagedNode[];
  /** Why Name tags are missing (e.g. ec2:DescribeInstances is not allowed); undefined when they were read. */
  namesUnavailable?: string;
}

const ID_BATCH = 200;

export async function listManagedNodes(
  engine: Pick<Engine, 'services' | 'recover'>,
  where: { profile: string; region: string; credentials: Credentials },
): Promise<NodeListing> {
  const ssm = await engine.services.aws.ssm({ region: where.region, credentials: where.credentials });
  const op = (operation: string, action: string) => ({
    phase: 'command' as const,
    operation,
    profile: where.profile,
    action,
  });
  const nodes: ManagedNode[] = [];
  let NextToken: string | undefined;
  do {
    const token = NextToken;
    const page = await engine.recover(
      op('DescribeInstanceInformation', 'ssm:DescribeInstanceInformation'),
      () =>
        ssm.send(
          new DescribeInstanceInformationCommand({ MaxResults: 50, ...(token ? { NextToken: token } : {}) }),
        ),
    );
    for (const n of page.InstanceInformationList ?? []) {
      if (!n.InstanceId) continue;
      nodes.push({
        id: n.InstanceId,
        // Hybrid nodes carry their registered name here; EC2 instances get their Name tag below.
        name: n.ResourceType === 'ManagedInstance' ? (n.Name ?? null) : null,
        platform: n.PlatformName ?? n.PlatformType ?? null,
        agentVersion: n.AgentVersion ?? null,
        pingStatus: n.PingStatus ?? 'Inactive',
        resourceType: n.ResourceType ?? null,
      });
    }
    NextToken = page.NextToken || undefined;
  } while (NextToken);

  const ec2Ids = nodes.filter((n) => n.id.startsWith('i-')).map((n) => n.id);
  let namesUnavailable: string | undefined;
  try {
    const ec2 = await engine.services.aws.ec2({ region: where.region, credentials: where.credentials });
    const names = new Map<string, string>();
    for (let i = 0; i < ec2Ids.length; i += ID_BATCH) {
      const batch = ec2Ids.slice(i, i + ID_BATCH);
      let token: string | undefined;
      do {
        const t = token;
        const out = await engine.recover(op('DescribeInstances', 'ec2:DescribeInstances'), () =>
          ec2.send(
            new DescribeInstancesCommand({
              Filters: [{ Name: 'instance-id', Values: batch }],
              MaxResults: 1000,
              ...(t ? { NextToken: t } : {}),
            }),
          ),
        );
        for (const r of out.Reservations ?? [])
          for (const inst of r.Instances ?? []) {
            const name = inst.Tags?.find((x) => x.Key === 'Name')?.Value;
            if (inst.InstanceId && name) names.set(inst.InstanceId, name);
          }
        token = out.NextToken || undefined;
      } while (token);
    }
    for (const n of nodes) if (n.id.startsWith('i-')) n.name = names.get(n.id) ?? null;
  } catch (err) {
    // The list is still useful without names: say why they are missing instead of failing.
    namesUnavailable = err instanceof Error ? err.message : String(err);
  }
  nodes.sort((a, b) => (a.name ?? '\uffff').localeCompare(b.name ?? '\uffff') || a.id.localeCompare(b.id));
  return { nodes, ...(namesUnavailable ? { namesUnavailable } : {}) };
}
