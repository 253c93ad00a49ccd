// Edits of the AWS config document for `configure`: add or complete one section at a time, then check that
// the AWS SDK's view of the file changed only in that section and only in the keys we meant.
import { appendSection, configFileView, documentToSections, setKey } from '../aws/index.js';
import type { IniDocument } from '../aws/index.js';
import { StormtunnelError } from '../engine/errors.js';
import type { SectionChange, SsoProfileSpec, SsoSessionSpec } from './types.js';

/** Names the SDK reads in `[profile NAME]` / `[sso-session NAME]` headers. */
export const SECTION_NAME_RE = /^[\w@+.%:/-]+$/;

export function profileHeader(
  doc: IniDocument,
  name: string,
): { header: string; sdkKey: string; exists: boolean } {
  const has = (key: string) => doc.sections.some((s) => s.header.key === key);
  if (name === 'default') {
    // `[default]` and `[profile default]` are one profile and the AWS CLI reads the later: edit that one.
    const last = doc.sections.filter((s) => s.header.key === 'profile.default').pop();
    return {
      header: last?.header.rawName ?? 'default',
      sdkKey: 'profile.default',
      exists: last !== undefined,
    };
  }
  return { header: `profile ${name}`, sdkKey: `profile.${name}`, exists: has(`profile.${name}`) };
}

/** The keys of a section as the SDK reads them (merged over repeated headers), or undefined. */
export function sectionValues(doc: IniDocument, sdkKey: string): Record<string, string> | undefined {
  const map = documentToSections(doc);
  return Object.hasOwn(map, sdkKey) ? map[sdkKey] : undefined;
}

/** Profile values as the SDK's config view has them (so `[profile default]` wins over `[default]`). */
export function profileValues(doc: IniDocument, name: string): Record<string, string> | undefined {
  const view = configFileView(documentToSections(doc));
  return Object.hasOwn(view, name) ? view[name] : undefined;
}

export function sessionEntries(spec: SsoSessionSpec): [string, string][] {
  const out: [string, string][] = [
    ['sso_start_url', spec.startUrl],
    ['sso_region', spec.region],
  ];
  if (spec.scopes.length) out.push(['sso_registration_scopes', spec.scopes.join(',')]);
  return out;
}

export function profileEntries(spec: SsoProfileSpec): [string, string][] {
  const out: [string, string][] = [
    ['sso_session', spec.ssoSession],
    ['sso_account_id', spec.accountId],
    ['sso_role_name', spec.roleName],
  ];
  if (spec.region) out.push(['region', spec.region]);
  return out;
}

/**
 * Adds `[header]` with `entries`, or sets the entries that differ in the existing section (in place, keeping
 * comments, order and every other key). Throws when the SDK's view would change anywhere else.
 */
export function upsertSection(
  doc: IniDocument,
  header: string,
  sdkKey: string,
  entries: readonly [string, string][],
): { doc: IniDocument; change: SectionChange } {
  const current = sectionValues(doc, sdkKey);
  let next = doc;
  let change: SectionChange;
  if (current === undefined && !doc.sections.some((s) => s.header.key === sdkKey)) {
    next = appendSection(doc, header, entries);
    change = 'added';
  } else {
    for (const [k, v] of entries) if (current?.[k] !== v) next = setKey(next, header, k, v);
    change = next === doc ? 'unchanged' : 'updated';
  }
  assertOnlyIntended(doc, next, sdkKey, Object.fromEntries(entries));
  return { doc: next, change };
}

export function upsertSession(doc: IniDocument, spec: SsoSessionSpec) {
  const sdkKey = `sso-session.${spec.name}`;
  return upsertSection(doc, `sso-session ${spec.name}`, sdkKey, sessionEntries(spec));
}

export function upsertProfile(doc: IniDocument, spec: SsoProfileSpec) {
  const { header, sdkKey } = profileHeader(doc, spec.name);
  return upsertSection(doc, header, sdkKey, profileEntries(spec));
}

/** The guard behind "only the intended change": compares the SDK's parse before and after. */
export function assertOnlyIntended(
  before: IniDocument,
  after: IniDocument,
  sdkKey: string,
  intended: Record<string, string>,
): void {
  const a = documentToSections(before);
  const b = documentToSections(after);
  const expected: Record<string, Record<string, string>> = {
    ...a,
    [sdkKey]: { ...(a[sdkKey] ?? {}), ...intended },
  };
  const problem = firstDifference(expected, b);
  if (problem || after.diagnostics.some((d) => d.severity === 'error')) {
    throw new StormtunnelError(
      `refusing to write ${before.file}: the edit of [${sdkKey}] would also change ${problem ?? 'how the file parses'}`,
      { exitCode: 1, hint: 'edit the file by hand, or report this as a stormtunnel bug' },
    );
  }
}

function firstDifference(
  x: Record<string, Record<string, string>>,
  y: Record<string, Record<string, string>>,
): string | undefined {
  for (const key of new Set([...Object.keys(x), ...Object.keys(y)])) {
    const xs = x[key] ?? {};
    const ys = y[key] ?? {};
    for (const k of new Set([...Object.keys(xs), ...Object.keys(ys)])) {
      if (xs[k] !== ys[k]) return `"${k}" of [${key}]`;
    }
  }
  return undefined;
}
