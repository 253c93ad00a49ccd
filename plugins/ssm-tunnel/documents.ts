// Which Session Manager document a connection starts: the engine's draft knows no documents, so the choice
// lives here, next to the StartSession calls that use it.
import type { ConnectDraft } from '../../src/plugin-kit/index.js';

export const PORT_FORWARDING_DOCUMENT = 'AWS-StartPortForwardingSession';
export const REMOTE_HOST_DOCUMENT = 'AWS-StartPortForwardingSessionToRemoteHost';

/** The draft's own document when a beforeConnect plugin set one, else the AWS document for its kind of target. */
export function documentFor(draft: Pick<ConnectDraft, 'documentName' | 'remoteHost'>): string {
  return draft.documentName ?? (draft.remoteHost ? REMOTE_HOST_DOCUMENT : PORT_FORWARDING_DOCUMENT);
}
