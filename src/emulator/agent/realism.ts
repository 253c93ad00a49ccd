// Defaults of the data channel's realism switches: everything behaves like AWS unless turned off.
import type { DataChannelRealism } from './types.js';

export const REALISTIC: Readonly<DataChannelRealism> = {
  pacing: true,
  clientMessageRateLimit: 1000,
  clientPayloadLimit: 1024,
  basicEagerDial: true,
  agentSessionState: true,
  clientClearsPause: true,
  agentStyleEnding: true,
};

export const REALISM_KEYS = Object.keys(REALISTIC) as (keyof DataChannelRealism)[];

/** The given switches over the realistic defaults; a limit of 0 means off, like false. */
export function resolveRealism(given: Partial<DataChannelRealism>): DataChannelRealism {
  const r: DataChannelRealism = { ...REALISTIC };
  for (const k of REALISM_KEYS) {
    const v = given[k];
    if (v !== undefined) (r as unknown as Record<string, unknown>)[k] = v;
  }
  if (r.clientMessageRateLimit === 0) r.clientMessageRateLimit = false;
  if (r.clientPayloadLimit === 0) r.clientPayloadLimit = false;
  return r;
}

/** Checks one switch from an untrusted source (admin API); returns an error message or the value. */
export function parseRealismValue(
  key: keyof DataChannelRealism,
  v: unknown,
): { value: DataChannelRealism[typeof key] } | { error: string } {
  if (key === 'clientMessageRateLimit' || key === 'clientPayloadLimit') {
    if (v === false || v === 0) return { value: false };
    // The rate limiter keeps one timestamp per allowed message: bound it.
    if (typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= 1_000_000) return { value: v };
    return { error: `${key} must be false, 0 or an integer 1-1000000` };
  }
  if (typeof v !== 'boolean') return { error: `${key} must be true or false` };
  return { value: v };
}
