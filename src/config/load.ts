// Finds and loads stormtunnel.config.* with cosmiconfig. TypeScript configs are bundled with esbuild (see
// importTs) so that sibling imports (a team's own plugin file) work under plain node.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as Esbuild from 'esbuild';
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

/**
 * TypeScript configs are bundled with esbuild (the one tsx brings) into a temporary .mjs: the config and
 * its local imports inlined, packages left to Node by absolute URL. tsx's `tsImport` registers a loader
 * thread for the rest of the process (~60 MB of a long-running `up`); this costs nothing once imported.
 * Anything the bundle cannot give Node as plain JavaScript (a package shipped as .ts) falls back to tsx.
 */
async function importTs(filepath: string): Promise<unknown> {
  let bundled: string | undefined;
  try {
    bundled = await bundleTs(filepath);
  } catch (err) {
    if (!(err instanceof NeedsTsx)) throw err;
  }
  if (bundled !== undefined) {
    const out = join(mkdtempSync(join(tmpdir(), 'stormtunnel-config-')), `${basename(filepath)}.mjs`);
    writeFileSync(out, bundled, { mode: 0o600 });
    try {
      return unwrapDefault((await import(pathToFileURL(out).href)) as { default?: unknown });
    } catch (err) {
      if (!isUnknownExtension(err)) throw err;
    } finally {
      rmSync(dirname(out), { recursive: true, force: true });
    }
  }
  const { tsImport } = await import('tsx/esm/api');
  const mod = (await tsImport(pathToFileURL(filepath).href, {
    parentURL: import.meta.url,
    tsconfig: nearestTsconfig(filepath),
  })) as { default?: unknown };
  return unwrapDefault(mod);
}

class NeedsTsx extends Error {}

function isUnknownExtension(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'ERR_UNKNOWN_FILE_EXTENSION';
}

/** This running stormtunnel's own entry point: what a config's `import ... from 'stormtunnel'` gets. */
const SELF = new URL(`../index${extname(fileURLToPath(import.meta.url))}`, import.meta.url).href;
const SOURCE_EXT = /\.[cm]?tsx?$/;

async function bundleTs(filepath: string): Promise<string> {
  let esbuild: typeof Esbuild;
  try {
    // esbuild comes with tsx (our dependency); resolve it from there rather than rely on hoisting.
    const fromTsx = createRequire(createRequire(import.meta.url).resolve('tsx/esm/api'));
    esbuild = (await import(pathToFileURL(fromTsx.resolve('esbuild')).href)) as typeof Esbuild;
  } catch {
    throw new NeedsTsx();
  }
  const external: Esbuild.Plugin = {
    name: 'stormtunnel-external-packages',
    setup(build) {
      build.onResolve({ filter: /^stormtunnel$/ }, () => ({ path: SELF, external: true }));
      // file: URLs (which Node and tsx take) name a file: bundled, or left to Node in a package.
      build.onResolve({ filter: /^file:/ }, (args) => {
        const path = fileURLToPath(args.path);
        if (!existsSync(path)) return undefined;
        return path.includes(`${sep}node_modules${sep}`) ? { path: args.path, external: true } : { path };
      });
      // Packages are imported by Node from where the config is, by absolute URL (the bundle lives in a
      // temporary folder). tsconfig `paths` to local files still bundle them.
      build.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.pluginData === 'resolving' || args.path.startsWith('node:')) return undefined;
        const r = await build.resolve(args.path, {
          kind: args.kind,
          importer: args.importer,
          resolveDir: args.resolveDir,
          pluginData: 'resolving',
        });
        if (r.errors.length > 0 || r.external || !r.path) return undefined;
        if (!r.path.includes(`${sep}node_modules${sep}`)) return undefined;
        if (SOURCE_EXT.test(r.path) && !r.path.endsWith('.d.ts')) throw new NeedsTsx();
        return { path: pathToFileURL(r.path).href, external: true };
      });
      // Each bundled file keeps its own import.meta.url / dirname / filename.
      build.onLoad({ filter: /\.[cm]?[jt]sx?$/ }, (args) => {
        const url = pathToFileURL(args.path).href;
        const text = readFileSync(args.path, 'utf8');
        const ext = extname(args.path).replace(/^\.[cm]?/, '');
        const loader = ext === 'ts' || ext === 'tsx' || ext === 'jsx' ? ext : 'js';
        if (!text.includes('import.meta')) return { contents: text, loader };
        const values = `const __stormtunnel_meta = { url: ${JSON.stringify(url)}, dirname: ${JSON.stringify(dirname(args.path))}, filename: ${JSON.stringify(args.path)} };`;
        return { contents: `${values}\n${text}`, loader };
      });
    },
  };
  try {
    const result = await esbuild.build({
      entryPoints: [filepath],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      // Node's conditions (esbuild adds "module" unless told otherwise).
      conditions: [],
      write: false,
      logLevel: 'silent',
      tsconfig: nearestTsconfig(filepath) || undefined,
      define: {
        'import.meta.url': '__stormtunnel_meta.url',
        'import.meta.dirname': '__stormtunnel_meta.dirname',
        'import.meta.filename': '__stormtunnel_meta.filename',
      },
      plugins: [external],
    });
    return result.outputFiles[0]!.text;
  } catch (err) {
    if (err instanceof NeedsTsx) throw err;
    const nested = (err as { errors?: { detail?: unknown }[] }).errors?.find(
      (e) => e.detail instanceof NeedsTsx,
    );
    if (nested) throw new NeedsTsx();
    // Whatever esbuild cannot resolve, tsx may (and otherwise says so itself).
    const unresolved = (err as { errors?: { text?: unknown }[] }).errors?.some(
      (e) => typeof e.text === 'string' && e.text.startsWith('Could not resolve'),
    );
    if (unresolved) throw new NeedsTsx();
    throw err;
  } finally {
    // The esbuild service process is not needed after the one build.
    await esbuild.stop();
  }
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
