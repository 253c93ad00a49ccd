// One tunnel: prepare (credentials + beforeConnect, through the engine) -> local listener -> StartSession ->
// data channel -> connections forwarded. Every "try again or give up" (StartSession, ResumeSession, a session
// that ended or died) goes through api.recover, so onError decides it; the tunnel carries the decision out.
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import {
  classifyError,
  type Classification,
  openDataChannel,
  ConnectToPortError,
  oneLine,
} from '../../src/plugin-kit/index.js';
import type {
  PluginApi,
  TunnelConfig,
  ConnectDraft,
  Credentials,
  Outage,
  TunnelStartRequest,
  TunnelState,
  TunnelStateChange,
  TunnelStatus,
  DataChannel,
  DataChannelClosedInfo,
  LostConnection,
  ResumeResult,
} from '../../src/plugin-kit/index.js';
import { SessionGoneError, SessionLostError } from './errors.js';
import { forward, type TrafficObserver } from './forward.js';
import { SessionPool, type PoolPlacement } from './session-pool.js';
import { isSessionGone, resumeSession, startSession, terminateSession, type SessionScope } from './ssm.js';
import type { ResolvedSsmTunnelOptions } from './types.js';

/**
 * "Title: what happened" for a tunnel's state line. RecoveryFailedError messages already carry the title
 * and name the AWS operation in brackets ("(StartSession)"), noise on a line that names the tunnel.
 */
function shortLine(c: Classification): string {
  // The title once, however many layers (sign-in error, recovery) put it in front.
  let detail = c.detail;
  while (detail.startsWith(`${c.title}: `)) detail = detail.slice(c.title.length + 2);
  const line = `${c.title}: ${detail}`;
  return line.replace(/ \((?:(?:[A-Z][a-z]+){2,}|tunnel [^()]+)\)/g, '').replace(/\.$/, '');
}

interface Session {
  id: string;
  scope: SessionScope;
  channel: DataChannel;
  credentials: Credentials | undefined;
  /** ResumeSession said it is gone: the close that follows is a lost session, not a failed resume. */
  gone: boolean;
  /** The resume outage in progress; kept while resumes come less than `stableAfterMs` apart. */
  resumeOutage: Outage | undefined;
  lastResumedAt: number;
}

export interface TunnelDeps {
  api: PluginApi;
  config: TunnelConfig;
  request: TunnelStartRequest;
  options: ResolvedSsmTunnelOptions;
  clientId: string;
  onChange: (change: TunnelStateChange) => void;
  /** Hears every forwarded chunk (the process's garbage pacer). */
  traffic?: TrafficObserver;
  /** Sessions at most for this tunnel (the tunnel's `maxSessions`, else settings', else 4); 1: no pool. */
  maxSessions: number;
}

export class Tunnel {
  private state: TunnelState = 'starting';
  private since: number;
  private detail: string | undefined;
  private failedExitCode: number | undefined;
  private draft: ConnectDraft | undefined;
  private session: Session | undefined;
  private server: Server | undefined;
  private listening: Promise<void> | undefined;
  private localAddress: string | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly counters = { bytesIn: 0, bytesOut: 0 };
  private totalConnections = 0;
  private bringing: Promise<void> | undefined;
  /** Sessions being started (StartSession, then the data channel): a stop waits for them and ends them. */
  private readonly opening = new Set<Promise<unknown>>();
  private stopped = false;
  private firstAttempt = true;
  /**
   * The connection outage in progress. A session that is lost before it was up for `stableAfterMs`
   * continues it, so a session that dies right after it starts is retried with growing delays and a bound.
   */
  private outage: Outage | undefined;
  /** A lost session, reported to onError before the next attempt (whose decision it is to try again). */
  private loss: Error | undefined;
  private readyAt = 0;
  private readonly channelWaiters = new Set<() => void>();
  private readonly stop$ = new AbortController();
  private readonly pool: SessionPool<Session>;

  constructor(private readonly deps: TunnelDeps) {
    this.since = deps.api.clock.now();
    this.pool = new SessionPool<Session>({
      clock: deps.api.clock,
      maxSessions: deps.maxSessions,
      idleMs: deps.options.poolIdleMs,
      canPool: (own) => own.channel.mode === 'mux',
      open: (attemptFailed) => this.openExtraSession(attemptFailed),
      end: (session, why) => this.endSession(why, session),
      log: (message) => deps.api.logger.info(`tunnel ${this.name}: ${message}`),
    });
  }

  get name(): string {
    return this.deps.config.name;
  }
  get currentState(): TunnelState {
    return this.state;
  }

  status(): TunnelStatus {
    const c = this.deps.config;
    // Where sessions go once prepared (a Name, tag, ecs: or rds: target resolved), else what the config names.
    const d = this.draft ?? c;
    const target = d.remoteHost
      ? `${d.target} -> ${d.remoteHost}:${d.remotePort}`
      : `${d.target}:${d.remotePort}`;
    return {
      name: c.name,
      state: this.state,
      localAddress: this.localAddress,
      target,
      connections: this.sockets.size,
      totalConnections: this.totalConnections,
      bytesIn: this.counters.bytesIn,
      bytesOut: this.counters.bytesOut,
      since: this.since,
      ...(this.detail ? { detail: this.detail } : {}),
      ...(this.session ? { sessionId: this.session.id } : {}),
      ...(this.deps.maxSessions > 1 && this.session ? { sessions: this.pool.status(this.session) } : {}),
      ...(this.state === 'failed' && this.failedExitCode !== undefined
        ? { exitCode: this.failedExitCode }
        : {}),
    };
  }

  /** Brings the tunnel up (or back); concurrent calls share one attempt. Never throws. */
  bringUp(): Promise<void> {
    this.bringing ??= this.bringUpLoop().finally(() => (this.bringing = undefined));
    return this.bringing;
  }

  /** The machine woke: the data channel's connection may be dead without knowing it; find out now. */
  onWake(): void {
    if (this.stopped) return;
    this.session?.channel.checkAlive(this.deps.options.wakeCheckMs);
    for (const extra of this.pool.extras()) extra.channel.checkAlive(this.deps.options.wakeCheckMs);
  }

  /** A sign-in happened somewhere: try again if we were waiting for one. */
  onSignIn(): void {
    if (this.state === 'waiting-for-sign-in' && !this.stopped) void this.bringUp();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.pool.stop();
    this.stop$.abort();
    for (const wake of this.channelWaiters) wake();
    await this.closeListener();
    await Promise.all([this.endSession('stopped'), this.pool.endExtras('stopped')]);
    // A session still starting ends itself once open (openSession): wait for that, so nothing outlives `up`.
    await Promise.allSettled([...this.opening]);
    this.setState('stopped');
  }

  // ---- bringing up ----

  /**
   * One outage, start to end, through `api.recover`: every failed attempt (and a lost session) goes to
   * onError, whose decision stands: retry after its delay on the engine clock, re-authenticate, or fail.
   */
  private async bringUpLoop(): Promise<void> {
    const { api, config, request } = this.deps;
    const outage = (this.outage ??= { attempts: 0, startedAt: api.clock.now() });
    let forceRefresh = false;
    try {
      await api.recover(
        {
          phase: 'connect',
          operation: `tunnel ${this.name}`,
          ...((this.draft?.profile ?? config.profile)
            ? { profile: this.draft?.profile ?? config.profile }
            : {}),
          action: 'ssm:StartSession',
          outage,
          reauthenticate: async () => {
            forceRefresh = true;
          },
        },
        async () => {
          if (this.stopped) throw new SessionLostError(`tunnel ${this.name} was stopped`);
          const loss = this.loss;
          this.loss = undefined;
          if (loss) throw loss;
          this.setState(
            this.firstAttempt ? 'connecting' : 'reconnecting',
            this.firstAttempt ? undefined : this.detail,
          );
          const allowSignIn = this.firstAttempt && request.allowSignIn;
          this.firstAttempt = false;
          try {
            await this.connect(allowSignIn, forceRefresh);
            forceRefresh = false;
            // The session may already have ended (a basic-mode target that refuses ends it at once, §7).
            if (!this.session || this.session.channel.closed) {
              const lost =
                this.loss ?? new SessionLostError(`the session of tunnel ${this.name} ended as it started`);
              this.loss = undefined;
              throw lost;
            }
          } catch (err) {
            await this.endSession('failed attempt');
            if (!this.stopped) this.setState('reconnecting', shortLine(this.classify(err)));
            throw err;
          }
        },
      );
    } catch (err) {
      if (this.stopped) return;
      await this.endSession('gave up');
      this.giveUp(err);
      return;
    }
    if (this.stopped) {
      // Stopped while the attempt ran: the session it opened must not outlive us.
      await this.endSession('stopped');
      return;
    }
    this.readyAt = api.clock.now();
    this.setState('ready');
    for (const wake of this.channelWaiters) wake();
  }

  /** onError decided to stop trying (or nobody can sign in now). */
  private giveUp(err: unknown): void {
    const c = this.classify(err);
    const line = shortLine(c);
    this.outage = undefined;
    void this.pool.endExtras('the tunnel gave up');
    if (c.class === 'token-expired') {
      this.setState('waiting-for-sign-in', `${line}; ${c.next}; the tunnel comes back after the sign-in`);
      // The port listens while we wait: a client connecting now waits (connectionWait) instead of being
      // refused, and is served once someone signs in.
      if (!this.server) {
        this.ensureListening().catch((listenErr: unknown) => {
          if (this.stopped || this.state !== 'waiting-for-sign-in') return;
          const lc = this.classify(listenErr);
          this.failedExitCode = lc.exitCode;
          this.setState('failed', `${shortLine(lc)}; ${lc.next}`);
        });
      }
      return;
    }
    void this.closeListener();
    this.failedExitCode = c.exitCode;
    this.setState('failed', `${line}; ${c.next}`);
  }

  private classify(err: unknown): Classification {
    // No operation: the line already starts with "tunnel NAME:".
    return classifyError(err, this.draft ? { profile: this.draft.profile } : {});
  }

  private async connect(allowSignIn: boolean, forceRefresh: boolean): Promise<void> {
    const { request, config } = this.deps;
    const draft = await request.prepare(config.name, {
      allowSignIn,
      ...(forceRefresh ? { forceRefresh } : {}),
    });
    this.draft = draft;
    // Listening before StartSession: a port in use fails before any session, and the port stays open
    // (connections wait) while later attempts run.
    await this.ensureListening();
    this.session = await this.openSession(draft);
  }

  /**
   * One more session for the pool, through onError like the tunnel's own: a fresh `prepare` per session
   * (credentials resolved now, beforeConnect consulted), never a copy of an older draft.
   */
  private async openExtraSession(attemptFailed: () => void): Promise<Session> {
    const { api, config } = this.deps;
    let forceRefresh = false;
    let opened: Session | undefined;
    await api.recover(
      {
        phase: 'connect',
        operation: `tunnel ${this.name} (extra session)`,
        ...((this.draft?.profile ?? config.profile)
          ? { profile: this.draft?.profile ?? config.profile }
          : {}),
        action: 'ssm:StartSession',
        outage: { attempts: 0, startedAt: api.clock.now() },
        reauthenticate: async () => {
          forceRefresh = true;
        },
      },
      async () => {
        if (this.stopped) throw new SessionLostError(`tunnel ${this.name} was stopped`);
        try {
          const draft = await this.deps.request.prepare(config.name, {
            allowSignIn: false,
            ...(forceRefresh ? { forceRefresh } : {}),
          });
          opened = await this.openSession(draft);
        } catch (err) {
          attemptFailed();
          throw err;
        }
      },
    );
    if (!opened) throw new SessionLostError(`tunnel ${this.name}: no extra session`);
    return opened;
  }

  /** StartSession and its data channel; the channel's end goes to onChannelClosed. */
  private openSession(draft: ConnectDraft): Promise<Session> {
    const opening = this.startSession(draft);
    this.opening.add(opening);
    return opening.finally(() => this.opening.delete(opening));
  }

  private async startSession(draft: ConnectDraft): Promise<Session> {
    const { api, config, options } = this.deps;
    const scope: SessionScope = { tunnel: config.name, profile: draft.profile, region: draft.region };
    const started = await startSession(api, draft, this.boundPort() ?? draft.localPort);
    const session: Partial<Session> & { gone: boolean } = {
      id: started.sessionId,
      scope,
      credentials: draft.credentials,
      gone: false,
      resumeOutage: undefined,
      lastResumedAt: 0,
    };
    let channel: DataChannel;
    try {
      channel = await openDataChannel({
        streamUrl: started.streamUrl,
        tokenValue: started.tokenValue,
        clientId: this.deps.clientId,
        sessionId: started.sessionId,
        resume: (lost) => this.resume(session as Session, lost),
        pingIntervalMs: options.pingIntervalMs,
        deadAfterMs: options.deadAfterMs,
        maxPayloadBytes: options.maxPayloadBytes,
        maxMessagesPerSecond: options.maxMessagesPerSecond,
        clock: api.clock,
        log: (event, detail) => api.logger.debug(`tunnel ${config.name}: data channel ${event}`, detail),
      });
    } catch (err) {
      await this.terminateApi(scope, started.sessionId, draft.credentials);
      throw new SessionLostError(
        `the data channel of session ${started.sessionId} did not open: ${oneLine((err as Error).message)}`,
        { cause: err },
      );
    }
    session.channel = channel;
    channel.on('resumed', (info) =>
      api.logger.info(`tunnel ${config.name}: data channel resumed (${info.cause}, attempt ${info.attempt})`),
    );
    channel.on('error', (err) => api.logger.debug(`tunnel ${config.name}: ${err.message}`));
    channel.once('closed', (info) => this.onChannelClosed(session as Session, info));
    api.logger.debug(`tunnel ${config.name}: session ${started.sessionId} open (${channel.mode} mode)`);
    if (this.stopped) {
      // Stopped while it started: the service would keep it until its idle timeout; end it now.
      await this.endSession('the tunnel stopped while it started', session as Session);
      throw new SessionLostError(`tunnel ${this.name} was stopped`);
    }
    return session as Session;
  }

  /**
   * The WebSocket was lost: ResumeSession with credentials resolved now (SSO role credentials may have
   * rotated), then re-dial; tries and delays are onError's. Resumes that follow each other within
   * `stableAfterMs` count as one outage.
   */
  private async resume(session: Session, lost: LostConnection): Promise<void> {
    const { api, options } = this.deps;
    const now = api.clock.now();
    if (!session.resumeOutage || now - session.lastResumedAt >= options.stableAfterMs) {
      session.resumeOutage = { attempts: 0, startedAt: now };
    }
    if (this.session === session && this.state === 'ready') {
      this.setState('reconnecting', `connection lost (${lost.cause}); resuming session ${session.id}`);
    }
    await api.recover(
      {
        phase: 'data-channel',
        operation: 'ResumeSession',
        profile: session.scope.profile,
        action: 'ssm:ResumeSession',
        outage: session.resumeOutage,
      },
      async () => {
        const credentials = await api.resolveCredentials({
          profile: session.scope.profile,
          region: session.scope.region,
          purpose: { kind: 'tunnel', tunnel: this.name },
          chain: [],
        });
        session.credentials = credentials;
        let result: ResumeResult;
        try {
          result = await resumeSession(api, session.scope, session.id, credentials);
        } catch (err) {
          if (!isSessionGone(err)) throw err;
          session.gone = true;
          throw new SessionGoneError(`session ${session.id} has ended`, { cause: err });
        }
        await lost.reconnect(result);
      },
    );
    session.lastResumedAt = api.clock.now();
    if (this.session === session && this.state === 'reconnecting' && !this.bringing) this.setState('ready');
  }

  private onChannelClosed(session: Session, info: DataChannelClosedInfo): void {
    const { api, options } = this.deps;
    if (this.session !== session) {
      // An extra session of the pool: its connections were reset with it, the others go on.
      if (this.pool.lost(session) && !this.stopped) {
        const why = oneLine(info.output || info.error?.message || info.reason);
        api.logger.info(`tunnel ${this.name}: extra session ${session.id} ended (${why})`);
      }
      return;
    }
    this.session = undefined;
    if (this.stopped) return;
    if (info.reason === 'resume-failed' && !session.gone) {
      // onError already decided to stop resuming (that decision stands).
      api.logger.info(`tunnel ${this.name}: session ${session.id} could not be resumed`);
      this.giveUp(info.error);
      return;
    }
    const why = oneLine(info.output || info.error?.message || info.reason);
    const upFor = api.clock.now() - this.readyAt;
    const young = this.state !== 'ready' || upFor < options.stableAfterMs;
    if (!young) this.outage = undefined;
    if (!young && info.reason === 'channel-closed' && this.sockets.size === 0) {
      void this.pool.endExtras('the tunnel idles');
      // §9: the service ends sessions nobody uses (the administrator's idle timeout). Starting another at
      // once would defeat that policy; the next local connection starts one instead.
      api.logger.info(
        `tunnel ${this.name}: session ${session.id} ended (${why}); the next connection starts a new one`,
      );
      this.setState('idle', `session ended by the service (${why}); the next connection starts a new one`);
      return;
    }
    const successor = info.reason === 'resume-failed' ? undefined : this.pool.promote();
    if (successor) {
      // Another session of the pool is up: it carries on, without a StartSession or an outage.
      api.logger.info(
        `tunnel ${this.name}: session ${session.id} lost (${why}); session ${successor.id} goes on`,
      );
      this.session = successor;
      return;
    }
    this.loss = new SessionLostError(
      young
        ? `session ${session.id} ended ${Math.round(upFor)} ms after it started (${why}); is anything listening on port ${this.deps.config.remotePort} of ${this.deps.config.remoteHost ?? this.deps.config.target}?`
        : `session ${session.id} ended (${why})`,
    );
    api.logger.info(`tunnel ${this.name}: session ${session.id} lost (${why})`);
    // While an attempt runs it notices the loss itself; otherwise onError decides about a new session.
    if (!this.bringing) void this.bringUp();
  }

  /**
   * Basic mode, a target that speaks first: the agent redials only on client data after a disconnect (§7),
   * so the next connection would wait for a greeting that never comes. A fresh session dials at once.
   */
  private replaceSession(session: Session): void {
    if (this.session !== session || this.stopped) return;
    this.deps.api.logger.info(
      `tunnel ${this.name}: the target speaks first; a new session greets the next connection (basic mode)`,
    );
    this.session = undefined;
    void this.endSession('replaced', session);
    this.setState(
      'reconnecting',
      'a new session for the next connection (basic mode, the target speaks first)',
    );
    void this.bringUp();
  }

  private boundPort(): number | undefined {
    return this.server ? (this.server.address() as AddressInfo | null)?.port : undefined;
  }

  /** One bind at a time: a sign-in may start an attempt while the waiting tunnel is still binding. */
  private ensureListening(): Promise<void> {
    if (this.server) return Promise.resolve();
    this.listening ??= this.listen().finally(() => (this.listening = undefined));
    return this.listening;
  }

  /** Binds the local port: the draft's (a plugin may amend it), else the config's (before any prepare). */
  private async listen(): Promise<void> {
    const draft = this.draft ?? this.deps.config;
    const server = createServer((socket) => this.onConnection(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: draft.localPort, host: draft.bindAddress, exclusive: true }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    if (this.stopped) {
      server.close();
      return;
    }
    server.on('error', (err) => this.deps.api.logger.error(`tunnel ${this.name}: listener: ${err.message}`));
    this.server = server;
    const a = server.address() as AddressInfo;
    this.localAddress = a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
  }

  private async closeListener(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.localAddress = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  // ---- connections ----

  private onConnection(socket: Socket): void {
    if (this.state === 'idle' && !this.stopped) void this.bringUp();
    this.sockets.add(socket);
    this.totalConnections++;
    socket.setNoDelay(true);
    socket.on('error', () => undefined);
    socket.once('close', () => this.sockets.delete(socket));
    this.serve(socket).catch((err: unknown) => {
      this.deps.api.logger.warn(`tunnel ${this.name}: connection closed: ${(err as Error).message}`);
      socket.destroy();
    });
  }

  private async serve(socket: Socket): Promise<void> {
    const own = await this.readySession(socket);
    if (!own) return;
    const placement = this.pool.place(own);
    try {
      await this.serveOn(socket, placement);
    } finally {
      placement.release();
    }
  }

  /** Serves a connection on the session the pool placed it on; it stays there for its life. */
  private async serveOn(socket: Socket, placement: PoolPlacement<Session>): Promise<void> {
    const session = await this.withWait(placement.session, socket);
    if (!session) {
      if (!socket.destroyed) {
        this.deps.api.logger.warn(`tunnel ${this.name}: a new connection was closed: no session is up`);
        socket.destroy();
      }
      return;
    }
    const channel = session.channel;
    if (channel.mode === 'basic' && channel.stats().openStreams > 0) {
      this.deps.api.logger.info(
        `tunnel ${this.name}: basic mode carries one connection at a time; this one waits for the open one to close`,
      );
    }
    const stream = await this.withWait(channel.openStream(), socket, (s) => s.destroy());
    if (!stream) return;
    if (socket.destroyed) {
      stream.destroy();
      return;
    }
    const { activity } = placement;
    const traffic = this.deps.traffic;
    await forward(
      socket,
      stream,
      this.counters,
      (err, side) => {
        if (err instanceof ConnectToPortError) {
          this.deps.api.logger.warn(
            `tunnel ${this.name}: the target refused the connection to port ${this.deps.config.remotePort} (${err.message})`,
          );
        } else if (side === 'tunnel') {
          this.deps.api.logger.info(`tunnel ${this.name}: a connection was cut: ${err.message}`);
        }
      },
      {
        // The pool's measure of a busy connection: when it last moved data.
        note: (bytes) => {
          activity.lastActiveAt = this.deps.api.clock.now();
          traffic?.note(bytes);
        },
      },
    );
    if (channel.mode === 'basic' && channel.targetSpeaksFirst) this.replaceSession(session);
  }

  /** The tunnel's own session once its channel is open, waiting (bounded) while the tunnel reconnects. */
  private async readySession(socket: Socket): Promise<Session | undefined> {
    const deadline = this.deps.api.clock.now() + this.deps.options.connectionWaitMs;
    while (!this.stopped && !socket.destroyed) {
      const session = this.session;
      if (session && !session.channel.closed && this.state === 'ready') return session;
      const left = deadline - this.deps.api.clock.now();
      if (left <= 0) break;
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.channelWaiters.delete(wake);
          this.deps.api.clock.clearTimeout(timer);
          resolve();
        };
        const timer = this.deps.api.clock.setTimeout(wake, left);
        this.channelWaiters.add(wake);
        socket.once('close', wake);
      });
    }
    if (!socket.destroyed) {
      this.deps.api.logger.warn(
        `tunnel ${this.name}: a new connection was closed: the tunnel is ${this.state}`,
      );
      socket.destroy();
    }
    return undefined;
  }

  /** Waits for `p` at most connectionWait and while the local side is open; `late` gets what comes after. */
  private async withWait<T>(
    p: Promise<T | undefined>,
    socket: Socket,
    late?: (value: T) => void,
  ): Promise<T | undefined> {
    const { clock } = this.deps.api;
    let timer: ReturnType<typeof clock.setTimeout> | undefined;
    const giveUp = new Promise<undefined>((resolve) => {
      timer = clock.setTimeout(() => resolve(undefined), this.deps.options.connectionWaitMs);
      socket.once('close', () => resolve(undefined));
    });
    const got = await Promise.race([p, giveUp]);
    if (timer) clock.clearTimeout(timer);
    if (got === undefined) {
      // Whatever arrives later is not wanted any more.
      p.then((v) => v !== undefined && late?.(v)).catch(() => undefined);
      if (!socket.destroyed) {
        this.deps.api.logger.warn(
          `tunnel ${this.name}: a connection waited too long for the tunnel and was closed`,
        );
        socket.destroy();
      }
    }
    return got;
  }

  // ---- ending ----

  /** Ends the current session: Flag TerminateSession on the channel and the TerminateSession API. */
  private async endSession(why: string, which?: Session): Promise<void> {
    const session = which ?? this.session;
    if (this.session === session) this.session = undefined;
    if (!session) return;
    this.deps.api.logger.debug(`tunnel ${this.name}: terminating session ${session.id} (${why})`);
    await Promise.all([
      session.channel.terminate().catch(() => undefined),
      this.terminateApi(session.scope, session.id, session.credentials),
    ]);
  }

  private async terminateApi(
    scope: SessionScope,
    id: string,
    credentials: Credentials | undefined,
  ): Promise<void> {
    const { api } = this.deps;
    let timer: ReturnType<typeof api.clock.setTimeout> | undefined;
    // Bounded: shutting down must not hang on a slow or unreachable API.
    const timeout = new Promise<void>((resolve) => {
      timer = api.clock.setTimeout(() => {
        api.logger.warn(`tunnel ${this.name}: TerminateSession for ${id} did not answer in time`);
        resolve();
      }, 5000);
    });
    await Promise.race([
      terminateSession(api, scope, id, credentials).catch((err: unknown) =>
        api.logger.warn(`tunnel ${this.name}: TerminateSession for ${id} failed: ${(err as Error).message}`),
      ),
      timeout,
    ]);
    if (timer) api.clock.clearTimeout(timer);
  }

  private setState(state: TunnelState, detail?: string): void {
    if (state === this.state && detail === this.detail) return;
    const previous = this.state;
    this.detail = state === 'ready' || state === 'stopped' ? undefined : detail;
    if (state !== previous) {
      this.state = state;
      this.since = this.deps.api.clock.now();
    }
    const change: TunnelStateChange = {
      tunnel: this.name,
      state,
      previous,
      ...(this.detail ? { detail: this.detail } : {}),
    };
    this.deps.onChange(change);
  }
}
