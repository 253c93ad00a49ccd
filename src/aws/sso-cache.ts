// The SSO token cache shared with the AWS CLI and SDKs: ~/.aws/sso/cache/<sha1>.json.
import { createHash } from 'node:crypto';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-write.js';
import {
  formatCacheDate,
  optionalString,
  parseCacheDate,
  previousForRewrite,
  readJsonObjectFile,
} from './cache-file.js';
import { AwsConfigError } from './errors.js';
import { withFileLock, type LockOptions } from './file-lock.js';
import { homeDir } from './shared-config.js';
import type { Env, SsoToken } from './types.js';

export interface CacheOptions {
  /** Used for HOME when `cacheDir` is not given; defaults to process.env. */
  env?: Env;
  /** Overrides `~/.aws/sso/cache`. */
  cacheDir?: string;
}

const KNOWN_FIELDS = [
  'startUrl',
  'region',
  'accessToken',
  'expiresAt',
  'clientId',
  'clientSecret',
  'registrationExpiresAt',
  'refreshToken',
] as const;

const FIX = 'run "aws sso login" (or stormtunnel login) to replace it, or move the file away';

export function ssoCacheDir(env: Env = process.env): string {
  return join(homeDir(env), '.aws', 'sso', 'cache');
}

function dirOf(options: CacheOptions): string {
  return options.cacheDir ?? ssoCacheDir(options.env ?? process.env);
}

function homeOf(options: CacheOptions): string {
  return homeDir(options.env ?? process.env);
}

export function sha1Hex(s: string): string {
  return createHash('sha1').update(s, 'utf8').digest('hex');
}

/** SHA-1 of the sso-session name, or of the legacy start URL exactly as written. */
export function tokenCacheKey(id: { ssoSessionName: string } | { startUrl: string }): string {
  return sha1Hex('ssoSessionName' in id ? id.ssoSessionName : id.startUrl);
}

export function tokenCachePath(key: string, options: CacheOptions = {}): string {
  if (!/^[0-9a-f]{40}$/.test(key)) throw new Error(`not a token cache key: ${key}`);
  return join(dirOf(options), `${key}.json`);
}

/** Validates and types a parsed token file; unknown fields go to `extra`. */
export function tokenFromJson(data: Record<string, unknown>, file: string, home?: string): SsoToken {
  const bad = (key: string, detail: string) =>
    new AwsConfigError({ file, key, home, detail: `${detail}; ${FIX}` });
  const accessToken = optionalString(data.accessToken);
  if (!accessToken) throw bad('accessToken', 'the SSO token cache file has no accessToken');
  const expiresAt = parseCacheDate(data.expiresAt);
  if (!expiresAt) throw bad('expiresAt', 'the SSO token cache file has no readable expiresAt date');
  const token: SsoToken = { accessToken, expiresAt, extra: {} };
  const startUrl = optionalString(data.startUrl);
  if (startUrl !== undefined) token.startUrl = startUrl;
  const region = optionalString(data.region);
  if (region !== undefined) token.region = region;
  const clientId = optionalString(data.clientId);
  if (clientId !== undefined) token.clientId = clientId;
  const clientSecret = optionalString(data.clientSecret);
  if (clientSecret !== undefined) token.clientSecret = clientSecret;
  const refreshToken = optionalString(data.refreshToken);
  if (refreshToken !== undefined) token.refreshToken = refreshToken;
  const regExp = parseCacheDate(data.registrationExpiresAt);
  if (regExp !== undefined) token.registrationExpiresAt = regExp;
  for (const [k, v] of Object.entries(data)) {
    if (!(KNOWN_FIELDS as readonly string[]).includes(k)) token.extra[k] = v;
    // A known field we could not read is kept as written rather than dropped.
    else if (data[k] !== undefined && !(k in token)) token.extra[k] = v;
  }
  return token;
}

export function tokenToJson(token: SsoToken, previous?: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (token.startUrl !== undefined) out.startUrl = token.startUrl;
  if (token.region !== undefined) out.region = token.region;
  out.accessToken = token.accessToken;
  out.expiresAt = formatCacheDate(token.expiresAt);
  if (token.clientId !== undefined) out.clientId = token.clientId;
  if (token.clientSecret !== undefined) out.clientSecret = token.clientSecret;
  if (token.registrationExpiresAt !== undefined)
    out.registrationExpiresAt = formatCacheDate(token.registrationExpiresAt);
  if (token.refreshToken !== undefined) out.refreshToken = token.refreshToken;
  for (const [k, v] of Object.entries(previous ?? {})) {
    if (!(KNOWN_FIELDS as readonly string[]).includes(k)) out[k] = v;
  }
  for (const [k, v] of Object.entries(token.extra)) {
    if (!(KNOWN_FIELDS as readonly string[]).includes(k) || !(k in out)) out[k] = v;
  }
  return out;
}

/** The cached token, or undefined when there is none. A corrupt file throws AwsConfigError and is left alone. */
export async function readSsoToken(key: string, options: CacheOptions = {}): Promise<SsoToken | undefined> {
  const path = tokenCachePath(key, options);
  const file = await readJsonObjectFile(path, 'SSO token cache file', FIX, homeOf(options));
  return file ? tokenFromJson(file.data, path, homeOf(options)) : undefined;
}

export interface WriteResult {
  path: string;
  /** Set when the previous file was corrupt: where it was moved (kept for inspection, never deleted). */
  movedCorrupt?: string;
}

/**
 * Writes the token atomically with mode 0600, keeping fields of the previous file that we do not model.
 * Call inside `withTokenLock` when refreshing.
 */
export async function writeSsoToken(
  key: string,
  token: SsoToken,
  options: CacheOptions = {},
): Promise<WriteResult> {
  const path = tokenCachePath(key, options);
  const prev = await previousForRewrite(path, 'SSO token cache file', homeOf(options));
  await writeFileAtomic(path, JSON.stringify(tokenToJson(token, prev.data), null, 2));
  return prev.movedCorrupt !== undefined ? { path, movedCorrupt: prev.movedCorrupt } : { path };
}

/** Removes the token file (logout). True when a file was removed. */
export async function deleteSsoToken(key: string, options: CacheOptions = {}): Promise<boolean> {
  try {
    await unlink(tokenCachePath(key, options));
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

/**
 * Serialises read-refresh-write of one token across processes. `fn` must re-read the token: another
 * process may have refreshed it while we waited.
 */
export async function withTokenLock<T>(
  key: string,
  fn: () => Promise<T>,
  options: CacheOptions & LockOptions = {},
): Promise<T> {
  return withFileLock(`${tokenCachePath(key, options)}.lock`, fn, { home: homeOf(options), ...options });
}
