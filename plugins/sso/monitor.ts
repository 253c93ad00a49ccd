// The token monitor: every refreshCheckInterval (60 s) it looks at each session in use, notices tokens
// changed by other processes, fires onTokenExpiring and refreshes silently earlyRefreshThreshold (5 min)
// before expiry. When a refresh fails for good it raises re-authentication instead of failing silently.
import type { PluginApi } from '../../src/plugin-kit/index.js';
import type { SsoTokenLifecycle } from './token-lifecycle.js';
import type { SsoSessionRef } from './types.js';

export interface TokenMonitor {
  /** Checks every session in use now (after a wake), besides the periodic checks. */
  checkNow(): Promise<void>;
  stop(): void;
}

export function startMonitor(api: PluginApi, sessions: SsoTokenLifecycle): TokenMonitor {
  const raised = new Set<string>();
  // Per session, the refresh token the service refused for good: asking again with it every check only
  // repeats the failure (and its warning); a new sign-in (a new refresh token) ends the wait.
  const refused = new Map<string, string>();
  const check = async (ref: SsoSessionRef) => {
    const before = sessions.lastSeenExpiry.get(ref.name);
    const t = await sessions.read(ref);
    if (!t) return;
    // A token we had not seen (never signed in here) or a newer one: another process or the AWS CLI signed
    // in; tunnels waiting for a sign-in come back on this.
    const valid = t.expiresAt.getTime() > api.clock.now();
    if (valid && (before === undefined || t.expiresAt.getTime() > before)) {
      raised.delete(ref.name);
      await api.emit.tokenChanged({ session: ref.name, expiresAt: t.expiresAt, how: 'external' });
    }
    const remainingMs = t.expiresAt.getTime() - api.clock.now();
    if (remainingMs > api.settings.earlyRefreshThresholdMs) return;
    const refreshable = sessions.refreshable(t);
    if (!refreshable || !api.settings.autoRefresh) {
      await api.emit.tokenExpiring({ session: ref.name, expiresAt: t.expiresAt, remainingMs, refreshable });
    }
    // A refresh fires onTokenExpiring itself, right before it asks for the new token.
    if (refreshable && api.settings.autoRefresh) {
      if (t.refreshToken !== undefined && refused.get(ref.name) === t.refreshToken) return;
      try {
        await sessions.refresh(ref, { seen: t });
        raised.delete(ref.name);
        refused.delete(ref.name);
        return;
      } catch (err) {
        api.logger.warn(`silent refresh of ${ref.name} failed`, { err });
        if (isSignInRequired(err) && t.refreshToken !== undefined) refused.set(ref.name, t.refreshToken);
        if (remainingMs > 0 && !isSignInRequired(err)) return; // still valid: the next check tries again
      }
    }
    if (!raised.has(ref.name) && (remainingMs <= 0 || refreshable)) {
      raised.add(ref.name);
      await sessions.raiseReauth(
        ref,
        refreshable
          ? 'the sign-in could not be refreshed'
          : 'the sign-in has expired and cannot be refreshed',
      );
    }
  };
  // One pass at a time: a wake and the periodic check must not refresh the same token twice.
  let running: Promise<void> | undefined;
  const checkAll = (): Promise<void> =>
    (running ??= (async () => {
      for (const ref of sessions.active.values()) {
        await check(ref).catch((err: unknown) =>
          api.logger.error(`token check of ${ref.name} failed`, { err }),
        );
      }
    })().finally(() => (running = undefined)));
  const stop = api.every(api.settings.refreshCheckIntervalMs, checkAll);
  return { checkNow: checkAll, stop };
}

function isSignInRequired(err: unknown): boolean {
  const e = err as { errorClass?: unknown; classification?: { class?: unknown } };
  return e?.errorClass === 'token-expired' || e?.classification?.class === 'token-expired';
}
