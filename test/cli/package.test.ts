// What `npm pack` puts in the tarball and what installing it runs: no build step at install time (the
// tarball carries dist/, built by prepack), and the docs, examples, schemas and LICENSE the README links to.
// The install itself (`npm install -g ./stormtunnel-*.tgz`, then `stormtunnel demo`) is scripts/check-install.sh.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BIN, REPO_ROOT } from '../helpers/cli.js';

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
  // bin/stormtunnel.js takes a src/ beside dist/ for a source checkout (next test).
  assert.not.ok(
    [...paths].some((p) => p.startsWith('src/')),
    'sources are not shipped',
  );
});

test('bin/stormtunnel.js runs dist/ where it is installed, the sources in a checkout, and obeys STORMTUNNEL_FROM_SOURCE', () => {
  // A package folder of its own, inside the repo so tsx resolves; each entry point says which one ran.
  mkdirSync(join(REPO_ROOT, '.tmp'), { recursive: true });
  const pkg = mkdtempSync(join(REPO_ROOT, '.tmp', 'bin-entry-'));
  try {
    const bin = join(pkg, 'bin', 'stormtunnel.js');
    mkdirSync(dirname(bin), { recursive: true });
    copyFileSync(BIN, bin);
    const entries = { dist: join(pkg, 'dist/src/cli/main.js'), src: join(pkg, 'src/cli/main.ts') };
    const place = (which: 'dist' | 'src', present: boolean) => {
      if (!present) return rmSync(join(pkg, which), { recursive: true, force: true });
      mkdirSync(dirname(entries[which]), { recursive: true });
      writeFileSync(entries[which], `process.stdout.write('${which}');\n`);
    };
    const ran = (fromSource?: string) => {
      const env: NodeJS.ProcessEnv = { ...process.env };
      delete env.STORMTUNNEL_FROM_SOURCE;
      if (fromSource !== undefined) env.STORMTUNNEL_FROM_SOURCE = fromSource;
      const r = spawnSync(process.execPath, [bin, '--version'], { env, encoding: 'utf8', timeout: 60_000 });
      assert.is(r.status, 0, r.stderr);
      return r.stdout;
    };
    place('dist', true);
    place('src', false);
    assert.is(ran(), 'dist', 'an installed package runs dist/');
    place('src', true);
    assert.is(ran(), 'src', 'a checkout runs its sources, not a dist/ an older build left');
    assert.is(ran('0'), 'dist', 'STORMTUNNEL_FROM_SOURCE=0 runs dist/');
    place('dist', false);
    assert.is(ran('0'), 'src', 'without dist/ the sources run');
  } finally {
    rmSync(pkg, { recursive: true, force: true });
  }
});

test.run();
