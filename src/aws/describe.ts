// Rows for `stormtunnel profiles [--json]`.
import { AwsConfigError } from './errors.js';
import { classifyProfile, parseRoleArn, resolveRoleChain } from './profiles.js';
import { validateProfile } from './validate.js';
import type { ConfigDiagnostic, IniDocument, IniSection, ProfileRow, SharedConfig } from './types.js';

/** No diagnostics: one shared array, not one per section. */
const NONE: number[] = [];

interface LineRange {
  file: string;
  from: number;
  to: number;
  /** Indexes into config.diagnostics of the ones on these lines, in order. */
  diagnostics: number[];
}

/**
 * Each profile's sections as line ranges, with the file diagnostics that fall in them, built once for the
 * listing: searching every section and every diagnostic for each profile made `profiles` quadratic
 * (issue 17: 90,000 profiles).
 */
function sectionRanges(config: SharedConfig): (name: string) => LineRange[] {
  // A path named for both files reads as the config file, as it always has.
  const docs = new Map<string, IniDocument>();
  for (const d of [config.configFile.document, config.credentialsFile.document])
    if (!docs.has(d.file)) docs.set(d.file, d);
  const byHeader = new Map<string, Map<number, LineRange>>();
  for (const [file, doc] of docs) {
    const ranges = new Map<number, LineRange>();
    for (const s of doc.sections)
      if (!ranges.has(s.header.lineNo))
        ranges.set(s.header.lineNo, { file, from: s.startIndex + 1, to: s.endIndex, diagnostics: NONE });
    byHeader.set(file, ranges);
  }
  config.diagnostics.forEach((d, i) => {
    const doc = docs.get(d.file);
    if (!doc || d.line === undefined) return;
    const s = sectionAt(doc.sections, d.line);
    const range = s && d.line <= s.endIndex ? byHeader.get(d.file)?.get(s.header.lineNo) : undefined;
    if (range?.diagnostics === NONE) range.diagnostics = [i];
    else range?.diagnostics.push(i);
  });
  return (name) => {
    const p = config.profiles.get(name);
    if (!p) return [];
    const out: LineRange[] = [];
    for (const h of p.headers) {
      const r = byHeader.get(h.file)?.get(h.line);
      if (r) out.push(r);
    }
    return out;
  };
}

/** The last section starting at or before line `line` (sections are in file order). */
function sectionAt(sections: readonly IniSection[], line: number): IniSection | undefined {
  let lo = 0;
  let hi = sections.length - 1;
  let found: IniSection | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = sections[mid] as IniSection;
    if (s.startIndex + 1 <= line) {
      found = s;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** The diagnostics on a profile's lines, each once, in the order of config.diagnostics. */
function diagnosticsIn(ranges: readonly LineRange[]): number[] {
  if (ranges.length === 1) return (ranges[0] as LineRange).diagnostics;
  return [...new Set(ranges.flatMap((r) => r.diagnostics))].sort((a, b) => a - b);
}

function formatWarning(d: ConfigDiagnostic): string {
  return d.line !== undefined ? `line ${d.line}: ${d.message}` : d.message;
}

/** One row per profile, in file order, with the data `profiles --json` prints. */
export function describeProfiles(config: SharedConfig): ProfileRow[] {
  const rows: ProfileRow[] = [];
  const rangesOf = sectionRanges(config);
  for (const name of config.profiles.keys()) {
    const t = classifyProfile(name, config);
    const row: ProfileRow = { name, type: t.type, region: t.region, errors: [], warnings: [] };
    if (t.type === 'sso') {
      row.accountId = t.accountId;
      row.roleName = t.roleName;
      row.startUrl = t.startUrl;
      if (t.ssoSession !== undefined) row.ssoSession = t.ssoSession;
    } else if (t.type === 'static' || t.type === 'temporary') {
      if (t.accountId !== undefined) row.accountId = t.accountId;
    } else if (t.type === 'assume-role' || t.type === 'web-identity') {
      row.roleArn = t.roleArn;
      const arn = parseRoleArn(t.roleArn);
      if (arn) {
        row.accountId = arn.accountId;
        row.roleName = arn.roleName;
      }
    } else if (t.type === 'incomplete') {
      row.warnings.push(t.reason);
    }
    if (t.type === 'assume-role') {
      try {
        const hops = resolveRoleChain(name, config);
        const chain: string[] = [];
        for (const h of hops) if (chain[chain.length - 1] !== h.profile) chain.push(h.profile);
        row.chain = chain;
        const last = hops[hops.length - 1];
        if (last?.kind === 'source' && last.credentialType === 'sso') {
          const src = classifyProfile(last.profile, config);
          if (src.type === 'sso') {
            row.startUrl = src.startUrl;
            if (src.ssoSession !== undefined) row.ssoSession = src.ssoSession;
          }
        }
      } catch (e) {
        if (!(e instanceof AwsConfigError)) throw e;
      }
    }
    // File-level problems outside this profile's lines are reported once by `validateConfig`, not per row.
    const { errors, warnings } = validateProfile(config, name, { fileLevel: false });
    const ranges = rangesOf(name);
    const mine = (file: string, line: number | undefined) =>
      line !== undefined && ranges.some((r) => r.file === file && line >= r.from && line <= r.to);
    for (const e of errors) row.errors.push(e.message);
    for (const i of diagnosticsIn(ranges)) {
      const d = config.diagnostics[i] as ConfigDiagnostic;
      // The same words (file and line) as every command that stops on this line.
      if (d.severity === 'error')
        row.errors.push(
          new AwsConfigError({
            file: d.file,
            ...(d.line !== undefined ? { line: d.line } : {}),
            home: config.home,
            detail: d.message,
          }).message,
        );
      else row.warnings.push(formatWarning(d));
    }
    for (const w of warnings) {
      if (w.profile === name || mine(w.file, w.line)) row.warnings.push(formatWarning(w));
    }
    row.warnings = [...new Set(row.warnings)];
    rows.push(row);
  }
  return rows;
}
