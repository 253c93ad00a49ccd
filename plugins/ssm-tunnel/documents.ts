// Which Session Manager document a connection starts: the engine's draft knows no documents, so the choice
// lives here, next to the StartSession calls that use it.
import type { ConnectDraft } from '../../src/plugin-kit/index.js';

export const PORT_FORWARDING_DOCUMENT = 'AWS-StartPortForwardingSession';
export const REMOTE_HOST_DOCUMENT = 'AWS-StartPortForwardingSessionToRemoteHost';
/** A Port session without `type`: basic mode, one connection, what OpenSSH's ProxyCommand needs. */
export const SSH_DOCUMENT = 'AWS-StartSSHSession';

/** The draft's own document when a beforeConnect plugin set one, else the AWS document for its kind of target. */
export function documentFor(draft: Pick<ConnectDraft, 'documentName' | 'remoteHost'>): string {
  return draft.documentName ?? (draft.remoteHost ? REMOTE_HOST_DOCUMENT : PORT_FORWARDING_DOCUMENT);
}

/** A stream connection (`ssh-proxy`): the draft's own document when a plugin set one, else the SSH document. */
export function streamDocumentFor(draft: Pick<ConnectDraft, 'documentName'>): string {
  return draft.documentName ?? SSH_DOCUMENT;
}
