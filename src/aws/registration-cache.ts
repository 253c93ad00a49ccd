// The OIDC client-registration cache, in botocore's names and format (same folder as the token cache).
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-write.js';
import {
  formatCacheDate,
  optionalString,
  parseCacheDate,
  previousForRewrite,
  readJsonObjectFile,
  stringArray,
} from './cache-file.js';
import { AwsConfigError } from './errors.js';
import { homeDir } from './shared-config.js';
import { sha1Hex, ssoCacheDir, type CacheOptions } from './sso-cache.js';
import type { ClientRegistration, RegistrationFlow } from './types.js';

/** Registrations are treated as expired this long before their expiry (as botocore does). */
export const REGISTRATION_EXPIRY_MARGIN_MS = 15 * 60 * 1000;

const KNOWN_FIELDS = ['clientId', 'clientSecret', 'expiresAt', 'scopes', 'grantTypes'] as const;
const FIX = 'move the file away; a new client registration is made at the next login';

export const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
export const PKCE_GRANT = 'authorization_code';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json | undefined };

function pyString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i] as string;
    const code = s.charCodeAt(i);
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    // ensure_ascii: everything outside printable ASCII as \uXXXX (UTF-16 units, lower-case hex).
    else if (code < 0x20 || code > 0x7e) out += '\\u' + code.toString(16).padStart(4, '0');
    else out += ch;
  }
  return out + '"';
}

/** Python's `json.dumps(value, sort_keys=True)`: separators ", " and ": ", ASCII only. */
export function pythonJsonDumpsSorted(value: Json): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error('only integers are supported');
    return String(value);
  }
  if (typeof value === 'string') return pyString(value);
  if (Array.isArray(value)) return `[${value.map(pythonJsonDumpsSorted).join(', ')}]`;
  const keys = Object.keys(value)
    .filter((k) => value[k] !== undefined)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${keys.map((k) => `${pyString(k)}: ${pythonJsonDumpsSorted(value[k] as Json)}`).join(', ')}}`;
}

export interface RegistrationKeyInput {
  startUrl: string;
  region: string;
  /** As configured (`sso_registration_scopes`, split on commas); undefined when not configured. */
  scopes: string[] | undefined;
  /** The sso-session name; undefined for legacy profiles. */
  sessionName: string | undefined;
}

/** botocore's key: SHA-1 of the sorted JSON of {region, scopes, session_name, startUrl, tool: "botocore"}. */
export function registrationCacheKey(input: RegistrationKeyInput): string {
  return sha1Hex(
    pythonJsonDumpsSorted({
      region: input.region,
      scopes: input.scopes ?? null,
      session_name: input.sessionName ?? null,
      startUrl: input.startUrl,
      tool: 'botocore',
    }),
  );
}

/** The name older botocore used for every registration in a region (scope-less, device flow). */
export function legacyRegistrationCacheName(region: string): string {
  return `botocore-client-id-${region}`;
}

export function registrationCachePath(name: string, options: CacheOptions = {}): string {
  if (!/^([0-9a-f]{40}|botocore-client-id-[a-z0-9-]+)$/.test(name))
    throw new Error(`not a registration cache name: ${name}`);
  return join(options.cacheDir ?? ssoCacheDir(options.env ?? process.env), `${name}.json`);
}

function registrationFromJson(data: Record<string, unknown>, file: string, home: string): ClientRegistration {
  const bad = (key: string) =>
    new AwsConfigError({
      file,
      key,
      home,
      detail: `the client registration cache file has no readable ${key}; ${FIX}`,
    });
  const clientId = optionalString(data.clientId);
  if (!clientId) throw bad('clientId');
  const clientSecret = optionalString(data.clientSecret);
  if (!clientSecret) throw bad('clientSecret');
  const expiresAt = parseCacheDate(data.expiresAt);
  if (!expiresAt) throw bad('expiresAt');
  const reg: ClientRegistration = { clientId, clientSecret, expiresAt, extra: {} };
  const scopes = stringArray(data.scopes);
  if (scopes) reg.scopes = scopes;
  const grantTypes = stringArray(data.grantTypes);
  if (grantTypes) reg.grantTypes = grantTypes;
  for (const [k, v] of Object.entries(data))
    if (!(KNOWN_FIELDS as readonly string[]).includes(k)) reg.extra[k] = v;
  return reg;
}

export async function readRegistration(
  name: string,
  options: CacheOptions = {},
): Promise<ClientRegistration | undefined> {
  const path = registrationCachePath(name, options);
  const home = homeDir(options.env ?? process.env);
  const file = await readJsonObjectFile(path, 'client registration cache file', FIX, home);
  return file ? registrationFromJson(file.data, path, home) : undefined;
}

export async function writeRegistration(
  name: string,
  reg: ClientRegistration,
  options: CacheOptions = {},
): Promise<{ path: string; movedCorrupt?: string }> {
  const path = registrationCachePath(name, options);
  const prev = await previousForRewrite(
    path,
    'client registration cache file',
    homeDir(options.env ?? process.env),
  );
  const out: Record<string, unknown> = {
    clientId: reg.clientId,
    clientSecret: reg.clientSecret,
    expiresAt: formatCacheDate(reg.expiresAt),
  };
  if (reg.scopes) out.scopes = reg.scopes;
  if (reg.grantTypes) out.grantTypes = reg.grantTypes;
  for (const [k, v] of Object.entries(prev.data ?? {}))
    if (!(KNOWN_FIELDS as readonly string[]).includes(k)) out[k] = v;
  for (const [k, v] of Object.entries(reg.extra))
    if (!(KNOWN_FIELDS as readonly string[]).includes(k)) out[k] = v;
  await writeFileAtomic(path, JSON.stringify(out, null, 2));
  return prev.movedCorrupt !== undefined ? { path, movedCorrupt: prev.movedCorrupt } : { path };
}

export type RegistrationCheck = { usable: true } | { usable: false; reason: 'expired' | 'wrong-flow' };

/**
 * Whether a cached registration can be used for a login with `flow`. Registrations without grantTypes are
 * device-flow ones (that is all older CLIs made); PKCE needs authorization_code.
 */
export function checkRegistration(
  reg: ClientRegistration,
  flow: RegistrationFlow,
  now: Date = new Date(),
): RegistrationCheck {
  if (reg.expiresAt.getTime() - now.getTime() <= REGISTRATION_EXPIRY_MARGIN_MS)
    return { usable: false, reason: 'expired' };
  const grants = reg.grantTypes;
  const ok =
    flow === 'pkce'
      ? grants?.includes(PKCE_GRANT) === true
      : grants === undefined || grants.includes(DEVICE_GRANT);
  return ok ? { usable: true } : { usable: false, reason: 'wrong-flow' };
}

/**
 * The cached registration to reuse for a login, or undefined. Tries botocore's hashed name; for legacy
 * profiles without scopes also the older `botocore-client-id-<region>` (an old scope-less registration would
 * give sso-session logins tokens without refresh tokens, so it is never used for them).
 */
export async function findRegistration(
  input: RegistrationKeyInput & { flow: RegistrationFlow; now?: Date },
  options: CacheOptions = {},
): Promise<{ name: string; registration: ClientRegistration } | undefined> {
  const names = [registrationCacheKey(input)];
  if (input.sessionName === undefined && (input.scopes === undefined || input.scopes.length === 0)) {
    names.push(legacyRegistrationCacheName(input.region));
  }
  for (const name of names) {
    const registration = await readRegistration(name, options);
    if (registration && checkRegistration(registration, input.flow, input.now).usable)
      return { name, registration };
  }
  return undefined;
}
