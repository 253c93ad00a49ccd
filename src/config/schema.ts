// The shape of stormtunnel.config.*, validated with zod. Messages name the path and the bad value.
import { z } from 'zod';

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** A duration as seconds (number) or a string like "90s", "5m", "1h", "250ms"; parsed to milliseconds. */
export function duration(opts: { min?: number; max?: number } = {}) {
  return z.unknown().transform((v, ctx) => {
    let ms: number | undefined;
    if (typeof v === 'number' && Number.isFinite(v) && v >= 0) ms = v * 1000;
    else if (typeof v === 'string') {
      const m = DURATION.exec(v.trim());
      if (m) ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
    }
    if (ms === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `expected a duration like 30 (seconds), "90s", "5m" or "1h", got ${show(v)}`,
      });
      return z.NEVER;
    }
    if ((opts.min !== undefined && ms < opts.min) || (opts.max !== undefined && ms > opts.max)) {
      ctx.addIssue({
        code: 'custom',
        message: `expected a duration between ${fmtMs(opts.min ?? 0)} and ${fmtMs(opts.max ?? Infinity)}, got ${show(v)}`,
      });
      return z.NEVER;
    }
    return ms;
  });
}

function port(allowZero: boolean) {
  const min = allowZero ? 0 : 1;
  return z.unknown().transform((v, ctx) => {
    if (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= 65535) return v;
    ctx.addIssue({
      code: 'custom',
      message: `expected a port number ${min}-65535${allowZero ? ' (0 picks a free port)' : ''}, got ${show(v)}`,
    });
    return z.NEVER;
  });
}

function matching(re: RegExp, what: string) {
  return z.unknown().transform((v, ctx) => {
    if (typeof v === 'string' && re.test(v)) return v;
    ctx.addIssue({ code: 'custom', message: `expected ${what}, got ${show(v)}` });
    return z.NEVER;
  });
}

function bool() {
  return z.unknown().transform((v, ctx) => {
    if (typeof v === 'boolean') return v;
    ctx.addIssue({ code: 'custom', message: `expected true or false, got ${show(v)}` });
    return z.NEVER;
  });
}

/** Sessions per tunnel: 16 is as far as the pool is measured (docs/performance.md). */
function sessionCount() {
  return z.unknown().transform((v, ctx) => {
    if (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 16) return v;
    ctx.addIssue({ code: 'custom', message: `expected a whole number of sessions 1-16, got ${show(v)}` });
    return z.NEVER;
  });
}

export function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'function') return 'a function';
  if (Array.isArray(v)) return 'a list';
  if (v && typeof v === 'object') return 'an object';
  if (typeof v === 'bigint' || typeof v === 'symbol') return v.toString();
  return JSON.stringify(v); // numbers, booleans, null
}

function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return 'no limit';
  if (ms % 3_600_000 === 0 && ms) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

export const REGION = /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d+$/;
const TUNNEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
/** An instance or managed-node id, or a tag selector a plugin resolves (e.g. "tag:Name=bastion"). */
const TARGET = /^(i-[0-9a-f]{8,17}|mi-[0-9a-f]{17}|tag:[^=\s]+=.+)$/;
const HOST = /^[A-Za-z0-9.-]{1,253}$|^\[?[0-9a-fA-F:]+\]?$/;
const BIND =
  /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|0\.0\.0\.0|::1|::|localhost|\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/;

export const tunnelSchema = z.strictObject({
  name: matching(TUNNEL_NAME, 'a tunnel name of letters, digits, ".", "_" or "-"'),
  profile: z.optional(matching(/^\S+$/, 'an AWS profile name')),
  region: z.optional(matching(REGION, 'an AWS region like "us-east-1"')),
  target: matching(TARGET, 'an instance id like "i-0123456789abcdef0" (or "tag:Name=value")'),
  remotePort: port(false),
  localPort: port(true),
  remoteHost: z.optional(matching(HOST, 'a host name or IP address')),
  bindAddress: z.optional(matching(BIND, 'a local IP address like "127.0.0.1"')),
  autostart: z.optional(bool()),
  maxSessions: z.optional(sessionCount()),
});

const retrySchema = z.strictObject({
  maxAttempts: z.optional(
    z.unknown().transform((v, ctx) => {
      if (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 50) return v;
      ctx.addIssue({ code: 'custom', message: `expected a whole number of attempts 1-50, got ${show(v)}` });
      return z.NEVER;
    }),
  ),
  maxRecoveryDuration: z.optional(duration({ min: 1000, max: 3_600_000 })),
  jitter: z.optional(bool()),
  baseDelay: z.optional(duration({ min: 1, max: 600_000 })),
  maxDelay: z.optional(duration({ min: 1, max: 3_600_000 })),
  throttleDelay: z.optional(duration({ min: 0, max: 600_000 })),
});

export const settingsSchema = z.strictObject({
  autoRefresh: z.optional(bool()),
  earlyRefreshThreshold: z.optional(duration({ min: 0, max: 12 * 3_600_000 })),
  refreshCheckInterval: z.optional(duration({ min: 1000, max: 3_600_000 })),
  retry: z.optional(retrySchema),
  keychain: z.optional(bool()),
  shareWithAwsCli: z.optional(bool()),
  notifications: z.optional(bool()),
  maxSessions: z.optional(sessionCount()),
});

export const configSchema = z.strictObject({
  plugins: z.optional(z.unknown()),
  tunnels: z.optional(z.array(z.unknown())),
  settings: z.optional(settingsSchema),
});

/** Keys each object level accepts, for "did you mean" on unknown keys. */
export const KNOWN_KEYS: Record<string, readonly string[]> = {
  '': Object.keys(configSchema.shape),
  tunnels: Object.keys(tunnelSchema.shape),
  settings: Object.keys(settingsSchema.shape),
  'settings.retry': Object.keys(retrySchema.shape),
};
