// The draft of a connection to a configured tunnel: what `up` connects to and what `check` probes, built once.
// Transport-neutral: a transport plugin reads what it needs (the ssm-tunnel plugin picks its document itself).
import type { TunnelConfig } from './plugin.js';
import type { ConnectDraft, Credentials } from './types.js';

export function connectDraft(
  t: TunnelConfig,
  profile: string,
  region: string,
  credentials: Credentials | undefined,
): ConnectDraft {
  return {
    tunnel: t.name,
    profile,
    region,
    target: t.target,
    remotePort: t.remotePort,
    remoteHost: t.remoteHost,
    localPort: t.localPort,
    bindAddress: t.bindAddress,
    credentials,
    annotations: {},
  };
}
