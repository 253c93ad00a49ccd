// docs/hooks.md must stay true: every hook of the engine, with its kind, and nothing else.
import { readFileSync } from 'node:fs';
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
    'ssm-tunnel',
  ]) {
    assert.match(doc, `plugins/${p}`, p);
  }
});

test.run();
