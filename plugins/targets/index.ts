// The targets plugin: answers resolveTarget for targets people name. A Name or `tag:` selector becomes a
// running instance Session Manager sees online (EC2 DescribeInstances + SSM DescribeInstanceInformation),
// `ecs:CLUSTER/SERVICE[/CONTAINER]` a task's container, `rds:IDENTIFIER` (remoteHost) the database's endpoint.
// The engine asks for every new session, so a replaced instance or a restarted task is followed.
import { z } from 'zod';
import {
  parsePluginOptions,
  type StormtunnelPlugin,
  type ResolvedTarget,
} from '../../src/plugin-kit/index.js';
import { parseTarget, rdsIdentifier } from './selector.js';

export { parseTarget, rdsIdentifier, type TargetSpec } from './selector.js';

export const NAME = 'targets';

const optionsSchema = z.strictObject({
  /** For `pick: "random"`; tests inject a fixed sequence. */
  random: z.optional(z.custom<() => number>((v) => typeof v === 'function', 'expected a function')),
});

export type TargetsOptions = z.input<typeof optionsSchema>;

export function targets(options: TargetsOptions = {}): StormtunnelPlugin {
  const opts = parsePluginOptions(NAME, optionsSchema, options);
  const random = opts.random ?? Math.random;
  return {
    name: NAME,
    apply(api) {
      api.hooks.resolveTarget.tapPromise(async (draft): Promise<ResolvedTarget | undefined> => {
        const pick = api.tunnels.find((t) => t.name === draft.tunnel)?.pick ?? 'newest';
        const spec = parseTarget(draft.target);
        const identifier = rdsIdentifier(draft.remoteHost);
        const lines: string[] = [];
        let target = draft.target;
        // The EC2, ECS and RDS clients are large: loaded when a tunnel first needs one, not at start-up.
        if (spec.kind === 'ec2') {
          const { resolveEc2 } = await import('./ec2.js');
          const r = await resolveEc2(api, draft, spec, pick, random);
          target = r.target;
          lines.push(r.description);
        } else if (spec.kind === 'ecs') {
          const { resolveEcs } = await import('./ecs.js');
          const r = await resolveEcs(api, draft, spec, pick, random);
          target = r.target;
          lines.push(r.description);
        }
        if (identifier === undefined) {
          if (spec.kind === 'session') return undefined; // nothing of ours to resolve
          return { target, description: lines.join('; ') };
        }
        const { resolveRds } = await import('./rds.js');
        const db = await resolveRds(api, draft, identifier);
        lines.push(
          `rds:${identifier}: ${db.address}:${db.port} (${db.kind === 'instance' ? 'DB instance' : 'Aurora writer'})`,
        );
        return {
          target,
          remoteHost: db.address,
          // The database's port unless the config gave one (0 = left to the database).
          remotePort: draft.remotePort === 0 ? db.port : draft.remotePort,
          description: lines.join('; '),
        };
      });
    },
  };
}
