// The SSM control-plane calls of a tunnel (StartSession, ResumeSession, TerminateSession). The tunnel runs
// them inside api.recover, so onError decides every retry. Tokens never leave this module except into the
// data channel.
import { ResumeSessionCommand, StartSessionCommand, TerminateSessionCommand } from '@aws-sdk/client-ssm';
import type { PluginApi, ConnectDraft, Credentials, ResumeResult } from '../../src/plugin-kit/index.js';
import { documentFor } from './documents.js';

export interface StartedSession {
  sessionId: string;
  tokenValue: string;
  streamUrl: string;
}

/** Where a session lives and who may call for it. */
export interface SessionScope {
  tunnel: string;
  profile: string;
  region: string;
}

/** Document parameters are string lists; localPortNumber is informational for the agent. */
function parameters(draft: ConnectDraft, localPort: number): Record<string, string[]> {
  return {
    portNumber: [String(draft.remotePort)],
    ...(localPort > 0 ? { localPortNumber: [String(localPort)] } : {}),
    ...(draft.remoteHost ? { host: [draft.remoteHost] } : {}),
  };
}

/**
 * One StartSession call with the draft's credentials. Not retried here: the tunnel runs its whole connection
 * attempt through `api.recover`, so one outage has one budget (retries inside it would multiply).
 */
export async function startSession(
  api: PluginApi,
  draft: ConnectDraft,
  localPort: number,
  documentName = documentFor(draft),
): Promise<StartedSession> {
  const ssm = await api.services.aws.ssm({ region: draft.region, credentials: draft.credentials });
  const out = await ssm.send(
    new StartSessionCommand({
      Target: draft.target,
      DocumentName: documentName,
      Parameters: parameters(draft, localPort),
      Reason: `stormtunnel tunnel ${draft.tunnel}`,
    }),
  );
  if (!out.SessionId || !out.TokenValue || !out.StreamUrl) {
    throw new Error('StartSession answered without SessionId, TokenValue or StreamUrl');
  }
  return { sessionId: out.SessionId, tokenValue: out.TokenValue, streamUrl: out.StreamUrl };
}

/** One ResumeSession call (the caller's `api.recover` decides retries). */
export async function resumeSession(
  api: PluginApi,
  scope: SessionScope,
  sessionId: string,
  credentials: Credentials,
): Promise<ResumeResult> {
  const ssm = await api.services.aws.ssm({ region: scope.region, credentials });
  const out = await ssm.send(new ResumeSessionCommand({ SessionId: sessionId }));
  if (!out.TokenValue) throw new Error('ResumeSession answered without TokenValue');
  return { tokenValue: out.TokenValue, ...(out.StreamUrl ? { streamUrl: out.StreamUrl } : {}) };
}

export async function terminateSession(
  api: PluginApi,
  scope: SessionScope,
  sessionId: string,
  credentials: Credentials | undefined,
): Promise<void> {
  await api.recover(
    {
      phase: 'connect',
      operation: 'TerminateSession',
      profile: scope.profile,
      action: 'ssm:TerminateSession',
    },
    async () => {
      const ssm = await api.services.aws.ssm({ region: scope.region, credentials });
      await ssm.send(new TerminateSessionCommand({ SessionId: sessionId }));
    },
  );
}

/** ResumeSession said the session is over: a new session is needed, retrying the resume is pointless. */
export function isSessionGone(err: unknown): boolean {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 6; depth++) {
    const name = (e as { name?: unknown }).name;
    if (name === 'DoesNotExistException' || name === 'InvalidSessionId' || name === 'SessionTerminated')
      return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
