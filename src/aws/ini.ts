// Lossless model of an AWS shared config/credentials file. Every line is kept as written (with its line ending)
// so an edited document serializes byte-identical outside the edited lines. The key/value interpretation
// follows @smithy/shared-ini-file-loader 4.x `parseIni` exactly; where the AWS CLI (Python configparser) reads
// the same text differently we add a diagnostic.
import type {
  ConfigDiagnostic,
  IniDocument,
  IniEntry,
  IniLine,
  IniSection,
  IniSectionHeader,
  LineEnding,
  SectionMap,
  SectionPrefix,
} from './types.js';

// The SDK's rules, copied: `prefix name` headers, comments after whitespace, `__proto__` refused.
const PREFIX_KEY_RE = /^([\w-]+)\s(["'])?([\w@+.%:/-]+)\2$/;
const COMMENT_RE = /(^|\s)[;#]/;
const KNOWN_PREFIXES: readonly string[] = ['profile', 'sso-session', 'services'] satisfies SectionPrefix[];
const SDK_BLOCKED_NAMES: readonly string[] = ['__proto__', 'profile __proto__'];

/** Section names the SDK cannot store because plain objects inherit them (`constructor`, `toString`...). */
export function isInheritedObjectKey(name: string): boolean {
  return Object.prototype.hasOwnProperty.call(Object.prototype, name);
}

/** The text the SDK looks at: comment after whitespace removed, then trimmed. */
export function sdkTrimmedLine(raw: string): string {
  // search + slice, not split: split builds an array for each of a file's lines (issue 17: 14 MB files).
  const comment = raw.search(COMMENT_RE);
  return (comment === -1 ? raw : raw.slice(0, comment)).trim();
}

export function parseSectionHeaderName(sectionName: string): Omit<IniSectionHeader, 'lineNo'> {
  const m = PREFIX_KEY_RE.exec(sectionName);
  if (m) {
    const prefix = m[1] ?? '';
    const name = m[3] ?? '';
    if (KNOWN_PREFIXES.includes(prefix)) {
      return { rawName: sectionName, sdkKey: `${prefix}.${name}`, prefix: prefix as SectionPrefix, name };
    }
    return { rawName: sectionName, sdkKey: undefined, prefix: undefined, name: sectionName };
  }
  return {
    rawName: sectionName,
    sdkKey: sectionName === '' ? undefined : sectionName,
    prefix: undefined,
    name: sectionName,
  };
}

function splitLines(text: string): IniLine[] {
  const lines: IniLine[] = [];
  const re = /\r?\n/g;
  let start = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    lines.push({ lineNo: lines.length + 1, raw: text.slice(start, m.index), eol: m[0] as LineEnding });
    start = m.index + m[0].length;
  }
  if (start < text.length) lines.push({ lineNo: lines.length + 1, raw: text.slice(start), eol: '' });
  return lines;
}

function indentOf(raw: string): number {
  return raw.length - raw.trimStart().length;
}

export function parseIni(text: string, file: string): IniDocument {
  const lines = splitLines(text);
  const sections: IniSection[] = [];
  const diagnostics: ConfigDiagnostic[] = [];
  let sdkRejects = false;
  const diag = (severity: ConfigDiagnostic['severity'], line: number, message: string, key?: string) =>
    diagnostics.push({ severity, file, line, message, ...(key !== undefined ? { key } : {}) });

  let current: IniSection | undefined;
  let sdkSection: string | undefined;
  let subSection: string | undefined;
  // configparser's view: the indent of the last option line, and whether that option had a value.
  let cliOption: { indent: number; hasValue: boolean; key: string } | undefined;
  const firstHeaderLine = new Map<string, number>();
  const keyLines = new Map<string, Map<string, number>>();

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as IniLine;
    const { raw, lineNo } = line;
    const trimmed = sdkTrimmedLine(raw);

    if (trimmed[0] === '[' && trimmed[trimmed.length - 1] === ']') {
      if (current) current.endIndex = i;
      subSection = undefined;
      cliOption = undefined;
      const parsed = parseSectionHeaderName(trimmed.substring(1, trimmed.length - 1));
      const header: IniSectionHeader = { lineNo, ...parsed };
      sdkSection = header.sdkKey;
      if (SDK_BLOCKED_NAMES.includes(parsed.rawName)) {
        sdkRejects = true;
        diag(
          'error',
          lineNo,
          `section [${parsed.rawName}] makes the AWS SDK ignore the whole file; rename it`,
        );
      } else if (
        sdkSection !== undefined &&
        isInheritedObjectKey(sdkSection.slice(sdkSection.indexOf('.') + 1))
      ) {
        diag(
          'error',
          lineNo,
          `section name "${header.name}" is reserved in JavaScript and the AWS SDK loses it; rename it`,
        );
      }
      if (sdkSection !== undefined) {
        const first = firstHeaderLine.get(sdkSection);
        if (first !== undefined) {
          diag(
            'warning',
            lineNo,
            `section [${parsed.rawName}] repeats the section at line ${first}: the SDK merges them (later keys win) but the AWS CLI refuses the file; merge them into one section`,
          );
        } else firstHeaderLine.set(sdkSection, lineNo);
      }
      current = { header, startIndex: i, endIndex: lines.length, entries: [], subSectionStarts: [] };
      sections.push(current);
      continue;
    }
    if (trimmed === '') continue;

    const indent = indentOf(raw);
    const cliContinuation = cliOption !== undefined && indent > cliOption.indent;
    if (trimmed[0] === '[') {
      diag('error', lineNo, 'section header has no closing "]"; write it as [profile name]');
    }
    const eq = trimmed.indexOf('=');
    if (!current) {
      diag(
        'error',
        lineNo,
        'setting before the first [section] header: the SDK ignores it and the AWS CLI refuses the file; move it under a section',
      );
      continue;
    }
    if (eq === 0 || eq === -1) {
      if (trimmed[0] === '[') continue;
      if (cliContinuation) {
        diag(
          'warning',
          lineNo,
          `indented line without "=": the AWS CLI appends it to "${cliOption?.key ?? ''}" and the SDK ignores it; remove it or write key = value`,
        );
      } else {
        diag(
          'error',
          lineNo,
          'not a "key = value" line, a [section] header or a comment; fix it or comment it out with #',
        );
      }
      continue;
    }
    const key = trimmed.substring(0, eq).trim();
    const value = trimmed.substring(eq + 1).trim();
    if (cliContinuation && cliOption?.hasValue) {
      diag(
        'warning',
        lineNo,
        `indented line: the AWS CLI reads it as part of the value of "${cliOption.key}", the SDK as its own key "${key}"; remove the indentation`,
        key,
      );
    }
    if (!cliContinuation) cliOption = { indent, hasValue: value !== '', key };

    if (sdkSection === undefined) continue;
    if (value === '') {
      subSection = key;
      current.subSectionStarts.push({ lineNo, key });
      continue;
    }
    if (subSection !== undefined && raw.trimStart() === raw) subSection = undefined;
    const fullKey = subSection !== undefined ? `${subSection}.${key}` : key;
    const entry: IniEntry = { lineNo, key, value, subSection, fullKey };
    current.entries.push(entry);

    if (COMMENT_RE.test(raw)) {
      diag(
        'warning',
        lineNo,
        `inline comment after "${fullKey}": the SDK drops it but the AWS CLI keeps it in the value; put the comment on its own line`,
        fullKey,
      );
    }
    if (fullKey === '__proto__') {
      diag('warning', lineNo, 'key "__proto__" is ignored by the AWS SDK; remove it', fullKey);
    }
    let seen = keyLines.get(sdkSection);
    if (!seen) keyLines.set(sdkSection, (seen = new Map<string, number>()));
    const previous = seen.get(fullKey);
    if (previous !== undefined) {
      diag(
        'warning',
        lineNo,
        `"${fullKey}" is set again (first at line ${previous}): the SDK uses this later value but the AWS CLI refuses duplicate keys; keep one`,
        fullKey,
      );
    } else seen.set(fullKey, lineNo);
  }
  return { file, lines, sections, diagnostics, sdkRejects };
}

/** Section -> key -> `pick(entry)`, merged the way the SDK merges (later keys win, `__proto__` skipped). */
function entryMap<T>(doc: IniDocument, pick: (entry: IniEntry) => T): Record<string, Record<string, T>> {
  const map: Record<string, Record<string, T>> = {};
  if (doc.sdkRejects) return map;
  for (const section of doc.sections) {
    const name = section.header.sdkKey;
    if (name === undefined) continue;
    for (const entry of section.entries) {
      if (entry.fullKey === '__proto__') continue;
      const values = Object.hasOwn(map, name) ? (map[name] as Record<string, T>) : (map[name] = {});
      values[entry.fullKey] = pick(entry);
    }
  }
  return map;
}

/** Exactly what the SDK's `parseIni` returns for this text. */
export function documentToSections(doc: IniDocument): SectionMap {
  return entryMap(doc, (e) => e.value);
}

/** Same shape as `documentToSections`, giving the line number that defines each value. */
export function documentLineNumbers(doc: IniDocument): Record<string, Record<string, number>> {
  return entryMap(doc, (e) => e.lineNo);
}

/**
 * The SDK's `getConfigData`: keeps `default` and `prefix.name` sections with a known prefix, strips `profile.`;
 * `[profile default]` replaces `[default]` entirely.
 */
export function configFileView<T = Record<string, string>>(sections: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  if (Object.hasOwn(sections, 'default')) out.default = sections.default as T;
  for (const [key, value] of Object.entries(sections)) {
    const dot = key.indexOf('.');
    if (dot === -1) continue;
    const prefix = key.substring(0, dot);
    if (!KNOWN_PREFIXES.includes(prefix)) continue;
    out[prefix === 'profile' ? key.substring(dot + 1) : key] = value;
  }
  return out;
}

/** The SDK's `mergeConfigFiles` (later files overlay earlier ones key by key), without mutating inputs. */
export function mergeSectionMaps<V = string>(
  ...maps: Record<string, Record<string, V>>[]
): Record<string, Record<string, V>> {
  const merged: Record<string, Record<string, V>> = {};
  for (const map of maps) {
    for (const [key, values] of Object.entries(map)) {
      merged[key] = Object.hasOwn(merged, key) ? { ...merged[key], ...values } : { ...values };
    }
  }
  return merged;
}

// ---------------------------------------------------------------- editing

export function serialize(doc: IniDocument): string {
  let out = '';
  for (const line of doc.lines) out += line.raw + line.eol;
  return out;
}

function dominantEol(doc: IniDocument): '\n' | '\r\n' {
  let crlf = 0;
  let lf = 0;
  for (const l of doc.lines) {
    if (l.eol === '\r\n') crlf++;
    else if (l.eol === '\n') lf++;
  }
  return crlf > lf ? '\r\n' : '\n';
}

function rebuild(doc: IniDocument, lines: { raw: string; eol: LineEnding }[]): IniDocument {
  return parseIni(lines.map((l) => l.raw + l.eol).join(''), doc.file);
}

function sectionKeyFor(header: string): string {
  const parsed = parseSectionHeaderName(header.trim());
  if (parsed.sdkKey === undefined) throw new Error(`[${header}] is not a section header the AWS SDK reads`);
  return parsed.sdkKey;
}

function checkKeyValue(key: string, value: string): void {
  if (!/^[^\s=[;#][^=\r\n]*$/.test(key) || key !== key.trim()) {
    throw new Error(`"${key}" cannot be written as a config key`);
  }
  if (value === '' || value !== value.trim() || /[\r\n]/.test(value) || COMMENT_RE.test(value)) {
    // Empty values open sub-sections and " #" starts a comment for the SDK: both would change the meaning.
    throw new Error(`the value for "${key}" cannot be written to the config file as is`);
  }
}

/** Index of the last line in the section that the SDK or CLI reads (so new keys go before trailing comments). */
function lastContentIndex(doc: IniDocument, section: IniSection): number {
  for (let i = section.endIndex - 1; i > section.startIndex; i--) {
    if (sdkTrimmedLine((doc.lines[i] as IniLine).raw) !== '') return i;
  }
  return section.startIndex;
}

function insertLine(
  doc: IniDocument,
  lines: { raw: string; eol: LineEnding }[],
  afterIndex: number,
  raw: string,
): { raw: string; eol: LineEnding }[] {
  const eol = dominantEol(doc);
  const out = lines.slice();
  const prev = out[afterIndex];
  let newEol: LineEnding = eol;
  if (prev && prev.eol === '') {
    out[afterIndex] = { raw: prev.raw, eol };
    newEol = '';
  }
  out.splice(afterIndex + 1, 0, { raw, eol: newEol });
  return out;
}

/**
 * Sets a top-level key in a section (header as written inside the brackets: `profile dev`, `default`,
 * `sso-session corp`). Replaces the value that currently wins (the last definition) in place, keeping the
 * spacing and any trailing comment; otherwise adds `key = value` after the section's last setting.
 */
export function setKey(doc: IniDocument, header: string, key: string, value: string): IniDocument {
  checkKeyValue(key, value);
  const sdkKey = sectionKeyFor(header);
  const targets = doc.sections.filter((s) => s.header.sdkKey === sdkKey);
  const last = targets[targets.length - 1];
  if (!last) throw new Error(`no [${header}] section; use appendSection to add it`);
  const lines = doc.lines.map((l) => ({ raw: l.raw, eol: l.eol }));
  let found: IniEntry | undefined;
  for (const s of targets)
    for (const e of s.entries) if (e.subSection === undefined && e.key === key) found = e;
  if (found) {
    const idx = found.lineNo - 1;
    const raw = (lines[idx] as { raw: string }).raw;
    const kept = raw.split(COMMENT_RE)[0] ?? '';
    const eq = raw.indexOf('=');
    const afterEq = kept.substring(eq + 1);
    const valueStart = eq + 1 + (afterEq.length - afterEq.trimStart().length);
    const valueEnd = kept.trimEnd().length;
    (lines[idx] as { raw: string }).raw = raw.slice(0, valueStart) + value + raw.slice(valueEnd);
    return rebuild(doc, lines);
  }
  return rebuild(doc, insertLine(doc, lines, lastContentIndex(doc, last), `${key} = ${value}`));
}

/** Removes every top-level definition of `key` in the section. */
export function removeKey(doc: IniDocument, header: string, key: string): IniDocument {
  const sdkKey = sectionKeyFor(header);
  const drop = new Set<number>();
  for (const s of doc.sections) {
    if (s.header.sdkKey !== sdkKey) continue;
    for (const e of s.entries) if (e.subSection === undefined && e.key === key) drop.add(e.lineNo);
  }
  const lines = doc.lines.filter((l) => !drop.has(l.lineNo)).map((l) => ({ raw: l.raw, eol: l.eol }));
  return rebuild(doc, lines);
}

/** Appends `[header]` with its entries at the end of the file, separated by a blank line. */
export function appendSection(
  doc: IniDocument,
  header: string,
  entries: Iterable<readonly [string, string]> | Record<string, string>,
): IniDocument {
  const sdkKey = sectionKeyFor(header);
  if (doc.sections.some((s) => s.header.sdkKey === sdkKey)) {
    throw new Error(`[${header}] already exists; use setKey to change it`);
  }
  const pairs = Symbol.iterator in entries ? [...entries] : Object.entries(entries);
  for (const [k, v] of pairs) checkKeyValue(k, v);
  const eol = dominantEol(doc);
  const lines = doc.lines.map((l) => ({ raw: l.raw, eol: l.eol }));
  const last = lines[lines.length - 1];
  if (last) {
    if (last.eol === '') last.eol = eol;
    if (last.raw.trim() !== '') lines.push({ raw: '', eol });
  }
  lines.push({ raw: `[${header.trim()}]`, eol });
  for (const [k, v] of pairs) lines.push({ raw: `${k} = ${v}`, eol });
  return rebuild(doc, lines);
}
