// Shared pieces of the AWS CLI's JSON cache files: tolerant dates, reading without ever deleting a bad file,
// and moving a corrupt file aside (kept for inspection) before replacing it.
import { readFile, rename } from 'node:fs/promises';
import { AwsConfigError } from './errors.js';

const DATE_RE = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(\.\d+)?(Z|UTC|[+-]\d{2}:?\d{2})?$/;

/** Reads botocore's `2024-01-01T10:00:00Z` (also `UTC` suffix, offsets) and JS `toISOString()` dates. */
export function parseCacheDate(value: unknown): Date | undefined {
  if (typeof value !== 'string') return undefined;
  const m = DATE_RE.exec(value.trim());
  if (!m) return undefined;
  const [, day, time, fraction = '', zone = 'Z'] = m;
  const ms = fraction ? `.${fraction.slice(1, 4).padEnd(3, '0')}` : '';
  const tz =
    zone === 'UTC' || zone === 'Z' ? 'Z' : zone.includes(':') ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const d = new Date(`${day}T${time}${ms}${tz}`);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** botocore's second-precision form when there are no milliseconds (both SDKs read both forms). */
export function formatCacheDate(d: Date): string {
  const iso = d.toISOString();
  return d.getUTCMilliseconds() === 0 ? iso.replace(/\.000Z$/, 'Z') : iso;
}

export interface JsonObjectFile {
  path: string;
  data: Record<string, unknown>;
}

/** Undefined when the file does not exist; AwsConfigError (file kept in place) when it is not a JSON object. */
export async function readJsonObjectFile(
  path: string,
  what: string,
  fix: string,
  home?: string,
): Promise<JsonObjectFile | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new AwsConfigError({
      file: path,
      home,
      detail: `cannot read the ${what} (${code ?? 'error'}); check the file's owner and permissions`,
      cause: e,
    });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    // Never echo the parser's message: it quotes file content, which may be a token.
    const pos = /position (\d+)/.exec(String((e as Error).message))?.[1];
    const line = pos !== undefined ? text.slice(0, Number(pos)).split('\n').length : undefined;
    throw new AwsConfigError({
      file: path,
      ...(line !== undefined ? { line } : {}),
      home,
      detail: `the ${what} is not valid JSON (left in place); ${fix}`,
    });
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new AwsConfigError({
      file: path,
      home,
      detail: `the ${what} is not a JSON object (left in place); ${fix}`,
    });
  }
  return { path, data: data as Record<string, unknown> };
}

/**
 * Reads the current file to carry its unknown fields over. A corrupt file is renamed to
 * `<name>.corrupt-<time>` rather than overwritten, and its new path is returned so the caller can report it.
 */
export async function previousForRewrite(
  path: string,
  what: string,
  home?: string,
): Promise<{ data: Record<string, unknown> | undefined; movedCorrupt?: string }> {
  try {
    const prev = await readJsonObjectFile(path, what, '', home);
    return { data: prev?.data };
  } catch (e) {
    if (!(e instanceof AwsConfigError) || e.cause !== undefined) throw e;
    const aside = `${path}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    await rename(path, aside);
    return { data: undefined, movedCorrupt: aside };
  }
}

export function optionalString(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export function stringArray(v: unknown): string[] | undefined {
  return Array.isArray(v) && v.every((x): x is string => typeof x === 'string') ? v : undefined;
}
