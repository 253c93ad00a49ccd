// Finds and loads stormtunnel.config.* with cosmiconfig. TypeScript configs are bundled with esbuild (see
// importTs) so that sibling imports (a team's own plugin file) work under plain node.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as Esbuild from 'esbuild';
import { ConfigError } from '../engine/errors.js';
import type { StormtunnelPlugin } from '../engine/plugin.js';
import type { ResolvedConfig } from './types.js';
import { findJsonSyntaxError } from './json-syntax.js';
import { markConfigExitAttempt, rememberConfigCode } from './loaded-code.js';
import { oneLine } from '../text/shorten.js';
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
  /** How long a config's code may take to give its config (default CONFIG_SETTLE_TIMEOUT_MS). */
  settleTimeoutMs?: number;
}

/** A config that computes its settings (a network call, a prompt) gets this long before it is named. */
export const CONFIG_SETTLE_TIMEOUT_MS = 10_000;

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
 * TypeScript configs are bundled with esbuild (a dependency of ours, the version tsx uses) into one ES module:
 * the config and its local imports inlined, packages left to Node by absolute URL. tsx's `tsImport`
 * registers a loader thread for the rest of the process (~60 MB of a long-running `up`); this costs nothing
 * once imported. The bundle is imported from a data: URL, never written to disk, so nothing is left behind whatever the config does
 * (throws, hangs, is interrupted). Anything the bundle cannot give Node as plain JavaScript (a package
 * shipped as .ts) falls back to tsx.
 */
async function importTs(filepath: string, guard: ConfigGuard): Promise<unknown> {
  let bundled: string | undefined;
  try {
    bundled = await bundleTs(filepath);
  } catch (err) {
    if (!(err instanceof NeedsTsx)) throw err;
  }
  if (bundled !== undefined) {
    // sourceURL: stack frames name the config ("<config URL>?bundled=<n>:<line in the bundle>:<column>"),
    // not the data: URL with the whole bundle in it.
    // The counter makes every load evaluate the config again, as a new file did.
    const source = `${bundled}\n//# sourceURL=${pathToFileURL(filepath).href}?bundled=${++bundles}\n`;
    try {
      return await guard.evaluate(
        () =>
          import(
            `data:text/javascript;charset=utf-8,${encodeURIComponent(source)}`
          ) as Promise<ModuleNamespace>,
      );
    } catch (err) {
      if (!isUnknownExtension(err)) throw err;
    }
  }
  const { tsImport } = await import('tsx/esm/api');
  return guard.evaluate(
    () =>
      tsImport(pathToFileURL(filepath).href, {
        parentURL: import.meta.url,
        tsconfig: nearestTsconfig(filepath),
      }) as Promise<ModuleNamespace>,
  );
}

let bundles = 0;

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

type ModuleNamespace = { default?: unknown };

/**
 * Runs a JS/TS config's code and gets its config, bounded: while it runs, process.exit is intercepted (a
 * config must not end the CLI behind our back); a promise or function export that never settles is named
 * as the cause; a function that returns undefined is called exactly that.
 */
class ConfigGuard {
  constructor(
    private readonly shown: (filepath: string) => string,
    private readonly filepath: () => string,
    private readonly timeoutMs: number,
  ) {}

  async evaluate(load: () => Promise<ModuleNamespace>): Promise<unknown> {
    const file = this.shown(this.filepath());
    let stage = 'its top-level code did not finish';
    const run = async () => {
      let value = unwrapDefault(await load());
      if (isThenable(value)) {
        stage = 'the exported promise did not settle';
        value = await value;
      }
      if (typeof value !== 'function') return value;
      value = (value as () => unknown)();
      if (isThenable(value)) {
        stage = 'the promise of the exported function did not settle';
        value = await value;
      }
      if (value === undefined)
        throw new ConfigError(file, [
          'the exported function returned undefined; return the config, e.g. `return defineConfig({ tunnels: [] })`',
        ]);
      return value;
    };
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const s = Math.round(this.timeoutMs / 100) / 10;
        reject(
          new ConfigError(file, [
            `${stage} within ${s} s; check what it waits for (a network call, a prompt, a timer) or export the config object itself`,
          ]),
        );
      }, this.timeoutMs);
    });
    const exit = interceptExit(file);
    try {
      return await Promise.race([run(), timedOut, exit.attempted]);
    } finally {
      clearTimeout(timer);
      exit.restore();
    }
  }
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (
    (typeof v === 'object' || typeof v === 'function') &&
    v !== null &&
    typeof (v as { then?: unknown }).then === 'function'
  );
}

// Loads in progress, each told when config code calls process.exit. process.exit is replaced while any
// runs and put back when the last one ends.
const exitWatchers = new Set<(code: number | string | null | undefined) => ConfigError>();
let realExit: typeof process.exit | undefined;

function interceptExit(file: string): { attempted: Promise<never>; restore: () => void } {
  let onExit!: (err: ConfigError) => void;
  const attempted = new Promise<never>((_, reject) => (onExit = reject));
  // Nobody may be listening any more when the load has already failed for another reason.
  attempted.catch(() => undefined);
  const watcher = (code: number | string | null | undefined) => {
    const err = new ConfigError(file, [
      `its code called process.exit(${code ?? ''}) while the config loaded; a config must export its settings, not end the process`,
    ]);
    onExit(err);
    return err;
  };
  if (exitWatchers.size === 0) {
    // eslint-disable-next-line @typescript-eslint/unbound-method -- kept to be put back as it was, not called
    realExit = process.exit;
    process.exit = (code?: number | string | null): never => {
      let err: ConfigError | undefined;
      for (const w of exitWatchers) err ??= w(code);
      // Like exit, the caller's code does not go on.
      const thrown = err ?? new Error('process.exit');
      markConfigExitAttempt(thrown);
      throw thrown;
    };
  }
  exitWatchers.add(watcher);
  return {
    attempted,
    restore: () => {
      exitWatchers.delete(watcher);
      if (exitWatchers.size === 0 && realExit) {
        process.exit = realExit;
        realExit = undefined;
      }
    },
  };
}

function unwrapDefault(mod: ModuleNamespace): unknown {
  let value = 'default' in mod ? mod.default : mod;
  // tsx may wrap CommonJS-style output once more.
  if (value && typeof value === 'object' && 'default' in value && Object.keys(value).length === 1) {
    value = value.default;
  }
  return value;
}

/** JSON with the line, column and reason of a syntax error (which Node's JSON.parse does not give). */
function loadJson(shown: (filepath: string) => string) {
  return (filepath: string, content: string): unknown => {
    const text = content.charCodeAt(0) === 0xfeff ? content.slice(1) : content;
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      const at = findJsonSyntaxError(text);
      if (!at) throw err;
      throw syntaxError(shown(filepath), at.line, at.column, at.reason);
    }
  };
}

/** YAML through cosmiconfig's loader (js-yaml), its error's mark turned into line and column. */
function loadYaml(shown: (filepath: string) => string, yaml: (filepath: string, content: string) => unknown) {
  return async (filepath: string, content: string): Promise<unknown> => {
    try {
      return await yaml(filepath, content);
    } catch (err) {
      const e = err as { mark?: { line?: unknown; column?: unknown }; reason?: unknown };
      if (
        typeof e.mark?.line !== 'number' ||
        typeof e.mark.column !== 'number' ||
        typeof e.reason !== 'string'
      )
        throw err;
      throw syntaxError(shown(filepath), e.mark.line + 1, e.mark.column + 1, e.reason);
    }
  };
}

function syntaxError(file: string, line: number, column: number, reason: string): ConfigError {
  return new ConfigError(`${file}:${line}:${column}`, [`${oneLine(reason, 120)}; fix the syntax`]);
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
  const shown = (filepath: string) => displayPath(filepath, cwd);
  // The file being loaded (cosmiconfig calls one loader at a time), for messages about its code.
  let loading = '';
  const guard = new ConfigGuard(shown, () => loading, options.settleTimeoutMs ?? CONFIG_SETTLE_TIMEOUT_MS);
  const js = (filepath: string) => {
    loading = filepath;
    rememberConfigCode(filepath, shown(filepath));
    return guard.evaluate(() => import(pathToFileURL(filepath).href) as Promise<ModuleNamespace>);
  };
  const ts = (filepath: string) => {
    loading = filepath;
    rememberConfigCode(filepath, shown(filepath));
    return importTs(filepath, guard);
  };
  const yaml = loadYaml(shown, defaultLoaders['.yaml']);
  const explorer = cosmiconfig(MODULE_NAME, {
    searchPlaces: SEARCH_PLACES,
    searchStrategy: 'global',
    loaders: {
      ...defaultLoaders,
      '.ts': ts,
      '.mts': ts,
      '.js': js,
      '.mjs': js,
      '.cjs': js,
      '.json': loadJson(shown),
      '.yaml': yaml,
      '.yml': yaml,
      noExt: yaml,
    },
  });

  let result: { config: unknown; filepath: string; isEmpty?: boolean } | null;
  const explicit = options.file ? resolve(cwd, options.file) : undefined;
  const shownExplicit = explicit ? shown(explicit) : undefined;
  try {
    if (explicit) {
      if (!existsSync(explicit)) {
        throw new ConfigError(shownExplicit!, ['file not found'], {
          hint: 'check the path given to --config',
        });
      }
      result = await explorer.load(explicit);
    } else {
      result = await explorer.search(cwd);
    }
  } catch (err) {
    if (err instanceof ConfigError || (err as { name?: unknown } | null)?.name === 'ConfigError') throw err;
    const failed = (err as { filepath?: string }).filepath;
    const file = shownExplicit ?? (failed ? shown(failed) : 'stormtunnel config');
    const syntax = esbuildSyntaxError(err, cwd);
    if (syntax) throw syntax;
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

/** A TS/JS syntax error from esbuild (the bundle) as `<file>:<line>:<col>: <reason>; fix the syntax`. */
function esbuildSyntaxError(err: unknown, cwd: string): ConfigError | undefined {
  const first = (err as { errors?: { text?: unknown; location?: unknown }[] } | null)?.errors?.[0];
  const loc = first?.location as { file?: unknown; line?: unknown; column?: unknown } | null | undefined;
  if (typeof first?.text === 'string' && typeof loc?.file === 'string' && typeof loc.line === 'number') {
    // esbuild's paths are relative to its working folder, ours; columns are 0-based.
    const file = displayPath(resolve(loc.file), cwd);
    return syntaxError(file, loc.line, Number(loc.column) + 1, first.text);
  }
  // tsx (the fallback): "Transform failed with 1 error:\n/path/file.ts:3:0: ERROR: Expected ..."
  const msg = err instanceof Error ? err.message : '';
  const m = /^(.+?):(\d+):(\d+): ERROR: (.*)$/m.exec(msg);
  if (m) return syntaxError(displayPath(resolve(m[1]!), cwd), Number(m[2]), Number(m[3]) + 1, m[4]!);
  return undefined;
}

/** One line saying why a config file could not be loaded (a throw, a missing import, a plugin's options). */
function loadFailure(err: unknown): string {
  if (err && typeof err === 'object' && 'exitCode' in err && err.exitCode === 2) {
    return (err as unknown as Error).message; // a plugin factory rejected its options
  }
  const msg = err instanceof Error ? err.message : String(err);
  const first = msg.split('\n').find((l) => l.trim()) ?? msg;
  return `could not load: ${oneLine(first, 200)}`;
}
