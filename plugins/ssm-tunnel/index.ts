// The ssm-tunnel plugin: runs the config's tunnels natively (our own Session Manager data-channel client,
// no session-manager-plugin binary). `stormtunnel up` reaches it only through the engine's startTunnels hook.
import { z } from 'zod';
import { duration } from '../../src/config/schema.js';
import { parsePluginOptions, type StormtunnelPlugin } from '../../src/engine/plugin.js';
import { RunningTunnels } from './tunnel-set.js';
import type { ResolvedSsmTunnelOptions, SsmTunnelOptions } from './types.js';

export type { SsmTunnelOptions, TunnelSet, TunnelStartRequest, TunnelStatus } from './types.js';

const optionsSchema = z.strictObject({
  reconnectDelay: z.optional(duration({ min: 100, max: 600_000 })),
  connectionWait: z.optional(duration({ min: 100, max: 600_000 })),
  dataChannel: z.optional(
    z.strictObject({
      pingInterval: z.optional(duration({ min: 100, max: 600_000 })),
      deadAfter: z.optional(duration({ min: 200, max: 3_600_000 })),
      resumeAttempts: z.optional(z.number().int().min(1).max(50)),
    }),
  ),
});

export function ssmTunnel(options: SsmTunnelOptions = {}): StormtunnelPlugin {
  const opts = parsePluginOptions('ssm-tunnel', optionsSchema, options);
  const resolved: ResolvedSsmTunnelOptions = {
    reconnectDelayMs: opts.reconnectDelay ?? 15_000,
    connectionWaitMs: opts.connectionWait ?? 30_000,
    pingIntervalMs: opts.dataChannel?.pingInterval ?? 5000,
    deadAfterMs: opts.dataChannel?.deadAfter ?? 20_000,
    resumeAttempts: opts.dataChannel?.resumeAttempts ?? 5,
  };
  return {
    name: 'ssm-tunnel',
    apply(api) {
      const running = new Set<RunningTunnels>();

      api.hooks.startTunnels.tap((request) => {
        const set = new RunningTunnels(api, request, resolved);
        running.add(set);
        set.start();
        return set;
      });

      // A sign-in here or in another terminal (seen by the sso monitor) brings waiting tunnels back.
      api.hooks.onTokenChanged.tap(() => {
        for (const set of running) set.onSignIn();
      });

      api.hooks.collectStatus.tap((report) => {
        for (const set of running) {
          for (const t of set.status()) {
            report.entries.push({
              kind: 'tunnel',
              name: t.name,
              state: t.state,
              detail: `${t.localAddress ?? '-'} -> ${t.target}${t.detail ? `: ${t.detail}` : ''}`,
              ok: t.state === 'ready',
            });
          }
        }
        return report;
      });

      api.hooks.onShutdown.tapPromise(async () => {
        await Promise.all([...running].map((s) => s.stop()));
        running.clear();
      });
    },
  };
}
