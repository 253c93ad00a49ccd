// RoleSessionName: readable in CloudTrail ("stormtunnel-alice"), limited to the characters and length STS accepts.
import { userInfo } from 'node:os';

export const ROLE_SESSION_NAME_RE = /^[\w+=,.@-]{2,64}$/;

export function sanitizeRoleSessionName(name: string): string {
  const clean = name.replace(/[^\w+=,.@-]/g, '-').slice(0, 64);
  return clean.length >= 2 ? clean : `${clean}--`.slice(0, 2);
}

export function defaultRoleSessionName(
  env: Readonly<Record<string, string | undefined>> = process.env,
): string {
  let user: string | undefined;
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (some containers): fall back to the environment.
    user = env.USER ?? env.USERNAME;
  }
  return sanitizeRoleSessionName(`stormtunnel-${user || 'user'}`);
}
