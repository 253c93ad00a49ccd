// The notifications stormtunnel shows, with their dedupe keys: one per session (or tunnel) and reason.
import type { Notification } from '../../src/plugin-kit/index.js';

export const notificationKeys = {
  reauth: (session: string) => `reauth:${session}`,
  tokenRefreshFailed: (session: string) => `token-refresh:${session}`,
  tunnelDown: (tunnel: string) => `tunnel-down:${tunnel}`,
  permissionDenied: (profile: string) => `permission-denied:${profile}`,
};

/** The command that signs a session in again, for platforms where a click cannot. */
export function signInCommand(session: string, profile?: string): string {
  if (profile && /^https?:\/\//.test(session)) return `stormtunnel login --profile ${profile}`;
  return `stormtunnel login --sso-session ${session}`;
}

export function reauthNotification(
  session: string,
  profile: string | undefined,
  clickable: boolean,
  onClick: () => void,
  neverSignedIn = false,
): Notification {
  // Only an existing sign-in can expire: a session never signed in here is said to be that.
  const what = neverSignedIn ? `Not signed in to ${session}` : `Sign-in for ${session} expired`;
  return {
    key: notificationKeys.reauth(session),
    title: 'SSO Authentication Required',
    message: clickable ? `${what}: click to sign in` : `${what}: run \`${signInCommand(session, profile)}\``,
    ...(clickable && { onClick }),
  };
}

/** For the sso plugin when a silent refresh failed and the session still works until it expires. */
export function tokenRefreshFailedNotification(session: string, profile?: string): Notification {
  return {
    key: notificationKeys.tokenRefreshFailed(session),
    title: 'Token Refresh Failed',
    message: `The token for ${session} could not be refreshed; sign in again before it expires (\`${signInCommand(session, profile)}\`)`,
  };
}

export function tunnelDownNotification(tunnel: string, detail?: string): Notification {
  return {
    key: notificationKeys.tunnelDown(tunnel),
    title: `Tunnel ${tunnel} is down`,
    message: detail ? `It could not recover: ${detail}` : 'It could not recover.',
  };
}

/** For whoever meets AccessDenied: the user cannot fix it, an administrator can. */
export function permissionDeniedNotification(profile: string, operation: string): Notification {
  return {
    key: notificationKeys.permissionDenied(profile),
    title: 'Contact AWS Administrator',
    message: `Profile ${profile} is not allowed to ${operation}; ask your AWS administrator for access`,
  };
}
