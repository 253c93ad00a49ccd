// Flag payloads (PayloadType.Flag): a uint32 big-endian value.
import { FrameError } from './errors.js';
import type { PortFlagValue } from './types.js';

export function encodeFlag(flag: PortFlagValue): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(flag, 0);
  return b;
}

export function decodeFlag(payload: Buffer): number {
  if (payload.length < 4) throw new FrameError(`flag payload too short (${payload.length} bytes)`);
  return payload.readUInt32BE(0);
}
