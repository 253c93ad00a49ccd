// Rows for `stormtunnel profiles [--json]`.
import { AwsConfigError } from './errors.js';
import { classifyProfile, parseRoleArn, resolveRoleChain } from './profiles.js';
import { validateProfile } from './validate.js';
import type { ConfigDiagnostic, IniDocument, ProfileRow, SharedConfig } from './types.js';

function lineRanges(config: SharedConfig, name: string): { file: string; from: number; to: number }[] {
  const p = config.profiles.get(name);
  if (!p) return [];
  const out: { file: string; from: number; to: number }[] = [];
  for (const h of p.headers) {
    const doc: IniDocument | undefined = [config.configFile.document, config.credentialsFile.document].find(
      (d) => d.file === h.file,
    );
    const s = doc?.sections.find((x) => x.header.lineNo === h.line);
    if (s) out.push({ file: h.file, from: s.startIndex + 1, to: s.endIndex });
  }
  return out;
}

function formatWarning(d: ConfigDiagnostic): string {
  return d.line !== undefined ? `line ${d.line}: ${d.message}` : d.message;
}

/** One row per profile, in file order, with the data `profiles --json` prints. */
export function describeProfiles(config: SharedConfig): ProfileRow[] {
  const rows: ProfileRow[] = [];
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
    const ranges = lineRanges(config, name);
    const mine = (file: string, line: number | undefined) =>
      line !== undefined && ranges.some((r) => r.file === file && line >= r.from && line <= r.to);
    for (const e of errors) row.errors.push(e.message);
    for (const d of config.diagnostics) {
      if (!mine(d.file, d.line)) continue;
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
