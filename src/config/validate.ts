// Turns a loaded config object into a ResolvedConfig, or a ConfigError listing every mistake with its path.
import type { z } from 'zod';
import { ConfigError } from '../engine/errors.js';
import type { StormtunnelPlugin, TunnelConfig } from '../engine/plugin.js';
import type { Settings } from '../engine/types.js';
import { DEFAULT_BIND_ADDRESS, DEFAULT_SETTINGS } from './defaults.js';
import { configSchema, KNOWN_KEYS, show, tunnelSchema } from './schema.js';
import { formatIssues, formatPath } from './zod-issues.js';
import type { ResolvedConfig } from './types.js';

function formatConfigIssues(
  issues: readonly z.core.$ZodIssue[],
  prefix: readonly PropertyKey[] = [],
): string[] {
  return formatIssues(issues, {
    prefix,
    knownKeys: (level) => KNOWN_KEYS[level] ?? [],
    noun: 'setting',
    whole: 'the config',
  });
}

function flattenPlugins(
  value: unknown,
  path: PropertyKey[],
  problems: string[],
  out: StormtunnelPlugin[],
): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => flattenPlugins(v, [...path, i], problems, out));
    return;
  }
  if (!value) return; // `cond && plugin()` entries
  const p = value as { name?: unknown; apply?: unknown };
  if (typeof value === 'function') {
    problems.push(
      `${formatPath(path)}: expected a plugin instance, got a function (did you forget to call it, e.g. sso() instead of sso?)`,
    );
  } else if (
    typeof value !== 'object' ||
    typeof p.name !== 'string' ||
    !p.name ||
    typeof p.apply !== 'function'
  ) {
    problems.push(`${formatPath(path)}: expected a plugin ({ name, apply }), got ${show(value)}`);
  } else {
    out.push(value as StormtunnelPlugin);
  }
}

export function validateConfig(
  raw: unknown,
  file: string | undefined,
  builtins: () => StormtunnelPlugin[],
): ResolvedConfig {
  const where = file ?? 'stormtunnel config';
  const top = configSchema.safeParse(raw ?? {});
  if (!top.success) throw new ConfigError(where, formatConfigIssues(top.error.issues));
  const problems: string[] = [];

  const plugins: StormtunnelPlugin[] = [];
  if (top.data.plugins === undefined) plugins.push(...builtins());
  else if (!Array.isArray(top.data.plugins))
    problems.push(`plugins: expected a list of plugins, got ${show(top.data.plugins)}`);
  else flattenPlugins(top.data.plugins, ['plugins'], problems, plugins);
  const names = new Map<string, number>();
  plugins.forEach((p, i) => {
    if (names.has(p.name))
      problems.push(
        `plugins: two plugins are named "${p.name}" (entries ${names.get(p.name)} and ${i}); names must be unique`,
      );
    else names.set(p.name, i);
  });

  const tunnels: TunnelConfig[] = [];
  (top.data.tunnels ?? []).forEach((t, i) => {
    const r = tunnelSchema.safeParse(t);
    if (!r.success) {
      problems.push(...formatConfigIssues(r.error.issues, ['tunnels', i]));
      return;
    }
    tunnels.push({
      name: r.data.name,
      profile: r.data.profile,
      region: r.data.region,
      target: r.data.target,
      // 0: the database's port, filled when an rds: remoteHost is resolved (the schema allows no other 0).
      remotePort: r.data.remotePort ?? 0,
      localPort: r.data.localPort,
      remoteHost: r.data.remoteHost,
      bindAddress: r.data.bindAddress ?? DEFAULT_BIND_ADDRESS,
      autostart: r.data.autostart ?? true,
      ...(r.data.pick ? { pick: r.data.pick } : {}),
      ...(r.data.maxSessions !== undefined ? { maxSessions: r.data.maxSessions } : {}),
    });
  });
  const seenNames = new Map<string, number>();
  const seenPorts = new Map<string, string>();
  tunnels.forEach((t, i) => {
    const prev = seenNames.get(t.name);
    if (prev !== undefined)
      problems.push(
        `tunnels[${i}].name: "${t.name}" is already used by tunnels[${prev}]; tunnel names must be unique`,
      );
    else seenNames.set(t.name, i);
    if (t.localPort !== 0) {
      const key = `${t.bindAddress}:${t.localPort}`;
      const other = seenPorts.get(key);
      if (other)
        problems.push(
          `tunnels[${i}].localPort: ${t.localPort} is already used by tunnel "${other}"; pick another port or 0 for a free one`,
        );
      else seenPorts.set(key, t.name);
    }
  });

  const s = top.data.settings ?? {};
  const d = DEFAULT_SETTINGS;
  const settings: Settings = {
    autoRefresh: s.autoRefresh ?? d.autoRefresh,
    earlyRefreshThresholdMs: s.earlyRefreshThreshold ?? d.earlyRefreshThresholdMs,
    refreshCheckIntervalMs: s.refreshCheckInterval ?? d.refreshCheckIntervalMs,
    retry: {
      maxAttempts: s.retry?.maxAttempts ?? d.retry.maxAttempts,
      maxRecoveryDurationMs: s.retry?.maxRecoveryDuration ?? d.retry.maxRecoveryDurationMs,
      jitter: s.retry?.jitter ?? d.retry.jitter,
      baseDelayMs: s.retry?.baseDelay ?? d.retry.baseDelayMs,
      maxDelayMs: s.retry?.maxDelay ?? d.retry.maxDelayMs,
      throttleDelayMs: s.retry?.throttleDelay ?? d.retry.throttleDelayMs,
    },
    keychain: s.keychain ?? d.keychain,
    shareWithAwsCli: s.shareWithAwsCli ?? d.shareWithAwsCli,
    notifications: s.notifications ?? d.notifications,
    ...(s.maxSessions !== undefined ? { maxSessions: s.maxSessions } : {}),
  };
  if (settings.retry.baseDelayMs > settings.retry.maxDelayMs) {
    problems.push('settings.retry.baseDelay: must not be larger than settings.retry.maxDelay');
  }

  if (problems.length) throw new ConfigError(where, problems);
  return { file, plugins, tunnels, settings };
}
