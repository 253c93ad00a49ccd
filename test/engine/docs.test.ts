// docs/hooks.md must stay true: every hook of the engine, with its kind, and nothing else.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HOOK_KINDS } from '../../src/engine/hooks.js';
import { REPO_ROOT } from '../helpers/cli.js';

test('docs/hooks.md lists every hook with its kind', () => {
  const doc = readFileSync(`${REPO_ROOT}/docs/hooks.md`, 'utf8');
  const rows = [...doc.matchAll(/^\| `(\w+)` \| ([a-z-]+) \|/gm)].map((m) => [m[1], m[2]]);
  assert.equal(Object.fromEntries(rows), { ...HOOK_KINDS });
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
