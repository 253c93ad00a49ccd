// What `npm pack` puts in the tarball and what installing it runs: no build step at install time (the
// tarball carries dist/, built by prepack), and the docs, examples, schemas and LICENSE the README links to.
// The install itself (`npm install -g ./stormtunnel-*.tgz`, then `stormtunnel demo`) is scripts/check-install.sh.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { REPO_ROOT } from '../helpers/cli.js';

interface PackResult {
  files: { path: string }[];
}

test('installing runs no build: no install-time lifecycle script; prepack builds dist/', () => {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
    files: string[];
  };
  for (const hook of ['preinstall', 'install', 'postinstall', 'prepare']) {
    assert.is(pkg.scripts[hook], undefined, `${hook} runs when the tarball is installed`);
  }
  assert.match(pkg.scripts.prepack ?? '', /build/);
  assert.ok(pkg.files.includes('dist'));
});

test('the tarball carries LICENSE, docs, examples and schemas (the README links to them)', () => {
  // --ignore-scripts: list the files without building (dist/ is what prepack adds).
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, npm_config_update_notifier: 'false' },
  });
  assert.is(r.status, 0, r.stderr);
  const [pack] = JSON.parse(r.stdout) as PackResult[];
  const paths = new Set(pack?.files.map((f) => f.path));
  for (const p of [
    'LICENSE',
    'README.md',
    'bin/stormtunnel.js',
    'docs/troubleshooting.md',
    'docs/json-output.md',
    'examples/stormtunnel.config.ts',
    'schemas/status.schema.json',
  ]) {
    assert.ok(paths.has(p), `${p} is not in the tarball`);
  }
  // The README's relative links resolve inside the installed package.
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  for (const m of readme.matchAll(/\]\(((?:docs|examples|schemas)\/[^)#\s]+)/g)) {
    assert.ok(paths.has(m[1]!), `README links to ${m[1]}, which the tarball lacks`);
  }
  assert.not.ok(
    [...paths].some((p) => p.startsWith('test/') || p.startsWith('.tmp/')),
    'tests are not shipped',
  );
});

test.run();
