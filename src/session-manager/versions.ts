// Four-part version comparison and the mode rules both reference components apply.

/** Compares dotted versions numerically, missing parts as 0. Returns -1, 0 or 1. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((p) => Number.parseInt(p, 10) || 0);
  const pb = b.split('.').map((p) => Number.parseInt(p, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length, 4); i++) {
    const x = pa[i] ?? 0;
    const y = pb[i] ?? 0;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

const AGENT_MUX_MIN_EXCLUSIVE = '3.0.196.0';
const CLIENT_MUX_MIN = '1.1.70.0';
const AGENT_NO_KEEPALIVE_AFTER = '3.1.1511.0';
const CLIENT_NO_KEEPALIVE_AFTER = '1.2.331.0';

/**
 * The ClientVersion we report. It is above 1.1.70 (agent picks mux) and above 1.2.331.0, so an agent newer
 * than 3.1.1511.0 runs smux WITHOUT keepalive. We still need dead-endpoint detection, so the client pings
 * the WebSocket instead (cheaper than NOPs inside acked stream data, and it covers basic mode too).
 */
export const CLIENT_VERSION = '1.2.707.0';

/** Client side: mux when the session type is LocalPortForwarding and AgentVersion > 3.0.196.0. */
export function clientUsesMux(agentVersion: string, portType: string | undefined): boolean {
  return portType === 'LocalPortForwarding' && compareVersions(agentVersion, AGENT_MUX_MIN_EXCLUSIVE) > 0;
}

/** Agent side: mux when the agent supports it (> 3.0.196.0) and ClientVersion >= 1.1.70. */
export function agentUsesMux(agentVersion: string, clientVersion: string): boolean {
  return (
    compareVersions(agentVersion, AGENT_MUX_MIN_EXCLUSIVE) > 0 &&
    compareVersions(clientVersion, CLIENT_MUX_MIN) >= 0
  );
}

/**
 * Whether the agent runs smux keepalive: agents up to 3.1.1511.0 always do (they predate the rule); newer
 * ones only for clients up to 1.2.331.0.
 */
export function agentSmuxKeepAlive(agentVersion: string, clientVersion: string): boolean {
  return (
    compareVersions(agentVersion, AGENT_NO_KEEPALIVE_AFTER) <= 0 ||
    compareVersions(clientVersion, CLIENT_NO_KEEPALIVE_AFTER) <= 0
  );
}

/** The reference client's rule (keepalive unless AgentVersion > 3.1.1511.0), kept for reference/tests. */
export function referenceClientSmuxKeepAlive(agentVersion: string): boolean {
  return compareVersions(agentVersion, AGENT_NO_KEEPALIVE_AFTER) <= 0;
}

/**
 * Our client mirrors what the agent will do given our ClientVersion, so both sides always agree and an idle
 * mux session never dies from a one-sided keepalive (the 30 s mismatch of the reference source builds).
 */
export function clientSmuxKeepAlive(agentVersion: string, clientVersion: string): boolean {
  return agentSmuxKeepAlive(agentVersion, clientVersion);
}
