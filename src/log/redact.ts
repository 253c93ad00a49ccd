// Secret redaction, applied to every log record and every error message shown to the user.

const SECRET_KEYS = new Set(
  [
    'accessToken',
    'refreshToken',
    'clientSecret',
    'secretAccessKey',
    'sessionToken',
    'tokenValue',
    'token',
    'password',
    'deviceCode',
    'code',
    'codeVerifier',
    'authorization',
    'x-amz-sso_bearer_token',
    'x-amz-security-token',
  ].map((k) => k.toLowerCase()),
);

export const REDACTED = '[redacted]';

/** Opaque runs of 32+ characters mixing upper case, lower case and digits: tokens, keys, signatures. */
const OPAQUE_RUN = /[A-Za-z0-9+/_-]{32,}={0,2}/g;

function looksSecret(run: string): boolean {
  if (!(/[A-Z]/.test(run) && /[a-z]/.test(run) && /[0-9]/.test(run))) return false;
  // Names made of words and hex ids joined by "_", "-" or "/" (AWSReservedSSO_AdministratorAccess_65bf90de591b73a7)
  // are identifiers, not secrets; random tokens mix cases and digits inside each segment.
  const segments = run.split(/[_/-]/).filter(Boolean);
  const wordLike = (seg: string) =>
    /^[A-Za-z]+$/.test(seg) || /^[0-9a-f]+$/.test(seg) || /^[0-9A-F]+$/.test(seg);
  return !(segments.length > 1 && segments.every(wordLike));
}

export function isSecretKey(key: string): boolean {
  return SECRET_KEYS.has(key.toLowerCase());
}

/** Replaces anything in a string that looks like a token or secret key. */
export function redactString(s: string): string {
  return s.replace(OPAQUE_RUN, (run) => (looksSecret(run) ? REDACTED : run));
}

/** A deep copy of `value` with secret fields and secret-looking strings replaced. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8) return '[deep]';
  if (typeof value === 'string') return redactString(value);
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return value;
  if (value instanceof Error) {
    const out: Record<string, unknown> = { type: value.name, message: redactString(value.message) };
    const code = (value as { code?: unknown }).code;
    if (code !== undefined) out.code = code;
    if (value.stack) out.stack = redactString(value.stack);
    if (value.cause !== undefined) out.cause = redact(value.cause, depth + 1);
    return out;
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = isSecretKey(k) && v !== undefined && v !== null && v !== '' ? REDACTED : redact(v, depth + 1);
  }
  return out;
}
