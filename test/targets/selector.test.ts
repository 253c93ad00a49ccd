// What a configured target names (plugins/targets/selector.ts) and which candidate a session gets when
// several match (choose.ts): pure functions, no AWS.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { choose } from '../../plugins/targets/choose.js';
import { parseTarget, rdsIdentifier } from '../../plugins/targets/selector.js';

const test = suite('targets: selectors and choice');

test('session targets pass through; names, tags and ecs: are parsed', () => {
  assert.equal(parseTarget('i-0123456789abcdef0'), { kind: 'session', target: 'i-0123456789abcdef0' });
  const ecsId = `ecs:apps_${'a'.repeat(32)}_${'a'.repeat(32)}-1`;
  assert.equal(parseTarget(ecsId), { kind: 'session', target: ecsId });
  assert.equal(parseTarget('bastion'), { kind: 'ec2', tags: [['Name', 'bastion']], label: 'Name=bastion' });
  assert.equal(parseTarget('tag:Name=web,tag:env=prod=blue'), {
    kind: 'ec2',
    tags: [
      ['Name', 'web'],
      ['env', 'prod=blue'],
    ],
    label: 'Name=web, env=prod=blue',
  });
  assert.equal(parseTarget('ecs:apps/api'), {
    kind: 'ecs',
    cluster: 'apps',
    service: 'api',
    label: 'ecs:apps/api',
  });
  assert.equal(parseTarget(`ecs:apps/${'b'.repeat(32)}/app`), {
    kind: 'ecs',
    cluster: 'apps',
    taskId: 'b'.repeat(32),
    container: 'app',
    label: `ecs:apps/${'b'.repeat(32)}/app`,
  });
  assert.is(rdsIdentifier('rds:orders'), 'orders');
  assert.is(rdsIdentifier('db.internal'), undefined);
});

test('newest wins whatever the order of the reply; only refuses several; random spreads', () => {
  const a = { id: 'i-a', startedAt: 1000, label: 'a' };
  const b = { id: 'i-b', startedAt: 2000, label: 'b' };
  const c = { id: 'i-c', startedAt: 2000, label: 'c' };
  const r = () => 0;
  assert.equal(choose([a, b], 'newest', r), { chosen: b, why: 'newest of 2' });
  assert.equal(choose([b, a], 'newest', r), { chosen: b, why: 'newest of 2' });
  // A tie is broken by id, so two runs never disagree.
  assert.equal(choose([c, b, a], 'newest', r), { chosen: b, why: 'newest of 3' });
  assert.equal(choose([a], 'only', r), { chosen: a, why: 'the only match' });
  assert.equal(choose([a, b], 'only', r), { several: [b, a] });
  assert.equal(
    choose([a, b], 'random', () => 0.99),
    { chosen: a, why: 'picked at random from 2' },
  );
  assert.equal(
    choose([a, b], 'random', () => 0),
    { chosen: b, why: 'picked at random from 2' },
  );
});

test.run();
