// The SSM control-plane calls of a tunnel (StartSession, ResumeSession, TerminateSession), each run through
// api.recover so the retry plugin decides every retry. Tokens never leave this module except into the
// data channel.
import { ResumeSessionCommand, StartSessionCommand, TerminateSessionCommand } from '@aws-sdk/client-ssm';
import type { PluginApi } from '../../src/engine/plugin.js';
import type { ConnectDraft, Credentials } from '../../src/engine/types.js';
import type { ResumeResult } from '../../src/session-manager/types.js';

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
 * StartSession with the draft's credentials. `refresh` gives fresh ones when the retry plugin decides to
 * re-authenticate (e.g. ExpiredToken after an SSO refresh raced the call).
 */
export async function startSession(
  api: PluginApi,
  draft: ConnectDraft,
  localPort: number,
  refresh: () => Promise<Credentials | undefined>,
): Promise<StartedSession> {
  let credentials = draft.credentials;
  return api.recover(
    {
      phase: 'connect',
      operation: 'StartSession',
      profile: draft.profile,
      action: 'ssm:StartSession',
      reauthenticate: async () => {
        credentials = await refresh();
      },
    },
    async () => {
      const ssm = await api.services.aws.ssm({ region: draft.region, credentials });
      const out = await ssm.send(
        new StartSessionCommand({
          Target: draft.target,
          DocumentName: draft.documentName,
          Parameters: parameters(draft, localPort),
          Reason: `stormtunnel tunnel ${draft.tunnel}`,
        }),
      );
      if (!out.SessionId || !out.TokenValue || !out.StreamUrl) {
        throw new Error('StartSession answered without SessionId, TokenValue or StreamUrl');
      }
      return { sessionId: out.SessionId, tokenValue: out.TokenValue, streamUrl: out.StreamUrl };
    },
  );
}

export async function resumeSession(
  api: PluginApi,
  scope: SessionScope,
  sessionId: string,
  credentials: Credentials,
): Promise<ResumeResult> {
  return api.recover(
    {
      phase: 'data-channel',
      operation: 'ResumeSession',
      profile: scope.profile,
      action: 'ssm:ResumeSession',
    },
    async () => {
      const ssm = await api.services.aws.ssm({ region: scope.region, credentials });
      const out = await ssm.send(new ResumeSessionCommand({ SessionId: sessionId }));
      if (!out.TokenValue) throw new Error('ResumeSession answered without TokenValue');
      return { tokenValue: out.TokenValue, ...(out.StreamUrl ? { streamUrl: out.StreamUrl } : {}) };
    },
  );
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
