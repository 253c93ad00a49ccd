// The ssm-tunnel plugin: runs the config's tunnels natively (our own Session Manager data-channel client,
// no session-manager-plugin binary). `stormtunnel up` reaches it only through the engine's startTunnels hook.
import { z } from 'zod';
import {
  duration,
  parsePluginOptions,
  type StormtunnelPlugin,
  DEFAULT_MAX_PAYLOAD_BYTES,
  DEFAULT_MESSAGE_RATE,
  sessionCount,
} from '../../src/plugin-kit/index.js';
import { probeTunnel } from './probe.js';
import { openStreamSession } from './stream-session.js';
import { CLIENT_ID, RunningTunnels } from './tunnel-set.js';
import type { ResolvedSsmTunnelOptions, SsmTunnelOptions } from './types.js';

export type { SsmTunnelOptions, TunnelSet, TunnelStartRequest, TunnelStatus } from './types.js';

const optionsSchema = z.strictObject({
  reconnectDelay: z.optional(duration({ min: 100, max: 600_000 })),
  connectionWait: z.optional(duration({ min: 100, max: 600_000 })),
  stableAfter: z.optional(duration({ min: 100, max: 3_600_000 })),
  poolIdle: z.optional(duration({ min: 100, max: 3_600_000 })),
  maxSessions: z.optional(sessionCount()),
  dataChannel: z.optional(
    z.strictObject({
      pingInterval: z.optional(duration({ min: 100, max: 600_000 })),
      deadAfter: z.optional(duration({ min: 200, max: 3_600_000 })),
      resumeAttempts: z.optional(z.number().int().min(1).max(50)),
      maxPayloadBytes: z.optional(z.number().int().min(64).max(65_536)),
      maxMessagesPerSecond: z.optional(z.union([z.literal(false), z.number().int().min(10).max(100_000)])),
    }),
  ),
});

export function ssmTunnel(options: SsmTunnelOptions = {}): StormtunnelPlugin {
  const opts = parsePluginOptions('ssm-tunnel', optionsSchema, options);
  const resolved: ResolvedSsmTunnelOptions = {
    connectionWaitMs: opts.connectionWait ?? 30_000,
    wakeCheckMs: 3000,
    stableAfterMs: opts.stableAfter ?? 30_000,
    poolIdleMs: opts.poolIdle ?? 60_000,
    ...(opts.maxSessions !== undefined ? { maxSessions: opts.maxSessions } : {}),
    pingIntervalMs: opts.dataChannel?.pingInterval ?? 5000,
    deadAfterMs: opts.dataChannel?.deadAfter ?? 20_000,
    maxPayloadBytes: opts.dataChannel?.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES,
    maxMessagesPerSecond: opts.dataChannel?.maxMessagesPerSecond ?? DEFAULT_MESSAGE_RATE,
  };
  const ignored = [
    opts.reconnectDelay !== undefined ? 'reconnectDelay' : undefined,
    opts.dataChannel?.resumeAttempts !== undefined ? 'dataChannel.resumeAttempts' : undefined,
  ].filter((k) => k !== undefined);
  return {
    name: 'ssm-tunnel',
    apply(api) {
      const running = new Set<RunningTunnels>();
      for (const key of ignored) {
        api.logger.warn(
          `option ${key} no longer applies: retries of a tunnel follow settings.retry (the onError hook); remove it`,
        );
      }
      const unverified = [
        resolved.maxPayloadBytes > DEFAULT_MAX_PAYLOAD_BYTES
          ? `maxPayloadBytes ${resolved.maxPayloadBytes}`
          : '',
        resolved.maxMessagesPerSecond === false || resolved.maxMessagesPerSecond > DEFAULT_MESSAGE_RATE
          ? `maxMessagesPerSecond ${String(resolved.maxMessagesPerSecond)}`
          : '',
      ].filter(Boolean);
      if (unverified.length > 0) {
        api.logger.warn(
          `dataChannel ${unverified.join(', ')}: above what is known to work against AWS; the service may close sessions`,
        );
      }

      api.hooks.startTunnels.tap((request) => {
        // A set stopped on its own (`up` stops one tunnel's set) leaves status and wake handling.
        const set: RunningTunnels = new RunningTunnels(api, request, resolved, () => running.delete(set));
        running.add(set);
        set.start();
        return set;
      });

      // `stormtunnel ssh-proxy`: one connection over stdin/stdout (it stops itself when the engine shuts down).
      api.hooks.openStream.tapPromise((request) => openStreamSession(api, request, resolved, CLIENT_ID));

      // `stormtunnel check`: the connection the engine prepared, tested with the calls a tunnel makes.
      api.hooks.probeTunnel.tapPromise((request) => probeTunnel(api, request, resolved));

      api.hooks.onWake.tap(() => {
        for (const set of running) set.onWake();
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
