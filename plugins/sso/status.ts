// `stormtunnel status` lines for SSO sessions: Authenticated / Expiring soon / Expired, with the time left,
// and why a legacy sign-in cannot refresh.
import type { StatusEntry, StoredToken } from '../../src/plugin-kit/index.js';
import type { SsoSessionRef } from './types.js';

export function formatDuration(ms: number): string {
  const s = Math.round(Math.abs(ms) / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

export function sessionStatus(
  ref: SsoSessionRef,
  token: StoredToken | undefined,
  now: number,
  thresholdMs: number,
): StatusEntry {
  const name = ref.legacy ? `${ref.name} (legacy)` : ref.name;
  if (!token)
    return { kind: 'sso-session', name, state: 'Not signed in', ok: false, detail: 'run: stormtunnel login' };
  const left = token.expiresAt.getTime() - now;
  const refresh = token.refreshToken
    ? 'refreshes automatically'
    : ref.legacy
      ? 'cannot refresh: legacy profiles (sso_start_url in the profile) get no refresh token; use an [sso-session] section'
      : 'cannot refresh: the sign-in has no refresh token (no registration scopes)';
  if (left <= 0) {
    return {
      kind: 'sso-session',
      name,
      state: 'Token Expired',
      ok: false,
      detail: `expired ${formatDuration(left)} ago; run: stormtunnel login`,
    };
  }
  if (left <= thresholdMs) {
    return {
      kind: 'sso-session',
      name,
      state: 'Token Expiring Soon',
      ok: true,
      detail: `${formatDuration(left)} left; ${refresh}`,
    };
  }
  return {
    kind: 'sso-session',
    name,
    state: 'Authenticated',
    ok: true,
    detail: `${formatDuration(left)} left; ${refresh}`,
  };
}
