// A StoredToken as the JSON kept in one keychain item (dates as ISO strings), validated on read.
import { z } from 'zod';
import type { StoredToken } from '../../src/plugin-kit/index.js';
import { CorruptKeychainEntryError } from './errors.js';

const isoDate = z.iso.datetime({ offset: true }).transform((s) => new Date(s));

const recordSchema = z.object({
  session: z.string().min(1),
  startUrl: z.string().min(1),
  region: z.string().min(1),
  accessToken: z.string().min(1),
  expiresAt: isoDate,
  refreshToken: z.string().min(1).optional(),
  clientId: z.string().min(1).optional(),
  clientSecret: z.string().min(1).optional(),
  registrationExpiresAt: isoDate.optional(),
});

export function encodeToken(token: StoredToken): string {
  const record: Record<string, string> = {
    session: token.session,
    startUrl: token.startUrl,
    region: token.region,
    accessToken: token.accessToken,
    expiresAt: token.expiresAt.toISOString(),
  };
  if (token.refreshToken !== undefined) record.refreshToken = token.refreshToken;
  if (token.clientId !== undefined) record.clientId = token.clientId;
  if (token.clientSecret !== undefined) record.clientSecret = token.clientSecret;
  if (token.registrationExpiresAt !== undefined)
    record.registrationExpiresAt = token.registrationExpiresAt.toISOString();
  return JSON.stringify(record);
}

/** Throws CorruptKeychainEntryError naming the session; messages name fields, never values. */
export function decodeToken(session: string, text: string): StoredToken {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the input, which may be a token.
    throw new CorruptKeychainEntryError(session, 'not valid JSON');
  }
  const parsed = recordSchema.safeParse(json);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => i.path.join('.') || '(record)');
    throw new CorruptKeychainEntryError(session, `bad or missing ${[...new Set(fields)].join(', ')}`);
  }
  // Profile isolation: an item only ever answers for the session it was written for.
  if (parsed.data.session !== session) {
    throw new CorruptKeychainEntryError(session, 'it belongs to another SSO session');
  }
  const { refreshToken, clientId, clientSecret, registrationExpiresAt, ...required } = parsed.data;
  return {
    ...required,
    ...(refreshToken !== undefined && { refreshToken }),
    ...(clientId !== undefined && { clientId }),
    ...(clientSecret !== undefined && { clientSecret }),
    ...(registrationExpiresAt !== undefined && { registrationExpiresAt }),
  };
}
