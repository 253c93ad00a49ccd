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
export function sessionCount() {
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
/**
 * An instance or managed-node id; tag selectors ("tag:Name=bastion", several joined by ",tag:" are ANDed); a
 * plain Name tag ("bastion"); an ECS task ("ecs:CLUSTER/SERVICE[/CONTAINER]", a task id instead of the
 * service, or Session Manager's own "ecs:CLUSTER_TASK_RUNTIMEID"). The targets plugin resolves the names.
 */
export const TARGET =
  /^(i-[0-9a-f]{8,17}|mi-[0-9a-f]{17}|tag:[^=\s,]+=[^,]+(,tag:[^=\s,]+=[^,]+)*|ecs:[A-Za-z0-9_-]+\/[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)?|ecs:[A-Za-z0-9-]+_[0-9a-f]{32}_\S+|[A-Za-z0-9][A-Za-z0-9 ._+@-]{0,254})$/;
/** A host name, an IP address, or "rds:IDENTIFIER" (an RDS instance or Aurora cluster, resolved to its endpoint). */
export const REMOTE_HOST = /^[A-Za-z0-9.-]{1,253}$|^\[?[0-9a-fA-F:]+\]?$|^rds:[A-Za-z][A-Za-z0-9-]{0,62}$/;
/** What TARGET and REMOTE_HOST accept, in the words every message uses (config keys and command lines). */
export const TARGET_WORDS =
  'an instance id like "i-0123456789abcdef0", a Name like "bastion", "tag:Key=value" or "ecs:CLUSTER/SERVICE"';
export const REMOTE_HOST_WORDS = 'a host name, an IP address or "rds:IDENTIFIER"';
const BIND =
  /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|0\.0\.0\.0|::1|::|localhost|\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/;

export const tunnelSchema = z
  .strictObject({
    name: matching(TUNNEL_NAME, 'a tunnel name of letters, digits, ".", "_" or "-"'),
    profile: z.optional(matching(/^\S+$/, 'an AWS profile name')),
    region: z.optional(matching(REGION, 'an AWS region like "us-east-1"')),
    target: matching(TARGET, TARGET_WORDS),
    // Optional only with an rds: remoteHost (the database's port); checked below.
    remotePort: z.optional(port(false)),
    localPort: port(true),
    remoteHost: z.optional(matching(REMOTE_HOST, REMOTE_HOST_WORDS)),
    bindAddress: z.optional(matching(BIND, 'a local IP address like "127.0.0.1"')),
    autostart: z.optional(bool()),
    maxSessions: z.optional(sessionCount()),
    /** Which instance when a Name or tag selector matches several (default "newest"). */
    pick: z.optional(
      z.enum(['newest', 'random', 'only'], {
        error: (i) => `expected "newest", "random" or "only", got ${show(i.input)}`,
      }),
    ),
  })
  .superRefine((t, ctx) => {
    if (t.remotePort === undefined && !t.remoteHost?.startsWith('rds:'))
      ctx.addIssue({
        code: 'custom',
        path: ['remotePort'],
        message:
          'expected a port number 1-65535, got nothing (only an "rds:" remoteHost may leave it to the database)',
      });
  });

// Settings of single built-in plugins, declared once: each plugin's options schema spreads its shape (so
// the option and its config shorthand accept the same values), and the config's `settings` is built from them.

/** The retry plugin's settings (`retry({...})`, shorthand `settings.retry`). */
export const retrySettingsShape = {
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
};

/** The sso plugin's settings (`sso({...})`, shorthands of the same names in `settings`). */
export const ssoSettingsShape = {
  autoRefresh: z.optional(bool()),
  earlyRefreshThreshold: z.optional(duration({ min: 0, max: 12 * 3_600_000 })),
  refreshCheckInterval: z.optional(duration({ min: 1000, max: 3_600_000 })),
  shareWithAwsCli: z.optional(bool()),
};

/** `enabled` of the keychain (`settings.keychain`) and notify (`settings.notifications`) plugins. */
export const enabledSetting = z.optional(bool());

const retrySchema = z.strictObject(retrySettingsShape);

/** The config's `settings`: shorthands for options of the built-in plugins (table in docs/plugins.md). */
export const settingsSchema = z.strictObject({
  ...ssoSettingsShape,
  retry: z.optional(retrySchema),
  keychain: enabledSetting,
  notifications: enabledSetting,
  /** Shorthand for ssmTunnel({ maxSessions }): sessions a tunnel may run at once (a tunnel's own key wins). */
  maxSessions: z.optional(sessionCount()),
});

export const configSchema = z.strictObject({
  plugins: z.optional(z.unknown()),
  tunnels: z.optional(z.array(z.unknown())),
  settings: z.optional(settingsSchema),
});

// Keys each level of the stormtunnel config accepts, for "did you mean" on unknown keys. (The keys of
// ~/.aws profiles are a different list: PROFILE_KEYS in src/aws/profiles.ts.)
export const KNOWN_KEYS: Record<string, readonly string[]> = {
  '': Object.keys(configSchema.shape),
  tunnels: Object.keys(tunnelSchema.shape),
  settings: Object.keys(settingsSchema.shape),
  'settings.retry': Object.keys(retrySchema.shape),
};
