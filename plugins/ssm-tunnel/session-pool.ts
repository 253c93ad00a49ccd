// The sessions of one tunnel: its own session (kept warm and reconnected by the tunnel) plus up to
// maxSessions - 1 extra sessions opened on demand. One session carries at most ~0.5-1 MB/s whatever the
// client does (protocol §8-§9); several sessions to one host are the only way past that. The decisions
// (where a connection goes, when to grow, when to shrink) are in pool-policy.ts; this file carries them out.
import type { Clock, TimerHandle } from '../../src/plugin-kit/index.js';
import {
  isActive,
  nextStartAt,
  placeConnection,
  shouldShrink,
  type ConnectionActivity,
  type MemberLoad,
} from './pool-policy.js';

export interface PoolSession {
  readonly id: string;
  readonly channel: { readonly closed: boolean };
}

export interface SessionPoolDeps<S extends PoolSession> {
  /** The engine's clock (`api.clock`; a FakeClock in tests). */
  clock: Clock;
  /** Sessions at most, the tunnel's own included (1: no pool, exactly one session as before). */
  maxSessions: number;
  /** An extra session that carried no connection for this long is ended. */
  idleMs: number;
  /** Whether connections can be spread: basic mode carries one connection per session at a time (§7). */
  canPool(primary: S): boolean;
  /**
   * Opens one more session: prepare (fresh credentials, beforeConnect), StartSession, data channel, through
   * onError's decisions. `attemptFailed` is told of each failed attempt (connections waiting for this
   * session go elsewhere at once instead of waiting out a retry). Rejects when onError gave up.
   */
  open(attemptFailed: () => void): Promise<S>;
  /** Ends an extra session (idle, the tunnel stops). */
  end(session: S, why: string): Promise<void>;
  log(message: string): void;
}

interface Member<S> {
  session: S | undefined;
  /** Resolves once the session is up or its first attempt failed (then undefined). */
  firstOutcome: Promise<S | undefined> | undefined;
  /** Starting, and an attempt failed: not a candidate until it is up. */
  failing: boolean;
  conns: Set<ConnectionActivity>;
  extra: boolean;
  idleSince: number;
  idleTimer: TimerHandle | undefined;
}

/** A connection's place in the pool: the session it waits for (undefined: none is up), and its release. */
export interface PoolPlacement<S> {
  session: Promise<S | undefined>;
  activity: ConnectionActivity;
  /** The connection closed (or gave up waiting). */
  release(): void;
}

export interface PoolMemberStatus {
  id: string;
  connections: number;
  /** The tunnel's own session (the others are extra ones the pool opened). */
  primary: boolean;
}

export class SessionPool<S extends PoolSession> {
  private members: Member<S>[] = [];
  private lastStartAt: number | undefined;
  private stopped = false;

  constructor(private readonly deps: SessionPoolDeps<S>) {}

  /**
   * Places a new connection now (so connections arriving together spread out); its session may still be
   * starting. The connection stays on that session for its life.
   */
  place(primary: S): PoolPlacement<S> {
    const { clock } = this.deps;
    const now = clock.now();
    const activity: ConnectionActivity = { openedAt: now, lastActiveAt: now };
    const own = this.sync(primary);
    let holder: Member<S> | undefined;
    const release = () => {
      if (!holder) return;
      holder.conns.delete(activity);
      this.noteIdle(holder);
      holder = undefined;
    };
    if (!own) return { session: Promise.resolve(undefined), activity, release };
    let member: Member<S> = own;
    if (this.deps.maxSessions > 1 && own.session && this.deps.canPool(own.session) && !this.stopped) {
      const candidates = this.members.filter((m) => !m.failing);
      const choice = placeConnection(
        candidates.map((m) => this.load(m, now)),
        this.members.length < this.deps.maxSessions,
      );
      member = choice === 'grow' ? this.grow() : (candidates[choice.member] ?? own);
    }
    holder = member;
    this.take(member, activity);
    if (member.session) return { session: Promise.resolve(member.session), activity, release };
    const session = (member.firstOutcome ?? Promise.resolve(undefined)).then((s) => {
      if (s && !s.channel.closed) return s;
      // The new session did not come (yet): the connection goes to the least busy session that is up.
      if (holder !== member) return undefined;
      member.conns.delete(activity);
      const live = this.leastBusyLive();
      holder = live;
      if (!live?.session) return undefined;
      this.take(live, activity);
      return live.session;
    });
    return { session, activity, release };
  }

  /** The tunnel's own session was lost: an extra one that is up takes its place (no StartSession). */
  promote(): S | undefined {
    const next = this.members.find((m) => m.extra && m.session && !m.session.channel.closed);
    if (!next?.session) return undefined;
    next.extra = false;
    this.clearIdle(next);
    this.deps.log(`session ${next.session.id} of the pool now serves as the tunnel's own session`);
    return next.session;
  }

  /** An extra session closed (lost, or ended by the service): its connections were reset, the rest go on. */
  lost(session: S): boolean {
    const m = this.members.find((x) => x.session === session);
    if (!m) return false;
    this.drop(m);
    return m.extra;
  }

  /** Extra sessions that are up (for wake checks). */
  extras(): S[] {
    return this.members.flatMap((m) =>
      m.extra && m.session && !m.session.channel.closed ? [m.session] : [],
    );
  }

  status(primary: S | undefined): PoolMemberStatus[] {
    this.sync(primary);
    return this.members.flatMap((m) =>
      m.session && !m.session.channel.closed
        ? [{ id: m.session.id, connections: m.conns.size, primary: !m.extra }]
        : [],
    );
  }

  /** The tunnel stops: no growth, no idle timers from here on (endExtras ends the sessions). */
  stop(): void {
    this.stopped = true;
    for (const m of this.members) this.clearIdle(m);
  }

  /** Ends every extra session (the tunnel stops, fails or idles). */
  async endExtras(why: string): Promise<void> {
    const extras = this.members.filter((m) => m.extra);
    for (const m of extras) this.drop(m);
    await Promise.all(extras.flatMap((m) => (m.session ? [this.deps.end(m.session, why)] : [])));
  }

  // ---- internals ----

  /** Members as of now: the tunnel's own session first (it may have been replaced), closed ones gone. */
  private sync(own: S | undefined): Member<S> | undefined {
    this.members = this.members.filter(
      (m) => !(m.session?.channel.closed ?? false) && (m.extra || (own !== undefined && m.session === own)),
    );
    if (!own || own.channel.closed) return undefined;
    let m = this.members.find((x) => x.session === own);
    if (!m) {
      m = this.member(own, false);
      this.members.unshift(m);
    }
    return m;
  }

  private load(m: Member<S>, now: number): MemberLoad {
    let active = 0;
    for (const c of m.conns) if (isActive(c, now)) active++;
    return { active, open: m.conns.size, starting: !m.session };
  }

  private leastBusyLive(): Member<S> | undefined {
    const now = this.deps.clock.now();
    const live = this.members.filter((m) => m.session && !m.session.channel.closed);
    const choice = placeConnection(
      live.map((m) => this.load(m, now)),
      false,
    );
    return choice === 'grow' ? undefined : live[choice.member];
  }

  private member(session: S | undefined, extra: boolean): Member<S> {
    return {
      session,
      firstOutcome: undefined,
      failing: false,
      conns: new Set(),
      extra,
      idleSince: this.deps.clock.now(),
      idleTimer: undefined,
    };
  }

  /** One more session, started as soon as the StartSession rate allows. */
  private grow(): Member<S> {
    const { clock } = this.deps;
    const m = this.member(undefined, true);
    this.members.push(m);
    const now = clock.now();
    const at = nextStartAt(this.lastStartAt, now);
    this.lastStartAt = at;
    let settle: (s: S | undefined) => void = () => undefined;
    m.firstOutcome = new Promise((resolve) => (settle = resolve));
    this.deps.log(
      `every session is busy; opening session ${this.members.length} of at most ${this.deps.maxSessions}`,
    );
    const start = async () => {
      if (at > now) await clock.sleep(at - now);
      if (this.stopped || !this.members.includes(m)) return undefined;
      const s = await this.deps.open(() => {
        m.failing = true;
        settle(undefined);
      });
      return s;
    };
    start().then(
      async (s) => {
        if (!s) {
          this.drop(m);
          settle(undefined);
          return;
        }
        if (this.stopped || !this.members.includes(m)) {
          settle(undefined);
          await this.deps.end(s, 'not needed any more');
          return;
        }
        m.session = s;
        m.failing = false;
        settle(s);
        this.noteIdle(m);
      },
      (err: unknown) => {
        this.drop(m);
        settle(undefined);
        this.deps.log(`an extra session could not be opened: ${(err as Error).message}`);
      },
    );
    return m;
  }

  private take(m: Member<S>, activity: ConnectionActivity): void {
    m.conns.add(activity);
    this.clearIdle(m);
  }

  private drop(m: Member<S>): void {
    this.clearIdle(m);
    this.members = this.members.filter((x) => x !== m);
  }

  /** An extra session with no connection left: end it once it stayed so for idleMs. */
  private noteIdle(m: Member<S>): void {
    if (!m.extra || !m.session || m.conns.size > 0 || this.stopped || !this.members.includes(m)) return;
    m.idleSince = this.deps.clock.now();
    this.armIdle(m, this.deps.idleMs);
  }

  private armIdle(m: Member<S>, delayMs: number): void {
    this.clearIdle(m);
    m.idleTimer = this.deps.clock.setTimeout(() => {
      m.idleTimer = undefined;
      // A connection placed on it since cleared this timer (take); its release arms a new one.
      if (!m.extra || !m.session || m.conns.size > 0 || !this.members.includes(m)) return;
      const now = this.deps.clock.now();
      if (!shouldShrink({ open: 0, idleSince: m.idleSince }, now, this.deps.idleMs)) {
        // Node's timers run on a monotonic clock and may fire a millisecond before Date.now() (the real
        // clock's now()) says the delay has passed: wait out the rest instead of leaving the session open.
        this.armIdle(m, Math.max(1, m.idleSince + this.deps.idleMs - now));
        return;
      }
      this.drop(m);
      this.deps.log(`session ${m.session.id} was idle; ending it (the pool keeps one session warm)`);
      void this.deps.end(m.session, 'idle');
    }, delayMs);
  }

  private clearIdle(m: Member<S>): void {
    if (m.idleTimer !== undefined) this.deps.clock.clearTimeout(m.idleTimer);
    m.idleTimer = undefined;
  }
}
