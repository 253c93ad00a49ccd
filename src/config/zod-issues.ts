// Zod issues as the one-line problems users read, for the config file and for plugin options alike:
// `tunnels[0].localPort: expected a port number ...`, `settings.retyr: unknown setting (did you mean "retry"?)`.
import type { z } from 'zod';
import { closest } from './suggest.js';

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}

export interface FormatIssuesOptions {
  /** Path of the validated value inside what the user wrote (e.g. ['tunnels', 2]). */
  prefix?: readonly PropertyKey[];
  /** The keys accepted where a key was not recognised, for "did you mean"; `level` is the dotted path without indexes. */
  knownKeys: (level: string) => readonly string[];
  /** What a key is called in messages ("setting", "option"). */
  noun: string;
  /** What to call the whole value when a problem has no path ("the config", "the options"). */
  whole: string;
}

export function formatIssues(issues: readonly z.core.$ZodIssue[], options: FormatIssuesOptions): string[] {
  const out: string[] = [];
  for (const issue of issues) {
    const path = [...(options.prefix ?? []), ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      const level = path.filter((p) => typeof p === 'string').join('.');
      const known = options.knownKeys(level);
      for (const key of issue.keys) {
        const hint = closest(key, known);
        const where = formatPath([...path, key]);
        out.push(
          `${where}: unknown ${options.noun}${hint ? ` (did you mean "${hint}"?)` : known.length ? `; known: ${known.join(', ')}` : ''}`,
        );
      }
    } else if (issue.code === 'invalid_type' && issue.expected === 'object') {
      out.push(`${formatPath(path) || options.whole}: expected an object`);
    } else if (issue.code === 'invalid_type' && issue.expected === 'array') {
      out.push(`${formatPath(path) || options.whole}: expected a list`);
    } else {
      out.push(`${formatPath(path) || options.whole}: ${issue.message}`);
    }
  }
  return out;
}

/** The keys of the object schema at `level` (dotted, no indexes) inside `schema`, looking through optionals and arrays. */
export function schemaKeysAt(schema: z.ZodType, level: string): readonly string[] {
  let s: unknown = schema;
  const unwrap = (v: unknown): unknown => {
    for (;;) {
      const def = (v as { _zod?: { def?: { innerType?: unknown; element?: unknown; type?: string } } })._zod
        ?.def;
      if (def?.innerType) v = def.innerType;
      else if (def?.type === 'array' && def.element) v = def.element;
      else return v;
    }
  };
  for (const part of level ? level.split('.') : []) {
    const shape = (unwrap(s) as { shape?: Record<string, unknown> }).shape;
    if (!shape?.[part]) return [];
    s = shape[part];
  }
  const shape = (unwrap(s) as { shape?: Record<string, unknown> }).shape;
  return shape ? Object.keys(shape) : [];
}
