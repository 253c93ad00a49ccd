// Random identifiers and secrets in the shapes AWS uses (prefixes, alphabets, lengths).
import { createHash, randomBytes, randomInt } from 'node:crypto';

const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
// Device user codes avoid letters people confuse (no I, O, 0, 1).
const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';

export function randomToken(prefix: string, bytes: number): string {
  return prefix + randomBytes(bytes).toString('base64url');
}

export function randomFrom(alphabet: string, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

export function userCode(): string {
  return `${randomFrom(USER_CODE_ALPHABET, 4)}-${randomFrom(USER_CODE_ALPHABET, 4)}`;
}

export function temporaryAccessKeyId(): string {
  return 'ASIA' + randomFrom(UPPER_ALNUM, 16);
}

export function secretAccessKey(): string {
  return randomBytes(30).toString('base64').slice(0, 40);
}

export function sessionToken(): string {
  return 'IQoJb3JpZ2luX2VjE' + randomBytes(180).toString('base64');
}

export function hexId(length: number): string {
  return randomBytes(Math.ceil(length / 2))
    .toString('hex')
    .slice(0, length);
}

/** Stable 16-hex suffix, like the one AWS gives AWSReservedSSO_<PermissionSet>_<suffix> roles. */
export function stableHex(seed: string, length = 16): string {
  return createHash('sha256').update(seed).digest('hex').slice(0, length);
}

/** Stable unique id with an AWS-style prefix (AIDA for users, AROA for roles). */
export function stableUniqueId(prefix: string, seed: string): string {
  const digest = createHash('sha256').update(seed).digest();
  let out = prefix;
  for (let i = 0; i < 17; i++) out += UPPER_ALNUM[(digest[i] ?? 0) % UPPER_ALNUM.length];
  return out;
}
