// Whose code threw an error that no hook caught (a plugin's timer, an unhandled rejection): read from the
// error's stack. A hook's failure is tagged with its plugin by the engine; code running outside any hook
// can only be recognised by where it lives.
import { dirname, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export type FaultOrigin =
  /** A built-in plugin (its folder under plugins/ is its name). */
  | { kind: 'plugin'; name: string }
  /** The config file or code it imported from beside it (a team's plugin file). */
  | { kind: 'config'; file: string }
  /** Only stormtunnel's own code is on the stack. */
  | { kind: 'internal' }
  | { kind: 'unknown' };

export interface KnownCode {
  /** stormtunnel's package folder. */
  packageRoot: string;
  /** JS/TS config files loaded in this process: absolute path and the name shown to the user. */
  configs: readonly { path: string; shown: string }[];
}

/** Absolute file paths of the stack's frames, innermost first (file: URLs and plain paths alike). */
export function stackFiles(stack: string): string[] {
  const files: string[] = [];
  for (const line of stack.split('\n')) {
    if (!/^\s+at /.test(line)) continue;
    // "at fn (file:///a/b.js:1:2)", "at file:///a/b.js:1:2", "at /a/b.js:1:2"; a bundled config is
    // "file:///a/stormtunnel.config.ts?bundled=1:3:4".
    const m = /(?:\(|at (?:async )?)((?:file:\/\/)?\/[^()]*?)(?:\?[^:()]*)?:\d+:\d+\)?\s*$/.exec(line);
    if (!m) continue;
    try {
      files.push(m[1]!.startsWith('file:') ? fileURLToPath(m[1]!) : m[1]!);
    } catch {
      // not a file URL we can read
    }
  }
  return files;
}

export function faultOrigin(err: unknown, known: KnownCode): FaultOrigin {
  const stack = (err as { stack?: unknown } | null)?.stack;
  if (typeof stack !== 'string') return { kind: 'unknown' };
  const root = known.packageRoot.endsWith(sep) ? known.packageRoot : known.packageRoot + sep;
  let ours = false;
  for (const file of stackFiles(stack)) {
    const inPackage = file.startsWith(root) ? file.slice(root.length).split(sep) : undefined;
    if (inPackage && inPackage[0] !== 'node_modules') {
      const parts = inPackage[0] === 'dist' ? inPackage.slice(1) : inPackage;
      if (parts[0] === 'plugins' && parts.length > 2) return { kind: 'plugin', name: parts[1]! };
      if (parts[0] === 'src') {
        ours = true;
        continue;
      }
    }
    for (const config of known.configs) {
      const beside = dirname(config.path) + sep;
      if (file === config.path || (file.startsWith(beside) && !file.includes(`${sep}node_modules${sep}`)))
        return { kind: 'config', file: config.shown };
    }
  }
  return ours ? { kind: 'internal' } : { kind: 'unknown' };
}

/** Who failed, in the words of a one-line error. */
export function describeOrigin(origin: FaultOrigin): string {
  switch (origin.kind) {
    case 'plugin':
      return `plugin "${origin.name}"`;
    case 'config':
      return `code loaded by ${origin.file} (a plugin or the config)`;
    case 'internal':
      return 'stormtunnel itself (internal error)';
    case 'unknown':
      return 'a plugin or config code';
  }
}
