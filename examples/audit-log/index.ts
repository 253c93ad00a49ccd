// Example plugin (onTunnelState, beforeConnect, onTokenChanged): appends what happens to tunnels and sign-ins
// to a JSON-lines file, one object per line: {time, event, tunnel?, state?, ...}. Never credentials or tokens:
// only names, states, targets, ports and expiry times.
//
//   plugins: [...builtinPlugins(), auditLog({ file: '~/.local/state/stormtunnel/audit.jsonl' })]
import { appendFile, mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { parsePluginOptions, type StormtunnelPlugin } from 'stormtunnel';

export const NAME = 'audit-log';

const optionsSchema = z.strictObject({
  /** The file to append to; "~/" is the home folder. Created (with its folder) on the first event. */
  file: z.string({ error: 'expected the path of the audit file, e.g. "~/stormtunnel-audit.jsonl"' }).min(1),
  /** Also record sign-ins and token refreshes (default true). */
  tokens: z.boolean().default(true),
});

export type AuditLogOptions = z.input<typeof optionsSchema>;

/** One line of the file. */
export interface AuditEvent {
  /** ISO time on the engine clock. */
  time: string;
  event: 'connect' | 'tunnel-state' | 'token' | 'shutdown';
  tunnel?: string;
  state?: string;
  previous?: string;
  detail?: string;
  profile?: string;
  region?: string;
  target?: string;
  remoteHost?: string;
  remotePort?: number;
  localPort?: number;
  session?: string;
  how?: string;
  expiresAt?: string;
  reason?: string;
}

export function auditLog(options: AuditLogOptions): StormtunnelPlugin {
  const opts = parsePluginOptions(NAME, optionsSchema, options);
  const file = opts.file.startsWith('~/')
    ? join(process.env.HOME || homedir(), opts.file.slice(2))
    : resolve(opts.file);
  return {
    name: NAME,
    apply(api) {
      // One write at a time, in the order events happened; a failed write is logged and the next one tried.
      let queue: Promise<void> = Promise.resolve();
      let folderMade = false;
      const record = (event: Omit<AuditEvent, 'time'>): Promise<void> => {
        const line = JSON.stringify({ time: new Date(api.clock.now()).toISOString(), ...event }) + '\n';
        queue = queue
          .then(async () => {
            if (!folderMade) await mkdir(dirname(file), { recursive: true });
            folderMade = true;
            await appendFile(file, line, { mode: 0o600 });
          })
          .catch((err: unknown) => api.logger.warn(`could not append to ${file}`, { err }));
        return queue;
      };

      // After every other beforeConnect tap (stage 1000), so the target is the resolved one; only runs when
      // no earlier plugin vetoed. It never vetoes itself.
      api.hooks.beforeConnect.tapPromise(
        async (draft) => {
          await record({
            event: 'connect',
            tunnel: draft.tunnel,
            profile: draft.profile,
            region: draft.region,
            target: draft.target,
            ...(draft.remoteHost ? { remoteHost: draft.remoteHost } : {}),
            remotePort: draft.remotePort,
            localPort: draft.localPort,
          });
          return undefined;
        },
        { stage: 1000 },
      );

      api.hooks.onTunnelState.tapPromise(async (change) => {
        await record({
          event: 'tunnel-state',
          tunnel: change.tunnel,
          state: change.state,
          ...(change.previous ? { previous: change.previous } : {}),
          ...(change.detail ? { detail: change.detail } : {}),
        });
      });

      if (opts.tokens) {
        api.hooks.onTokenChanged.tapPromise(async (event) => {
          await record({
            event: 'token',
            session: event.session,
            how: event.how,
            expiresAt: event.expiresAt.toISOString(),
          });
        });
      }

      api.hooks.onShutdown.tapPromise(async (info) => {
        await record({ event: 'shutdown', reason: info.reason });
      });
    },
  };
}
