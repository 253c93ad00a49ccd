// The session pool's decisions, each in one function: which session a new connection goes to (and whether
// to open another for it), when the next StartSession may go out, and when an extra session is ended.
// One session carries at most ~0.5-1 MB/s whatever the client does (the agent sends 1024 bytes, then
// sleeps 1 ms; protocol §8-§9): parallel sessions are the only way past that ceiling.

/** Sessions per tunnel when neither the tunnel nor `settings` says: about 4x one session's ceiling. */
export const DEFAULT_MAX_SESSIONS = 4;

/**
 * A tunnel's cap: its own `maxSessions`, else the plugin's `maxSessions` option, else its config shorthand
 * `settings.maxSessions`, else the default.
 */
export function maxSessionsOf(
  api: { settings: { maxSessions?: number } },
  tunnel: { maxSessions?: number },
  option: number | undefined,
): number {
  return tunnel.maxSessions ?? option ?? api.settings.maxSessions ?? DEFAULT_MAX_SESSIONS;
}

/** A connection counts as busy for this long after it opened or last moved a byte. */
export const ACTIVE_WINDOW_MS = 1000;
/**
 * Least time between two StartSessions of one tunnel's pool. AWS documents no StartSession rate (targets-
 * and-services §5, unverified); two a second per tunnel stays well clear of any API throttle, and a
 * ThrottlingException still goes through onError like any StartSession.
 */
export const MIN_START_GAP_MS = 500;

/** One local connection as the pool sees it. */
export interface ConnectionActivity {
  openedAt: number;
  lastActiveAt: number;
}

/** What placement knows of a session of the pool (or one being opened for it). */
export interface MemberLoad {
  /** Its connections that moved data within ACTIVE_WINDOW_MS (or just opened). */
  active: number;
  /** Its open connections, busy or not. */
  open: number;
  /** Still starting: connections placed on it wait for it. */
  starting: boolean;
}

export function isActive(c: ConnectionActivity, now: number): boolean {
  return now - Math.max(c.openedAt, c.lastActiveAt) < ACTIVE_WINDOW_MS;
}

export type Placement = { member: number } | 'grow';

/**
 * Where a new connection goes: the least busy session (fewest active connections, then fewest open ones,
 * then one already up, then the oldest). When every session already carries an active connection, one
 * session's ceiling is shared, so open another while the pool may grow.
 */
export function placeConnection(members: readonly MemberLoad[], mayGrow: boolean): Placement {
  let best = -1;
  for (let i = 0; i < members.length; i++) {
    const m = members[i]!;
    const b = members[best];
    if (
      !b ||
      m.active < b.active ||
      (m.active === b.active && (m.open < b.open || (m.open === b.open && !m.starting && b.starting)))
    ) {
      best = i;
    }
  }
  const chosen = members[best];
  if (!chosen) return 'grow';
  if (chosen.active > 0 && mayGrow) return 'grow';
  return { member: best };
}

/** When the next StartSession of the pool may go out. */
export function nextStartAt(lastStartAt: number | undefined, now: number): number {
  return lastStartAt === undefined ? now : Math.max(now, lastStartAt + MIN_START_GAP_MS);
}

/**
 * An extra session is ended once it has carried no connection for `idleMs` (the tunnel's first session
 * stays, so the next connection does not wait for a StartSession).
 */
export function shouldShrink(
  extra: { open: number; idleSince: number },
  now: number,
  idleMs: number,
): boolean {
  return extra.open === 0 && now - extra.idleSince >= idleMs;
}
