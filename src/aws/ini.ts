// Lossless model of an AWS shared config/credentials file. Every line is kept as written (with its line ending)
// so an edited document serializes byte-identical outside the edited lines. Names and values are read the way
// the AWS CLI reads them (botocore's configloader over Python's configparser.RawConfigParser): full-line
// comments only, `=` or `:` between key and value, lower-cased keys, indented continuation lines, a [DEFAULT]
// section that applies to every section, `[profile NAME]` names split like a shell does. Where the AWS CLI
// refuses the whole file (duplicate sections or keys, a line it cannot parse, a BOM) we add an error that says
// so, and still read the rest so that no profile the user has disappears from view.
import {
  isPySpace,
  pyFirstNonSpace,
  pyLower,
  pyRstrip,
  pySplitlines,
  pyStrip,
  shlexSplit,
} from './botocore-text.js';
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

const PREFIXES: readonly SectionPrefix[] = ['profile', 'sso-session', 'services'];
/** configparser's defaults section: its keys apply to every section of the same file. */
export const DEFAULTS_SECTION = 'DEFAULT';
const CLI_REFUSES = 'the AWS CLI cannot read this file either';

/**
 * How botocore's `build_profile_map` files a config-file section: `[default]` and `[profile NAME]` are
 * `profile.NAME`, `[sso-session NAME]` and `[services NAME]` keep their prefix, anything else keeps its name.
 * A header that starts with a prefix but does not split into exactly two words is dropped (key undefined).
 */
export function parseSectionHeaderName(sectionName: string): Omit<IniSectionHeader, 'lineNo'> {
  const base = { rawName: sectionName, prefix: undefined, name: sectionName };
  if (sectionName === DEFAULTS_SECTION) return { ...base, key: undefined };
  // botocore tests startsWith, so `[profiles dev]` is profile "dev" and `[profile.dev]` is dropped.
  const prefix = PREFIXES.find((p) => sectionName.startsWith(p));
  if (prefix !== undefined) {
    const words = shlexSplit(sectionName);
    if (words?.length !== 2) return { ...base, key: undefined };
    const name = words[1] as string;
    return { rawName: sectionName, key: `${prefix}.${name}`, prefix, name };
  }
  if (sectionName === 'default') return { ...base, key: 'profile.default', prefix: 'profile' };
  return { ...base, key: sectionName };
}

/** Lines as Python's universal newlines split them: `\n`, `\r\n` and a lone `\r` each end a line. */
function splitLines(text: string): IniLine[] {
  const lines: IniLine[] = [];
  const re = /\r\n|\n|\r/g;
  let start = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    lines.push({ lineNo: lines.length + 1, raw: text.slice(start, m.index), eol: m[0] as LineEnding });
    start = m.index + m[0].length;
  }
  if (start < text.length) lines.push({ lineNo: lines.length + 1, raw: text.slice(start), eol: '' });
  return lines;
}

/** Index of the first `=` or `:` (configparser's delimiters; the first one wins), or -1. */
function delimiterIndex(line: string): number {
  for (let i = 0; i < line.length; i++) if (line[i] === '=' || line[i] === ':') return i;
  return -1;
}

/** Whitespace then `#` or `;` inside a value: a comment for other tools, part of the value for the AWS CLI. */
function hasInlineComment(value: string): boolean {
  for (let i = 1; i < value.length; i++)
    if ((value[i] === '#' || value[i] === ';') && isPySpace(value[i - 1] as string)) return true;
  return false;
}

/** An option being read: its first line and the stripped continuation lines configparser joins to it. */
interface OpenOption {
  section: IniSection;
  key: string;
  lineNo: number;
  parts: { text: string; lineNo: number }[];
}

export function parseIni(text: string, file: string): IniDocument {
  const lines = splitLines(text);
  const sections: IniSection[] = [];
  const diagnostics: ConfigDiagnostic[] = [];
  const diag = (severity: ConfigDiagnostic['severity'], line: number, message: string, key?: string) =>
    diagnostics.push({ severity, file, line, message, ...(key !== undefined ? { key } : {}) });

  let current: IniSection | undefined;
  let option: OpenOption | undefined;
  // configparser's indent_level: the indent of the last header or option line.
  let indentLevel = 0;
  const options: OpenOption[] = [];
  const firstHeaderLine = new Map<string, number>();
  const keyLines = new Map<string, Map<string, number>>();

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as IniLine;
    const { lineNo } = line;
    let raw = line.raw;
    if (i === 0 && raw.startsWith('\ufeff')) {
      // Python opens the file as plain UTF-8, so the BOM is text before the first header and the AWS CLI
      // refuses the file. We read past it (nothing is lost) but say so: the user shares this file with the CLI.
      diag(
        'error',
        lineNo,
        `the file starts with a byte order mark (BOM); ${CLI_REFUSES}; save it as UTF-8 without BOM`,
      );
      raw = raw.slice(1);
    }
    const stripped = pyStrip(raw);
    if (stripped.startsWith('#') || stripped.startsWith(';')) continue;
    if (stripped === '') {
      // A blank line inside a multi-line value is part of it (configparser's empty_lines_in_values).
      if (current && option) option.parts.push({ text: '', lineNo });
      continue;
    }
    const indent = pyFirstNonSpace(raw);
    if (current && option && indent > indentLevel) {
      option.parts.push({ text: stripped, lineNo });
      continue;
    }
    indentLevel = indent;

    const close = stripped.lastIndexOf(']');
    if (stripped[0] === '[' && close >= 2) {
      if (current) current.endIndex = i;
      option = undefined;
      const header: IniSectionHeader = { lineNo, ...parseSectionHeaderName(stripped.slice(1, close)) };
      const first = firstHeaderLine.get(header.rawName);
      if (first !== undefined && header.rawName !== DEFAULTS_SECTION) {
        diag(
          'error',
          lineNo,
          `section [${header.rawName}] repeats the section at line ${first}; ${CLI_REFUSES}; merge them into one section`,
        );
      } else if (first === undefined) firstHeaderLine.set(header.rawName, lineNo);
      current = { header, startIndex: i, endIndex: lines.length, entries: [], subSectionStarts: [] };
      sections.push(current);
      continue;
    }
    if (!current) {
      diag(
        'error',
        lineNo,
        `text before the first [section] header; ${CLI_REFUSES}; move it under a section or comment it out with #`,
      );
      continue;
    }
    const d = delimiterIndex(stripped);
    if (d === -1) {
      // configparser keeps the open option here, so a following indented line still continues it.
      diag(
        'error',
        lineNo,
        stripped[0] === '['
          ? `section header has no closing "]"; ${CLI_REFUSES}; write it as [profile name]`
          : `not a "key = value" line, a [section] header or a comment; ${CLI_REFUSES}; fix it or comment it out with #`,
      );
      continue;
    }
    const key = pyLower(pyRstrip(stripped.slice(0, d)));
    if (key === '') {
      diag(
        'error',
        lineNo,
        `a setting without a name before "${stripped[d] ?? '='}"; ${CLI_REFUSES}; add the key name`,
      );
      option = undefined;
      continue;
    }
    let seen = keyLines.get(current.header.rawName);
    if (!seen) keyLines.set(current.header.rawName, (seen = new Map<string, number>()));
    const previous = seen.get(key);
    if (previous !== undefined) {
      diag(
        'error',
        lineNo,
        `"${key}" is set again in [${current.header.rawName}] (first at line ${previous}; the AWS CLI ignores the case of keys); ${CLI_REFUSES}; keep one`,
        key,
      );
    } else seen.set(key, lineNo);
    option = { section: current, key, lineNo, parts: [{ text: pyStrip(stripped.slice(d + 1)), lineNo }] };
    options.push(option);
  }

  for (const o of options) finishOption(o, diag);
  return { file, lines, sections, diagnostics };
}

/** Joins an option's lines like configparser, then splits an indented `key =` block like botocore. */
function finishOption(
  o: OpenOption,
  diag: (severity: ConfigDiagnostic['severity'], line: number, message: string, key?: string) => void,
): void {
  // configparser joins with \n and strips the end, so trailing blank lines drop out.
  let last = o.parts.length - 1;
  while (last > 0 && (o.parts[last] as { text: string }).text === '') last--;
  const parts = o.parts.slice(0, last + 1);
  const first = parts[0] as { text: string };
  const endLineNo = (parts[parts.length - 1] as { lineNo: number }).lineNo;
  if (first.text !== '' || parts.length === 1) {
    const value = pyRstrip(parts.map((p) => p.text).join('\n'));
    o.section.entries.push({
      lineNo: o.lineNo,
      endLineNo,
      key: o.key,
      value,
      subSection: undefined,
      fullKey: o.key,
    });
    if (parts.length > 1) {
      diag(
        'warning',
        (parts[1] as { lineNo: number }).lineNo,
        `indented line: the AWS CLI reads it as more of the value of "${o.key}" (line ${o.lineNo}); remove the indentation if it is a setting of its own`,
        o.key,
      );
    }
    if (hasInlineComment(value)) {
      diag(
        'warning',
        o.lineNo,
        `"${o.key}": the AWS CLI keeps the text after # or ; in the value; put the comment on its own line`,
        o.key,
      );
    }
    return;
  }
  // An empty value followed by indented lines: botocore reads `sub = value` pairs (one level, keys as written).
  o.section.subSectionStarts.push({ lineNo: o.lineNo, key: o.key });
  for (const part of parts.slice(1)) {
    for (const piece of pySplitlines(part.text)) {
      const l = pyStrip(piece);
      if (l === '') continue;
      const eq = l.indexOf('=');
      if (eq === -1) {
        diag(
          'error',
          part.lineNo,
          `indented line under "${o.key} =" (line ${o.lineNo}) is not "key = value"; ${CLI_REFUSES}; write key = value or remove the indentation`,
          o.key,
        );
        continue;
      }
      const sub = pyStrip(l.slice(0, eq));
      const entry: IniEntry = {
        lineNo: part.lineNo,
        endLineNo: part.lineNo,
        key: sub,
        value: pyStrip(l.slice(eq + 1)),
        subSection: o.key,
        fullKey: `${o.key}.${sub}`,
      };
      o.section.entries.push(entry);
    }
  }
}

/** Sets an own property even for names such as `__proto__` that plain assignment would treat specially. */
function setOwn<T>(target: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** The option (top-level key) an entry belongs to: nested entries belong to their `key =` line. */
function optionOf(entry: IniEntry): string {
  return entry.subSection ?? entry.key;
}

/**
 * Section -> key -> `pick(entry)`, keyed by `keyOf(header)`. Repeated headers of one section are merged (the
 * AWS CLI refuses them; we keep everything the user wrote), [DEFAULT] keys fill options a section lacks, and
 * when two headers file under the same key the later one replaces the earlier, as in `build_profile_map`.
 */
function entryMap<T>(
  doc: IniDocument,
  keyOf: (header: IniSectionHeader) => string | undefined,
  pick: (entry: IniEntry) => T,
): Record<string, Record<string, T>> {
  const defaults = new Map<string, IniEntry[]>();
  const groups = new Map<string, { header: IniSectionHeader; entries: IniEntry[] }>();
  for (const section of doc.sections) {
    const name = section.header.rawName;
    if (name === DEFAULTS_SECTION) {
      for (const e of section.entries) defaults.set(optionOf(e), [...(defaults.get(optionOf(e)) ?? []), e]);
      continue;
    }
    const group = groups.get(name);
    if (group) group.entries.push(...section.entries);
    else groups.set(name, { header: section.header, entries: [...section.entries] });
  }
  const map: Record<string, Record<string, T>> = {};
  for (const { header, entries } of groups.values()) {
    const key = keyOf(header);
    if (key === undefined) continue;
    const values: Record<string, T> = {};
    for (const e of entries) setOwn(values, e.fullKey, pick(e));
    const own = new Set(entries.map(optionOf));
    for (const [opt, list] of defaults) {
      if (own.has(opt)) continue;
      for (const e of list) if (!Object.hasOwn(values, e.fullKey)) setOwn(values, e.fullKey, pick(e));
    }
    setOwn(map, key, values);
  }
  return map;
}

const configKey = (h: IniSectionHeader) => h.key;
const rawKey = (h: IniSectionHeader) => (h.rawName === DEFAULTS_SECTION ? undefined : h.rawName);

/** Config-file view: sections under `profile.NAME`, `sso-session.NAME`, `services.NAME` or their own name. */
export function documentToSections(doc: IniDocument): SectionMap {
  return entryMap(doc, configKey, (e) => e.value);
}

/** Same shape as `documentToSections`, giving the line number that defines each value. */
export function documentLineNumbers(doc: IniDocument): Record<string, Record<string, number>> {
  return entryMap(doc, configKey, (e) => e.lineNo);
}

/** botocore's `raw_config_parse`: sections under their names as written (the credentials file's view). */
export function documentRawSections(doc: IniDocument): SectionMap {
  return entryMap(doc, rawKey, (e) => e.value);
}

/** Same shape as `documentRawSections`, giving line numbers. */
export function documentRawLineNumbers(doc: IniDocument): Record<string, Record<string, number>> {
  return entryMap(doc, rawKey, (e) => e.lineNo);
}

/** The last header filed under `key` in the config-file view (the one whose keys count), if any. */
export function winningHeader(doc: IniDocument, key: string): IniSectionHeader | undefined {
  let found: IniSectionHeader | undefined;
  for (const s of doc.sections) if (s.header.key === key) found = s.header;
  return found;
}

/**
 * Profiles by name plus `sso-session.NAME` and `services.NAME` sections, from a `documentToSections` map
 * (other sections dropped): `profile.dev` becomes `dev`.
 */
export function configFileView<T = Record<string, string>>(sections: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [key, value] of Object.entries(sections)) {
    const dot = key.indexOf('.');
    if (dot === -1) continue;
    const prefix = key.substring(0, dot);
    if (!(PREFIXES as readonly string[]).includes(prefix)) continue;
    setOwn(out, prefix === 'profile' ? key.substring(dot + 1) : key, value);
  }
  return out;
}

/** Later maps overlay earlier ones key by key (botocore's credentials-over-config profile merge). */
export function mergeSectionMaps<V = string>(
  ...maps: Record<string, Record<string, V>>[]
): Record<string, Record<string, V>> {
  const merged: Record<string, Record<string, V>> = {};
  for (const map of maps) {
    for (const [key, values] of Object.entries(map)) {
      setOwn(merged, key, Object.hasOwn(merged, key) ? { ...merged[key], ...values } : { ...values });
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

function dominantEol(doc: IniDocument): '\n' | '\r\n' | '\r' {
  const counts = { '\n': 0, '\r\n': 0, '\r': 0 };
  for (const l of doc.lines) if (l.eol !== '') counts[l.eol]++;
  if (counts['\r\n'] > counts['\n'] && counts['\r\n'] >= counts['\r']) return '\r\n';
  return counts['\r'] > counts['\n'] ? '\r' : '\n';
}

function rebuild(doc: IniDocument, lines: { raw: string; eol: LineEnding }[]): IniDocument {
  return parseIni(lines.map((l) => l.raw + l.eol).join(''), doc.file);
}

function sectionKeyFor(header: string): string {
  const parsed = parseSectionHeaderName(header.trim());
  if (parsed.key === undefined) throw new Error(`[${header}] is not a section header the AWS CLI reads`);
  return parsed.key;
}

function checkKeyValue(key: string, value: string): void {
  // The AWS CLI lower-cases keys and splits at the first = or :, and reads # and ; at the start of a line as
  // a comment: a key must survive all three.
  if (!/^[^\s=:[;#][^=:\r\n]*$/.test(key) || key !== key.trim() || key !== pyLower(key)) {
    throw new Error(`"${key}" cannot be written as a config key`);
  }
  if (value === '' || value !== pyStrip(value) || /[\r\n]/.test(value) || hasInlineComment(value)) {
    // An empty value opens a sub-section and " #" reads as a comment to other tools: both change the meaning.
    throw new Error(`the value for "${key}" cannot be written to the config file as is`);
  }
}

/** Index of the last line in the section that the SDK or CLI reads (so new keys go before trailing comments). */
function lastContentIndex(doc: IniDocument, section: IniSection): number {
  for (let i = section.endIndex - 1; i > section.startIndex; i--) {
    const text = pyStrip((doc.lines[i] as IniLine).raw);
    if (text !== '' && !text.startsWith('#') && !text.startsWith(';')) return i;
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
  const sectionKey = sectionKeyFor(header);
  const targets = doc.sections.filter((s) => s.header.key === sectionKey);
  const last = targets[targets.length - 1];
  if (!last) throw new Error(`no [${header}] section; use appendSection to add it`);
  const lines = doc.lines.map((l) => ({ raw: l.raw, eol: l.eol }));
  let found: IniEntry | undefined;
  for (const s of targets)
    for (const e of s.entries) if (e.subSection === undefined && e.key === key) found = e;
  if (found) {
    // The AWS CLI reads everything after the = (and any indented lines below) as the value: replace it all.
    const idx = found.lineNo - 1;
    const raw = (lines[idx] as { raw: string }).raw;
    const d = delimiterIndex(raw);
    const afterEq = raw.substring(d + 1);
    const valueStart = d + 1 + (afterEq.length - afterEq.trimStart().length);
    (lines[idx] as { raw: string }).raw = raw.slice(0, valueStart) + value;
    lines.splice(found.lineNo, found.endLineNo - found.lineNo);
    return rebuild(doc, lines);
  }
  return rebuild(doc, insertLine(doc, lines, lastContentIndex(doc, last), `${key} = ${value}`));
}

/** Removes every top-level definition of `key` in the section. */
export function removeKey(doc: IniDocument, header: string, key: string): IniDocument {
  const sectionKey = sectionKeyFor(header);
  const drop = new Set<number>();
  for (const s of doc.sections) {
    if (s.header.key !== sectionKey) continue;
    for (const e of s.entries)
      if (e.subSection === undefined && e.key === key)
        for (let n = e.lineNo; n <= e.endLineNo; n++) drop.add(n);
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
  const sectionKey = sectionKeyFor(header);
  if (doc.sections.some((s) => s.header.key === sectionKey)) {
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
