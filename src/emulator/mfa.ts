// One-time codes for MFA devices: a fixed code from state, or RFC 6238 TOTP on the emulator clock.
import { createHmac } from 'node:crypto';

export interface MfaDevice {
  serial: string;
  code?: string;
  totpSecret?: string;
}

const STEP_MS = 30_000;

export function totp(secret: string, atMs: number): string {
  const counter = Math.floor(atMs / STEP_MS);
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const h = createHmac('sha1', Buffer.from(secret, 'utf8')).update(msg).digest();
  const offset = (h[h.length - 1] ?? 0) & 0xf;
  const bin = h.readUInt32BE(offset) & 0x7fffffff;
  return String(bin % 1_000_000).padStart(6, '0');
}

export function currentMfaCode(device: MfaDevice, nowMs: number): string {
  if (device.code !== undefined) return device.code;
  return totp(device.totpSecret ?? '', nowMs);
}

/** Accepts the current TOTP step and the previous one, as AWS tolerates a little drift. */
export function mfaCodeValid(device: MfaDevice, code: string, nowMs: number): boolean {
  if (device.code !== undefined) return code === device.code;
  const secret = device.totpSecret ?? '';
  return code === totp(secret, nowMs) || code === totp(secret, nowMs - STEP_MS);
}
