// Where stormtunnel's own package.json is: from src/ through tsx and from dist/ alike.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface PackageJson {
  name?: string;
  version?: string;
}

function readPackage(dir: string): PackageJson | undefined {
  const file = join(dir, 'package.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as PackageJson) : undefined;
}

/** The folder of stormtunnel's own package.json. */
export function packageRoot(from = fileURLToPath(import.meta.url)): string {
  let dir = dirname(from);
  for (;;) {
    if (readPackage(dir)?.name === 'stormtunnel') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the stormtunnel package folder');
    dir = up;
  }
}

/** The version in stormtunnel's package.json. */
export function packageVersion(): string {
  return readPackage(packageRoot())?.version ?? 'unknown';
}
