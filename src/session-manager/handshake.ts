// Handshake payloads (PayloadType 5, 6, 7): JSON build and defensive parse.
import { HandshakeError } from './errors.js';
import type {
  HandshakeCompletePayload,
  HandshakeRequestPayload,
  HandshakeResponsePayload,
  PortSessionProperties,
  ProcessedClientAction,
  SessionTypeActionParameters,
} from './types.js';

export const ActionStatus = { Success: 1, Failed: 2, Unsupported: 3 } as const;

function parseJson(payload: Buffer, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(payload.toString('utf8'));
  } catch {
    throw new HandshakeError(`${what} is not JSON`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new HandshakeError(`${what} is not an object`);
  return v as Record<string, unknown>;
}

export function buildHandshakeRequest(agentVersion: string, properties: PortSessionProperties): Buffer {
  const req: HandshakeRequestPayload = {
    AgentVersion: agentVersion,
    RequestedClientActions: [
      {
        ActionType: 'SessionType',
        ActionParameters: {
          SessionType: 'Port',
          Properties: properties,
        } satisfies SessionTypeActionParameters,
      },
    ],
  };
  return Buffer.from(JSON.stringify(req));
}

export function parseHandshakeRequest(payload: Buffer): HandshakeRequestPayload {
  const o = parseJson(payload, 'HandshakeRequest');
  if (typeof o.AgentVersion !== 'string') throw new HandshakeError('HandshakeRequest lacks AgentVersion');
  const actions = Array.isArray(o.RequestedClientActions) ? (o.RequestedClientActions as unknown[]) : [];
  return {
    AgentVersion: o.AgentVersion,
    RequestedClientActions: actions.map((a) => {
      const r = (a ?? {}) as Record<string, unknown>;
      return {
        ActionType: typeof r.ActionType === 'string' ? r.ActionType : '',
        ActionParameters: r.ActionParameters,
      };
    }),
  };
}

/** Extracts SessionType and Properties from a SessionType action's parameters. */
export function readSessionTypeParameters(params: unknown): SessionTypeActionParameters | undefined {
  if (typeof params !== 'object' || params === null) return undefined;
  const p = params as Record<string, unknown>;
  if (typeof p.SessionType !== 'string') return undefined;
  const props = typeof p.Properties === 'object' && p.Properties !== null ? p.Properties : {};
  return { SessionType: p.SessionType, Properties: props as PortSessionProperties };
}

export function buildHandshakeResponse(clientVersion: string, actions: ProcessedClientAction[]): Buffer {
  const res: HandshakeResponsePayload = {
    ClientVersion: clientVersion,
    ProcessedClientActions: actions,
    Errors: [],
  };
  return Buffer.from(JSON.stringify(res));
}

export function parseHandshakeResponse(payload: Buffer): HandshakeResponsePayload {
  const o = parseJson(payload, 'HandshakeResponse');
  if (typeof o.ClientVersion !== 'string') throw new HandshakeError('HandshakeResponse lacks ClientVersion');
  const actions = Array.isArray(o.ProcessedClientActions) ? (o.ProcessedClientActions as unknown[]) : [];
  return {
    ClientVersion: o.ClientVersion,
    ProcessedClientActions: actions.map((a) => {
      const r = (a ?? {}) as Record<string, unknown>;
      return {
        ActionType: typeof r.ActionType === 'string' ? r.ActionType : '',
        ActionStatus: typeof r.ActionStatus === 'number' ? r.ActionStatus : 0,
        ActionResult: r.ActionResult,
        Error: typeof r.Error === 'string' ? r.Error : '',
      };
    }),
    Errors: Array.isArray(o.Errors) ? o.Errors.map(String) : [],
  };
}

export function buildHandshakeComplete(timeToCompleteNs: number, customerMessage = ''): Buffer {
  const c: HandshakeCompletePayload = {
    HandshakeTimeToComplete: Math.round(timeToCompleteNs),
    CustomerMessage: customerMessage,
  };
  return Buffer.from(JSON.stringify(c));
}

export function parseHandshakeComplete(payload: Buffer): HandshakeCompletePayload {
  const o = parseJson(payload, 'HandshakeComplete');
  return {
    HandshakeTimeToComplete: typeof o.HandshakeTimeToComplete === 'number' ? o.HandshakeTimeToComplete : 0,
    CustomerMessage: typeof o.CustomerMessage === 'string' ? o.CustomerMessage : '',
  };
}
