// `stormtunnel status --json` as data (schemas/status.schema.json): states as lowercase enums, times as ISO
// 8601, counts as numbers, prose only in `message`. The plugins report status lines for people (state
// "Token Expiring Soon", detail "12m left; refreshes automatically"); they are mapped here, in the CLI.
import type { StatusEntry, TunnelStatus } from '../engine/types.js';

/** A profile in use, checked with GetCallerIdentity. */
export interface ProfileCheck {
  name: string;
  state: 'connected' | 'invalid';
  account?: string;
  arn?: string;
  /** Invalid: the error class (src/engine/classify.ts) and the product's one-line explanation. */
  errorClass?: string;
  message?: string;
}

export interface StatusJson {
  ok: boolean;
  profiles: ProfileCheck[];
  entries: { kind: StatusEntry['kind']; name: string; state: string; ok: boolean; message?: string }[];
  tunnels: TunnelJson[];
  processes: { pid: number; startedAt: string }[];
}

export interface TunnelJson {
  name: string;
  state: TunnelStatus['state'];
  localAddress: string | null;
  target: string;
  connections: number;
  totalConnections: number;
  bytesIn: number;
  bytesOut: number;
  since: string;
  message?: string;
  sessionId?: string;
  /** When the tunnel may run several sessions: each one, the tunnel's own first. */
  sessions?: { id: string; connections: number; primary: boolean }[];
  exitCode?: number;
}

// The plugins' words for a state, and the enum value each stands for.
const STATES: Record<string, string> = {
  Authenticated: 'authenticated',
  'Token Expiring Soon': 'expiring-soon',
  'Token Expired': 'expired',
  'Not signed in': 'not-signed-in',
};

/** A status line's state as an enum value: a known word, else lowercase words joined by "-", no emoji. */
export function stateEnum(state: string): string {
  return (
    STATES[state] ??
    state
      .replace(/\p{Extended_Pictographic}|\uFE0F/gu, '')
      .trim()
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
  );
}

export function entryJson(e: StatusEntry): StatusJson['entries'][number] {
  return {
    kind: e.kind,
    name: e.name,
    state: stateEnum(e.state),
    ok: e.ok,
    ...(e.detail ? { message: e.detail } : {}),
  };
}

export function tunnelJson(t: TunnelStatus): TunnelJson {
  return {
    name: t.name,
    state: t.state,
    localAddress: t.localAddress ?? null,
    target: t.target,
    connections: t.connections,
    totalConnections: t.totalConnections,
    bytesIn: t.bytesIn,
    bytesOut: t.bytesOut,
    since: new Date(t.since).toISOString(),
    ...(t.detail ? { message: t.detail } : {}),
    ...(t.sessionId ? { sessionId: t.sessionId } : {}),
    ...(t.sessions ? { sessions: t.sessions.map((s) => ({ ...s })) } : {}),
    ...(t.exitCode !== undefined ? { exitCode: t.exitCode } : {}),
  };
}
