// Finds and loads stormtunnel.config.* with cosmiconfig. TypeScript configs go through tsx's tsImport so
// that sibling imports (a team's own plugin file) work under plain node.
import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../engine/errors.js';
import type { StormtunnelPlugin } from '../engine/plugin.js';
import type { ResolvedConfig } from './types.js';
import { validateConfig } from './validate.js';

export const MODULE_NAME = 'stormtunnel';

export const SEARCH_PLACES = [
  'package.json',
  `.${MODULE_NAME}rc`,
  `.${MODULE_NAME}rc.json`,
  `.${MODULE_NAME}rc.yaml`,
  `.${MODULE_NAME}rc.yml`,
  `.${MODULE_NAME}rc.js`,
  `.${MODULE_NAME}rc.ts`,
  `.${MODULE_NAME}rc.mjs`,
  `.${MODULE_NAME}rc.cjs`,
  `${MODULE_NAME}.config.ts`,
  `${MODULE_NAME}.config.mts`,
  `${MODULE_NAME}.config.js`,
  `${MODULE_NAME}.config.mjs`,
  `${MODULE_NAME}.config.cjs`,
  `${MODULE_NAME}.config.json`,
  `${MODULE_NAME}.config.yaml`,
  `${MODULE_NAME}.config.yml`,
];

export interface LoadConfigOptions {
  /** An explicit file (--config); skips the search. */
  file?: string;
  /** Where the search starts (default: the current folder); it goes up to the home folder. */
  cwd?: string;
  /** The plugins used when a config has no `plugins` key. */
  builtins?: () => StormtunnelPlugin[];
}

/** The tsconfig.json that governs a config file (nearest one above it), so its `paths` apply. */
function nearestTsconfig(filepath: string): string | false {
  let dir = dirname(filepath);
  for (;;) {
    const candidate = join(dir, 'tsconfig.json');
    if (existsSync(candidate)) return candidate;
    const up = dirname(dir);
    if (up === dir) return false;
    dir = up;
  }
}

async function importTs(filepath: string): Promise<unknown> {
  const { tsImport } = await import('tsx/esm/api');
  const mod = (await tsImport(pathToFileURL(filepath).href, {
    parentURL: import.meta.url,
    tsconfig: nearestTsconfig(filepath),
  })) as { default?: unknown };
  return unwrapDefault(mod);
}

async function importJs(filepath: string): Promise<unknown> {
  const mod = (await import(pathToFileURL(filepath).href)) as { default?: unknown };
  return unwrapDefault(mod);
}

async function unwrapDefault(mod: { default?: unknown }): Promise<unknown> {
  let value = 'default' in mod ? mod.default : mod;
  // tsx may wrap CommonJS-style output once more.
  if (value && typeof value === 'object' && 'default' in value && Object.keys(value).length === 1) {
    value = value.default;
  }
  // A config may export a (possibly async) function returning the config.
  if (typeof value === 'function') value = await (value as () => unknown)();
  return value;
}

export function displayPath(file: string, cwd = process.cwd()): string {
  const rel = relative(cwd, file);
  return rel && !rel.startsWith('..') ? rel : file;
}

/** Loads, validates and resolves the config. No config file means the built-in defaults. */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<ResolvedConfig> {
  const cwd = options.cwd ?? process.cwd();
  const builtins = options.builtins ?? (() => []);
  const { cosmiconfig, defaultLoaders } = await import('cosmiconfig');
  const explorer = cosmiconfig(MODULE_NAME, {
    searchPlaces: SEARCH_PLACES,
    searchStrategy: 'global',
    loaders: {
      ...defaultLoaders,
      '.ts': importTs,
      '.mts': importTs,
      '.js': importJs,
      '.mjs': importJs,
    },
  });

  let result: { config: unknown; filepath: string; isEmpty?: boolean } | null;
  const explicit = options.file ? resolve(cwd, options.file) : undefined;
  const shown = explicit ? displayPath(explicit, cwd) : undefined;
  try {
    if (explicit) {
      if (!existsSync(explicit)) {
        throw new ConfigError(shown!, ['file not found'], { hint: 'check the path given to --config' });
      }
      result = await explorer.load(explicit);
    } else {
      result = await explorer.search(cwd);
    }
  } catch (err) {
    if (err instanceof ConfigError || (err as { name?: unknown } | null)?.name === 'ConfigError') throw err;
    const failed = (err as { filepath?: string }).filepath;
    const file = shown ?? (failed ? displayPath(failed, cwd) : 'stormtunnel config');
    throw new ConfigError(file, [loadFailure(err)], { cause: err });
  }
  if (!result) return validateConfig({}, undefined, builtins);
  const file = displayPath(result.filepath, cwd);
  if (result.isEmpty)
    throw new ConfigError(file, [
      'the file is empty; export a config, e.g. `export default defineConfig({ tunnels: [] })`',
    ]);
  return validateConfig(result.config, file, builtins);
}

/** One line saying why a config file could not be loaded (syntax error, a plugin's bad options...). */
function loadFailure(err: unknown): string {
  if (err && typeof err === 'object' && 'exitCode' in err && err.exitCode === 2) {
    return (err as unknown as Error).message; // a plugin factory rejected its options
  }
  const msg = err instanceof Error ? err.message : String(err);
  // esbuild (through tsx): "Transform failed with 1 error:\n/path/file.ts:3:0: ERROR: Expected ..."
  const esbuild = /:(\d+):(\d+): ERROR: (.*)/.exec(msg);
  if (esbuild) return `line ${esbuild[1]}, column ${Number(esbuild[2]) + 1}: ${esbuild[3]}`;
  const first = msg.split('\n').find((l) => l.trim()) ?? msg;
  return `could not load: ${first.trim()}`;
}
