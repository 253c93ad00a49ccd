// EC2 instances by tag: DescribeInstances (every page; the model says to always paginate) with one filter per
// tag, then DescribeInstanceInformation for the running ones: only a node Session Manager sees Online takes a
// session (a running instance without the agent answers StartSession with TargetNotConnected).
import { DescribeInstancesCommand, type Instance } from '@aws-sdk/client-ec2';
import { DescribeInstanceInformationCommand } from '@aws-sdk/client-ssm';
import type { PluginApi, ConnectDraft, ResolvedTarget } from '../../src/plugin-kit/index.js';
import { choose, type Candidate, type PickPolicy } from './choose.js';
import { TargetPendingError, TargetResolutionError } from './errors.js';

/** DescribeInstanceInformation takes at most 50 results a page; ids are asked in batches of that size. */
const INFO_BATCH = 50;

export interface NodeInfo {
  pingStatus: string;
  agentVersion: string | undefined;
  platform: string | undefined;
}

export async function describeTagged(
  api: PluginApi,
  draft: ConnectDraft,
  tags: readonly [string, string][],
): Promise<Instance[]> {
  const ec2 = await api.services.aws.ec2({ region: draft.region, credentials: draft.credentials });
  const found: Instance[] = [];
  let NextToken: string | undefined;
  do {
    const token = NextToken;
    const page = await api.recover(
      {
        phase: 'connect',
        operation: 'DescribeInstances',
        profile: draft.profile,
        action: 'ec2:DescribeInstances',
      },
      () =>
        ec2.send(
          new DescribeInstancesCommand({
            Filters: tags.map(([k, v]) => ({ Name: `tag:${k}`, Values: [v] })),
            MaxResults: 1000,
            ...(token ? { NextToken: token } : {}),
          }),
        ),
    );
    for (const r of page.Reservations ?? []) found.push(...(r.Instances ?? []));
    NextToken = page.NextToken || undefined;
  } while (NextToken);
  return found;
}

/** Session Manager's view of these ids (absent: not a managed node). */
export async function describeNodes(
  api: PluginApi,
  draft: Pick<ConnectDraft, 'region' | 'credentials' | 'profile'>,
  ids: readonly string[],
): Promise<Map<string, NodeInfo>> {
  const ssm = await api.services.aws.ssm({ region: draft.region, credentials: draft.credentials });
  const nodes = new Map<string, NodeInfo>();
  for (let i = 0; i < ids.length; i += INFO_BATCH) {
    const batch = ids.slice(i, i + INFO_BATCH);
    let NextToken: string | undefined;
    do {
      const token = NextToken;
      const page = await api.recover(
        {
          phase: 'connect',
          operation: 'DescribeInstanceInformation',
          profile: draft.profile,
          action: 'ssm:DescribeInstanceInformation',
        },
        () =>
          ssm.send(
            new DescribeInstanceInformationCommand({
              Filters: [{ Key: 'InstanceIds', Values: batch }],
              MaxResults: 50,
              ...(token ? { NextToken: token } : {}),
            }),
          ),
      );
      for (const n of page.InstanceInformationList ?? []) {
        if (n.InstanceId)
          nodes.set(n.InstanceId, {
            pingStatus: n.PingStatus ?? 'unknown',
            agentVersion: n.AgentVersion,
            platform: n.PlatformName ?? n.PlatformType,
          });
      }
      NextToken = page.NextToken || undefined;
    } while (NextToken);
  }
  return nodes;
}

function nameOf(i: Instance): string | undefined {
  return i.Tags?.find((t) => t.Key === 'Name')?.Value;
}

/** EC2 tags every member of an Auto Scaling group with its group's name (a reserved `aws:` tag). */
const GROUP_TAG = 'aws:autoscaling:groupName';

/**
 * An instance that may soon take sessions without anyone acting: one launching (`pending`), one running whose
 * agent has not registered with Session Manager yet (minutes after boot), or any member of an Auto Scaling
 * group, which replaces a terminated, stopped or unhealthy member by launching another with the same tags.
 */
function coming(i: Instance, nodes: Map<string, NodeInfo>): boolean {
  const state = i.State?.Name;
  if (i.Tags?.some((t) => t.Key === GROUP_TAG)) return true;
  return state === 'pending' || (state === 'running' && !nodes.has(i.InstanceId ?? ''));
}

/** Why an instance that matched the tags cannot take a session (undefined: it can). */
function unusable(i: Instance, nodes: Map<string, NodeInfo>): string | undefined {
  const state = i.State?.Name ?? 'unknown';
  if (state !== 'running') return state;
  const node = nodes.get(i.InstanceId ?? '');
  if (!node) return 'running, not a Session Manager node';
  if (node.pingStatus !== 'Online') return `running, agent ${node.pingStatus}`;
  return undefined;
}

export async function resolveEc2(
  api: PluginApi,
  draft: ConnectDraft,
  spec: { tags: [string, string][]; label: string },
  pick: PickPolicy,
  random: () => number,
  /** This tunnel resolved this selector before: an empty answer now is a replacement under way. */
  seenBefore = false,
): Promise<ResolvedTarget> {
  const matched = await describeTagged(api, draft, spec.tags);
  const running = matched.filter((i) => i.State?.Name === 'running' && i.InstanceId);
  const nodes = running.length
    ? await describeNodes(
        api,
        draft,
        running.map((i) => i.InstanceId!),
      )
    : new Map<string, NodeInfo>();
  const candidates: Candidate[] = matched
    .filter((i) => i.InstanceId && !unusable(i, nodes))
    .map((i) => {
      const launched = i.LaunchTime ? i.LaunchTime.toISOString().replace(/\.000Z$/, 'Z') : 'unknown';
      return {
        id: i.InstanceId!,
        startedAt: i.LaunchTime?.getTime() ?? 0,
        label: `${i.InstanceId!} (launched ${launched})`,
      };
    });
  const where = `in ${draft.region}`;
  if (!candidates.length) {
    const seen = matched.map((i) => `${i.InstanceId ?? '?'} (${unusable(i, nodes) ?? 'unknown'})`);
    // Followed before, or one of the matches is on its way: wait (onError, wait.ts) instead of failing. A
    // selector that matched nothing at start-up is a typo or the wrong region: that fails at once.
    if (seenBefore || matched.some((i) => coming(i, nodes))) {
      throw new TargetPendingError(
        draft.tunnel,
        `waiting for an instance with tag ${spec.label} ${where} to be running and online in Session Manager; found ${seen.length ? seen.join(', ') : 'no instance with that tag yet'}`,
        'an Auto Scaling group launches a replacement and its agent registers within minutes; the tunnel connects once it is online',
      );
    }
    throw new TargetResolutionError(
      draft.tunnel,
      `no instance with tag ${spec.label} ${where} is running and online in Session Manager; found ${seen.length ? seen.join(', ') : 'no instance with that tag'}`,
      seen.length
        ? 'start the instance or wait for its SSM Agent to come online, then try again'
        : `check the tag and the region (set region on the tunnel); stormtunnel targets lists the nodes this profile can reach`,
    );
  }
  const choice = choose(candidates, pick, random);
  if ('several' in choice) {
    throw new TargetResolutionError(
      draft.tunnel,
      `tag ${spec.label} matches ${choice.several.length} instances online ${where} and pick is "only": ${choice.several.map((c) => c.label).join(', ')}`,
      'narrow the selector with another tag (tag:Name=web,tag:env=prod), or set pick to "newest" or "random"',
    );
  }
  const instance = matched.find((i) => i.InstanceId === choice.chosen.id);
  const name = instance ? nameOf(instance) : undefined;
  return {
    target: choice.chosen.id,
    description: `${spec.label}: ${choice.chosen.id}${name && !spec.label.startsWith('Name=') ? ` (${name})` : ''}, ${choice.why} ${where}`,
  };
}
