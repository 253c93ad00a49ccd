import { createHash } from 'node:crypto';

/** The "rotated" refresh token: derived from the previous one so a lost rotation is detectable. */
export function rotate(refreshToken: string): string {
  return `rt-${createHash('sha256').update(refreshToken).digest('hex').slice(0, 24)}`;
}
