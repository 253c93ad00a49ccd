// One connection carried over a stream instead of a local port (`stormtunnel ssh-proxy`): prepare (credentials
// + beforeConnect, through the engine) -> StartSession (AWS-StartSSHSession) -> data channel -> its one
// stream. Starting is retried through api.recover like a tunnel's attempt; a dropped WebSocket is resumed
// with credentials resolved then (refreshed when the service refused the old ones). A session that ends is not
// replaced: the bytes of an SSH connection cannot move to a new session, so the stream ends with it.
import { openDataChannel, oneLine } from '../../src/plugin-kit/index.js';
import type {
  PluginApi,
  Credentials,
  Outage,
  StreamEnd,
  StreamOpenRequest,
  StreamSession,
  DataChannel,
  LostConnection,
  TunnelStream,
} from '../../src/plugin-kit/index.js';
import { streamDocumentFor } from './documents.js';
import { SessionGoneError, SessionLostError } from './errors.js';
import { isSessionGone, resumeSession, startSession, terminateSession, type SessionScope } from './ssm.js';
import type { ResolvedSsmTunnelOptions } from './types.js';

/** Bounded: ending must not hang on a slow or unreachable API. */
const TERMINATE_TIMEOUT_MS = 5000;

interface Opened {
  scope: SessionScope;
  sessionId: string;
  channel: DataChannel;
  credentials: Credentials | undefined;
}

export async function openStreamSession(
  api: PluginApi,
  request: StreamOpenRequest,
  options: ResolvedSsmTunnelOptions,
  clientId: string,
): Promise<StreamSession> {
  const name = request.tunnel.name;
  let forceRefresh = false;
  let first = true;
  // Filled once the channel is open; resume reads the session's scope and credentials from here.
  let current: Opened | undefined;
  const opened = await api.recover(
    {
      phase: 'connect',
      operation: `tunnel ${name}`,
      ...(request.tunnel.profile ? { profile: request.tunnel.profile } : {}),
      action: 'ssm:StartSession',
      reauthenticate: async () => {
        forceRefresh = true;
      },
    },
    async (): Promise<Opened> => {
      const allowSignIn = first && request.allowSignIn;
      first = false;
      const draft = await request.prepare({ allowSignIn, ...(forceRefresh ? { forceRefresh } : {}) });
      forceRefresh = false;
      const scope: SessionScope = { tunnel: name, profile: draft.profile, region: draft.region };
      const started = await startSession(api, draft, 0, streamDocumentFor(draft));
      const session: Opened = {
        scope,
        sessionId: started.sessionId,
        credentials: draft.credentials,
        channel: undefined as unknown as DataChannel,
      };
      try {
        session.channel = await openDataChannel({
          streamUrl: started.streamUrl,
          tokenValue: started.tokenValue,
          clientId,
          sessionId: started.sessionId,
          resume: (lost) => resume(api, session, lost, name),
          pingIntervalMs: options.pingIntervalMs,
          deadAfterMs: options.deadAfterMs,
          maxPayloadBytes: options.maxPayloadBytes,
          maxMessagesPerSecond: options.maxMessagesPerSecond,
          clock: api.clock,
          log: (event, detail) => api.logger.debug(`tunnel ${name}: data channel ${event}`, detail),
        });
      } catch (err) {
        await terminateBounded(api, scope, started.sessionId, draft.credentials);
        throw new SessionLostError(
          `the data channel of session ${started.sessionId} did not open: ${oneLine((err as Error).message)}`,
          { cause: err },
        );
      }
      return session;
    },
  );
  current = opened;
  const { channel } = opened;
  api.logger.debug(`tunnel ${name}: session ${opened.sessionId} open (${channel.mode} mode)`);
  channel.on('resumed', (info) =>
    api.logger.info(`tunnel ${name}: data channel resumed (${info.cause}, attempt ${info.attempt})`),
  );
  channel.on('error', (err) => api.logger.debug(`tunnel ${name}: ${err.message}`));

  let stopping: Promise<void> | undefined;
  let settle: (end: StreamEnd) => void = () => undefined;
  const ended = new Promise<StreamEnd>((resolve) => (settle = resolve));
  channel.once('closed', (info) => {
    if (stopping) return settle({ how: 'closed' });
    const detail = oneLine(info.output || info.error?.message || info.reason);
    if (info.reason === 'channel-closed' || info.reason === 'terminated' || info.reason === 'closed') {
      api.logger.info(`tunnel ${name}: session ${opened.sessionId} ended (${detail})`);
      settle({ how: 'ended', detail });
    } else {
      settle({ how: 'failed', detail, error: info.error ?? new SessionLostError(detail) });
    }
  });
  // §7: in basic mode the greeting of a server that speaks first (sshd) waits unacked for this stream.
  let stream: TunnelStream;
  try {
    stream = await channel.openStream();
  } catch (err) {
    await terminateBounded(api, opened.scope, opened.sessionId, opened.credentials);
    throw err;
  }

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      const s = current;
      current = undefined;
      if (!s) return;
      api.logger.debug(`tunnel ${name}: terminating session ${s.sessionId}`);
      await Promise.all([
        s.channel.terminate().catch(() => undefined),
        terminateBounded(api, s.scope, s.sessionId, s.credentials),
      ]);
      stream.destroy();
      settle({ how: 'closed' });
    })();
    return stopping;
  };
  const onAbort = () => void stop();
  api.signal.addEventListener('abort', onAbort, { once: true });
  void ended.then(() => api.signal.removeEventListener('abort', onAbort));

  return { stream, sessionId: opened.sessionId, ended, stop };
}

/**
 * The WebSocket was lost: ResumeSession with credentials resolved now (SSO role credentials may have rotated
 * since the session started), then re-dial. Credentials the service refused (expired while the machine
 * slept, say) are refreshed once: onError decides (`reauthenticate`), tries and delays are its own too.
 */
async function resume(api: PluginApi, session: Opened, lost: LostConnection, name: string): Promise<void> {
  let forceRefresh = false;
  const outage: Outage = { attempts: 0, startedAt: api.clock.now() };
  await api.recover(
    {
      phase: 'data-channel',
      operation: 'ResumeSession',
      profile: session.scope.profile,
      action: 'ssm:ResumeSession',
      outage,
      reauthenticate: async () => {
        forceRefresh = true;
      },
    },
    async () => {
      const credentials = await api.resolveCredentials({
        profile: session.scope.profile,
        region: session.scope.region,
        purpose: { kind: 'tunnel', tunnel: name },
        chain: [],
        ...(forceRefresh ? { forceRefresh: true } : {}),
      });
      session.credentials = credentials;
      try {
        await lost.reconnect(await resumeSession(api, session.scope, session.sessionId, credentials));
      } catch (err) {
        if (!isSessionGone(err)) throw err;
        throw new SessionGoneError(`session ${session.sessionId} has ended`, { cause: err });
      }
    },
  );
}

async function terminateBounded(
  api: PluginApi,
  scope: SessionScope,
  id: string,
  credentials: Credentials | undefined,
): Promise<void> {
  let timer: ReturnType<typeof api.clock.setTimeout> | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = api.clock.setTimeout(() => {
      api.logger.warn(`tunnel ${scope.tunnel}: TerminateSession for ${id} did not answer in time`);
      resolve();
    }, TERMINATE_TIMEOUT_MS);
  });
  await Promise.race([
    terminateSession(api, scope, id, credentials).catch((err: unknown) =>
      api.logger.warn(`tunnel ${scope.tunnel}: TerminateSession for ${id} failed: ${(err as Error).message}`),
    ),
    timeout,
  ]);
  if (timer) api.clock.clearTimeout(timer);
}
