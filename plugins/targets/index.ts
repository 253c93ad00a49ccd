// The targets plugin: answers resolveTarget for targets people name. A Name or `tag:` selector becomes a
// running instance Session Manager sees online (EC2 DescribeInstances + SSM DescribeInstanceInformation),
// `ecs:CLUSTER/SERVICE[/CONTAINER]` a task's container, `rds:IDENTIFIER` (remoteHost) the database's endpoint.
// The engine asks for every new session, so a replaced instance or a restarted task is followed.
import { z } from 'zod';
import {
  duration,
  parsePluginOptions,
  type PluginApi,
  type StormtunnelPlugin,
  type ResolvedTarget,
} from '../../src/plugin-kit/index.js';
import { parseTarget, rdsIdentifier } from './selector.js';
import { DEFAULT_POLL_MAX_MS, DEFAULT_WAIT_MS, decidePending } from './wait.js';

export { parseTarget, rdsIdentifier, type TargetSpec } from './selector.js';

export const NAME = 'targets';

const optionsSchema = z.strictObject({
  /** For `pick: "random"`; tests inject a fixed sequence. */
  random: z.optional(z.custom<() => number>((v) => typeof v === 'function', 'expected a function')),
  /** How long a tunnel waits for a replaced instance to come online before it fails (default 15 min). */
  replacementWait: z.optional(duration({ min: 1000, max: 24 * 3_600_000 })),
  /** The longest pause between looks while it waits (default 15 s; the first looks follow the retry base delay). */
  replacementPoll: z.optional(duration({ min: 10, max: 600_000 })),
});

/** After onError strategies of teams (stage 0), before the built-in retry (stage 100), which fails `target`. */
export const PENDING_STAGE = 90;

export type TargetsOptions = z.input<typeof optionsSchema>;

export function targets(options: TargetsOptions = {}): StormtunnelPlugin {
  const opts = parsePluginOptions(NAME, optionsSchema, options);
  const random = opts.random ?? Math.random;
  // Tunnel + target + region that resolved once in this process: an empty answer later is a replacement.
  const resolvedBefore = new Set<string>();
  return {
    name: NAME,
    apply(api) {
      api.hooks.onError.tap(
        (info) =>
          decidePending(info, {
            waitMs: opts.replacementWait ?? DEFAULT_WAIT_MS,
            pollMaxMs: opts.replacementPoll ?? DEFAULT_POLL_MAX_MS,
            baseDelayMs: api.settings.retry.baseDelayMs,
          }),
        { stage: PENDING_STAGE },
      );
      api.hooks.resolveTarget.tapPromise(async (draft): Promise<ResolvedTarget | undefined> => {
        // Every AWS call below goes through recover with its IAM action: noted, for `check`'s report.
        const used = new Set<string>();
        const recover: PluginApi['recover'] = (op, fn) => {
          if (op.action) used.add(op.action);
          return api.recover(op, fn);
        };
        const tracked = Object.create(api, { recover: { value: recover } }) as PluginApi;
        const pick = api.tunnels.find((t) => t.name === draft.tunnel)?.pick ?? 'newest';
        const spec = parseTarget(draft.target);
        const identifier = rdsIdentifier(draft.remoteHost);
        const lines: string[] = [];
        let target = draft.target;
        const key = `${draft.tunnel}\0${draft.target}\0${draft.region}`;
        // The EC2, ECS and RDS clients are large: loaded when a tunnel first needs one, not at start-up.
        if (spec.kind === 'ec2') {
          const { resolveEc2 } = await import('./ec2.js');
          const r = await resolveEc2(tracked, draft, spec, pick, random, resolvedBefore.has(key));
          resolvedBefore.add(key);
          target = r.target;
          lines.push(r.description);
        } else if (spec.kind === 'ecs') {
          const { resolveEcs } = await import('./ecs.js');
          const r = await resolveEcs(tracked, draft, spec, pick, random, resolvedBefore.has(key));
          resolvedBefore.add(key);
          target = r.target;
          lines.push(r.description);
        }
        if (identifier === undefined) {
          if (spec.kind === 'session') return undefined; // nothing of ours to resolve
          return { target, description: lines.join('; '), actions: [...used] };
        }
        const { resolveRds } = await import('./rds.js');
        const db = await resolveRds(tracked, draft, identifier);
        lines.push(
          `rds:${identifier}: ${db.address}:${db.port} (${db.kind === 'instance' ? 'DB instance' : 'Aurora writer'})`,
        );
        return {
          target,
          remoteHost: db.address,
          // The database's port unless the config gave one (0 = left to the database).
          remotePort: draft.remotePort === 0 ? db.port : draft.remotePort,
          description: lines.join('; '),
          actions: [...used],
        };
      });
    },
  };
}
