// Adds a tunnel to stormtunnel.config.ts: into its literal `tunnels: [...]` array when that can be done
// safely (one such array, found by a scanner that skips strings and comments, and the edited file loads and
// has the tunnel), otherwise the snippet to paste and why. A missing config is created with defineConfig.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { writeFileAtomic } from '../aws/index.js';
import { loadConfig } from '../config/load.js';
import type { StormtunnelPlugin } from '../engine/plugin.js';
import type { TunnelConfigResult, TunnelSpec } from './types.js';

const EDITABLE = new Set(['.ts', '.mts', '.js', '.mjs', '.cjs']);
export const DEFAULT_CONFIG_NAME = 'stormtunnel.config.ts';

function quote(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** The tunnel as an object literal, each line indented by `indent`, in Prettier's style. */
export function tunnelLiteral(spec: TunnelSpec, indent = ''): string {
  const fields: [string, string][] = [
    ['name', quote(spec.name)],
    ['profile', quote(spec.profile)],
    ...(spec.region ? ([['region', quote(spec.region)]] as [string, string][]) : []),
    ['target', quote(spec.target)],
    ...(spec.remoteHost ? ([['remoteHost', quote(spec.remoteHost)]] as [string, string][]) : []),
    ['remotePort', String(spec.remotePort)],
    ['localPort', String(spec.localPort)],
  ];
  return [`{`, ...fields.map(([k, v]) => `  ${k}: ${v},`), `}`]
    .map((l, i) => (i ? indent + l : l))
    .join('\n');
}

export function newConfigText(spec: TunnelSpec, withImport: boolean): string {
  const body = `{\n  tunnels: [\n    ${tunnelLiteral(spec, '    ')},\n  ],\n}`;
  return withImport
    ? `// stormtunnel config: the tunnels \`stormtunnel up\` starts.\nimport { defineConfig } from 'stormtunnel';\n\nexport default defineConfig(${body});\n`
    : `// stormtunnel config: the tunnels \`stormtunnel up\` starts. With stormtunnel installed in this folder,\n// \`import { defineConfig } from 'stormtunnel'\` and \`export default defineConfig({...})\` add type checking.\nexport default ${body};\n`;
}

// ---------------------------------------------------------------- scanner

interface Token {
  /** A significant character (not in a string or comment) and its offset. */
  ch: string;
  at: number;
}

/** Offsets of code characters, skipping strings, template literals and comments. Undefined when unbalanced. */
function codeChars(text: string): Token[] | undefined {
  const out: Token[] = [];
  let i = 0;
  const n = text.length;
  const skipString = (q: string): boolean => {
    i++;
    while (i < n) {
      const c = text[i];
      if (c === '\\') i += 2;
      else if (c === q) {
        i++;
        return true;
      } else if (c === '\n' && q !== '`') return false;
      else if (q === '`' && c === '$' && text[i + 1] === '{')
        return false; // interpolation: not a literal we edit
      else i++;
    }
    return false;
  };
  while (i < n) {
    const c = text[i] as string;
    const d = text[i + 1];
    if (c === '/' && d === '/') {
      while (i < n && text[i] !== '\n') i++;
    } else if (c === '/' && d === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end === -1) return undefined;
      i = end + 2;
    } else if (c === "'" || c === '"' || c === '`') {
      const start = i;
      if (!skipString(c)) return undefined;
      out.push({ ch: 'S', at: start });
    } else {
      if (!/\s/.test(c)) out.push({ ch: c, at: i });
      i++;
    }
  }
  return out;
}

export type Insertion = { ok: true; text: string } | { ok: false; reason: string };

/** Inserts the tunnel as the last element of the file's one literal `tunnels: [...]` array. */
export function insertTunnel(text: string, spec: TunnelSpec): Insertion {
  const tokens = codeChars(text);
  if (!tokens)
    return { ok: false, reason: 'the file has a string, template or comment the editor cannot follow' };
  // `tunnels` as an identifier or a quoted key, then `:` then `[`.
  const starts: number[] = [];
  for (let t = 0; t < tokens.length; t++) {
    const tok = tokens[t] as Token;
    let keyEnd: number | undefined;
    if (
      text.startsWith('tunnels', tok.at) &&
      !/[\w$]/.test(text[tok.at - 1] ?? '') &&
      !/[\w$]/.test(text[tok.at + 7] ?? '')
    ) {
      keyEnd = t + 7;
    } else if (tok.ch === 'S' && /^(['"])tunnels\1/.test(text.slice(tok.at, tok.at + 9))) {
      keyEnd = t + 1;
    }
    if (keyEnd === undefined) continue;
    if (tokens[keyEnd]?.ch === ':') starts.push(keyEnd + 1);
  }
  if (starts.length !== 1) {
    return {
      ok: false,
      reason: starts.length ? 'it has more than one `tunnels:` property' : 'it has no `tunnels:` property',
    };
  }
  const open = starts[0] as number;
  if (tokens[open]?.ch !== '[') return { ok: false, reason: '`tunnels` is not a literal array `[...]`' };
  let depth = 0;
  let close = -1;
  for (let t = open; t < tokens.length; t++) {
    const ch = (tokens[t] as Token).ch;
    if (ch === '[' || ch === '{' || ch === '(') depth++;
    else if (ch === ']' || ch === '}' || ch === ')') depth--;
    if (depth === 0) {
      close = t;
      break;
    }
  }
  if (close === -1 || (tokens[close] as Token).ch !== ']')
    return { ok: false, reason: 'the `tunnels` array does not close where expected' };

  const openAt = tokens[open].at;
  const closeAt = (tokens[close] as Token).at;
  const lineStart = (at: number) => text.lastIndexOf('\n', at - 1) + 1;
  const indentOf = (at: number) => /^[ \t]*/.exec(text.slice(lineStart(at)))?.[0] ?? '';
  const baseIndent = indentOf(openAt);
  const first = tokens[open + 1] as Token;
  const elementIndent =
    close > open + 1 && lineStart(first.at) > openAt ? indentOf(first.at) : `${baseIndent}  `;
  const literal = tunnelLiteral(spec, elementIndent);

  if (close === open + 1) {
    // Empty array: `[]` or `[ /* comment */ ]`.
    const insert = `\n${elementIndent}${literal},\n${baseIndent}`;
    return { ok: true, text: text.slice(0, closeAt) + insert + text.slice(closeAt) };
  }
  const last = tokens[close - 1] as Token;
  const lastEnd = last.ch === 'S' ? endOfString(text, last.at) : last.at + 1;
  const comma = last.ch === ',' ? '' : ',';
  if (!text.slice(lastEnd, closeAt).includes('\n')) {
    // `]` right after the last element: put ours before it on the same line's terms.
    const insert = `${comma}\n${elementIndent}${literal},\n${baseIndent}`;
    return { ok: true, text: text.slice(0, lastEnd) + insert + text.slice(closeAt) };
  }
  // After the last element's line (a comment after it stays on its line).
  const eol = text.indexOf('\n', lastEnd);
  const insert = `\n${elementIndent}${literal},`;
  return {
    ok: true,
    text: text.slice(0, lastEnd) + comma + text.slice(lastEnd, eol) + insert + text.slice(eol),
  };
}

function endOfString(text: string, at: number): number {
  const q = text[at];
  let i = at + 1;
  while (i < text.length && text[i] !== q) i += text[i] === '\\' ? 2 : 1;
  return i + 1;
}

// ---------------------------------------------------------------- writing

export interface AddTunnelOptions {
  /** The config file in use (found by the search or given with --config), if any. */
  file: string | undefined;
  cwd: string;
  /** Plugins for loading the edited file to check it (the built-in set). */
  builtins?: () => StormtunnelPlugin[];
}

async function loadsWithTunnel(
  text: string,
  near: string,
  spec: TunnelSpec,
  options: AddTunnelOptions,
): Promise<string | undefined> {
  const ext = extname(near) || '.ts';
  const check = join(
    dirname(near),
    `.${basename(near, ext)}.stormtunnel-check-${randomBytes(4).toString('hex')}${ext}`,
  );
  await writeFile(check, text, { mode: 0o600, flag: 'wx' });
  try {
    const config = await loadConfig({
      file: check,
      cwd: options.cwd,
      ...(options.builtins ? { builtins: options.builtins } : {}),
    });
    const t = config.tunnels.find((x) => x.name === spec.name);
    if (!t || t.target !== spec.target || t.profile !== spec.profile)
      return 'the edited file does not yield the tunnel';
    return undefined;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await unlink(check).catch(() => undefined);
  }
}

export async function addTunnelToConfig(
  spec: TunnelSpec,
  options: AddTunnelOptions,
): Promise<TunnelConfigResult> {
  const snippet = tunnelLiteral(spec);
  const file = options.file ? resolve(options.cwd, options.file) : undefined;
  if (!file || !existsSync(file)) {
    const target = file ?? join(options.cwd, DEFAULT_CONFIG_NAME);
    if (!EDITABLE.has(extname(target))) {
      return {
        kind: 'snippet',
        file: target,
        reason: `${target} does not exist and is not a .ts/.js file`,
        snippet,
      };
    }
    // With defineConfig when 'stormtunnel' resolves from that folder; else a plain object that loads anywhere.
    for (const withImport of [true, false]) {
      const text = newConfigText(spec, withImport);
      if ((await loadsWithTunnel(text, target, spec, options)) === undefined) {
        await writeFile(target, text, { flag: 'wx' });
        return { kind: 'created', file: target };
      }
    }
    return { kind: 'snippet', file: target, reason: 'a new config file did not load', snippet };
  }
  if (!EDITABLE.has(extname(file))) {
    return { kind: 'snippet', file, reason: 'only .ts and .js configs are edited', snippet };
  }
  const before = await readFile(file, 'utf8');
  try {
    const current = await loadConfig({
      file,
      cwd: options.cwd,
      ...(options.builtins ? { builtins: options.builtins } : {}),
    });
    if (current.tunnels.some((t) => t.name === spec.name)) {
      return { kind: 'snippet', file, reason: `it already has a tunnel named "${spec.name}"`, snippet };
    }
  } catch (err) {
    return { kind: 'snippet', file, reason: `it does not load: ${(err as Error).message}`, snippet };
  }
  const inserted = insertTunnel(before, spec);
  if (!inserted.ok) return { kind: 'snippet', file, reason: inserted.reason, snippet };
  const problem = await loadsWithTunnel(inserted.text, file, spec, options);
  if (problem) return { kind: 'snippet', file, reason: `the edit would not load (${problem})`, snippet };
  const mode = (await stat(file)).mode & 0o777;
  await writeFileAtomic(`${file}.stormtunnel.bak`, before, { mode });
  await writeFileAtomic(file, inserted.text, { mode });
  return { kind: 'inserted', file };
}
