// docs/hooks.md must stay true: every hook of the engine, with its kind, and nothing else.
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  AsyncParallelHook,
  AsyncSeriesBailHook,
  AsyncSeriesHook,
  AsyncSeriesWaterfallHook,
  SyncHook,
} from 'tapable';
import { createHooks, HOOK_KINDS, ISOLATED_HOOKS, kindOf } from '../../src/engine/hooks.js';
import { REPO_ROOT } from '../helpers/cli.js';

test('docs/hooks.md lists every hook with its kind', () => {
  const doc = readFileSync(`${REPO_ROOT}/docs/hooks.md`, 'utf8');
  const rows = [...doc.matchAll(/^\| `(\w+)` \| ([a-z-]+) \|/gm)].map((m) => [m[1], m[2]]);
  assert.equal(Object.fromEntries(rows), { ...HOOK_KINDS });
});

test('HOOK_KINDS is what each tapable hook class runs as, for every hook and no other', () => {
  const hooks = createHooks();
  assert.equal(Object.keys(HOOK_KINDS).sort(), Object.keys(hooks).sort());
  for (const [name, hook] of Object.entries(hooks)) {
    const expected =
      hook.constructor === AsyncSeriesBailHook
        ? 'series-bail'
        : hook.constructor === AsyncParallelHook
          ? 'parallel'
          : hook.constructor === AsyncSeriesWaterfallHook
            ? 'series-waterfall'
            : hook.constructor === AsyncSeriesHook
              ? 'series'
              : 'unknown';
    assert.is(HOOK_KINDS[name as keyof typeof HOOK_KINDS], expected, name);
  }
  // The isolation of fan-out hooks follows the kinds: a parallel hook's failing tap never fails its caller.
  assert.equal(
    [...ISOLATED_HOOKS].sort(),
    Object.keys(hooks)
      .filter((h) => hooks[h as keyof typeof hooks].constructor === AsyncParallelHook)
      .sort(),
  );
  assert.throws(() => kindOf(new SyncHook()), /has no kind/);
});

test('docs/architecture.md names every plugin folder', () => {
  const doc = readFileSync(`${REPO_ROOT}/docs/architecture.md`, 'utf8');
  for (const p of [
    'sso',
    'assume-role',
    'profile-credentials',
    'keychain',
    'notify',
    'retry',
    'targets',
    'ssm-tunnel',
  ]) {
    assert.match(doc, `plugins/${p}`, p);
  }
});

test('docs/architecture.md "Where decisions live": every file and function it names exists', () => {
  const doc = readFileSync(`${REPO_ROOT}/docs/architecture.md`, 'utf8');
  const section = doc.split('## Where decisions live')[1]?.split('\n## ')[0] ?? '';
  const rows = [...section.matchAll(/^\| [^|]+ \| `([^`]+)` \| (.+) \|$/gm)];
  assert.ok(rows.length >= 15, `only ${rows.length} rows found`);
  for (const [, file, fns] of rows) {
    assert.ok(existsSync(`${REPO_ROOT}/${file}`), `${file} does not exist`);
    const text = readFileSync(`${REPO_ROOT}/${file}`, 'utf8');
    for (const [, fn] of fns!.matchAll(/`([A-Za-z_$][\w$]*)`/g)) {
      const declared = new RegExp(
        `(function\\*?|class|const|let) ${fn}\\b|^\\s+(?:(?:private|public|protected|static|async|readonly) )*${fn}\\s*[(<]`,
        'm',
      );
      assert.ok(declared.test(text), `${file} declares no ${fn}`);
    }
  }
});

test.run();
