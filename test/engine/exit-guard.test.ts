// The exit guard: a stop waits for guarded work, including work that starts while it waits, and gives up
// after its bound instead of keeping a stopped process alive.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ExitGuard } from '../../src/engine/exit-guard.js';

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

test('run passes the result and the failure through, and is busy until it settles', async () => {
  const guard = new ExitGuard();
  const a = deferred<number>();
  const result = guard.run('saving a', () => a.promise);
  assert.ok(guard.busy);
  assert.equal(guard.describe(), ['saving a']);
  a.resolve(7);
  assert.is(await result, 7);
  await guard.settled(1000);
  assert.not.ok(guard.busy);
  const failing = guard.run('saving b', () => Promise.reject(new Error('no')));
  try {
    await failing;
    assert.unreachable('should have thrown');
  } catch (err) {
    assert.is((err as Error).message, 'no');
  }
  assert.ok(await guard.settled(1000));
  assert.not.ok(guard.busy);
});

test('settled waits for work that starts while it waits', async () => {
  const guard = new ExitGuard();
  const first = deferred();
  const second = deferred();
  void guard.run('first', () => first.promise);
  let done = false;
  const settled = guard.settled(60_000).then((v) => {
    done = true;
    return v;
  });
  void guard.run('second', () => second.promise);
  first.resolve();
  await first.promise;
  await new Promise((r) => setImmediate(r));
  assert.not.ok(done, 'still waiting for the second');
  second.resolve();
  assert.is(await settled, true);
});

test('settled gives up after its bound', async () => {
  const guard = new ExitGuard();
  const never = deferred();
  void guard.run('never', () => never.promise);
  assert.is(await guard.settled(20), false);
  assert.ok(guard.busy);
  never.resolve();
});

test.run();
