// The plugin boundary: built-in plugins use only the public entry points, so a team can write any of them.
// 1. The lint rule in eslint.config.js refuses a private import from plugins/ (and passes the kit).
// 2. A copy of the retry plugin, outside the package and importing only `stormtunnel/plugin-kit`, replaces
//    the built-in one in an engine loaded from the package's published layout (dist/, exports map).
import { spawnSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ESLint, type Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { REPO_ROOT } from '../helpers/cli.js';

async function pluginBoundaryRules(): Promise<Partial<Linter.RulesRecord>> {
  const configs = (await import(join(REPO_ROOT, 'eslint.config.js'))) as { default: Linter.Config[] };
  const block = configs.default.find((c) => c.files?.includes('plugins/**/*.ts'));
  assert.ok(block?.rules, 'eslint.config.js has a block for plugins/**/*.ts');
  return block.rules;
}

async function lintAsPlugin(code: string): Promise<string[]> {
  // The boundary rules on their own with the TypeScript parser (no type information needed for imports).
  const eslint = new ESLint({
    cwd: REPO_ROOT,
    overrideConfigFile: true,
    overrideConfig: [
      {
        files: ['plugins/**/*.ts'],
        languageOptions: { parser: tseslint.parser },
        rules: await pluginBoundaryRules(),
      },
    ],
  });
  const [result] = await eslint.lintText(code, { filePath: join(REPO_ROOT, 'plugins/retry/probe.ts') });
  return (result?.messages ?? []).map((m) => `${m.ruleId ?? 'parse'}: ${m.message}`);
}

test('the lint rule refuses a private import from a plugin, and another plugin’s files', async () => {
  const engineInternal = await lintAsPlugin(
    "import { classifyError } from '../../src/engine/classify.js';\nexport const f = classifyError;\n",
  );
  assert.is(engineInternal.length, 1, engineInternal.join('\n'));
  assert.match(engineInternal[0]!, /no-restricted-imports: .*public plugin kit/);

  const typeOnly = await lintAsPlugin(
    "import type { Settings } from '../../src/engine/types.js';\nexport type S = Settings;\n",
  );
  assert.is(typeOnly.length, 1, 'a type-only import is private too');

  const otherPlugin = await lintAsPlugin(
    "import type { SsoOptions } from '../sso/types.js';\nexport type S = SsoOptions;\n",
  );
  assert.is(otherPlugin.length, 1, otherPlugin.join('\n'));
  assert.match(otherPlugin[0]!, /another plugin/);

  const viaKit = await lintAsPlugin(
    "import { classifyError } from '../../src/plugin-kit/index.js';\nimport { decideRecovery } from './decide.js';\nexport const f = [classifyError, decideRecovery];\n",
  );
  assert.equal(viaKit, [], 'the kit and the plugin’s own files are allowed');
});

test('every built-in plugin file imports stormtunnel only through the plugin kit', () => {
  const offenders: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) {
        for (const m of readFileSync(p, 'utf8').matchAll(/from '([^']+)'/g)) {
          const spec = m[1]!;
          if (/(^|\/)src\//.test(spec) && !spec.endsWith('src/plugin-kit/index.js'))
            offenders.push(`${relative(REPO_ROOT, p)}: ${spec}`);
        }
      }
    }
  };
  walk(join(REPO_ROOT, 'plugins'));
  assert.equal(offenders, []);
});

// ---------------------------------------------------------------------------------------------------------
// A team's copy of the retry plugin, loaded from outside the package.

const RUN = `
import { createEngine, builtinPlugins, silentLogger } from 'stormtunnel';
import { retry as teamRetry } from './team-retry/index.js';

const withCopy = process.argv[2] === 'copy';
const plugins = builtinPlugins().filter((p) => p.name !== 'retry');
if (withCopy) plugins.push(teamRetry({ baseDelay: '1ms', maxDelay: '1ms', jitter: false, maxAttempts: 5 }));
const settings = (await import('./settings.js')).default;
const engine = await createEngine({ plugins, settings, logger: silentLogger(), wakeDetection: false });
let attempts = 0;
try {
  const value = await engine.recover({ operation: 'team-op', phase: 'connect' }, async (attempt) => {
    attempts = attempt;
    if (attempt < 3) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    return 'done';
  });
  console.log(JSON.stringify({ value, attempts, plugins: engine.describePlugins().map((p) => p.name) }));
} catch (err) {
  console.log(JSON.stringify({ error: String(err && err.message), attempts }));
} finally {
  await engine.shutdown({ reason: 'command-done' });
}
`;

test('a copy of the retry plugin, importing only stormtunnel/plugin-kit, replaces the built-in one', async () => {
  const { build } = await import('esbuild');
  const root = mkdtempSync(join(tmpdir(), 'stormtunnel-team-'));
  try {
    // The package as it is published: package.json with its exports map and dist/ (transpiled, not bundled).
    const pkg = join(root, 'node_modules', 'stormtunnel');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(join(pkg, 'package.json'), readFileSync(join(REPO_ROOT, 'package.json')));
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(pkg, 'node_modules'));
    const sources: string[] = [];
    const collect = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) collect(p);
        else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) sources.push(p);
      }
    };
    collect(join(REPO_ROOT, 'src'));
    collect(join(REPO_ROOT, 'plugins'));
    await build({
      entryPoints: sources,
      outdir: join(pkg, 'dist'),
      outbase: REPO_ROOT,
      format: 'esm',
      platform: 'node',
      logLevel: 'silent',
    });

    // The team's copy: the retry plugin's files with the kit imported by its package name.
    const team = join(root, 'team-retry');
    mkdirSync(team);
    const retryDir = join(REPO_ROOT, 'plugins', 'retry');
    for (const name of readdirSync(retryDir)) {
      const text = readFileSync(join(retryDir, name), 'utf8').replaceAll(
        "'../../src/plugin-kit/index.js'",
        "'stormtunnel/plugin-kit'",
      );
      const specifiers = [...text.matchAll(/from '([^']+)'/g)].map((m) => m[1]!);
      for (const s of specifiers)
        assert.ok(
          s.startsWith('./') || s === 'stormtunnel/plugin-kit' || s === 'zod',
          `the copy of ${name} imports ${s}, which a team's package cannot`,
        );
      writeFileSync(join(team, name), text);
    }
    await build({
      entryPoints: readdirSync(team).map((n) => join(team, n)),
      outdir: team,
      format: 'esm',
      platform: 'node',
      logLevel: 'silent',
    });
    // The team's own dependency on zod (the same package the kit's schemas come from).
    symlinkSync(join(REPO_ROOT, 'node_modules', 'zod'), join(root, 'node_modules', 'zod'));
    const settingsModule = `export default ${JSON.stringify((await import('../../src/config/defaults.js')).DEFAULT_SETTINGS)};\n`;
    writeFileSync(join(root, 'settings.js'), settingsModule);
    writeFileSync(join(root, 'package.json'), '{ "type": "module", "private": true }\n');
    writeFileSync(join(root, 'run.js'), RUN);

    const run = (mode: string) => {
      const r = spawnSync(process.execPath, ['run.js', mode], {
        cwd: root,
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.is(r.status, 0, r.stderr);
      return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as {
        value?: string;
        error?: string;
        attempts: number;
        plugins?: string[];
      };
    };
    // Without any retry plugin, nothing decides to try again: the first failure is final.
    const without = run('none');
    assert.is(without.attempts, 1);
    assert.ok(without.error, 'without a retry plugin the operation fails');
    // With the team's copy, the transient failures are retried and the third attempt succeeds.
    const withCopy = run('copy');
    assert.is(withCopy.error, undefined, withCopy.error);
    assert.is(withCopy.value, 'done');
    assert.is(withCopy.attempts, 3);
    assert.ok(withCopy.plugins?.includes('retry'));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test.run();
