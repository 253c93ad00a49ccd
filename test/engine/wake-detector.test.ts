// The wake detector: a wall clock that moved against the monotonic one, or a timer that fired far too late.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FakeClock } from '../../src/engine/clock.js';
import type { Clock, WakeEvent } from '../../src/engine/types.js';
import { startWakeDetector } from '../../src/engine/wake-detector.js';

test('a jump of the wall clock against the monotonic clock is a wake; ordinary ticks are not', async () => {
  const clock = new FakeClock();
  // The monotonic clock follows the wall clock, except that it does not count a suspend.
  let suspended = 0;
  const monotonicNow = () => clock.now() - suspended;
  const events: WakeEvent[] = [];
  const stop = startWakeDetector({ clock, monotonicNow, intervalMs: 5000, onWake: (e) => events.push(e) });
  await clock.advance(60_000);
  assert.equal(events, []);
  suspended += 300_000; // five minutes pass on the wall clock only
  await clock.advance(300_000);
  assert.is(events.length, 1);
  assert.is(events[0]?.detectedBy, 'clock-jump');
  assert.is(events[0]?.awayMs, 300_000);
  await clock.advance(60_000);
  assert.is(events.length, 1, 'once');
  stop();
  assert.is(clock.pending, 0);
});

test('a timer that fires far later than asked is a wake (platforms whose monotonic clock runs in sleep)', () => {
  let now = 1_000_000;
  let due: (() => void) | undefined;
  const clock: Clock = {
    now: () => now,
    setTimeout: (fn) => ((due = fn), { id: 1 }),
    clearTimeout: () => (due = undefined),
    sleep: async () => undefined,
  };
  const events: WakeEvent[] = [];
  const stop = startWakeDetector({
    clock,
    monotonicNow: () => now,
    intervalMs: 5000,
    onWake: (e) => events.push(e),
  });
  now += 5000;
  due?.();
  now += 7000; // a busy machine: late, but under the threshold
  due?.();
  assert.equal(events, []);
  now += 125_000;
  due?.();
  assert.equal(events, [{ awayMs: 120_000, detectedBy: 'late-timer' }]);
  stop();
});

test.run();
